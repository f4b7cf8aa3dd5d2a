"""The few domain exceptions; pages and services catch them and show their message.

A message meant for a user is a Message: a key of the catalogue (texts.py) and its values, rendered in
the language of whoever shows it (the UI in the view's language; the CLI and the Open311 API in English,
through str()). A plain string is final text, for answers only machines read (the intake API).
"""

from __future__ import annotations

from collections.abc import Sequence

import texts

API_LANGUAGE = "en"  # the language of str(error): the CLI's output, logs and the Open311 API's answers


class Message:
    """A catalogue key and its values; a value may itself be a Message or a sequence of Messages."""

    __slots__ = ("key", "values")

    def __init__(self, key: str, /, **values: object) -> None:
        self.key, self.values = key, values

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Message) and (self.key, self.values) == (other.key, other.values)

    def __hash__(self) -> int:
        return hash(self.key)

    def __repr__(self) -> str:
        return f"Message({self.key!r}, **{self.values!r})"

    def __str__(self) -> str:
        return render(self, API_LANGUAGE)


Text = Message | str  # a str is final text (not translated)


class Problems(tuple[Text, ...]):
    """Several problems as one value: joined by the language's problem separator (other lists: its list one)."""


class ByLanguage(dict[str, object]):
    """A value that is not the same text in every language (e.g. the headers a sheet may use in each)."""


def render(message: Text, lang: str) -> str:
    """The message in a language; nested messages in the same language, a list of them joined."""
    if isinstance(message, str):
        return message
    values = {name: _rendered_value(value, lang) for name, value in message.values.items()}
    return texts.text(message.key, lang, **values)


def _rendered_value(value: object, lang: str) -> object:
    if isinstance(value, ByLanguage):
        return _rendered_value(value[lang], lang)
    if isinstance(value, Message):
        return render(value, lang)
    if isinstance(value, Problems):
        return texts.text("problem_separator", lang).join(render(v, lang) for v in value)
    if isinstance(value, (list, tuple)) and value and all(isinstance(v, Message) for v in value):
        return texts.text("list_separator", lang).join(render(v, lang) for v in value)
    return value


class CityOpsError(Exception):
    """Base of every error whose message is meant for a user."""

    def __init__(self, message: Text) -> None:
        super().__init__(str(message))
        self.message = message

    def in_language(self, lang: str) -> str:
        return render(self.message, lang)


class SpatialiteMissing(CityOpsError):
    """The SpatiaLite extension could not be loaded into SQLite."""


class DatabaseUnavailable(CityOpsError):
    """The database could not be reached or is not built yet."""


class Overloaded(CityOpsError):
    """More work than can be done now (a full write queue, a write past its time): retry in a moment."""


class UnknownArea(CityOpsError):
    """An area code that is not in the database."""


class ExportFailed(CityOpsError):
    """A chart, map or briefing pack could not be rendered to a file."""


class NotFound(CityOpsError):
    """A record asked for by id (e.g. a service request) that does not exist."""


class Conflict(CityOpsError):
    """A request that clashes with the current state, e.g. a lifecycle step out of order."""

    def __init__(self, message: Text, allowed: list[str] | None = None) -> None:
        super().__init__(message)
        self.allowed = allowed or []


class OutsideJurisdiction(CityOpsError):
    """An area outside the viewer's jurisdiction (their home area and its descendants): nothing of it is shown."""


class AccountRefused(CityOpsError):
    """A signed-in user the app does not let in: a disabled account, or one with no role or home area."""


class KeyReused(CityOpsError):
    """An Idempotency-Key or external_id sent again with a different request: refused, nothing written."""


class InvalidInput(CityOpsError):
    """Input that cannot be used as given; the message says what to fix, one entry per problem."""

    def __init__(self, message: Text, problems: Sequence[Text] | None = None) -> None:
        super().__init__(message)
        self.messages: list[Text] = list(problems) if problems else [message]

    @property
    def problems(self) -> list[str]:
        """Every problem in English (the CLI, the API)."""
        return [render(p, API_LANGUAGE) for p in self.messages]


class ProblemValue(ValueError):
    """A validator's problem as a Message (pydantic keeps the exception: scenario_model reads it back)."""

    def __init__(self, message: Message) -> None:
        super().__init__(str(message))
        self.message = message

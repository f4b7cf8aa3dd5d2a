"""The few domain exceptions; pages and services catch them and show their message."""


class CityOpsError(Exception):
    """Base of every error whose message is meant for a user."""


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

    def __init__(self, message: str, allowed: list[str] | None = None) -> None:
        super().__init__(message)
        self.allowed = allowed or []


class InvalidInput(CityOpsError):
    """Input that cannot be used as given; the message says what to fix."""

    def __init__(self, message: str, problems: list[str] | None = None) -> None:
        super().__init__(message)
        self.problems = problems or [message]

"""The UI's texts: the one catalogue (texts.py) in the language of the view being drawn."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from functools import wraps
from typing import Concatenate, ParamSpec, Protocol, TypeVar

from streamlit.runtime.scriptrunner import get_script_run_ctx

import texts
from errors import Text, render

P = ParamSpec("P")
R = TypeVar("R")
# Set around a run's drawing by whoever resolved the view: app.py and ui.frame for the pages, the wall page for
# the wall, and each fragment for its own reruns (in_view_language). Never read from the URL here.
_LANGUAGE: ContextVar[str] = ContextVar("ui_language")


class HasLanguage(Protocol):
    @property
    def lang(self) -> str: ...


V = TypeVar("V", bound=HasLanguage)


@contextmanager
def in_language(lang: str) -> Iterator[None]:
    """Draw the block in this language (the view's: ViewState.lang)."""
    token = _LANGUAGE.set(lang)
    try:
        yield
    finally:
        _LANGUAGE.reset(token)


def in_view_language(draw: Callable[Concatenate[V, P], R]) -> Callable[Concatenate[V, P], R]:
    """For a fragment called with the view (its first argument, passed positionally): its reruns run outside
    the page's frame (possibly in another thread), so it takes the language of the view it is given."""

    @wraps(draw)
    def drawn(state: V, /, *args: P.args, **kwargs: P.kwargs) -> R:
        with in_language(state.lang):
            return draw(state, *args, **kwargs)

    return drawn


def current_language() -> str:
    """The language of the view being drawn; outside a Streamlit run (tests, scripts) the default one."""
    lang = _LANGUAGE.get(None)
    if lang is not None:
        return lang
    if get_script_run_ctx() is not None:
        # e.g. a fragment rerun whose function lacks in_view_language: it would silently switch to Chinese
        raise RuntimeError("no UI language: draw inside show_framed, in_language or in_view_language")
    return texts.DEFAULT_LANGUAGE


def t(key: str, **values: object) -> str:
    """The text of a key in the view's language (the key itself if unknown)."""
    return texts.text(key, current_language(), **values)


def say(message: Text) -> str:
    """A message (an error's, a check's problem) in the view's language."""
    return render(message, current_language())


def term(vocabulary: str, code: str) -> str:
    """The label of a vocabulary code (category, source, status, ...) in the view's language."""
    return texts.term(vocabulary, code, current_language())

"""The one catalogue (texts.py, locale/): both languages hold every key, every key the code names exists,
the committed .mo files are compiled from their .po, numbers print as before, and the UI's language
follows the view into fragments."""

from __future__ import annotations

import ast
import io
import math
import string
import threading
from pathlib import Path

import pytest
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

import texts
import vocab
from formats import MISSING, fmt_int, fmt_num, fmt_pct
from settings import PROJECT_ROOT

COMPILE = ".venv/bin/pybabel compile -d locale -D cityops"
# module -> functions (and the message class) taking a key first
LOOKUPS = {"texts": {"text", "term"}, "ui.i18n": {"t", "term"}, "errors": {"Message"}}
SKIPPED_DIRS = {".venv", "tests", "data", "tmp", "test-artifacts", "locale"}


def _po_path(lang: str) -> Path:
    return texts.LOCALE_DIR / lang / "LC_MESSAGES" / f"{texts.DOMAIN}.po"


def _catalogue(lang: str):
    with _po_path(lang).open("rb") as po:
        return read_po(po, locale=lang)


def _messages(lang: str) -> dict[str, str]:
    return {m.id: m.string for m in _catalogue(lang) if m.id}


def _fields(message: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(message) if name is not None}


def test_both_languages_hold_the_same_keys():
    zh, en = _messages("zh"), _messages("en")
    assert sorted(set(zh) - set(en)) == [] and sorted(set(en) - set(zh)) == []
    assert set(texts.LANGUAGES) == {"zh", "en"}


@pytest.mark.parametrize("lang", sorted(texts.LANGUAGES))
def test_no_text_is_empty(lang):
    assert [key for key, message in _messages(lang).items() if not message.strip()] == []


def test_a_key_has_the_same_placeholders_in_both_languages():
    zh, en = _messages("zh"), _messages("en")
    assert {k: (_fields(zh[k]), _fields(en[k])) for k in zh if _fields(zh[k]) != _fields(en[k])} == {}


@pytest.mark.parametrize("lang", sorted(texts.LANGUAGES))
def test_the_committed_mo_is_compiled_from_its_po(lang):
    """The .mo files are committed (every entry point reads them, none has to build them first)."""
    compiled = io.BytesIO()
    write_mo(compiled, _catalogue(lang))
    committed = _po_path(lang).with_suffix(".mo").read_bytes()
    assert committed == compiled.getvalue(), f"locale/{lang}: the .mo is stale; run {COMPILE}"


def _lookup_names(tree: ast.Module) -> tuple[set[str], set[str]]:
    """Names bound to a key lookup (t, text, term) and names bound to a lookup module (import texts)."""
    functions, modules = set(), set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module in LOOKUPS:
            functions |= {a.asname or a.name for a in node.names if a.name in LOOKUPS[node.module]}
        elif isinstance(node, ast.Import):
            modules |= {a.asname or a.name for a in node.names if a.name == "texts"}
    return functions, modules


def _literal_keys(path: Path) -> list[tuple[str, str]]:
    """(where, key) of every lookup in a source whose key is a string literal ('vocab.code' for term)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    functions, modules = _lookup_names(tree)
    found = []
    for node in ast.walk(tree):
        if not (isinstance(node, ast.Call) and node.args):
            continue
        func = node.func
        name = func.id if isinstance(func, ast.Name) and func.id in functions else (
            func.attr if isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name)
            and func.value.id in modules and func.attr in LOOKUPS["texts"] else None)
        literals = [a.value if isinstance(a, ast.Constant) and isinstance(a.value, str) else None
                    for a in node.args[:2]]
        if name is None or literals[0] is None:
            continue
        where = f"{path.relative_to(PROJECT_ROOT)}:{node.lineno}"
        if name == "term":
            found.append((where, f"{literals[0]}.{literals[1]}" if len(literals) > 1 and literals[1] else
                          f"{literals[0]}."))
        else:
            found.append((where, literals[0]))
    return found


def _sources() -> list[Path]:
    return [p for p in sorted(PROJECT_ROOT.rglob("*.py"))
            if not SKIPPED_DIRS & set(p.relative_to(PROJECT_ROOT).parts)]


def test_every_key_the_code_names_exists():
    """t("overview"), text("scope", lang), term("category", code, lang): the key (or the vocabulary) is there."""
    keys = set(_messages("zh"))
    named = [found for path in _sources() for found in _literal_keys(path)]
    assert len(named) > 200  # the scan sees the code's lookups
    missing = [f"{where}: {key}" for where, key in named
               if not (key in keys or key.endswith(".") and any(k.startswith(key) for k in keys))]
    assert missing == []


def test_the_keys_the_code_builds_exist():
    """Keys made from names: pages, map layers, time windows, vocabularies, printed map titles, sheet kinds."""
    from ui.map import LAYER_LABELS
    from ui.router import PAGES
    from ui.sheet_import import KINDS
    from ui.state import WINDOW_HOURS

    built = [spec.key for spec in PAGES] + list(LAYER_LABELS.values()) + list(WINDOW_HOURS)
    vocabularies = (vocab.ACTIONS, vocab.ASSEMBLY_KINDS, vocab.BED_TYPES, vocab.CATEGORIES, vocab.FACILITY_STATUSES,
                    vocab.PRIORITIES, vocab.SOURCES, vocab.STATUSES, tuple(vocab.LEVEL_LABELS.values()))
    built += [term.key for terms in vocabularies for term in terms]
    built += [f"map_title.{level}" for level in vocab.LEVELS]
    built += [f"import_{kind.key}{part}" for kind in KINDS for part in ("", "_help", "_source")]
    built += [f"scn_change_{change}" for change in ("lost", "gained", "new", "field_hospital")]
    # messages whose key is made from a name: sheet cells, scenario fields and checks, filters, URL parameters
    from imports import beds, stock
    from scenario_model import FIELD_NAMES, PYDANTIC_PROBLEMS
    built += [c.wrong for c in (*beds.COLUMNS, *stock.COLUMNS, stock.MIN_LEVEL)]
    built += [f"scn_field.{name}" for name in FIELD_NAMES] + [key for key, _ in PYDANTIC_PROBLEMS.values()]
    built += [f"filter.unknown_{kind}" for kind in ("category", "source", "status")]
    built += [f"url.bad_{name}" for name in ("category", "source", "status", "layers")]
    keys = set(_messages("zh"))
    assert [key for key in built if key not in keys] == []


def test_lookups():
    assert texts.text("overview", "zh") == "总览" and texts.text("overview", "en") == "Overview"
    assert texts.text("import_problems", "en", n=2).startswith("2 problem(s) found")
    assert texts.term("category", "greening", "zh") == "园林绿化"
    assert texts.term("category", "no-such-code", "en") == "no-such-code"
    assert texts.text("no-such-key", "zh") == "no-such-key"
    with pytest.raises(ValueError, match="unknown language"):
        texts.text("overview", "fr")
    assert texts.catalogue("zh") is texts.catalogue("zh")  # read once per process


VALUES = [0, 1, -1, 7, 999, 1000, 1234567, 0.5, 0.15, 2.45, 2.675, 0.0005, 0.1225, 1 / 3, 2 / 3, 12.25, -0.35,
          99.95, 123456.789, 0.999, 1e9 + 0.5, *(k / n for n in (7, 16, 80, 400, 2000) for k in range(0, n + 1, 3))]


@pytest.mark.parametrize("lang", sorted(texts.LANGUAGES))
def test_numbers_print_as_before(lang):
    """Babel's formats give what the f-strings gave: thousands separators, half-even on the float's value."""
    for value in VALUES:
        assert fmt_int(value, lang=lang) == f"{int(value):,}"
        assert fmt_num(value, lang=lang) == f"{value:,.1f}"
        assert fmt_num(value, 2, lang=lang) == f"{value:,.2f}"
        assert fmt_num(value, 0, lang=lang) == f"{value:,.0f}"
        if abs(value) < 10:  # below 1,000% (f-strings had no separator there)
            assert fmt_pct(value, lang=lang) == f"{value * 100:.1f}%", value
            assert fmt_pct(value, 0, lang=lang) == f"{value * 100:.0f}%", value
    assert {fmt_int(None), fmt_num(math.nan), fmt_pct(None, lang=lang)} == {MISSING}


def test_the_ui_language_is_the_views_even_in_a_fragment_rerun():
    """A fragment reruns outside the frame (Streamlit may run it in another thread): it takes the language
    of the view it is called with."""
    from ui.i18n import current_language, in_language, in_view_language, t
    from ui.state import ViewState

    @in_view_language
    def fragment(state: ViewState) -> tuple[str, str]:
        return current_language(), t("overview")

    seen: list[tuple[str, str]] = []
    worker = threading.Thread(target=lambda: seen.append(fragment(ViewState(scope="330200", lang="en"))))
    worker.start()
    worker.join()
    assert seen == [("en", "Overview")]
    with in_language("en"):
        assert fragment(ViewState(scope="330200", lang="zh")) == ("zh", "总览")
        assert t("overview") == "Overview"  # and the frame's language again after the fragment
    assert t("overview") == "总览"  # outside Streamlit (this test, scripts): the default language


def _draws(in_english: bool) -> None:  # pragma: no cover - AppTest runs its source as the app script
    import contextlib

    import streamlit as st

    from ui.i18n import in_language, t

    with in_language("en") if in_english else contextlib.nullcontext():
        st.title(t("overview"))


def test_drawing_in_a_run_without_the_views_language_is_an_error():
    """Inside a Streamlit run, no language set is a bug (an undecorated fragment), not a silent Chinese."""
    from streamlit.testing.v1 import AppTest

    failed = AppTest.from_function(_draws, args=(False,)).run()
    assert failed.exception and not failed.title  # the app redacts the message (no UI language: ...)
    drawn = AppTest.from_function(_draws, args=(True,)).run()
    assert not drawn.exception and [title.value for title in drawn.title] == ["Overview"]

"""Imports go downwards only: pages -> (queries, geo) -> nothing of ours above them (parsed with ast)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from settings import PROJECT_ROOT

# Callers of queries/ and geo/: the UI and the services that sit beside the pages.
CALLERS = {"streamlit", "pages", "ui", "app", "cli", "demo", "intake", "bench", "tests"}
DATABASE = {"sqlalchemy", "geoalchemy2", "psycopg2", "sqlite3", "pysqlite3", "queries"}
STREAMLIT_SIDE = {"streamlit", "pages", "ui", "app"}
FORBIDDEN = {
    "queries": CALLERS,
    "geo": CALLERS | DATABASE,  # pure functions: no database either
    "pages": DATABASE,  # pages lay out: data comes through ui/, which holds the one engine
    "ui": {"pages", "app"},
    # the services and libraries beside the pages run without Streamlit
    "exports": STREAMLIT_SIDE, "imports": STREAMLIT_SIDE, "intake": STREAMLIT_SIDE, "demo": STREAMLIT_SIDE,
}
# Top-level modules every layer may import: they import no layer above them.
CORE_MODULES = ("access", "settings", "errors", "clock", "codes", "formats", "texts", "vocab", "scenario_model",
                "privacy")
NOT_CHECKED = {"tests", "bench", "scripts", "data"}  # callers of everything, or no code


def imported_modules(source: str, package: str) -> set[str]:
    """Top-level names of every module a source imports, including relative and importlib imports."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            # a relative import stays inside its own package
            names.add(package if node.level else node.module or "")
        elif isinstance(node, ast.Call) and _is_dynamic_import(node.func) and node.args:
            first = node.args[0]
            if isinstance(first, ast.Constant) and isinstance(first.value, str):
                names.add(first.value)
    return {name.split(".")[0] for name in names if name}


def _is_dynamic_import(func: ast.expr) -> bool:
    name = func.attr if isinstance(func, ast.Attribute) else func.id if isinstance(func, ast.Name) else ""
    return name in ("import_module", "__import__")


def _sources(package: str) -> list[Path]:
    return sorted((PROJECT_ROOT / package).rglob("*.py"))


@pytest.mark.parametrize("package", sorted(FORBIDDEN))
def test_package_does_not_reach_upwards(package):
    files = _sources(package)
    assert files, f"no Python files under {package}/"
    problems = [
        f"{path.relative_to(PROJECT_ROOT)} imports {name}"
        for path in files
        for name in sorted(imported_modules(path.read_text(encoding="utf-8"), package) & FORBIDDEN[package])
    ]
    assert not problems, "imports that reach the wrong way:\n" + "\n".join(problems)


@pytest.mark.parametrize("module", CORE_MODULES)
def test_core_modules_import_no_layer(module):
    source = (PROJECT_ROOT / f"{module}.py").read_text(encoding="utf-8")
    assert not imported_modules(source, module) & (CALLERS | {"queries", "geo", "exports", "imports"})


def test_every_package_has_its_rule():
    packages = {path.parent.name for path in PROJECT_ROOT.glob("*/*.py") if not path.parent.name.startswith(".")}
    assert packages - NOT_CHECKED == set(FORBIDDEN)


def test_pages_reach_no_engine():
    """Not even through ui.data: a page that holds the engine would run its own queries."""
    found = [f"{path.relative_to(PROJECT_ROOT)}:{node.lineno}" for path in _sources("pages")
             for node in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
             if isinstance(node, ast.Attribute | ast.Name) and "engine" in (getattr(node, "attr", None) or
                                                                            getattr(node, "id", ""))]
    assert not found, found


def test_the_import_parser_sees_every_form():
    source = (
        "import streamlit as st\n"
        "from ui.state import view_state\n"
        "from . import sibling\n"
        "import importlib\n"
        "importlib.import_module('sqlalchemy.engine')\n"
        "def late():\n"
        "    import pages.overview\n"
    )
    assert imported_modules(source, "geo") == {"streamlit", "ui", "geo", "importlib", "sqlalchemy", "pages"}


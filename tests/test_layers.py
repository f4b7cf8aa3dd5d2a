"""Imports go downwards only: pages -> (queries, geo) -> nothing of ours above them (parsed with ast)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from settings import PROJECT_ROOT

# Callers of queries/ and geo/: the UI and the services that sit beside the pages.
CALLERS = {"streamlit", "pages", "ui", "app", "cli", "demo", "intake", "bench", "tests"}
DATABASE = {"sqlalchemy", "geoalchemy2", "psycopg2", "sqlite3", "pysqlite3", "queries"}
FORBIDDEN = {
    "queries": CALLERS,
    "geo": CALLERS | DATABASE,  # pure functions: no database either
    "pages": DATABASE - {"queries"},  # pages lay out; SQL lives in queries/
}


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


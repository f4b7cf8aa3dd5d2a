"""The one results file every benchmark writes its own section of (between its markers)."""

from __future__ import annotations

from pathlib import Path

RESULTS = Path(__file__).resolve().parent / "results.md"


def markers(name: str) -> tuple[str, str]:
    return f"<!-- {name}:start -->", f"<!-- {name}:end -->"


def write_section(name: str, text: str, results: Path = RESULTS) -> None:
    """Replace benchmark `name`'s section of results.md with text, keeping every other section
    (a new section goes at the end; a missing file is created)."""
    start, end = markers(name)
    current = results.read_text(encoding="utf-8") if results.exists() else "# Benchmark results\n"
    block = f"{start}\n{text.strip()}\n{end}"
    if start in current and end in current:
        head, rest = current.split(start, 1)
        updated = head + block + rest.split(end, 1)[1]
    else:
        updated = current.rstrip("\n") + "\n\n" + block + "\n"
    results.write_text(updated, encoding="utf-8")

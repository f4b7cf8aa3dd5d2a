"""Provenance of an export (scope, filters, window, data as-of, scenario) and the file name rule."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime

import pandas as pd
from sqlalchemy.engine import Engine

from clock import now_utc, to_local
from queries.areas import ancestors_of, dataset_facts
from queries.incidents import NO_FILTERS, Filters, Window, latest_incidents
from texts import term, text

# Characters that file systems or browsers refuse in a download name.
UNSAFE_FILE_CHARS = re.compile(r'[\\/:*?"<>|\x00-\x1f\x7f]+')


@dataclass(frozen=True)
class ExportView:
    """What an export shows: the scope, window and filters on screen, the scenario applied, the language."""

    scope_code: str
    window: Window
    filters: Filters = NO_FILTERS
    window_key: str | None = None  # 'today', '24h', ... when the window is a named one
    scenario: str | None = None
    lang: str = "zh"


@dataclass(frozen=True)
class Provenance:
    """Where the figures of an export come from; every export file carries it."""

    scope_code: str
    scope_path: tuple[str, ...]  # area names from the city down to the scope
    level: str
    window: Window
    window_key: str | None = None  # 'today', '24h', ... when the window is a named one
    filters: Filters = NO_FILTERS
    read_at: datetime = field(default_factory=now_utc)  # naive UTC: when the figures were read
    latest_incident: datetime | None = None  # naive UTC
    scenario: str | None = None
    dataset_note: str | None = None  # the database's dataset facts: a code (the demo's 'synthetic') or free text
    lang: str = "zh"

    @property
    def scope_title(self) -> str:
        """'宁波市·鄞州区' style: the path from the city, readable without the code."""
        return "·".join(self.scope_path)

    def window_text(self) -> str:
        start, end = (to_local(m).strftime("%Y-%m-%d %H:%M") for m in (self.window.start, self.window.end))
        if self.window_key:
            return text("window_span_named", self.lang, start=start, end=end, name=text(self.window_key, self.lang))
        return text("window_span", self.lang, start=start, end=end)

    def filters_text(self) -> str:
        parts = []
        for key, codes in (
            ("category", self.filters.categories),
            ("source", self.filters.sources),
            ("status", self.filters.statuses),
        ):
            if codes:
                names = text("list_separator", self.lang).join(term(key, c, self.lang) for c in codes)
                parts.append(f"{text(key, self.lang)}: {names}")
        return "; ".join(parts) or text("no_filters", self.lang)

    def as_of_text(self) -> str:
        read = to_local(self.read_at).strftime("%Y-%m-%d %H:%M")
        if self.latest_incident is None:
            return read
        latest = to_local(self.latest_incident).strftime("%m-%d %H:%M")
        return text("as_of_latest", self.lang, read=read, latest=latest)

    def exported_text(self) -> str:
        return to_local(self.read_at).strftime("%Y-%m-%d %H:%M")

    def source_text(self) -> str:
        source = text("source_text", self.lang)
        # a known code in the pack's language (key dataset_note.<code>); any other note is shown as stored
        note = term("dataset_note", self.dataset_note, self.lang) if self.dataset_note else None
        return text("source_with_note", self.lang, source=source, note=note) if note else source

    def items(self) -> list[tuple[str, str]]:
        """(label, value) pairs, in the order they are printed."""
        t = self.lang
        return [
            (text("scope", t), f"{self.scope_title} ({self.scope_code})"),
            (text("window", t), self.window_text()),
            (text("filters", t), self.filters_text()),
            (text("as_of", t), self.as_of_text()),
            (text("scenario", t), self.scenario or text("baseline", t)),
            (text("exported_at", t), self.exported_text()),
            (text("data_source", t), self.source_text()),
        ]

    def stamp_parts(self) -> list[str]:
        """'label: value' of scope, window, filters, as-of and scenario."""
        keep = {text(k, self.lang) for k in ("scope", "window", "filters", "as_of", "scenario")}
        return [f"{k}: {v}" for k, v in self.items() if k in keep]

    def stamp(self) -> str:
        """One line for page footers and chart captions."""
        return " | ".join(self.stamp_parts())

    def file_name(self, kind: str, extension: str) -> str:
        """'宁波市-鄞州区-2026-11-22-简报.pdf': scope path, local date of export, kind."""
        day = to_local(self.read_at).strftime("%Y-%m-%d")
        parts = [*self.scope_path, day, kind]
        if self.scenario:
            parts.insert(-1, self.scenario)
        name = "-".join(_safe(p) for p in parts if _safe(p))
        return f"{name}.{extension.lstrip('.')}"


def _safe(part: str) -> str:
    # a leading dot would hide the file; separators would make a path
    return UNSAFE_FILE_CHARS.sub("_", str(part)).strip(" .")


def provenance_for(engine: Engine, view: ExportView) -> Provenance:
    """The provenance of figures read now for a view."""
    path = ancestors_of(engine, view.scope_code)
    latest = latest_incidents(engine, view.scope_code, limit=1)
    latest_at = pd.Timestamp(latest["reported_at"].iloc[0]).to_pydatetime() if len(latest) else None
    return Provenance(
        scope_code=str(path["code"].iloc[-1]),
        scope_path=tuple(path["name"]),
        level=str(path["level"].iloc[-1]),
        window=view.window,
        window_key=view.window_key,
        filters=view.filters,
        read_at=now_utc(),
        latest_incident=latest_at,
        scenario=view.scenario,
        dataset_note=dataset_facts(engine).get("note"),
        lang=view.lang,
    )

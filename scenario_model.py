"""The overrides of a what-if scenario (pydantic), validated with every problem collected at once."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from typing import Annotated, Any, Protocol, Self

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)
from pydantic_core import ErrorDetails

from errors import InvalidInput, Message, Problems, ProblemValue, Text
from vocab import ASSEMBLY_KINDS, BED_TYPE_CODES, CATEGORY_CODES

ASSEMBLY_KIND_CODES = tuple(t.code for t in ASSEMBLY_KINDS)
FACTS_KEY = "facts"

Name = Annotated[str, Field(min_length=1, max_length=64)]
Lon = Annotated[float, Field(ge=-180, le=180, allow_inf_nan=False)]
Lat = Annotated[float, Field(ge=-90, le=90, allow_inf_nan=False)]
Count = Annotated[int, Field(ge=0, le=10_000_000)]


class BaselineFacts(Protocol):
    """What validation needs to know about the city (implemented by geo.scenario.CityFacts).

    Read-only members (properties): validation only reads them, and a frozen dataclass, whose fields
    cannot be assigned, implements a property but not a plain (settable) attribute.
    """

    @property
    def assembly_codes(self) -> frozenset[str]: ...

    @property
    def hospital_codes(self) -> frozenset[str]: ...

    @property
    def stock_lines(self) -> frozenset[tuple[str, str]]: ...

    @property
    def area_codes(self) -> frozenset[str]: ...

    def point_problem(self, lon: float, lat: float) -> Message | None: ...

    def polygon_problems(self, geometry: dict[str, Any]) -> list[Message]: ...


def _facts(info: ValidationInfo) -> BaselineFacts | None:
    """The city's facts when validating against a baseline; None when only reading a stored scenario."""
    return (info.context or {}).get(FACTS_KEY)


def _unknown_points(codes: Iterable[str], known: frozenset[str]) -> None:
    missing = sorted({c for c in codes if c not in known})
    if missing:
        raise ProblemValue(Message("scn.unknown_points", codes=", ".join(missing)))


def _problems(problems: list[Message]) -> None:
    """Raise the problems of one override together (they are shown as one entry)."""
    if problems:
        raise ProblemValue(Message("problems", problems=Problems(problems)) if len(problems) > 1 else problems[0])


class _Frozen(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)


class _Located(_Frozen):
    name: Name
    lon: Lon
    lat: Lat

    @model_validator(mode="after")
    def _inside_city(self, info: ValidationInfo) -> Self:
        facts = _facts(info)
        problem = facts.point_problem(self.lon, self.lat) if facts else None
        if problem:
            raise ProblemValue(problem)
        return self


class NewAssemblyPoint(_Located):
    """A temporary assembly point at lon/lat (EPSG:4326)."""

    capacity: Count
    kind: str = "evacuation_base"

    @field_validator("kind")
    @classmethod
    def _known_kind(cls, value: str) -> str:
        if value not in ASSEMBLY_KIND_CODES:
            raise ProblemValue(Message("scn.unknown_kind", kind=value,
                                       choices=tuple(Message(f"assembly_kind.{c}") for c in ASSEMBLY_KIND_CODES)))
        return value


class FieldHospital(_Located):
    """A field hospital at lon/lat with this many (free) general beds."""

    beds: Count


class BedCount(_Frozen):
    """A hospital's total beds of one type set to a new number (occupied beds stay as reported)."""

    hospital_code: str
    bed_type: str = "general"
    total: Count

    @model_validator(mode="after")
    def _known(self, info: ValidationInfo) -> Self:
        problems = []
        if self.bed_type not in BED_TYPE_CODES:
            problems.append(Message("scn.unknown_bed_type", value=self.bed_type,
                                    choices=tuple(Message(f"bed_type.{c}") for c in BED_TYPE_CODES)))
        facts = _facts(info)
        if facts and self.hospital_code not in facts.hospital_codes:
            problems.append(Message("sheet.unknown_hospital", code=self.hospital_code))
        _problems(problems)
        return self


class StockLevel(_Frozen):
    """A depot's stock of one item set to a new quantity (in the item's unit)."""

    depot_code: str
    item: str
    quantity: Annotated[float, Field(ge=0, allow_inf_nan=False)]

    @model_validator(mode="after")
    def _known(self, info: ValidationInfo) -> Self:
        facts = _facts(info)
        if facts and (self.depot_code, self.item) not in facts.stock_lines:
            raise ProblemValue(Message("sheet.depot_holds_no_item", depot=self.depot_code, item=self.item))
        return self


class IncidentMultiplier(_Frozen):
    """Multiply the incident rate of a category and/or an area (and its sub-areas); None = all."""

    category: str | None = None
    area_code: str | None = None
    factor: Annotated[float, Field(ge=0, le=100, allow_inf_nan=False)]

    @model_validator(mode="after")
    def _known(self, info: ValidationInfo) -> Self:
        problems = []
        if self.category is not None and self.category not in CATEGORY_CODES:
            problems.append(Message("scn.unknown_category", category=self.category))
        facts = _facts(info)
        if facts and self.area_code is not None and self.area_code not in facts.area_codes:
            problems.append(Message("scn.unknown_area", code=self.area_code))
        _problems(problems)
        return self


class Overrides(_Frozen):
    """Everything a scenario changes; the baseline tables are never written, overrides apply on read."""

    close: tuple[str, ...] = ()
    reopen: tuple[str, ...] = ()
    capacities: dict[str, Count] = Field(default_factory=dict)
    new_points: tuple[NewAssemblyPoint, ...] = ()
    field_hospitals: tuple[FieldHospital, ...] = ()
    beds: tuple[BedCount, ...] = ()
    stock: tuple[StockLevel, ...] = ()
    hazard_zone: dict[str, Any] | None = None  # a GeoJSON Polygon/MultiPolygon in EPSG:4326
    multipliers: tuple[IncidentMultiplier, ...] = ()

    @field_validator("close", "reopen")
    @classmethod
    def _known_points(cls, codes: tuple[str, ...], info: ValidationInfo) -> tuple[str, ...]:
        facts = _facts(info)
        if facts:
            _unknown_points(codes, facts.assembly_codes)
        return tuple(dict.fromkeys(codes))

    @field_validator("capacities")
    @classmethod
    def _known_capacities(cls, capacities: dict[str, int], info: ValidationInfo) -> dict[str, int]:
        facts = _facts(info)
        if facts:
            _unknown_points(capacities, facts.assembly_codes)
        return capacities

    @field_validator("hazard_zone", mode="before")
    @classmethod
    def _plain_json(cls, geometry: object) -> object:
        # shapely's mapping() gives tuples; stored and reloaded GeoJSON has lists: keep one form
        if not isinstance(geometry, dict):
            return geometry
        try:
            return json.loads(json.dumps(geometry, default=float))
        except (TypeError, ValueError) as exc:
            raise ProblemValue(Message("zone.not_json")) from exc

    @field_validator("hazard_zone")
    @classmethod
    def _valid_polygon(cls, geometry: dict[str, Any] | None, info: ValidationInfo) -> dict[str, Any] | None:
        facts = _facts(info)
        problems = facts.polygon_problems(geometry) if facts and geometry is not None else []
        _problems(problems)
        return geometry

    @model_validator(mode="after")
    def _not_both(self) -> Self:
        both = sorted(set(self.close) & set(self.reopen))
        if both:
            raise ProblemValue(Message("scn.closed_and_reopened", codes=", ".join(both)))
        return self


# pydantic's own checks (types, ranges, lengths) by error type: the key saying it, and its context's value
PYDANTIC_PROBLEMS = {
    "greater_than_equal": ("scn.at_least", "ge"), "greater_than": ("scn.above", "gt"),
    "less_than_equal": ("scn.at_most", "le"), "less_than": ("scn.below", "lt"),
    "string_too_short": ("scn.too_short", "min_length"), "string_too_long": ("scn.too_long", "max_length"),
    "int_parsing": ("scn.not_a_whole_number", ""), "int_from_float": ("scn.not_a_whole_number", ""),
    "int_type": ("scn.not_a_whole_number", ""), "float_parsing": ("scn.not_a_number", ""),
    "float_type": ("scn.not_a_number", ""), "finite_number": ("scn.not_a_number", ""),
    "missing": ("scn.missing", ""), "extra_forbidden": ("scn.not_a_field", ""),
}


# Every field of the overrides and of what they hold: each has a label, key 'scn_field.<name>'
FIELD_NAMES = frozenset(name for model in (Overrides, NewAssemblyPoint, FieldHospital, BedCount, StockLevel,
                                           IncidentMultiplier) for name in model.model_fields)


def _field(part: str | int) -> Text:
    return Message(f"scn_field.{part}") if part in FIELD_NAMES else str(part)


def _where(loc: tuple[str | int, ...]) -> Text | None:
    """Where in the overrides, e.g. new_points #1 › capacity, with the fields' labels."""
    parts: list[Text] = []
    for part in loc:
        if isinstance(part, int) and parts:
            parts[-1] = Message("scn.item_number", what=parts[-1], n=part + 1)
        else:
            parts.append(_field(part))
    where = parts[0] if parts else None
    for inner in parts[1:]:
        where = Message("scn.inside", outer=where, inner=inner)
    return where


def problem_message(error: ErrorDetails) -> Message:
    """The Message of a pydantic error: the validator's own, or the key of pydantic's check, with its place."""
    raised = (error.get("ctx") or {}).get("error")
    if isinstance(raised, ProblemValue):
        problem = raised.message
    else:
        key, limit = PYDANTIC_PROBLEMS.get(error["type"], ("scn.bad_value", ""))
        problem = Message(key, limit=(error.get("ctx") or {}).get(limit, "")) if limit else Message(key)
    where = _where(tuple(error["loc"]))
    return Message("scn.problem_at", where=where, problem=problem) if where is not None else problem


def parse_overrides(data: Mapping[str, Any] | str | Overrides, facts: BaselineFacts | None = None) -> Overrides:
    """Validated overrides; InvalidInput listing every problem. With facts, codes and places are checked too."""
    if isinstance(data, Overrides):
        data = data.model_dump(mode="json")
    context = {FACTS_KEY: facts} if facts is not None else None
    try:
        if isinstance(data, str):
            return Overrides.model_validate_json(data, context=context)
        return Overrides.model_validate(data, context=context)
    except ValidationError as exc:
        problems = [problem_message(e) for e in exc.errors(include_url=False)]
        raise InvalidInput(Message("scn.has_problems", n=len(problems), problems=Problems(problems)), problems) from exc

"""Query and path parameters: the request search filters as a RequestQuery, and request ids."""

from __future__ import annotations

from datetime import UTC, datetime

from clock import local_zone
from intake.errors import Open311Error
from queries.intake import RequestQuery
from vocab import CATEGORY_CODES, STATUS_CODES

MAX_LIMIT = 1000
DEFAULT_LIMIT = 100


def _split(value: str | None) -> tuple[str, ...]:
    return tuple(v.strip() for v in (value or "").split(",") if v.strip())


def _date(name: str, value: str | None) -> datetime | None:
    """An ISO 8601 time as naive UTC; a time without offset is the city's local time."""
    if not value:
        return None
    try:
        moment = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError as exc:
        raise Open311Error(
            400,
            [f"{name} '{_shown(value)}' is not an ISO 8601 time: use e.g. 2025-06-01T08:00:00+08:00 or 2025-06-01."],
        ) from exc
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=local_zone())
    try:
        return moment.astimezone(UTC).replace(tzinfo=None)
    except OverflowError as exc:  # e.g. 9999-12-31T23:59:59-12:00 is in the year 10000 in UTC
        raise Open311Error(
            400, [f"{name} '{_shown(value)}' is outside the years 0001 to 9999 in UTC: pick a time within them."]
        ) from exc


def _shown(value: str) -> str:
    """A client's value as quoted back in an error: the start of it (a 60 KB value is not echoed whole)."""
    return value if len(value) <= 40 else f"{value[:40]}… ({len(value):,} characters)"


def request_query(
    ids: str | None,
    codes: str | None,
    statuses: str | None,
    start_date: str | None,
    end_date: str | None,
    limit: int,
) -> RequestQuery:
    """The search of GET requests.json; every problem with the filters in one 400 answer."""
    problems = []
    id_list = _split(ids)
    bad_ids = [i for i in id_list if not _is_id(i)]
    if bad_ids:
        more = f" and {len(bad_ids) - 5:,} more" if len(bad_ids) > 5 else ""
        shown = ", ".join(_shown(i) for i in bad_ids[:5]) + more
        problems.append(f"service_request_id {shown} is not a request id: use numbers, comma-separated, e.g. 12,15.")
    if len(id_list) > MAX_LIMIT:
        problems.append(
            f"service_request_id lists {len(id_list):,} ids; at most {MAX_LIMIT:,} are answered per request: "
            "send them in several requests."
        )
    if id_list and not problems:  # Open311: with ids, every other filter is ignored
        return RequestQuery(ids=tuple(int(i) for i in id_list), limit=MAX_LIMIT)
    categories = _split(codes)
    problems += [
        f"service_code '{_shown(c)}' is unknown: use one of {', '.join(CATEGORY_CODES)}."
        for c in categories
        if c not in CATEGORY_CODES
    ]
    states = _split(statuses)
    problems += [
        f"status '{_shown(s)}' is unknown: use open or closed (or a fine state: {', '.join(STATUS_CODES)})."
        for s in states
        if s not in ("open", "closed", *STATUS_CODES)
    ]
    try:
        start, end = _date("start_date", start_date), _date("end_date", end_date)
    except Open311Error as exc:
        problems += exc.problems
        start = end = None
    if start and end and end <= start:
        problems.append("end_date is not after start_date: pick an end after the start.")
    if problems:
        raise Open311Error(400, problems)
    return RequestQuery(categories=categories, statuses=states, start=start, end=end, limit=limit)


def _is_id(value: str) -> bool:
    return value.isascii() and value.isdigit() and len(value) <= 18


def as_incident_id(value: str) -> int:
    """The incident id in a request path; 404 for anything that cannot be one."""
    if not _is_id(value):
        raise Open311Error(
            404, [f"There is no service request '{value}': ids are numbers, as returned in service_request_id."]
        )
    return int(value)

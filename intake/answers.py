"""Open311 answers: the services list, a service request row as Open311 sees it, a POST's receipt."""

from __future__ import annotations

from datetime import datetime

from clock import to_local
from privacy import mask_description, mask_numbers_in_text
from queries.intake import CONTENT_KEY_WINDOW, Created
from texts import term
from vocab import CATEGORIES, CATEGORY_GROUPS, OPEN_STATUSES

SERVICES = [
    {
        "service_code": t.code,
        "service_name": t.zh,
        "description": f"{t.zh} {t.en}",
        "metadata": False,
        "type": "realtime",
        "keywords": f"{t.zh},{t.en.lower()},{t.code}",
        "group": next(g for g, codes in CATEGORY_GROUPS.items() if t.code in codes),
    }
    for t in CATEGORIES
]


def _stamp(moment: datetime) -> str:
    return to_local(moment).isoformat(timespec="seconds")


def request_out(row: dict) -> dict:
    """One incident row as an Open311 service request, with the command centre's fields."""
    state = row["status"]
    note = mask_numbers_in_text(row.get("note"))  # free text: a phone number typed into it is masked
    notes = f"{term('status', state, 'zh')} ({state})" + (f": {note}" if note else "")
    return {
        "service_request_id": str(row["id"]),
        "status": "open" if state in OPEN_STATUSES else "closed",
        "status_notes": notes,
        "service_name": term("category", row["category"], "zh"),
        "service_code": row["category"],
        "description": mask_description(row["description"]),
        "agency_responsible": None,
        "service_notice": None,
        "requested_datetime": _stamp(row["reported_at"]),
        "updated_datetime": _stamp(row["updated_at"]),
        "expected_datetime": _stamp(row["due_at"]),
        "address": row["address"],
        "address_id": None,
        "zipcode": None,
        "lat": row["lat"],
        "long": row["lon"],
        "media_url": None,
        "external_id": row["external_id"],
        "state": state,
        "source": row["source"],
        "priority": row["priority"],
        "grid_code": row["grid_code"],
        "community_code": row["community_code"],
        "street_code": row["street_code"],
        "district_code": row["district_code"],
    }


def created_out(result: Created) -> list[dict]:
    """The receipt of a POST: the id and a notice saying whether it was new or a repeat."""
    row = result.row
    if result.created:
        notice = f"已受理 received: grid {row['grid_code']}, due {_stamp(row['due_at'])}"
    else:
        notice = (
            "重复提交 repeat of an earlier request (the same Idempotency-Key or external_id, or without them the same "
            f"report within {CONTENT_KEY_WINDOW.total_seconds() / 60:g} minutes): nothing new was created"
        )
    return [{"service_request_id": str(row["id"]), "service_notice": notice, "account_id": None}]

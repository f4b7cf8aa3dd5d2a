"""Time helpers: the database stores naive UTC; people see the city's local time."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from settings import get_settings


def now_utc() -> datetime:
    """Now, as the naive UTC datetime the database stores."""
    return datetime.now(UTC).replace(tzinfo=None)


def epoch_hour(moment: datetime) -> int:
    """Whole hours since 1970 for a naive UTC datetime (the roll-up time bucket)."""
    return int(moment.replace(tzinfo=UTC).timestamp() // 3600)


def hour_start(hour: int) -> datetime:
    """The naive UTC datetime at which an epoch hour starts."""
    return datetime.fromtimestamp(hour * 3600, UTC).replace(tzinfo=None)


def local_zone() -> ZoneInfo:
    return ZoneInfo(get_settings().timezone)


def to_local(moment: datetime) -> datetime:
    """A naive UTC datetime as an aware datetime in the city's time zone."""
    return moment.replace(tzinfo=UTC).astimezone(local_zone())


def local_day_start_utc(moment: datetime | None = None) -> datetime:
    """Naive UTC time of the local midnight that starts the day containing `moment`."""
    local = to_local(moment or now_utc())
    midnight = local.replace(hour=0, minute=0, second=0, microsecond=0)
    return midnight.astimezone(UTC).replace(tzinfo=None)


def recent_since() -> datetime:
    """Start of the 'recent incidents' window (settings.recent_minutes), rounded down to the minute: a
    start that stays the same between refreshes keeps the cache key stable."""
    return (now_utc() - timedelta(minutes=get_settings().recent_minutes)).replace(second=0, microsecond=0)

"""Time in one place: naive UTC datetimes inside, ISO 8601 with `Z` outside."""
from datetime import datetime, timezone


def utcnow():
    """Current UTC time as a naive datetime (how it is stored)."""
    return datetime.now(timezone.utc).replace(tzinfo=None)


def to_naive_utc(value):
    """An aware or naive datetime as naive UTC (naive ones are taken as UTC)."""
    if value.tzinfo is not None:
        value = value.astimezone(timezone.utc).replace(tzinfo=None)
    return value


def isoformat(value):
    """`2026-01-15T09:00:00Z` as the seed shows it; milliseconds only when there are any."""
    if value is None:
        return None
    value = to_naive_utc(value)
    value = value.replace(microsecond=value.microsecond // 1000 * 1000)  # what is shown round-trips
    return value.isoformat(timespec="milliseconds" if value.microsecond else "seconds") + "Z"

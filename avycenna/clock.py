"""Time in one place: naive UTC datetimes inside, ISO 8601 with `Z` outside."""
from datetime import datetime, timedelta, timezone

EPOCH = datetime(1970, 1, 1)


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


def ms_to_iso(ms):
    """Epoch milliseconds → `2026-11-20T08:00:00Z` (milliseconds shown when present)."""
    if ms is None:
        return None
    return isoformat(EPOCH + timedelta(milliseconds=ms))


def iso_to_ms(value):
    """A (naive UTC) datetime → epoch milliseconds."""
    return int(value.replace(tzinfo=timezone.utc).timestamp() * 1000)

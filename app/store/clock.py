"""The one clock: UTC stamps and UUIDs for records, and the county's local calendar for every date a person sees."""

from __future__ import annotations

import time
import os
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

# Every county keeps Beijing time (by law; government offices in Xinjiang too), so the zone is a constant, not a
# setting. It is never the machine's own zone: a township laptop set to UTC or to the wrong zone must still print
# the county's date. tzdata (in requirements) supplies the zone where the system has none (Windows).
COUNTY_ZONE = ZoneInfo("Asia/Shanghai")

# The test clock set by freeze(): the instant it shows, and (when it ticks) the monotonic time it was set at.
_frozen: tuple[datetime, float | None] | None = None


def _instant() -> datetime:
    """The current instant, aware, in UTC: the machine's, or the test clock's."""
    if _frozen is None:
        return datetime.now(timezone.utc)
    at, since = _frozen
    return at if since is None else at + timedelta(seconds=time.monotonic() - since)


def now() -> str:
    """The current time, as stored in created_at / updated_at / audit entries: UTC ISO-8601 with offset."""
    return _instant().isoformat(timespec="milliseconds")


def local_now() -> datetime:
    """The current time in the county, aware: for "generated at" lines and file names a person reads."""
    return _instant().astimezone(COUNTY_ZONE)


def today() -> date:
    """Today's date in the county: the "today" of deadlines, 公示, worklists, validation and printed forms."""
    return local_now().date()


def local_time(stamp: str | datetime) -> datetime:
    """A stored stamp (or an aware instant, e.g. from the county database) as the county's local time, aware."""
    at = datetime.fromisoformat(stamp) if isinstance(stamp, str) else stamp
    if at.tzinfo is None:
        at = at.replace(tzinfo=timezone.utc)  # stamps are written in UTC; one without offset is read as UTC too
    return at.astimezone(COUNTY_ZONE)


def local_date(stamp: str) -> date:
    """The county's calendar date of a stored stamp (never the stamp's first ten characters, which are UTC's)."""
    return local_time(stamp).date()


@contextmanager
def freeze(at: datetime, ticking: bool = False) -> Iterator[None]:
    """For tests: make now(), local_now() and today() show the instant `at` (a naive `at` is county-local time).

    A frozen clock stands still; a ticking one starts at `at` and runs on, which keeps stamps in order for
    whole-suite runs that write and compare them."""
    global _frozen
    if at.tzinfo is None:
        at = at.replace(tzinfo=COUNTY_ZONE)
    before = _frozen
    _frozen = (at.astimezone(timezone.utc), time.monotonic() if ticking else None)
    try:
        yield
    finally:
        _frozen = before


def new_id() -> str:
    """A new record id that stays unique when records from many laptops meet at the county.

    A random (version 4) UUID as uuid.uuid4() makes it, formatted here: a bill list mints tens of thousands, and the
    UUID object uuid4 builds only to be turned into text costs more than the randomness."""
    b = bytearray(os.urandom(16))
    b[6] = b[6] & 0x0F | 0x40  # version 4
    b[8] = b[8] & 0x3F | 0x80  # RFC 4122 variant
    h = b.hex()
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"

"""The one clock: UTC stamps and UUIDs for records, and the county's local calendar for every date a person sees."""

from __future__ import annotations

import os
import time
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


def instant(stamp: str | datetime) -> datetime:
    """A stored stamp (or an instant) as an aware instant; ValueError or TypeError if it is not a stamp."""
    at = datetime.fromisoformat(stamp) if isinstance(stamp, str) else stamp
    if at.tzinfo is None:
        at = at.replace(tzinfo=timezone.utc)  # stamps are written in UTC; one without offset is read as UTC too
    return at


def newer(stamp: object, than: object) -> bool:
    """Whether the stamp `stamp` is later than `than`, compared as instants (a stamp written in seconds, or with
    another offset, by what wrote it before, compares by its time, not its text).

    A value that is no stamp (a garbled or forged record) is compared by its text, as the county database compares
    every stamp (county_db._merge): it must not stop the merge of the records around it."""
    if stamp is None or than is None:  # no stamp at all (a row written by hand) is older than any
        return than is None and stamp is not None
    try:
        return instant(stamp) > instant(than)
    except (TypeError, ValueError):
        return str(stamp) > str(than)


def after(stored: object, stamp: str) -> str:
    """`stamp` if it is later than the `stored` one, else one millisecond after `stored`, written as now() writes.

    A record's later change must carry a later stamp, or the county and other sites keep its earlier copy (they
    take only a newer one): two changes within one millisecond, or a computer whose clock was set back, would
    otherwise give the later change the same or an earlier stamp. A stored value that is no stamp has nothing to
    come after: `stamp` stands."""
    try:
        before = instant(stored)
        if instant(stamp) > before:
            return stamp
    except (TypeError, ValueError):
        return stamp
    return (before + timedelta(milliseconds=1)).astimezone(timezone.utc).isoformat(timespec="milliseconds")


def local_time(stamp: str | datetime) -> datetime:
    """A stored stamp (or an aware instant, e.g. from the county database) as the county's local time, aware."""
    return instant(stamp).astimezone(COUNTY_ZONE)


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
    """A new record id that stays unique when records from many laptops meet at the county (a UUID of version 7).

    Its first 48 bits are the milliseconds since 1970 and the other 74 random, as RFC 9562 lays out, so ids made one
    after another sort together: every index on an id, and `check`'s look-up of each record's last audit entry, then
    works on neighbouring pages instead of all over a county's gigabytes (random ids made the build of the benchmark
    county a third slower and each record's look-up in `check` several times slower). The time part is the computer's
    own clock, not the county's (app/store/clock.now): nobody reads it as a date, it only keeps neighbours together."""
    b = bytearray((time.time_ns() // 1_000_000).to_bytes(6, "big") + os.urandom(10))
    b[6] = b[6] & 0x0F | 0x70  # version 7
    b[8] = b[8] & 0x3F | 0x80  # the RFC's variant
    # Formatted here rather than through uuid.UUID: a bill list mints tens of thousands, and the object costs more
    # than the randomness.
    h = b.hex()
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"

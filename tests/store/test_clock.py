"""The one clock: UTC stamps, the county's calendar whatever the machine's zone, and the test clock."""

from __future__ import annotations

import time
from datetime import date, datetime, timedelta, timezone

import pytest

from app.store import clock

# 00:30 and 23:30 on 10 June 2025 in the county: the first is still 9 June in UTC, the second already
# 11 June on a machine set to UTC+14 (Etc/GMT-14).
EARLY = datetime(2025, 6, 10, 0, 30)
LATE = datetime(2025, 6, 10, 23, 30)


@pytest.fixture(params=["Etc/GMT+12", "UTC", "Asia/Shanghai", "Etc/GMT-14"])
def machine_zone(request, monkeypatch):
    """The machine's own zone set to each of a spread of zones (the clock must not care)."""
    monkeypatch.setenv("TZ", request.param)
    time.tzset()
    yield request.param
    monkeypatch.undo()
    time.tzset()


@pytest.mark.parametrize("local", [EARLY, LATE])
def test_today_is_the_county_date_whatever_the_machine_zone(machine_zone, local):
    with clock.freeze(local):
        assert clock.today() == date(2025, 6, 10)
        assert clock.local_now().replace(tzinfo=None) == local
        assert clock.local_now().utcoffset() == timedelta(hours=8)
        assert clock.local_date(clock.now()) == date(2025, 6, 10)


def test_stamps_stay_utc_and_their_local_date_is_not_their_first_ten_characters():
    with clock.freeze(EARLY):
        stamp = clock.now()
    assert stamp == "2025-06-09T16:30:00.000+00:00"
    assert clock.local_date(stamp) == date(2025, 6, 10)
    assert clock.local_time(stamp).strftime("%Y-%m-%d %H:%M") == "2025-06-10 00:30"
    # A stamp without offset (none is written so) is read as UTC, not as the machine's time.
    assert clock.local_date("2025-06-09T16:30:00") == date(2025, 6, 10)
    assert clock.local_date("2025-06-10T15:59:59.999+00:00") == date(2025, 6, 10)
    assert clock.local_date("2025-06-10T16:00:00.000+00:00") == date(2025, 6, 11)


def test_an_aware_instant_is_the_same_instant_in_the_county():
    with clock.freeze(datetime(2025, 6, 9, 16, 30, tzinfo=timezone.utc)):
        assert clock.today() == date(2025, 6, 10)
    with clock.freeze(datetime(2025, 6, 10, 12, 0, tzinfo=timezone(timedelta(hours=-12)))):
        assert clock.today() == date(2025, 6, 11)


def test_freeze_stands_still_nests_and_gives_the_clock_back():
    real = clock.local_now()
    with clock.freeze(EARLY):
        first = clock.now()
        with clock.freeze(LATE):
            assert clock.local_now().hour == 23
        assert clock.now() == first  # stood still, and the outer freeze is back
    assert clock.local_now() >= real and clock.today() != date(2025, 6, 10)


def test_a_ticking_clock_starts_at_the_instant_and_runs_on():
    with clock.freeze(LATE, ticking=True):
        first = clock.local_now()
        second = clock.local_now()
    start = LATE.replace(tzinfo=clock.COUNTY_ZONE)
    assert start <= first <= second < start + timedelta(minutes=5)


def test_an_instant_from_the_county_database_reads_in_county_time():
    at = datetime(2025, 6, 9, 16, 30, tzinfo=timezone.utc)
    assert clock.local_time(at).strftime("%Y-%m-%d %H:%M") == "2025-06-10 00:30"


def test_record_ids_are_version_7_and_sort_in_the_order_they_were_made(monkeypatch):
    """Ids made one after another sort together (so indexes on them stay local); each is still unique."""
    import uuid

    from app.store import clock

    ticks = iter(range(1_700_000_000_000_000_000, 1_700_000_000_000_000_000 + 10**9 * 50, 10**6))
    monkeypatch.setattr(clock.time, "time_ns", lambda: next(ticks))
    made = [clock.new_id() for _ in range(1000)]
    assert made == sorted(made) and len(set(made)) == 1000
    assert {uuid.UUID(i).version for i in made} == {7} and {uuid.UUID(i).variant for i in made} == {uuid.RFC_4122}
    assert all(str(uuid.UUID(i)) == i for i in made)  # the usual text form
    monkeypatch.undo()
    same_moment = {clock.new_id() for _ in range(10_000)}
    assert len(same_moment) == 10_000

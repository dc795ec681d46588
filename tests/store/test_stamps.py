"""Each change of a record made here is stamped after the one before it, whatever the computer's clock says; a copy
of another site's record keeps the stamp its owner gave it."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from app.store import clock, records
from app.store.db import transaction
from app.store.store import open_store

AT = datetime(2030, 1, 1, tzinfo=timezone.utc)


@pytest.fixture
def conn(tmp_path):
    store = open_store(tmp_path / "s.sqlite3", daily_backup=False)
    yield store.conn
    store.close()


def _household(conn, **row) -> str:
    with transaction(conn):
        return records.insert(conn, "tester", "households", {"region_code": "340223100201", "address": "某村",
                                                             **row}, "登记家庭")["id"]


def _change(conn, key: str, address: str, **given) -> str:
    with transaction(conn):
        return records.update(conn, "tester", "households", key, {"address": address, **given}, "修改家庭")[
            "updated_at"]


def test_two_changes_within_one_millisecond_are_stamped_one_after_the_other(conn):
    with clock.freeze(AT):
        key = _household(conn)
        first = _change(conn, key, "一组")
        second = _change(conn, key, "二组")
    assert first == "2030-01-01T00:00:00.001+00:00"  # the record was made in the same millisecond
    assert second == "2030-01-01T00:00:00.002+00:00"


def test_a_clock_set_back_still_stamps_the_next_change_later(conn):
    with clock.freeze(AT):
        key = _household(conn)
    with clock.freeze(AT - timedelta(days=1)):
        assert _change(conn, key, "一组") == "2030-01-01T00:00:00.001+00:00"
    with clock.freeze(AT + timedelta(seconds=5)):  # once the clock is past it again, its own time
        assert _change(conn, key, "二组") == "2030-01-01T00:00:05.000+00:00"


def test_a_stamp_given_by_the_caller_for_a_record_made_here_is_made_later_too(conn):
    with clock.freeze(AT):
        key = _household(conn)
    assert _change(conn, key, "一组", updated_at="2029-12-31T00:00:00.000+00:00") == "2030-01-01T00:00:00.001+00:00"


@pytest.mark.parametrize("stored, now, stamped", [
    # Stored to the second: the same instant as now, so one millisecond after it.
    ("2030-01-01T00:00:00+00:00", AT, "2030-01-01T00:00:00.001+00:00"),
    # With another offset: later than now as text, earlier as time, so now stands.
    ("2030-01-01T07:00:00+08:00", AT - timedelta(minutes=30), "2029-12-31T23:30:00.000+00:00"),
    # With another offset, later as time: one millisecond after it, in UTC.
    ("2030-01-01T09:00:00+08:00", AT, "2030-01-01T01:00:00.001+00:00"),
    # In microseconds: the next millisecond after it.
    ("2030-01-01T00:00:00.000500+00:00", AT, "2030-01-01T00:00:00.001+00:00"),
    # No stamp at all (a garbled file): nothing to come after, now stands.
    ("不是时间", AT, "2030-01-01T00:00:00.000+00:00"),
])
def test_stamps_stored_in_other_forms_are_compared_as_times(conn, stored, now, stamped):
    key = _household(conn, updated_at=stored)
    with clock.freeze(now):
        assert _change(conn, key, "一组") == stamped


def test_a_received_record_keeps_the_stamp_its_owner_gave(conn):
    """merge.apply writes the owner's copy with the owner's stamp: never moved, even when not later than the one
    held here (an application, compared by any other stamp: records.STAMPED_HERE)."""
    key = _household(conn, site_id="another-site", updated_at="2030-01-01T00:00:00.000+00:00")
    owners = "2029-12-31T00:00:00.000+00:00"
    with clock.freeze(AT + timedelta(days=1)):
        assert _change(conn, key, "一组", updated_at=owners) == owners


def test_a_change_made_here_to_a_received_record_comes_after_the_copy_it_changes(conn):
    """(a 发放 batch taking another site's 补付 line): an older copy of the owner's arriving late does not undo it."""
    key = _household(conn, site_id="another-site", updated_at="2030-01-01T00:00:00.000+00:00")
    with clock.freeze(AT - timedelta(days=1)):
        assert _change(conn, key, "一组") == "2030-01-01T00:00:00.001+00:00"

"""Batches made ready on the read-ahead thread: their COPY text stores exactly what psycopg's write_row stores, and a
county import that copies them straight into its tables writes what the staged merge wrote."""

from __future__ import annotations

import uuid

import psycopg
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app.exchange import county_db, package, ready
from app.services import packages
from tests.exchange.conftest import unsealed
from tests.exchange.test_sync import county_counts

COLUMNS = "a TEXT, b BIGINT, c TEXT, d BOOLEAN, e BYTEA, f TEXT"
TRICKY = [("a\tb\nc\\d\re\b\f\vg", 1, None, True, b"\x00\xff\\\n", "张三\u3000"),
          ("", -5, "\\N", False, b"", "\\."),
          ("N", 2 ** 62, "NULL", None, None, "😀 \\x00")]


@pytest.fixture(scope="module")
def scratch(pg):
    with psycopg.connect(pg.database(f"ready_{uuid.uuid4().hex[:8]}"), autocommit=True) as conn:
        conn.execute(f"CREATE TABLE t (site TEXT, {COLUMNS})")
        yield conn


def _stored(pg, write) -> list[tuple]:
    pg.execute("TRUNCATE t")
    with pg.cursor().copy("COPY t FROM STDIN") as copy:
        write(copy)
    return pg.execute("SELECT * FROM t ORDER BY b NULLS LAST, a").fetchall()


def _both(pg, rows: list[tuple], lead: tuple = ("站点-1",)) -> tuple[list, list]:
    def by_rows(copy):
        for row in rows:
            copy.write_row((*lead, *row))

    return _stored(pg, by_rows), _stored(pg, lambda copy: copy.write(ready.copy_text(rows, lead)))


def test_tricky_values_are_stored_as_write_row_stores_them(scratch):
    by_rows, by_text = _both(scratch, TRICKY)
    assert by_text == by_rows
    stored = {row[2]: row for row in by_text}
    assert stored[1] == ("站点-1", *TRICKY[0])
    assert stored[-5][3] == "\\N" and stored[2 ** 62][3:6] == ("NULL", None, None)  # text stays text, None NULL


def test_bytes_go_in_bytea_hex_form():
    assert ready.copy_text([(b"\x01\xab",)]) == b"\\\\x01ab\n"


_text = st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"), max_size=30)
_row = st.tuples(_text, st.integers(-2 ** 63, 2 ** 63 - 1), st.none() | _text, st.none() | st.booleans(),
                 st.none() | st.binary(max_size=20), _text)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(_row, max_size=8))
def test_any_rows_are_stored_as_write_row_stores_them(scratch, rows):
    by_rows, by_text = _both(scratch, rows)
    assert by_text == by_rows


def test_the_first_delivery_is_copied_straight_in_and_a_second_one_merged(township, county_site, county_url,
                                                                          tmp_path, monkeypatch):
    """The straight copy (nothing held yet) and the staged merge (everything held) leave the same county tables."""
    staged: list[str] = []
    stage = county_db._stage
    monkeypatch.setattr(county_db, "_stage", lambda pg, name, table, *a: staged.append(table) or stage(pg, name, table, *a))
    pkg = tmp_path / "first.jzpkg"
    packages.export_package(township, pkg)
    first = packages.import_to_county(county_site, pkg, county_url)
    # Only the applications (their summaries are the county's) and their steps (admitted one by one) were staged.
    assert set(staged) <= {"applications", "application_steps"}
    counts = county_counts(county_url)
    assert counts["visits"] > 0 and counts["settlements"] > 0
    assert {t: c.written for t, c in first.county.items() if c.received} == \
        {t: c.received for t, c in first.county.items() if c.received}
    with psycopg.connect(county_url) as pg:
        pushed = pg.execute("SELECT count(*) FROM visits WHERE push_id IS NULL").fetchone()[0]
        seqs = pg.execute("SELECT count(DISTINCT county_seq) = count(*) FROM visits").fetchone()[0]
    assert pushed == 0 and seqs  # the defaults a staged insert gave each row, the straight copy gives too
    # The same records again in another package (the same one imported again writes nothing at all).
    packages.export_package(township, tmp_path / "again.jzpkg", everything=True)
    again = packages.import_to_county(county_site, tmp_path / "again.jzpkg", county_url)
    assert {"visits", "settlements", "audit_log"} <= set(staged)
    # Only the site's log grew meanwhile (the second export is an entry of its own).
    assert {t: n for t, n in county_counts(county_url).items() if t != "audit_log"} == \
        {t: n for t, n in counts.items() if t != "audit_log"}
    assert all(c.written == 0 for t, c in again.county.items() if t != "audit_log")


def test_a_batch_of_one_empty_id_already_held_is_merged_not_copied(township, county_site, county_url, tmp_path):
    """An empty id splits to no id at all on the server, so the straight copy could not see it held: such a batch
    takes the merge, which counts it as before instead of failing on the county's key."""
    pkg = tmp_path / "p.jzpkg"
    packages.export_package(township, pkg)
    packages.import_to_county(county_site, pkg, county_url)
    visits = next(e for e in county_db.local_entities() if e.table == "visits")
    with unsealed(pkg, county_site) as plain:
        row = next(package.open_package(plain, county_db.local_entities()).records("visits"))
    row = ("", *row[1:])
    with psycopg.connect(county_url, autocommit=True) as pg:
        with pg.transaction():
            assert county_db.merge(pg, visits, [row]).written == 1  # staged: the county now holds id ""
        with pg.transaction():
            again = county_db.merge(pg, visits, [row], ready.copy_text([row]))
        assert again.received == 1 and again.written == 0
        assert pg.execute("SELECT count(*) FROM visits WHERE id = ''").fetchone()[0] == 1


def test_a_package_of_long_lines_comes_in_batches_bounded_in_bytes(township, county_site, tmp_path):
    """Batches end at a count of records or at a budget of bytes, whichever comes first, and lose no record."""
    pkg = tmp_path / "p.jzpkg"
    packages.export_package(township, pkg)
    with unsealed(pkg, county_site) as plain:
        opened = package.open_package(plain, county_db.local_entities())
        whole = list(opened.records("audit_log"))
        by_bytes = list(opened.batches("audit_log", size=10 ** 6, budget=4096))
        by_count = list(opened.batches("audit_log", size=7, budget=10 ** 9))
    assert len(whole) > 20
    assert [r for b in by_bytes for r in b] == whole == [r for b in by_count for r in b]
    assert len(by_bytes) > 2 and max(map(len, by_bytes)) < len(whole)
    assert {len(b) for b in by_count[:-1]} == {7}

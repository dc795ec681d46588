"""A year read as columns holds each bill's amounts as whole fen, exactly as the bills store them."""

from __future__ import annotations

from decimal import Decimal

import numpy as np
import pytest

from app.services.year_columns import _parse, read_year

from .conftest import copied_county, demo_county

YEAR = 2025
AMOUNTS = ("total_cost", "policy_covered", "basic_paid", "serious_illness_paid")


@pytest.fixture(scope="module")
def county_db(tmp_path_factory):
    return demo_county(tmp_path_factory.mktemp("columns") / "county.sqlite3", 40, YEAR, seed=5, mean_visits=4.0)


def test_amounts_lose_their_point_and_keep_their_sign():
    table = _parse(["20250611,212.01,-1,-5.30,0.00,7", "20251231,1000000.99,0.05,-1,-0.40,0"], 6)
    assert table.tolist() == [[20250611, 20251231], [21201, 100000099], [-1, 5], [-530, -1], [0, -40], [7, 0]]


def test_every_visit_of_the_year_is_read_at_its_stored_fen(county_db, tmp_path):
    session = copied_county(county_db, tmp_path, user=None)
    conn = session.conn
    conn.execute("UPDATE visits SET serious_illness_paid = NULL WHERE rowid % 3 = 0")
    data = read_year(conn, "", YEAR)
    stored = {}
    for row in conn.execute(f"SELECT person_id, discharged_on, {', '.join(AMOUNTS)} FROM visits WHERE status = 'live' "
                            f"AND discharged_on BETWEEN '{YEAR}-01-01' AND '{YEAR}-12-31'"):
        stored.setdefault(row[0], []).append((row[1], *(-1 if a is None else int(Decimal(a) * 100) for a in row[2:])))
    read = {}
    columns = [getattr(data, a) for a in AMOUNTS]
    for i, case in enumerate(data.case.tolist()):
        read.setdefault(data.person_ids[case], []).append((str(data.date[i]), *(int(c[i]) for c in columns)))
    assert data.visits > 100 and any(-1 in v for vs in read.values() for v in vs)
    assert {p: sorted(v) for p, v in read.items()} == {p: sorted(v) for p, v in stored.items()}
    assert np.all(data.total_cost > 0)
    session.store.close()

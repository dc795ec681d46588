"""Short references people print and type: unique for records made together, unchanged for records made before."""

import sqlite3

from app.domain.refs import ref_sql, short_ref
from app.store.clock import new_id


def test_records_made_together_get_different_references():
    ids = [new_id() for _ in range(5000)]
    assert len({short_ref(i) for i in ids}) == 5000  # their starts are the same millisecond


def test_an_older_random_id_keeps_the_reference_already_printed():
    assert short_ref("3f2a9c10-5b7e-4d21-9a0b-1c2d3e4f5a6b") == "3F2A9C10"


def test_sqlite_finds_a_record_by_the_same_reference():
    conn = sqlite3.connect(":memory:")
    ids = [new_id() for _ in range(50)] + ["3f2a9c10-5b7e-4d21-9a0b-1c2d3e4f5a6b"]
    conn.execute("CREATE TABLE t (id TEXT)")
    conn.executemany("INSERT INTO t VALUES (?)", [(i,) for i in ids])
    for i in ids:
        assert conn.execute(f"SELECT id FROM t WHERE {ref_sql('id')} = upper(?)", (short_ref(i).lower(),)
                            ).fetchall() == [(i,)]

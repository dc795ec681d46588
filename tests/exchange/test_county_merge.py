"""The county's merge of a site's audit entries: an entry held with another digest is counted, however the batch
gave its number."""

from __future__ import annotations

import uuid

import psycopg

from app.exchange import county_db
from app.exchange.records import AUDIT_COLUMNS


def _entries(numbers, digest: str) -> list[tuple]:
    out = []
    for n in numbers:
        row = dict.fromkeys(AUDIT_COLUMNS)
        row.update(seq=n, hash=f"{digest}{n}", action="录入账单", entity="visits", entity_id=f"v{n}")
        out.append(tuple(row[c] for c in AUDIT_COLUMNS))
    return out


def test_a_rewritten_entry_is_counted_across_a_batch_of_numbers(pg):
    url = pg.database(f"merge_{uuid.uuid4().hex[:12]}")
    county_db.init_db(url)
    site = str(uuid.uuid4())
    numbers = range(995, 1005)  # "999" sorts after "1000" as text
    with psycopg.connect(url) as conn:
        first = county_db.merge_audit(conn, site, _entries(numbers, "a"))
        assert (first.written, first.audit_mismatch) == (10, 0)
        again = county_db.merge_audit(conn, site, _entries(numbers, "a"))
        assert (again.written, again.audit_mismatch) == (0, 0)
        # The same numbers with other digests, once as numbers and once as text (a package's field may be either):
        # every one of them differs from what the county holds.
        assert county_db.merge_audit(conn, site, _entries(numbers, "b")).audit_mismatch == 10
        assert county_db.merge_audit(conn, site, _entries([str(n) for n in numbers], "b")).audit_mismatch == 10
        # Beyond what the county holds, nothing is compared: new entries are appended.
        later = county_db.merge_audit(conn, site, _entries(range(1003, 1010), "a"))
        assert (later.written, later.audit_mismatch) == (5, 0)

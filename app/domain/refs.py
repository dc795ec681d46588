"""The short reference a person reads, prints and types for a record (a 发放批次, a 依申请 case)."""

from __future__ import annotations


def short_ref(record_id: str) -> str:
    """Eight characters of the record's id, in capitals.

    Ids are UUIDs of version 7 (app/store/clock.new_id): their start is the time, the same for every record made
    within a minute or so, so the reference is their random end. An older id (version 4, random throughout) keeps
    the start it was always printed with, so a form printed again shows the number already on paper."""
    return (record_id[-8:] if record_id[14:15] == "7" else record_id[:8]).upper()


def ref_sql(column: str) -> str:
    """The same reference computed by SQLite from `column`, to find a record by what a person typed."""
    return (f"upper(CASE WHEN substr({column}, 15, 1) = '7' THEN substr({column}, -8) "
            f"ELSE substr({column}, 1, 8) END)")

"""Blocks of the audit log: sealed when complete, verified by one digest each, and a change inside one still named."""

from __future__ import annotations

import sqlite3

import pytest

from app.store import audit, audit_blocks
from app.store.check import check_database
from app.store.db import transaction
from app.store.store import open_store

BLOCK = 50
# The fields an entry written now covers with its own digest (what a forger recomputes).
OWN = audit.DIGESTED_FIELDS[audit.DIGEST_VERSION]


@pytest.fixture
def log(tmp_path, monkeypatch):
    """A database whose log has 230 entries of its own plus the sealing entries, in blocks of 50."""
    monkeypatch.setattr(audit_blocks, "BLOCK", BLOCK)
    path = tmp_path / "log.sqlite3"
    store = open_store(path, daily_backup=False)
    with transaction(store.conn):
        for i in range(230):
            audit.append(store.conn, "tester", "测试", "events", f"e{i}", None, {"i": i})
    store.close()
    conn = sqlite3.connect(path)
    conn.row_factory = sqlite3.Row
    yield path, conn
    conn.close()


def _seals(conn):
    return conn.execute("SELECT entity_id, seq FROM audit_log WHERE entity = 'audit_log' ORDER BY seq").fetchall()


def _forged_seal(conn, first: int, last: int) -> int:
    """A seal of block first..last as the program writes one, over the block as it is now, chained after the head
    (what a forger with SQL and SHA-256 appends); its number."""
    covered = audit_blocks.columns(conn)
    return audit.write_entry(conn, "system", audit_blocks.ACTION, audit_blocks.ENTITY, audit_blocks.key(first, last),
                             None, {"from": first, "to": last, "columns": list(covered), "form": audit_blocks.FORM},
                             audit_blocks.digest(conn, first, last, covered))


def _stray(seq: int) -> str:
    """check's line for a sealing entry the program would not have written."""
    return f"审计日志第 {seq} 条是程序不会写的分段封存记录（在程序之外添加或改动）"


def _entry_7_changed_before_its_block_completed(path):
    """A store in blocks of BLOCK whose entry 7 was changed by SQL while the first block was still the tail, then
    the block completed through the program (which finds entry 7 changed); its open store."""
    store = open_store(path, daily_backup=False)
    with transaction(store.conn):
        for i in range(20):
            audit.append(store.conn, "tester", "测试", "events", f"e{i}", None, {"i": i})
    store.conn.execute("UPDATE audit_log SET after = '{\"i\":999}' WHERE seq = 7")
    store.conn.commit()
    with transaction(store.conn):
        for i in range(20, 60):
            audit.append(store.conn, "tester", "测试", "events", f"e{i}", None, {"i": i})
    return store


def test_every_complete_block_is_sealed_by_the_entry_after_it(log):
    path, conn = log
    seals = _seals(conn)
    count = conn.execute("SELECT count(*) FROM audit_log").fetchone()[0]
    assert [s["entity_id"] for s in seals] == [f"{k * BLOCK - BLOCK + 1}-{k * BLOCK}" for k in range(1, count // BLOCK + 1)]
    assert all(s["seq"] == int(s["entity_id"].split("-")[1]) + 1 for s in seals)
    assert audit.verify(conn) == [] and audit.verify(conn, full=True) == []
    assert check_database(path) == []


def test_a_changed_entry_inside_a_sealed_block_is_named(log):
    path, conn = log
    conn.execute("UPDATE audit_log SET after = '{\"i\":999}' WHERE seq = 17")
    conn.commit()
    assert audit.verify(conn) == ["审计日志第 17 条内容与其校验值不符（被修改）"]
    assert "审计日志第 17 条内容与其校验值不符（被修改）" in check_database(path)


def test_an_entry_changed_with_its_own_digest_recomputed_still_shows(log):
    path, conn = log
    row = conn.execute(f"SELECT {', '.join(OWN)} FROM audit_log WHERE seq = 17").fetchone()
    fields = dict(row) | {"after": '{"i":999}'}
    conn.execute("UPDATE audit_log SET after = ?, hash = ? WHERE seq = 17",
                 (fields["after"], audit.entry_digest(*fields.values())))
    conn.commit()
    assert audit.verify(conn) == ["审计日志第 18 条与前一条衔接不上（前一条被修改或删除）"]


def test_a_block_rewritten_whole_with_its_seal_still_shows_in_the_next_block(log):
    """Recomputing every entry of a block and its sealing entry's digest: the sealing entry is itself in the next
    block (or the tail), whose digest no longer matches."""
    path, conn = log
    conn.create_function("jz_entry_digest", len(OWN), audit.entry_digest)
    conn.execute("UPDATE audit_log SET after = '{\"i\":999}' WHERE seq = 17")
    prev = conn.execute("SELECT hash FROM audit_log WHERE seq = 16").fetchone()[0]
    for seq in range(17, conn.execute("SELECT max(seq) FROM audit_log").fetchone()[0] + 1):
        if seq == BLOCK + 1:  # the seal of block 1..50, made to match the rewritten block
            covered = tuple(audit_blocks.columns(conn))
            conn.execute("UPDATE audit_log SET row_hash = ? WHERE seq = ?",
                         (audit_blocks.digest(conn, 1, BLOCK, covered), seq))
        conn.execute("UPDATE audit_log SET prev_hash = ? WHERE seq = ?", (prev, seq))
        conn.execute(f"UPDATE audit_log SET hash = jz_entry_digest({', '.join(OWN)}) WHERE seq = ?", (seq,))
        prev = conn.execute("SELECT hash FROM audit_log WHERE seq = ?", (seq,)).fetchone()[0]
    conn.execute("UPDATE audit_head SET hash = ?", (prev,))
    conn.commit()
    # Every entry's own digest and link now hold: only the blocks show it (and, outside the file, the anchors).
    assert audit.entry_problems(conn, 1, 10_000) == []
    found = audit.verify(conn)
    assert found and all("分段封存时的校验值不符" in p for p in found), found


def test_a_deleted_sealing_entry_is_a_gap(log):
    path, conn = log
    conn.execute(f"DELETE FROM audit_log WHERE seq = {BLOCK + 1}")
    conn.commit()
    assert f"审计日志第 {BLOCK + 1} 条至第 {BLOCK + 1} 条缺失（被删除）" in audit.verify(conn)


def test_a_block_sealed_before_a_column_was_added_still_verifies(log):
    path, conn = log
    conn.execute("ALTER TABLE audit_log ADD COLUMN later TEXT")
    conn.commit()
    assert audit.verify(conn) == []


def test_a_seal_that_covers_fewer_columns_is_named(log):
    path, conn = log
    after = '{"from":1,"to":50,"columns":["seq","hash"]}'
    conn.execute(f"UPDATE audit_log SET after = ? WHERE seq = {BLOCK + 1}", (after,))
    conn.commit()
    found = audit.verify(conn)
    assert _stray(BLOCK + 1) in found


def test_a_seal_added_by_hand_is_named(log):
    path, conn = log
    conn.execute("UPDATE audit_log SET entity = 'audit_log', row_hash = 'x', entity_id = '3-9' WHERE seq = 120")
    conn.commit()
    found = audit.verify(conn)
    assert _stray(120) in found


def test_a_block_with_a_changed_entry_is_not_sealed_and_is_checked_entry_by_entry(tmp_path, monkeypatch):
    monkeypatch.setattr(audit_blocks, "BLOCK", BLOCK)
    store = _entry_7_changed_before_its_block_completed(tmp_path / "t.sqlite3")
    conn = store.conn
    assert [found[0] for found in audit_blocks.sealed(conn).values()] == [audit_blocks.NOT_SEALED]
    assert audit.verify(conn) == ["审计日志第 7 条内容与其校验值不符（被修改）"]
    store.close()


def test_an_upgrade_that_seals_records_as_it_streams_them_seals_blocks_on_the_way(tmp_path, monkeypatch):
    """Migration 6 appends an entry per record while it reads the records; blocks completed on the way are sealed
    (and verified) in the middle of that read."""
    import shutil
    from pathlib import Path

    path = tmp_path / "v5.sqlite3"
    shutil.copy(Path(__file__).parents[1] / "fixtures" / "store-v5.sqlite3", path)
    monkeypatch.setattr(audit_blocks, "BLOCK", BLOCK)
    store = open_store(path, daily_backup=False)
    assert len(audit_blocks.sealed(store.conn)) >= 3
    assert audit.verify(store.conn) == []
    store.close()
    assert check_database(path) == []


def test_the_upgrade_seals_a_log_written_before_blocks(tmp_path, monkeypatch):
    import shutil
    from pathlib import Path

    path = tmp_path / "v6.sqlite3"
    shutil.copy(Path(__file__).parents[1] / "fixtures" / "store-v6.sqlite3", path)
    old = sqlite3.connect(path)
    count = old.execute("SELECT count(*) FROM audit_log").fetchone()[0]
    old.close()
    assert count > 2 * BLOCK
    monkeypatch.setattr(audit_blocks, "BLOCK", BLOCK)
    store = open_store(path, daily_backup=False)
    total = store.conn.execute("SELECT count(*) FROM audit_log").fetchone()[0]
    assert set(audit_blocks.sealed(store.conn)) == {(end - BLOCK + 1, end) for end in range(BLOCK, total + 1, BLOCK)}
    assert audit.verify(store.conn) == []
    store.close()
    assert check_database(path) == []


def _sealed_as_schema_17(conn, user, first, last, covered, value=None):
    """What schema 17's code wrote when a block was complete: every column through json_array, no form named."""
    assert value is None
    audit.write_entry(conn, user, audit_blocks.ACTION, audit_blocks.ENTITY, audit_blocks.key(first, last), None,
                      {"from": first, "to": last, "columns": list(covered)},
                      audit_blocks.digest(conn, first, last, covered, "json"))


def test_blocks_sealed_by_schema_17_keep_their_seal_and_a_split_seal_added_to_one_is_a_stray(tmp_path, monkeypatch):
    """Blocks sealed in the json form verify as they were sealed, before and after the upgrade to 18; a seal in the
    new form appended to one of them (to match an entry changed in it) is a second seal, named, and the change shows."""
    monkeypatch.setattr(audit_blocks, "BLOCK", BLOCK)
    path = tmp_path / "v17.sqlite3"
    store = open_store(path, daily_backup=False)
    with monkeypatch.context() as old_code:
        old_code.setattr(audit_blocks, "_write_seal", _sealed_as_schema_17)
        with transaction(store.conn):
            for i in range(230):
                audit.append(store.conn, "tester", "测试", "events", f"e{i}", None, {"i": i})
    assert {found[3] for found in audit_blocks.sealed(store.conn).values()} == {"json"}
    store.conn.execute("DELETE FROM schema_migrations WHERE version = 18")
    store.conn.execute("PRAGMA user_version = 17")
    store.conn.commit()
    store.close()
    assert check_database(path) == []
    raw = sqlite3.connect(path)
    raw.execute("UPDATE audit_log SET after = '{\"i\":999}' WHERE seq = 60")  # inside block 51..100
    forged = _forged_seal(raw, 51, 100)
    raw.commit()
    raw.close()

    store = open_store(path, daily_backup=False)
    forms = {found[3] for found in audit_blocks.sealed(store.conn).values()}
    store.close()
    assert forms == {"json"}
    found = check_database(path)
    assert "审计日志第 60 条内容与其校验值不符（被修改）" in found
    assert _stray(forged) in found


def test_a_seal_appended_to_match_a_changed_block_is_a_stray_and_the_change_still_shows(log):
    """The block's first seal is the one read: a second one, chained properly after the head, cannot vouch for a
    changed entry."""
    path, conn = log
    conn.execute("UPDATE audit_log SET after = '{\"i\":999}' WHERE seq = 17")
    forged = _forged_seal(conn, 1, BLOCK)
    conn.commit()
    assert audit_blocks.strays(conn) == [forged]
    found = check_database(path)
    assert "审计日志第 17 条内容与其校验值不符（被修改）" in found
    assert _stray(forged) in found


def test_the_split_form_tells_where_a_value_ends(tmp_path):
    """Text moved from `before` into `after`, or a NULL turned into the text NULL is written as, changes the
    block's digest."""
    conn = sqlite3.connect(tmp_path / "d.sqlite3")
    # before and after without a type, so that a number stays one (the log's TEXT columns would make it text)
    conn.execute("CREATE TABLE audit_log (seq INTEGER PRIMARY KEY, at TEXT, before, after)")
    covered = ("seq", "at", "before", "after")

    def digest_of(before, after):
        conn.execute("DELETE FROM audit_log")
        conn.execute("INSERT INTO audit_log VALUES (1, 't', ?, ?)", (before, after))
        return audit_blocks.digest(conn, 1, 1, covered, "split")

    seen = [digest_of('{"a":1}', '{"b":2}'), digest_of('{"a":1}{', '"b":2}'), digest_of(None, '{"b":2}'),
            digest_of("~", '{"b":2}'), digest_of("", '{"b":2}'), digest_of('{"b":2}', None),
            # the same bytes as a BLOB, the same digits as a number, a character of three bytes moved across
            digest_of('{"a":"张"}'.encode(), '{"b":2}'), digest_of("123", '{"b":2}'), digest_of(123, '{"b":2}'),
            digest_of('{"a":"张"}', '{"b":2}'), digest_of('{"a":"', '张"}{"b":2}')]
    assert len(set(seen)) == len(seen)


def test_a_seal_appended_to_a_block_that_failed_at_completion_is_a_stray(tmp_path, monkeypatch):
    monkeypatch.setattr(audit_blocks, "BLOCK", BLOCK)
    path = tmp_path / "t.sqlite3"
    store = _entry_7_changed_before_its_block_completed(path)
    with transaction(store.conn):
        forged = _forged_seal(store.conn, 1, BLOCK)
    store.close()
    found = check_database(path)
    assert "审计日志第 7 条内容与其校验值不符（被修改）" in found
    assert _stray(forged) in found


def test_a_blob_put_into_a_sealed_block_names_the_entry(log):
    """json_array refuses a BLOB: the block is then verified entry by entry, not reported as a file that cannot be
    read."""
    path, conn = log
    conn.execute("UPDATE audit_log SET username = CAST(username AS BLOB) WHERE seq = 17")
    conn.commit()
    assert "审计日志第 17 条内容与其校验值不符（被修改）" in check_database(path)


def test_a_seal_naming_its_block_in_other_digits_is_a_stray(log):
    path, conn = log
    conn.execute(f"UPDATE audit_log SET entity_id = '¹-{BLOCK}' WHERE seq = {BLOCK + 1}")
    conn.commit()
    assert _stray(BLOCK + 1) in check_database(path)


def test_a_tail_entry_changed_then_sealed_by_hand_after_the_newest_backup_is_named(tmp_path, monkeypatch):
    """An entry changed in the unsealed tail, entries appended to complete its block and a seal written to match: the
    block's digest matches, but it was sealed after the newest backup saw the log, so check verifies it entry by
    entry."""
    from app.store import backup

    monkeypatch.setattr(audit_blocks, "BLOCK", BLOCK)
    path = tmp_path / "t.sqlite3"
    store = open_store(path, daily_backup=False)
    conn = store.conn
    with transaction(conn):
        for i in range(110):
            audit.append(conn, "tester", "测试", "events", f"e{i}", None, {"i": i})
    backup.backup(conn, store.backups)
    conn.execute("UPDATE audit_log SET after = '{\"i\":999}' WHERE seq = 105")
    conn.commit()
    with transaction(conn):
        while conn.execute("SELECT max(seq) FROM audit_log").fetchone()[0] < 3 * BLOCK:
            audit.write_entry(conn, "tester", "测试", "events", "filler", None, {"i": 0})
        _forged_seal(conn, 2 * BLOCK + 1, 3 * BLOCK)
    store.close()
    assert "审计日志第 105 条内容与其校验值不符（被修改）" in check_database(path)

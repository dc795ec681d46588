"""The pieces `check` splits its work into, each run on its own read-only connection, in worker processes side by side.

A county's file is gigabytes: SQLite's page check, the audit log's sealed blocks and every record's seal each take
seconds per million rows, and one process uses one core. Threads do not help (SQLite holds process-wide locks for
much of that time), so the pieces run in processes; a small database is checked in this process, piece by piece.
"""

from __future__ import annotations

import os
import sqlite3
from collections import deque
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from contextlib import contextmanager
from multiprocessing import get_context, parent_process
from pathlib import Path

from app.store import audit
from app.store.seal import SEALED
from app.store.seal_check import Found, Tally, changed_rows, last_tally, named, pointed, row_tally, sealed_log, \
    vanished_rows

# Below this size a database is checked in one process: starting workers costs more than it saves.
PARALLEL_BYTES = 256 * 1024 * 1024
# A table is checked in pieces of this many rows, so the workers finish together.
ROWS = 200_000
# Sealed blocks per piece.
BLOCKS = 40
# SQLite's page cache per connection (KiB). Small on purpose: a piece reads its pages once, mostly in order, and a
# large cache only adds the kernel's work of giving each new connection fresh memory (on the benchmark county check's
# system time fell from 13.7 to 5.8 CPU seconds with 8 MiB instead of 256 MiB, and user time did not grow).
CACHE_KIB = 8_192


def connect(path: Path) -> sqlite3.Connection:
    """A read-only connection holding one snapshot for everything it reads."""
    conn = _reader(path)
    conn.execute("BEGIN")
    return conn


def _reader(path: Path) -> sqlite3.Connection:
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True, isolation_level=None)
    conn.row_factory = sqlite3.Row
    conn.execute(f"PRAGMA cache_size = -{CACHE_KIB}")
    return conn


# A worker process's connection, kept from piece to piece: opening one reads the schema again (8 ms on a county's,
# a second of CPU over check's hundred pieces). Only in worker processes, which end with the pool; this process
# opens and closes one a piece, holding no file open after check.
_held: dict[Path, sqlite3.Connection] = {}


@contextmanager
def _snapshot(path: Path) -> Iterator[sqlite3.Connection]:
    """A read-only connection on one snapshot for one piece."""
    worker = parent_process() is not None
    conn = _held.get(path) if worker else None
    if conn is None:
        conn = _reader(path)
        if worker:
            _held[path] = conn
    try:
        conn.execute("BEGIN")
        yield conn
    except BaseException:
        _held.pop(path, None)  # a connection that met damage is not used again
        conn.close()
        raise
    if conn.in_transaction:
        conn.execute("ROLLBACK")
    if not worker:
        conn.close()


# A piece's result: its group (a table name, or its kind), what it found, and for a table's pieces in a file whose
# rows name their sealing entries, its tally: ("rows", tally) of its rows, ("last", tally) of the log's records.
Result = tuple[str, Found, tuple[str, Tally] | None]


def run(path: Path, piece: tuple) -> Result:
    """One piece on its own connection: ("pages", full, table), ("blocks", spans), ("rows", table, first, last),
    ("gone", table) or ("references", tables, full)."""
    with _snapshot(path) as conn:
        kind, *args = piece
        if kind == "pages":
            full, table = args
            pragma = "integrity_check" if full else "quick_check"
            rows = [r[0] for r in conn.execute(f'PRAGMA {pragma}("{table}")' if table else f"PRAGMA {pragma}")]
            return kind, ([] if rows == ["ok"] else [f"数据库完整性检查：{r}" for r in rows[:20]], 0), None
        if kind == "blocks":
            found = audit.sealed_block_problems(conn, args[0])
            return kind, (found, len(found)), None
        if kind == "rows":
            table, first, last = args
            span = None if first is None else (first, last)
            return table, changed_rows(conn, table, span), ("rows", row_tally(conn, table, span)) \
                if pointed(conn) else None
        if kind == "gone":
            if not pointed(conn):
                return args[0], vanished_rows(conn, args[0]), None
            back, tally = last_tally(conn, args[0])
            return args[0], back, ("last", tally)
        found = references(conn, *args)
        return kind, (found, len(found)), None


def disagreeing(results: list[Result]) -> set[str]:
    """Tables whose rows' tally is not the log's: a row rolled back to older content, or a record gone."""
    tallies: dict[str, dict[str, list[int]]] = {}
    for group, _, tally in results:
        if tally is not None:
            kind, (count, total) = tally
            sums = tallies.setdefault(group, {}).setdefault(kind, [0, 0])
            sums[0] += count
            sums[1] += total
    return {table for table, kinds in tallies.items() if kinds.get("rows") != kinds.get("last")}


def references(conn: sqlite3.Connection, tables: list[str], full: bool) -> list[str]:
    """Records pointing at records that are not there, and (with `full`) bills without their settlement."""
    problems = []
    # A sealed record deleted or re-pointed outside the program is named by its seal, so without `full` only the
    # references of unsealed tables are followed (a county's bills and settlements would take as long as the rest
    # of check together).
    for table in [t for t in tables if full or t not in SEALED]:
        fk = conn.execute(f"PRAGMA foreign_key_check({table})").fetchall()
        if fk:
            problems.append(f"有 {len(fk)} 条记录引用了不存在的记录（{table} 表）")
    if full and "visits" in tables:
        orphan = conn.execute("SELECT count(*) FROM visits v LEFT JOIN settlements s ON s.visit_id = v.id "
                              "WHERE s.id IS NULL").fetchone()[0]
        if orphan:
            problems.append(f"有 {orphan} 次就诊没有结算记录（半途写入）")
    return problems


def record_pieces(conn: sqlite3.Connection, tables: list[str]) -> list[tuple]:
    """The seal pieces of every sealed table: its rows in ranges of ROWS rowids, and its vanished records."""
    if not sealed_log(conn):
        return []
    pieces: list[tuple] = []
    for table in [t for t in SEALED if t in tables]:
        # Two subqueries: SQLite finds a lone min() or max() at the end of the rowid tree, but scans the whole
        # table for both in one select (0.3 s for a county's bills).
        low, high = conn.execute(f"SELECT (SELECT min(rowid) FROM {table}), (SELECT max(rowid) FROM {table})"
                                 ).fetchone()
        if low is None or high - low < ROWS:
            pieces.append(("rows", table, None, None))
        else:
            pieces.extend(("rows", table, first, first + ROWS - 1) for first in range(low, high + 1, ROWS))
        pieces.append(("gone", table))
    return pieces


def page_pieces(tables: list[str], full: bool) -> list[tuple]:
    """SQLite's check of the file's pages: whole (integrity_check) for `full`, else quick_check table by table (side
    by side), leaving out the audit log's table: the sealed blocks, the unsealed tail and the seals read every page of
    it and of its index of sealing entries, where SQLite reports a damaged page as it meets it. What only the
    whole-file check sees (pages used twice or by nothing, the free list) is left to `check --full`."""
    if full:
        return [("pages", True, None)]
    return [("pages", False, t) for t in tables if t != "audit_log"]


def block_pieces(spans: list[tuple]) -> list[tuple]:
    return [("blocks", spans[i:i + BLOCKS]) for i in range(0, len(spans), BLOCKS)]


def workers_for(path: Path) -> int:
    """How many processes to check `path` with: one for a small file, else one per core (at most four)."""
    try:
        size = path.stat().st_size + Path(f"{path}-wal").stat().st_size if Path(f"{path}-wal").exists() \
            else path.stat().st_size
    except OSError:
        return 1
    return 1 if size < PARALLEL_BYTES else max(1, min(4, os.cpu_count() or 1))


class Runner:
    """Runs pieces in this process (one worker) or in a pool of worker processes started fresh (spawn, as on
    Windows: a forked copy of a process holding SQLite connections is not safe). `task(path, piece)` does one piece
    (check's `run` unless given; another module's must be importable by name, as a worker imports it again)."""

    def __init__(self, path: Path, workers: int, task=None):
        self.path = path
        self.task = run if task is None else task
        self.pool = ProcessPoolExecutor(workers, mp_context=get_context("spawn")) if workers > 1 else None

    def submit(self, pieces: list[tuple]):
        """Start pieces (the longest first, so that no worker is left with a long one at the end); returns a function
        that waits for their results, in the order given."""
        if self.pool is None:
            return lambda: [self.task(self.path, p) for p in pieces]
        futures = [self.pool.submit(self.task, self.path, p) for p in pieces]
        return lambda: [f.result() for f in futures]

    def each(self, pieces: list[tuple], ahead: int) -> Iterator:
        """The pieces' results one by one in the order given, at most `ahead` pieces started and not yet taken (so
        memory stays bounded when the taker is slower than the workers)."""
        if self.pool is None:
            yield from (self.task(self.path, p) for p in pieces)
            return
        started: deque = deque()
        for piece in pieces:
            started.append(self.pool.submit(self.task, self.path, piece))
            if len(started) >= ahead:
                yield started.popleft().result()
        while started:
            yield started.popleft().result()

    def close(self) -> None:
        if self.pool is not None:
            self.pool.shutdown(cancel_futures=True)


def grouped(results: list[Result]) -> list[str]:
    """The results' lines, a table's pieces put together (the first few named, then how many more)."""
    by_group: dict[str, list[Found]] = {}
    for group, found, _ in results:
        by_group.setdefault(group, []).append(found)
    lines: list[str] = []
    for group, parts in by_group.items():
        lines.extend(named(group, parts) if group in SEALED else [line for found, _ in parts for line in found])
    return lines

"""The county's PostgreSQL database: its schema, and merging records into it by UUID with the owner's rule."""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from functools import lru_cache
from typing import TYPE_CHECKING

from app.exchange.records import (
    APPEND_ONLY,
    AUDIT_COLUMNS,
    BINARY,
    DATES,
    INTEGERS,
    MONEY,
    Entity,
    entities,
)
from app.exchange import county_keys, county_steps, money_records, territory
from app.store import clock
from app.store.anchors import Head
from app.store.errors import StoreError
from app.store.schema import MIGRATIONS

if TYPE_CHECKING:  # the driver is imported when a county database is first used, not at the app's start
    import psycopg

SCHEMA_VERSION = 1
# Writers hold this lock from numbering rows to commit, so a reader that takes it once sees every number up to the
# sequence's current value already committed: pulls never skip a row numbered by a transaction still in flight.
_WRITE_LOCK = 0x6A7A_7379  # "jzsy"


def local_entities() -> list[Entity]:
    """The travelling records as the current local schema defines them (for a county that has no site database)."""
    conn = sqlite3.connect(":memory:")
    try:
        for m in MIGRATIONS:
            if callable(m.apply):
                m.apply(conn)
            else:
                for statement in m.apply:
                    conn.execute(statement)
        return entities(conn)
    finally:
        conn.close()


@lru_cache(maxsize=1)
def _expected() -> tuple[Entity, ...]:
    """local_entities, built once per process (it runs every migration on an empty database)."""
    return tuple(local_entities())


def _pg_type(column: str) -> str:
    if column in MONEY:
        return "NUMERIC(16, 2)"
    if column in DATES:
        return "DATE"
    if column in BINARY:
        return "BYTEA"
    if column in INTEGERS:
        return "BIGINT"
    return "TEXT"


def _ddl(e: Entity) -> list[str]:
    cols = [f"{c} {_pg_type(c)}" + (" PRIMARY KEY" if c == "id" else "") for c in e.columns]
    cols += ["site_id TEXT NOT NULL"] + ([] if "region_code" in e.columns else ["region_code TEXT NOT NULL"])
    cols += ["county_seq BIGINT NOT NULL DEFAULT nextval('county_seq')",
             "received_at TIMESTAMPTZ NOT NULL DEFAULT now()"]
    refs = [c for c in e.columns if c.endswith("_id") and c != "id"]
    # A column a later site version added (a bill's status, its void, the bill it corrects): init-db run again
    # completes the county's table without touching its rows.
    added = [f"ALTER TABLE {e.table} ADD COLUMN IF NOT EXISTS {c} {_pg_type(c)}" for c in e.columns if c != "id"]
    return ([f"CREATE TABLE IF NOT EXISTS {e.table} ({', '.join(cols)})", *added, county_keys.push_column(e.table),
             f"CREATE INDEX IF NOT EXISTS {e.table}_pull ON {e.table} (county_seq)",
             f"CREATE INDEX IF NOT EXISTS {e.table}_region ON {e.table} (region_code)"]
            + [f"CREATE INDEX IF NOT EXISTS {e.table}_{c} ON {e.table} ({c})" for c in refs])


_META = [
    "CREATE SEQUENCE IF NOT EXISTS county_seq",
    "CREATE TABLE IF NOT EXISTS county_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)",
    """CREATE TABLE IF NOT EXISTS sites (site_id TEXT PRIMARY KEY, name TEXT NOT NULL, first_seen TIMESTAMPTZ NOT NULL
        DEFAULT now(), last_push_at TIMESTAMPTZ, last_pull_at TIMESTAMPTZ)""",
    """CREATE TABLE IF NOT EXISTS packages (package_id TEXT PRIMARY KEY, site_id TEXT NOT NULL, created_at TEXT NOT NULL,
        change_from BIGINT NOT NULL, change_to BIGINT NOT NULL, audit_from BIGINT NOT NULL, audit_to BIGINT NOT NULL,
        counts TEXT NOT NULL, imported_at TIMESTAMPTZ NOT NULL DEFAULT now())""",
    f"""CREATE TABLE IF NOT EXISTS audit_log (site_id TEXT NOT NULL, seq BIGINT NOT NULL,
        {', '.join(f'{c} TEXT' for c in AUDIT_COLUMNS if c != 'seq')}, received_at TIMESTAMPTZ NOT NULL DEFAULT now(),
        PRIMARY KEY (site_id, seq))""",
    # Every head of a site's audit chain the county was shown, kept as history: the anchor outside the site's file.
    """CREATE TABLE IF NOT EXISTS audit_heads (id BIGSERIAL PRIMARY KEY, site_id TEXT NOT NULL, count BIGINT NOT NULL,
        hash TEXT NOT NULL, seen_at TIMESTAMPTZ NOT NULL DEFAULT now(),
        via TEXT NOT NULL CHECK (via IN ('sync', 'package')), package_id TEXT)""",
    "CREATE INDEX IF NOT EXISTS audit_heads_site ON audit_heads (site_id, count)",
    # Entries from schema 11 on name the operating-system user and computer, and the digest version that covers them.
    *[f"ALTER TABLE audit_log ADD COLUMN IF NOT EXISTS {c} TEXT" for c in ("digest_version", "os_user", "host")],
    # What the county did not take from a site (a workflow step its sender could not have taken), with the reason.
    """CREATE TABLE IF NOT EXISTS conflicts (id BIGSERIAL PRIMARY KEY, at TIMESTAMPTZ NOT NULL DEFAULT now(),
        entity TEXT NOT NULL, entity_id TEXT NOT NULL, site_id TEXT, reason TEXT NOT NULL, record TEXT NOT NULL)""",
]


def hold_seconds() -> int:
    """How long one site may hold the county's write lock without a word before the server ends its transaction.

    JIUZHU_COUNTY_HOLD_SECONDS sets it (tests use a few seconds); the default leaves a slow township line time to
    send one batch."""
    try:
        return max(1, int(os.environ.get("JIUZHU_COUNTY_HOLD_SECONDS", "120")))
    except ValueError:
        return 120


def _options(url: str) -> str:
    import psycopg

    try:
        given = psycopg.conninfo.conninfo_to_dict(url).get("options") or ""
    except psycopg.Error:
        given = ""
    # A site that stops talking mid-pull holds no lock, only an old snapshot; it is ended after half an hour. The
    # server probes an idle link and gives up on unacknowledged data, so a cut line does not keep a session alive.
    ours = ("-c idle_in_transaction_session_timeout=1800000 -c tcp_keepalives_idle=30 "
            "-c tcp_keepalives_interval=10 -c tcp_keepalives_count=6 -c tcp_user_timeout=90000")
    return f"{given} {ours}".strip()


def connect(url: str) -> psycopg.Connection:
    """A connection to the county database, with a Chinese message when it cannot be reached.

    Keepalives both ways: this side notices a county that went away, the county notices a site that did."""
    import psycopg

    try:
        # Autocommit, so that each `with pg.transaction()` is one real transaction that commits at its end.
        return psycopg.connect(url, connect_timeout=10, application_name="jiuzhu", autocommit=True,
                               options=_options(url), keepalives=1, keepalives_idle=30, keepalives_interval=10,
                               keepalives_count=6, tcp_user_timeout=90000)
    except psycopg.Error as exc:
        raise StoreError(f"连不上县级数据库（{_where(url)}）：{reason(exc)}。请检查网络、地址、用户名和密码") from exc


def _where(url: str) -> str:
    import psycopg

    try:
        info = psycopg.conninfo.conninfo_to_dict(url)
    except psycopg.Error:
        return "地址格式不对"
    return f"{info.get('host', 'localhost')}:{info.get('port', 5432)}/{info.get('dbname', '')}"


def failure(exc: BaseException) -> str:
    """What a county database error means for what was being sent: "busy" (a lock or the time to wait ran out),
    "cut" (the connection went) or "refused" (the server would not take it: sending it again changes nothing)."""
    import psycopg

    if isinstance(exc, (psycopg.errors.LockNotAvailable, psycopg.errors.QueryCanceled)):
        return "busy"
    if isinstance(exc, (psycopg.OperationalError, psycopg.errors.IdleInTransactionSessionTimeout)):
        return "cut"
    return "refused"


def reason(exc: BaseException) -> str:
    """The first line of a driver error, short enough for a message."""
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return text[:200]


def init_db(url: str) -> list[str]:
    """Create (or complete) the county schema; safe to run again. Returns the tables it holds."""
    ents = local_entities()
    with connect(url) as pg:
        version = None
        if pg.execute("SELECT to_regclass('county_meta')").fetchone()[0]:
            row = pg.execute("SELECT value FROM county_meta WHERE key = 'schema_version'").fetchone()
            version = int(row[0]) if row else None
        if version is not None and version > SCHEMA_VERSION:
            raise StoreError(f"县级数据库由更新版本的救助通建立（版本 {version}），请先升级本程序")
        for statement in _META + county_keys.DDL:
            pg.execute(statement)
        for e in ents:
            for statement in _ddl(e):
                pg.execute(statement)
        pg.execute("INSERT INTO county_meta (key, value) VALUES ('schema_version', %s) ON CONFLICT (key) DO UPDATE "
                   "SET value = excluded.value", (str(SCHEMA_VERSION),))
    return [e.table for e in ents] + ["audit_log", "audit_heads", "sites", "packages", "conflicts", "site_keys",
                                      "pushes"]


def check_schema(pg: psycopg.Connection) -> None:
    """Refuse a database that `county init-db` has not prepared, or that a newer program prepared."""
    if not pg.execute("SELECT to_regclass('county_meta')").fetchone()[0]:
        raise StoreError("县级数据库还没有建表：请县里先运行 “jiuzhu county init-db 地址”")
    row = pg.execute("SELECT value FROM county_meta WHERE key = 'schema_version'").fetchone()
    if not row or int(row[0]) > SCHEMA_VERSION:
        raise StoreError("县级数据库的版本与本程序不符，请升级救助通")
    if not pg.execute("SELECT to_regclass('conflicts')").fetchone()[0]:
        raise StoreError("县级数据库还没有记录未采用记录的表：请县里用本版本再运行一次 “jiuzhu county init-db 地址”（可重复运行，不动已有数据）")
    if not pg.execute("SELECT to_regclass('audit_heads')").fetchone()[0]:
        raise StoreError("县级数据库还没有记录审计链头的表：请县里用本版本再运行一次 “jiuzhu county init-db 地址”（可重复运行，不动已有数据）")
    if not pg.execute("SELECT to_regclass('site_keys')").fetchone()[0]:
        raise StoreError("县级数据库还没有登记站点公钥的表：请县里用本版本再运行一次 “jiuzhu county init-db 地址”（可重复运行，不动已有数据）")
    have = {(t, c) for t, c in pg.execute("SELECT table_name, column_name FROM information_schema.columns "
                                          "WHERE table_schema = current_schema()")}
    missing = [f"{e.table}.{c}" for e in _expected() for c in (*e.columns, "push_id") if (e.table, c) not in have]
    missing += [f"audit_log.{c}" for c in AUDIT_COLUMNS if ("audit_log", c) not in have]
    missing += [f"site_keys.{c}" for c in ("jurisdiction",) if ("site_keys", c) not in have]
    if missing:
        raise StoreError(f"县级数据库缺少本版本的字段（{'、'.join(missing[:3])} 等）：请县里用本版本再运行一次 "
                         "“jiuzhu county init-db 地址”（可重复运行，不动已有数据）")


# What the summaries call the copies not taken because the county holds a newer one (Merged.older): no error.
OLDER = "县里已有更新的版本，未用较旧的覆盖（先后到达的次序不同所致，不是错误）"
ASIDE_SHOWN = 3  # reasons named in a report; every one is in the county's conflicts table


def aside_said(aside: int, reasons: list[str]) -> str:
    """A report's words for records the county's checks did not take, with a few of the reasons ("" if none)."""
    if not aside:
        return ""
    more = "等" if aside > len(reasons) else ""
    return (f"，{aside} 条县里核对后未采用（{'；'.join(reasons)}{more}；每条的原因都记在县级数据库的未采用记录中，"
            f"请与县信息员核对）")


@dataclass
class Merged:
    """What one merge did to the county's copy of one kind of record."""

    received: int = 0
    written: int = 0
    refused: int = 0  # records another site owns: the owner's copy is kept
    older: int = 0  # copies older than the owner's copy the county holds (packages imported out of order): not taken
    outside: int = 0  # records outside their site's registered jurisdiction, kept aside (territory.py)
    # The site's own records the county checked and did not take: a workflow step or money record against the rules
    # (county_steps.admit, money_records.county_admit), kept aside with the reason; a few of the reasons, to show.
    aside: int = 0
    aside_reasons: list[str] = field(default_factory=list)
    audit_mismatch: int = 0  # audit entries the county holds with different content under the same number
    refused_ids: list[str] = field(default_factory=list)

    def add(self, other: Merged) -> None:
        """Count another batch's merge of the same kind in."""
        self.received += other.received
        self.written += other.written
        self.refused += other.refused
        self.older += other.older
        self.outside += other.outside
        self.aside += other.aside
        self._reasons(other.aside_reasons)
        self.audit_mismatch += other.audit_mismatch
        self.refused_ids += other.refused_ids[:100 - len(self.refused_ids)]

    def _reasons(self, reasons: Iterable[str]) -> None:
        for reason in reasons:
            if len(self.aside_reasons) < ASIDE_SHOWN and reason not in self.aside_reasons:
                self.aside_reasons.append(reason)

    def set_aside(self, refused: list[tuple[dict, str]]) -> None:
        """Count the records the county's checks kept aside, with a few of their reasons."""
        self.aside += len(refused)
        self._reasons(reason for _, reason in refused)


def _stage(pg: psycopg.Connection, stage: str, table: str, cols: tuple[str, ...], rows: Iterable[tuple],
           text: bytes | None = None) -> None:
    """Rows into a session-private staging table shaped like `table` (emptied at each commit); `text`, if given,
    is the same rows already in COPY's text format (app/exchange/ready.py)."""
    pg.execute(f"CREATE TEMP TABLE IF NOT EXISTS {stage} ON COMMIT DELETE ROWS AS "
               f"SELECT {', '.join(cols)} FROM {table} WITH NO DATA")
    pg.execute(f"TRUNCATE {stage}")
    with pg.cursor().copy(f"COPY {stage} ({', '.join(cols)}) FROM STDIN") as copy:
        if text is not None:
            copy.write(text)
            return
        for row in rows:
            copy.write_row(row)


def merge(pg: psycopg.Connection, e: Entity, rows: list[tuple], text: bytes | None = None) -> Merged:
    """Write `rows` (in e.wire order) into the county table in the caller's transaction; idempotent by id. `text`:
    the rows in COPY's text format, made beforehand (used only if every row is written as it came).

    The rows travel into a staging table first, and only then is the write lock taken (lock_for_writing): a server
    waiting for COPY data does not act on statement_timeout, so a site whose line stalls mid-transfer must not be
    holding the lock. Under it there is only work on the server, which the lock's time limits bound. (A package's
    rows, read on the county's own machine, are copied straight in when none is held yet: _copied.)

    A record belongs to the site that made it: a copy from any other site never overwrites it. Steps and
    attachments are appended: a copy already there is kept as it is."""
    out = Merged(received=len(rows))
    if not rows:
        return out
    received, text = rows, _sendable(pg, text)
    rows = _in_territory(pg, e, rows, out)
    if e.table in ("applications", "application_steps"):
        # The step checks read the county's copy of each case and must see it as the rows will meet it: they run
        # under the lock. These rows are few (a case's steps), so staging them under it costs the others nothing.
        lock_for_writing(pg)
    if e.table == "applications":
        rows = county_steps.summaries(pg, e, rows)
    if e.table == "application_steps":
        rows, refused = county_steps.admit(pg, e, rows)
        county_steps.keep_aside(pg, e.table, refused)
        out.set_aside(refused)
        done = _merge(pg, e, rows, out)
        # The county's copy of each application follows the steps it holds, as a site's does (steps.follow).
        for app_id, summary in county_steps.folded(pg, {r[e.wire.index("application_id")] for r in rows}).items():
            pg.execute(f"UPDATE applications SET {', '.join(f'{k} = %s' for k in summary)} WHERE id = %s",
                       (*summary.values(), app_id))
        return done
    if e.table in money_records.CHECKED:
        rows, refused = money_records.county_admit(pg, e, rows)
        county_steps.keep_aside(pg, e.table, refused, f"这条{money_records.WHAT[e.table]}")
        out.set_aside(refused)
    return _merge(pg, e, rows, out, text if _same(rows, received) else None)


def _in_territory(pg: psycopg.Connection, e: Entity, rows: list[tuple], out: Merged) -> list[tuple]:
    """The rows that are the sending site's own and lie in its registered jurisdiction (the batch as it came when
    all do); the others are kept aside with the reason (territory.county_admit), before any other check."""
    refused = territory.county_admit(pg, e.table, e.wire, rows, county_keys.bounds(pg), county_keys.push_site(pg))
    if not refused:
        return rows
    county_steps.keep_aside(pg, e.table, [(dict(zip(e.wire, rows[i])), reason) for i, reason in refused],
                            territory.what(e.table))
    out.outside = len(refused)
    dropped = {i for i, _ in refused}
    return [row for i, row in enumerate(rows) if i not in dropped]


def _sendable(pg: psycopg.Connection, text: bytes | None) -> bytes | None:
    """COPY text made beforehand, if this connection takes it as it is (ready.copy_text writes UTF-8)."""
    return text if text is not None and pg.info.encoding == "utf-8" else None


def _same(rows: list[tuple], received: list[tuple]) -> bool:
    """Whether the rows to write are the very rows received (none refused, none rewritten), so that COPY text made
    from those stands for these."""
    return len(rows) == len(received) and all(a is b for a, b in zip(rows, received))


def _merge(pg: psycopg.Connection, e: Entity, rows: list[tuple], out: Merged, text: bytes | None = None) -> Merged:
    if not rows:
        return out
    wire, stage = e.wire, f"stage_{e.table}"
    cols = ", ".join(wire)
    if text is not None and _copied(pg, e, rows, text):
        out.written += len(rows)
        return out
    _stage(pg, stage, e.table, wire, rows, text)
    lock_for_writing(pg)
    if not pg.execute(f"SELECT EXISTS (SELECT 1 FROM {stage} s JOIN {e.table} t ON t.id = s.id)").fetchone()[0]:
        # None of them is there yet (the first delivery, the usual case): a plain insert, about a third faster than
        # the merge below. Safe because every writer holds the lock, so no one can add one of these ids meanwhile.
        out.written += pg.execute(f"INSERT INTO {e.table} ({cols}) SELECT {cols} FROM {stage}").rowcount
        return out
    # The ids bound the county table's side to an index lookup each: joined to the staging table alone (never
    # analyzed, its size guessed), the planner hashed a scan of the whole county table for every batch, so a county's
    # re-delivery took time growing with the square of its records. They are read back as COPY stored them, so a
    # value of another type in a forged row is compared exactly as the join compares it.
    ids = [r[0] for r in pg.execute(f"SELECT id FROM {stage} WHERE id IS NOT NULL")]
    stamped = e.table not in APPEND_ONLY
    # In one look-up: the copies of records another site owns (refused), and those older than the owner's copy held
    # here (a package imported after a later one of the same site).
    older = f" OR {_newer('t.updated_at', 's.updated_at')}" if stamped else ""
    kept = pg.execute(f"SELECT t.site_id <> s.site_id, s.id FROM {stage} s JOIN {e.table} t ON t.id = s.id "
                      f"WHERE t.id = ANY(%s) AND (t.site_id <> s.site_id{older})", (ids,)).fetchall()
    refused = [i for other, i in kept if other]
    out.refused += len(refused)
    out.refused_ids += refused[:100]
    out.older += len(kept) - len(refused)
    if not stamped:
        conflict = "DO NOTHING"
    else:
        sets = ", ".join(f"{c} = excluded.{c}" for c in wire if c not in ("id", "site_id"))
        conflict = (f"DO UPDATE SET {sets}, push_id = excluded.push_id, county_seq = nextval('county_seq'), received_at = now() "
                    f"WHERE {e.table}.site_id = excluded.site_id AND "
                    f"{_newer('excluded.updated_at', f'{e.table}.updated_at')}")
    cur = pg.execute(f"INSERT INTO {e.table} ({cols}) SELECT {cols} FROM {stage} ON CONFLICT (id) {conflict}")
    out.written += cur.rowcount
    return out


def _newer(stamp: str, than: str) -> str:
    """SQL: whether the stamp `stamp` is later than `than` (TEXT columns), compared byte by byte (collation "C").

    Every stamp a site writes is clock.now()'s: UTC, "+00:00", to the millisecond, one width, so their bytes sort as
    their times; one written to the second sorts before those of the same second with milliseconds ('+' before '.'),
    as its time does. The database's own collation would not do: it skips punctuation and so compares other
    characters than the digits' places. Nor a cast to timestamptz: one value that is not a stamp (a garbled or
    forged row) would end the whole transaction with an error, and PostgreSQL before 16 has no test of a value that
    would not raise. A value that is no such stamp (none of this program writes one) is compared by its bytes too,
    as the sites compare a value that is no stamp at all (clock.newer): it decides only between copies of its own
    site's record, since another site's copy is refused whatever its stamp."""
    return f'{stamp} COLLATE "C" > {than} COLLATE "C"'


def _copied(pg: psycopg.Connection, e: Entity, rows: list[tuple], text: bytes) -> bool:
    """Rows none of which the county holds yet (the first delivery), copied straight into the county table under
    the write lock; False (nothing written) if any is held, or its id is not text or empty (left to the staged
    merge).

    Only for `text` made beforehand from a package on this machine: sending it under the lock waits on nothing but
    this process, so the rule of staging before locking (merge) has nothing to guard. The server then writes each
    row once instead of into the staging table and again from it."""
    ids = [r[0] for r in rows]
    # An empty id is left to the merge too: a batch of that one id would be split to no id at all, and so never
    # be found held.
    if e.wire[0] != "id" or any(i.__class__ is not str or not i for i in ids):
        return False
    # One text split on the server: psycopg's list of 20,000 texts costs more to send than the copy itself. An id
    # holding the separator would be split, so such a batch takes the staged merge.
    joined = ",".join(ids)
    if joined.count(",") != len(ids) - 1:
        return False
    lock_for_writing(pg)
    if pg.execute(f"SELECT EXISTS (SELECT 1 FROM {e.table} WHERE id = ANY(string_to_array(%s, ',')))",
                  (joined,)).fetchone()[0]:
        return False
    with pg.cursor().copy(f"COPY {e.table} ({', '.join(e.wire)}) FROM STDIN") as copy:
        copy.write(text)
    return True


def merge_audit(pg: psycopg.Connection, site: str, rows: list[tuple], text: bytes | None = None) -> Merged:
    """Append a site's audit entries; an entry already held keeps its place, and a different one there is counted.
    `text`: the rows, each after `site`, in COPY's text format, made beforehand from a package on this machine."""
    out = Merged(received=len(rows))
    if not rows:
        return out
    text = _sendable(pg, text)
    if text is not None and _appended(pg, site, rows, text):
        out.written = len(rows)
        return out
    cols = ("site_id", *AUDIT_COLUMNS)
    _stage(pg, "stage_audit", "audit_log", cols, ((site, *row) for row in rows), text)
    # Bounded to the batch's numbers, the county's log is read by its key over that range only; joined to the
    # staging table alone, the planner scanned the site's whole log for every batch (quadratic in the log). The
    # bounds are the staged numbers as COPY converted them, never the rows' own values (text in a forged package
    # would order "999" after "1000" and leave entries out of the comparison).
    low, high = pg.execute("SELECT min(seq), max(seq) FROM stage_audit").fetchone()
    out.audit_mismatch = pg.execute("SELECT count(*) FROM stage_audit s JOIN audit_log a ON a.site_id = s.site_id "
                                    "AND a.seq = s.seq WHERE a.site_id = %s AND a.seq BETWEEN %s AND %s "
                                    "AND a.hash <> s.hash", (site, low, high)).fetchone()[0]
    out.written = pg.execute(f"INSERT INTO audit_log ({', '.join(cols)}) SELECT {', '.join(cols)} FROM stage_audit "
                             f"ON CONFLICT (site_id, seq) DO NOTHING").rowcount
    return out


def _appended(pg: psycopg.Connection, site: str, rows: list[tuple], text: bytes) -> bool:
    """Entries none of whose numbers the county holds for `site` yet, copied straight into its log; False (nothing
    written) if any number is held or is not a whole number (left to the staged merge). A sync of the same site
    adding the same numbers meanwhile makes the copy fail: it is undone to its savepoint and left to the merge."""
    import psycopg

    seqs = [r[0] for r in rows]
    if any(n.__class__ is not int for n in seqs):
        return False
    if pg.execute("SELECT EXISTS (SELECT 1 FROM audit_log WHERE site_id = %s AND seq BETWEEN %s AND %s)",
                  (site, min(seqs), max(seqs))).fetchone()[0]:
        return False
    try:
        with pg.transaction(), pg.cursor().copy(
                f"COPY audit_log (site_id, {', '.join(AUDIT_COLUMNS)}) FROM STDIN") as copy:
            copy.write(text)
    except psycopg.errors.UniqueViolation:
        return False
    return True


def record_head(pg: psycopg.Connection, site: str, head: Head, via: str, package_id: str | None = None) -> None:
    """Keep one head of a site's audit chain in the history (a package's head once, however often it is imported)."""
    pg.execute("INSERT INTO audit_heads (site_id, count, hash, via, package_id) SELECT %s, %s, %s, %s, %s "
               "WHERE %s::text IS NULL OR NOT EXISTS (SELECT 1 FROM audit_heads WHERE package_id = %s)",
               (site, head.count, head.hash, via, package_id, package_id, package_id))


def seen_heads(pg: psycopg.Connection, site: str) -> list[Head]:
    """Every head of this site's chain the county has seen, and its last audit entry received (which also covers
    what arrived before heads were kept)."""
    out = [Head(count, digest, f"县级数据库于 {clock.local_time(at):%Y-%m-%d %H:%M} "
                               + (f"导入交换包 {pkg} 时" if via == "package" else "同步时"))
           for count, digest, at, via, pkg in pg.execute(
               "SELECT count, hash, seen_at, via, package_id FROM audit_heads WHERE site_id = %s ORDER BY id", (site,))]
    last = pg.execute("SELECT seq, hash, received_at FROM audit_log WHERE site_id = %s ORDER BY seq DESC LIMIT 1",
                      (site,)).fetchone()
    if last and all(h.count != last[0] for h in out):
        out.append(Head(int(last[0]), last[1], f"县级数据库于 {clock.local_time(last[2]):%Y-%m-%d %H:%M} 收到审计日志时"))
    return out


def lock_for_writing(pg: psycopg.Connection) -> None:
    """Take the county's write lock for the caller's transaction, on terms that let no site keep it.

    Waiting gives up after three holds (a stalled holder is ended after one, then the queue moves). Once held,
    any statement, and any pause between statements, longer than one hold ends the transaction on the server:
    its batch is rolled back, the lock freed, and the site sends that batch again on its next sync."""
    hold = hold_seconds() * 1000
    pg.execute(f"SET LOCAL lock_timeout = {3 * hold}")
    pg.execute(f"SET LOCAL statement_timeout = {3 * hold + 1000}")
    pg.execute("SELECT pg_advisory_xact_lock(%s)", (_WRITE_LOCK,))
    pg.execute(f"SET LOCAL statement_timeout = {hold}")
    pg.execute(f"SET LOCAL idle_in_transaction_session_timeout = {hold}")


def note_site(pg: psycopg.Connection, site: str, name: str, pushed: bool) -> None:
    column = "last_push_at" if pushed else "last_pull_at"
    pg.execute(f"INSERT INTO sites (site_id, name, {column}) VALUES (%s, %s, now()) ON CONFLICT (site_id) DO UPDATE "
               f"SET name = excluded.name, {column} = now()", (site, name))


def pull_horizon(pg: psycopg.Connection) -> int:
    """The highest row number every committed write has reached (see _WRITE_LOCK)."""
    with pg.transaction():
        lock_for_writing(pg)
        # A sequence never used reports last_value 1 with is_called false: nothing is numbered yet.
        return pg.execute("SELECT CASE WHEN is_called THEN last_value ELSE 0 END FROM county_seq").fetchone()[0]


def _local_value(value):
    # The site database keeps dates as ISO text and money as fixed two-place text.
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return f"{value:.2f}"
    if isinstance(value, memoryview):
        return bytes(value)
    return value


def pull(pg: psycopg.Connection, e: Entity, after: int, upto: int, site: str, region: str,
         batch: int = 5000) -> Iterator[list[tuple]]:
    """Batches of records another site made in `region`, numbered in (after, upto], in e.wire order."""
    with pg.transaction():
        with pg.cursor(name=f"pull_{e.table}") as cur:
            cur.itersize = batch
            # Also what belongs to a region containing the user's: the county's own 发放 batches and local values.
            cur.execute(f"SELECT {', '.join(e.wire)} FROM {e.table} WHERE county_seq > %s AND county_seq <= %s "
                        f"AND site_id <> %s AND (region_code LIKE %s OR %s LIKE region_code || '%%') "
                        f"ORDER BY county_seq", (after, upto, site, region + "%", region))
            while rows := cur.fetchmany(batch):
                yield [tuple(_local_value(v) for v in r) for r in rows]


def fetch(pg: psycopg.Connection, e: Entity, ids: list[str], batch: int = 5000) -> Iterator[list[tuple]]:
    """Batches of the county's current copies of these records (those it holds), in e.wire order."""
    for start in range(0, len(ids), batch):
        rows = pg.execute(f"SELECT {', '.join(e.wire)} FROM {e.table} WHERE id = ANY(%s) ORDER BY county_seq",
                          (ids[start:start + batch],)).fetchall()
        if rows:
            yield [tuple(_local_value(v) for v in r) for r in rows]


def jurisdiction_ids(pg: psycopg.Connection, table: str, site: str, regions: list[str]) -> dict[str, bool]:
    """The ids a site should hold of one kind: its own anywhere (True), others' in its regions (False)."""
    rows = pg.execute(f"SELECT id, site_id = %s FROM {table} WHERE site_id = %s OR region_code LIKE ANY(%s)",
                      (site, site, [r + "%" for r in regions]))
    return dict(rows.fetchall())


def kept_aside(pg: psycopg.Connection, table: str, site: str, ids: list[str]) -> dict[str, str]:
    """Of a site's records `ids`, those the county's checks did not take, each with the latest reason given."""
    if not ids:
        return {}
    return dict(pg.execute("SELECT DISTINCT ON (entity_id) entity_id, reason FROM conflicts WHERE entity = %s "
                           "AND site_id = %s AND entity_id = ANY(%s) ORDER BY entity_id, id DESC",
                           (table, site, ids)).fetchall())


def counts(pg: psycopg.Connection, tables: Iterable[str]) -> dict[str, int]:
    """How many records each table holds (for reports and tests)."""
    return {t: pg.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in tables}

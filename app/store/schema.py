"""Numbered migrations: each runs in one transaction that also records the schema version."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable
from dataclasses import dataclass

from app.domain.names import initials
from app.store.clock import new_id, now

_V1 = [
    """CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)""",
    """CREATE TABLE settings (key TEXT PRIMARY KEY, value TEXT NOT NULL, updated_at TEXT NOT NULL)""",
    """CREATE TABLE users (
        id TEXT PRIMARY KEY, username TEXT NOT NULL UNIQUE, display_name TEXT NOT NULL,
        role TEXT NOT NULL, jurisdiction TEXT NOT NULL, password_hash TEXT NOT NULL,
        active INTEGER NOT NULL DEFAULT 1, created_at TEXT NOT NULL, updated_at TEXT NOT NULL)""",
    """CREATE TABLE households (
        id TEXT PRIMARY KEY, region_code TEXT NOT NULL CHECK (length(region_code) = 12),
        address TEXT NOT NULL, head_person_id TEXT, created_at TEXT NOT NULL, updated_at TEXT NOT NULL)""",
    """CREATE TABLE persons (
        id TEXT PRIMARY KEY, household_id TEXT NOT NULL REFERENCES households(id),
        name TEXT NOT NULL, id_type TEXT NOT NULL, id_number TEXT NOT NULL,
        birth_date TEXT, sex TEXT, relation_to_head TEXT NOT NULL,
        created_at TEXT NOT NULL, updated_at TEXT NOT NULL, UNIQUE (id_type, id_number))""",
    """CREATE TABLE category_periods (
        id TEXT PRIMARY KEY, person_id TEXT NOT NULL REFERENCES persons(id), category TEXT NOT NULL,
        valid_from TEXT NOT NULL, valid_to TEXT, certified_by TEXT NOT NULL,
        created_at TEXT NOT NULL, updated_at TEXT NOT NULL)""",
    """CREATE TABLE enrollments (
        id TEXT PRIMARY KEY, person_id TEXT NOT NULL REFERENCES persons(id), year INTEGER NOT NULL,
        insurance TEXT NOT NULL, created_at TEXT NOT NULL, updated_at TEXT NOT NULL, UNIQUE (person_id, year))""",
    """CREATE TABLE visits (
        id TEXT PRIMARY KEY, person_id TEXT NOT NULL REFERENCES persons(id),
        hospital TEXT NOT NULL, hospital_level TEXT, admitted_on TEXT NOT NULL, discharged_on TEXT NOT NULL,
        kind TEXT NOT NULL, total_cost TEXT NOT NULL, policy_covered TEXT NOT NULL,
        basic_paid TEXT, serious_illness_paid TEXT, invoice_number TEXT NOT NULL,
        referred INTEGER NOT NULL, in_province INTEGER NOT NULL, major_disease INTEGER NOT NULL DEFAULT 0,
        created_at TEXT NOT NULL, updated_at TEXT NOT NULL, UNIQUE (hospital, invoice_number))""",
    """CREATE TABLE settlements (
        id TEXT PRIMARY KEY, visit_id TEXT NOT NULL UNIQUE REFERENCES visits(id),
        person_id TEXT NOT NULL REFERENCES persons(id), year INTEGER NOT NULL,
        policy_id TEXT NOT NULL, policy_version TEXT NOT NULL, applied_category TEXT NOT NULL,
        basic_paid TEXT NOT NULL, serious_illness_paid TEXT NOT NULL, assistance_paid TEXT NOT NULL,
        tilt_assistance_paid TEXT NOT NULL, personal_pay TEXT NOT NULL, steps TEXT NOT NULL,
        created_at TEXT NOT NULL, updated_at TEXT NOT NULL)""",
    """CREATE TABLE annual_settlements (
        id TEXT PRIMARY KEY, person_id TEXT NOT NULL REFERENCES persons(id), year INTEGER NOT NULL,
        policy_id TEXT NOT NULL, policy_version TEXT NOT NULL, applied_category TEXT NOT NULL,
        totals TEXT NOT NULL, warnings TEXT NOT NULL, created_at TEXT NOT NULL, updated_at TEXT NOT NULL,
        UNIQUE (person_id, year))""",
    """CREATE TABLE audit_log (
        seq INTEGER PRIMARY KEY, at TEXT NOT NULL, user_id TEXT, username TEXT NOT NULL,
        action TEXT NOT NULL, entity TEXT NOT NULL, entity_id TEXT NOT NULL,
        before TEXT, after TEXT, prev_hash TEXT NOT NULL, hash TEXT NOT NULL)""",
    """CREATE TABLE audit_head (id INTEGER PRIMARY KEY CHECK (id = 1), count INTEGER NOT NULL, hash TEXT NOT NULL)""",
    "CREATE INDEX households_region ON households(region_code)",
    "CREATE INDEX persons_household ON persons(household_id)",
    "CREATE INDEX persons_name ON persons(name)",
    "CREATE INDEX persons_id_number ON persons(id_number)",
    "CREATE INDEX category_periods_person ON category_periods(person_id, valid_from)",
    "CREATE INDEX visits_person ON visits(person_id, discharged_on)",
    "CREATE INDEX settlements_person ON settlements(person_id, year)",
]


def _v2(conn: sqlite3.Connection) -> None:
    conn.execute("ALTER TABLE persons ADD COLUMN name_initials TEXT NOT NULL DEFAULT ''")
    rows = conn.execute("SELECT id, name FROM persons").fetchall()
    conn.executemany("UPDATE persons SET name_initials = ? WHERE id = ?", [(initials(r["name"]), r["id"]) for r in rows])
    conn.execute("CREATE INDEX persons_initials ON persons(name_initials)")


_V4 = [
    """CREATE TABLE applications (
        id TEXT PRIMARY KEY, person_id TEXT NOT NULL REFERENCES persons(id), household_id TEXT NOT NULL
        REFERENCES households(id), region_code TEXT NOT NULL, year INTEGER NOT NULL, state TEXT NOT NULL,
        state_since TEXT NOT NULL, annual_income TEXT, low_income_standard TEXT, passes_asset_check INTEGER,
        computed_amount TEXT, approved_amount TEXT, amount_reason TEXT, notice_start TEXT, notice_end TEXT,
        created_by TEXT NOT NULL, created_at TEXT NOT NULL, updated_at TEXT NOT NULL)""",
    # Steps are appended, never changed: each is one decision by one user, identified by its own UUID so that
    # steps taken on different machines can be carried between sites and merged.
    """CREATE TABLE application_steps (
        id TEXT PRIMARY KEY, application_id TEXT NOT NULL REFERENCES applications(id), seq INTEGER NOT NULL,
        state TEXT NOT NULL, action TEXT NOT NULL, to_state TEXT NOT NULL, user_id TEXT, username TEXT NOT NULL,
        display_name TEXT NOT NULL, role TEXT NOT NULL, at TEXT NOT NULL, opinion TEXT, details TEXT NOT NULL,
        UNIQUE (application_id, seq))""",
    """CREATE TABLE attachments (
        id TEXT PRIMARY KEY, application_id TEXT NOT NULL REFERENCES applications(id), kind TEXT NOT NULL,
        filename TEXT NOT NULL, sha256 TEXT NOT NULL, size INTEGER NOT NULL, added_by TEXT NOT NULL,
        created_at TEXT NOT NULL)""",
    "CREATE INDEX applications_state ON applications(state, region_code)",
    "CREATE INDEX application_steps_app ON application_steps(application_id, seq)",
]


# Records that travel to the county, parents first. Users, settings and the audit log stay out: users and settings
# are the site's own, and the audit log travels by its own sequence number. Version 5 made the first ten travel;
# version 14 the money that moved (batches before their lines) and the county's dated local values.
_SYNCED_V5 = ("households", "persons", "category_periods", "enrollments", "visits", "settlements",
              "annual_settlements", "applications", "application_steps", "attachments")
_SYNCED_V14 = ("disbursement_batches", "payment_lines", "local_values")
SYNCED = _SYNCED_V5 + _SYNCED_V14


def _change_trigger(table: str, event: str) -> str:
    # Only records made here are tracked (site_id NULL): a record from another site belongs to that site, which sends
    # it itself. One row per record, moved to the next number on every change, so "changed since the last export"
    # is one range of numbers however often a record changed.
    return (f"CREATE TRIGGER {table}_{event.lower()}_changes AFTER {event} ON {table} WHEN NEW.site_id IS NULL BEGIN "
            f"INSERT INTO changes (entity, entity_id, seq) VALUES ('{table}', NEW.id, "
            f"(SELECT coalesce(max(seq), 0) + 1 FROM changes)) "
            f"ON CONFLICT(entity, entity_id) DO UPDATE SET seq = excluded.seq; END")


def _track(conn: sqlite3.Connection, table: str) -> None:
    """Start tracking a travelling table: its records made here so far are changes to send, and so is every later one."""
    conn.execute(f"INSERT INTO changes (entity, entity_id, seq) SELECT '{table}', id, "
                 f"(SELECT coalesce(max(seq), 0) FROM changes) + row_number() OVER (ORDER BY rowid) FROM {table} "
                 f"WHERE site_id IS NULL")
    conn.execute(_change_trigger(table, "INSERT"))
    conn.execute(_change_trigger(table, "UPDATE"))


def _v5(conn: sqlite3.Connection) -> None:
    conn.execute("CREATE TABLE changes (entity TEXT NOT NULL, entity_id TEXT NOT NULL, seq INTEGER NOT NULL, "
                 "PRIMARY KEY (entity, entity_id))")
    conn.execute("CREATE UNIQUE INDEX changes_seq ON changes(seq)")
    # Export and push read one kind at a time in change order; without this SQLite sorts the whole kind per batch.
    conn.execute("CREATE INDEX changes_entity_seq ON changes(entity, seq)")
    conn.execute("""CREATE TABLE sync_conflicts (
        id INTEGER PRIMARY KEY, at TEXT NOT NULL, source TEXT NOT NULL, entity TEXT NOT NULL, entity_id TEXT NOT NULL,
        site_id TEXT, reason TEXT NOT NULL, record TEXT NOT NULL)""")
    for table in _SYNCED_V5:
        # NULL: made at this site. Otherwise the id of the site that made it (received in a package or a sync).
        conn.execute(f"ALTER TABLE {table} ADD COLUMN site_id TEXT")
        _track(conn, table)
    conn.execute("INSERT INTO settings (key, value, updated_at) VALUES ('site_id', ?, ?)",
                 (json.dumps(new_id()), now()))


def _v6(conn: sqlite3.Connection) -> None:
    from app.store import audit
    from app.store.seal import KEYS, SEALED, present_columns, register, sealed_json, sha256_text

    register(conn)
    conn.execute("ALTER TABLE audit_log ADD COLUMN row_hash TEXT")
    conn.execute("ALTER TABLE audit_log ADD COLUMN digest_version INTEGER")
    # check looks up each record's last sealing entry; without this it would scan the log once per record.
    conn.execute("CREATE INDEX audit_log_entity ON audit_log(entity, entity_id, seq)")
    # What is in the file at the upgrade is taken as it stands: one entry per record records its content, so from
    # here on a change made outside the program shows. The entry says so, and who ran the upgrade is the system.
    # Streamed, not fetched whole: a county's database has millions of rows.
    for table in SEALED:
        columns = present_columns(conn, table)
        if columns is None:
            continue  # made by a later version, empty until then
        rows = conn.execute(f"SELECT t.{KEYS[table]}, {sealed_json(table, columns=columns)} FROM {table} t "
                            "ORDER BY t.rowid")
        for key, after in rows:
            audit.append(conn, "system", "升级时封存已有记录", table, key, None, audit.RawJSON(after),
                         sha256_text(after))


def _v7(conn: sqlite3.Connection) -> None:
    from app.store import audit_blocks

    # check looks up each record's last sealing entry; with only sealing entries in the index (row_hash implied by
    # it) the lookup no longer reads every candidate entry from the table to test row_hash.
    conn.execute("DROP INDEX IF EXISTS audit_log_entity")
    conn.execute("CREATE INDEX audit_log_sealing ON audit_log(entity, entity_id, seq) WHERE row_hash IS NOT NULL")
    # The log written so far is sealed block by block, each block only after its entries verify one by one.
    audit_blocks.seal_complete(conn)


# The columns of visits up to version 6, in their order (version 8 rebuilds the table with them).
_VISIT_COLUMNS = ("id", "person_id", "hospital", "hospital_level", "admitted_on", "discharged_on", "kind", "total_cost",
                  "policy_covered", "basic_paid", "serious_illness_paid", "invoice_number", "referred", "in_province",
                  "major_disease", "created_at", "updated_at", "site_id")


def _v8(conn: sqlite3.Connection) -> None:
    from app.store.seal import register

    register(conn)
    # A bill is voided, never deleted; a voided invoice may be entered again. The old table's UNIQUE (hospital,
    # invoice_number) cannot be dropped in place, so the table is rebuilt (SQLite's documented 12 steps, with
    # foreign keys off: see Migration.rebuilds) and the uniqueness kept for live bills only.
    conn.execute("""CREATE TABLE visits_v8 (
        id TEXT PRIMARY KEY, person_id TEXT NOT NULL REFERENCES persons(id),
        hospital TEXT NOT NULL, hospital_level TEXT, admitted_on TEXT NOT NULL, discharged_on TEXT NOT NULL,
        kind TEXT NOT NULL, total_cost TEXT NOT NULL, policy_covered TEXT NOT NULL,
        basic_paid TEXT, serious_illness_paid TEXT, invoice_number TEXT NOT NULL,
        referred INTEGER NOT NULL, in_province INTEGER NOT NULL, major_disease INTEGER NOT NULL DEFAULT 0,
        created_at TEXT NOT NULL, updated_at TEXT NOT NULL, site_id TEXT,
        status TEXT NOT NULL DEFAULT 'live' CHECK (status IN ('live', 'void')), void_reason TEXT, voided_at TEXT,
        voided_by TEXT, corrects_id TEXT REFERENCES visits(id))""")
    columns = ", ".join(_VISIT_COLUMNS)
    conn.execute(f"INSERT INTO visits_v8 ({columns}) SELECT {columns} FROM visits")
    conn.execute("DROP TABLE visits")
    conn.execute("ALTER TABLE visits_v8 RENAME TO visits")
    conn.execute("CREATE INDEX visits_person ON visits(person_id, discharged_on)")
    # Two sessions saving the same invoice at once: the second meets this index (and is told 重复报销).
    conn.execute("CREATE UNIQUE INDEX visits_live_invoice ON visits(hospital, invoice_number) WHERE status = 'live'")
    conn.execute("CREATE INDEX visits_corrects ON visits(corrects_id) WHERE corrects_id IS NOT NULL")
    conn.execute(_change_trigger("visits", "INSERT"))
    conn.execute(_change_trigger("visits", "UPDATE"))
    # Money that moved, never rewritten: the hospital's one-stop amounts, the office's 发放, and 补付/追回 lines.
    conn.execute("""CREATE TABLE disbursement_batches (
        id TEXT PRIMARY KEY, jurisdiction TEXT NOT NULL, year INTEGER, title TEXT NOT NULL,
        line_count INTEGER NOT NULL, total TEXT NOT NULL, state TEXT NOT NULL CHECK (state IN ('printed', 'paid')),
        created_by TEXT NOT NULL, confirmed_by TEXT, confirmed_at TEXT,
        created_at TEXT NOT NULL, updated_at TEXT NOT NULL, site_id TEXT)""")
    conn.execute("""CREATE TABLE payment_lines (
        id TEXT PRIMARY KEY, person_id TEXT NOT NULL REFERENCES persons(id), visit_id TEXT NOT NULL REFERENCES
        visits(id), year INTEGER NOT NULL, tier TEXT NOT NULL, line_type TEXT NOT NULL, payer TEXT NOT NULL,
        old_amount TEXT, new_amount TEXT, amount TEXT NOT NULL, reason TEXT NOT NULL,
        batch_id TEXT REFERENCES disbursement_batches(id), paid_at TEXT, paid_by TEXT,
        created_at TEXT NOT NULL, updated_at TEXT NOT NULL, site_id TEXT)""")
    conn.execute("CREATE INDEX payment_lines_visit ON payment_lines(visit_id, tier)")
    conn.execute("CREATE INDEX payment_lines_year ON payment_lines(year, line_type)")
    conn.execute("CREATE INDEX payment_lines_batch ON payment_lines(batch_id)")
    # The bill's status is now sealed with it: each bill's content is sealed again, on purpose, with its own entry.
    _reseal(conn, "visits", "升级时封存账单状态")


def _reseal(conn: sqlite3.Connection, table: str, action: str) -> None:
    """Seal every row of `table` again with its own audit entry, after sealed columns were added to it.

    In slices, each read whole before its entries are appended: appending may seal a block of the log, which
    SQLite refuses while a statement is still reading; a county's bills are too many to read at once."""
    from app.store import audit
    from app.store.seal import present_columns, register, sealed_json, sha256_text

    register(conn)
    sealed = sealed_json(table, columns=present_columns(conn, table))
    last = 0
    while True:
        rows = conn.execute(f"SELECT t.rowid, t.id, {sealed} FROM {table} t WHERE t.rowid > ? ORDER BY t.rowid "
                            "LIMIT 5000", (last,)).fetchall()
        if not rows:
            break
        for _, key, after in rows:
            audit.append(conn, "system", action, table, key, None, audit.RawJSON(after), sha256_text(after))
        last = rows[-1][0]


def _v9(conn: sqlite3.Connection) -> None:
    from app.store import summary

    summary.create(conn)


def _v16(conn: sqlite3.Connection) -> None:
    from app.store import risk_summary

    risk_summary.create(conn)


def _v17(conn: sqlite3.Connection) -> None:
    from app.store import stat_masks

    stat_masks.create(conn)


def _v10(conn: sqlite3.Connection) -> None:
    # Records from another site whose parent (household, person, application) has not arrived yet: a site's push is
    # many county transactions, so a pull can see a household before its people. They wait here, whole, and are
    # tried again on every later pull or import, instead of being refused and passed over.
    conn.execute("""CREATE TABLE sync_held (
        entity TEXT NOT NULL, entity_id TEXT NOT NULL, site_id TEXT, record TEXT NOT NULL, source TEXT NOT NULL,
        reason TEXT NOT NULL, first_at TEXT NOT NULL, last_at TEXT NOT NULL, tries INTEGER NOT NULL DEFAULT 1,
        PRIMARY KEY (entity, entity_id))""")
    # A conflict taken again once its parents arrived is kept for the record, marked as settled.
    conn.execute("ALTER TABLE sync_conflicts ADD COLUMN resolved_at TEXT")


def _v11(conn: sqlite3.Connection) -> None:
    # Who ran the program and on which computer, covered by the entry's digest from here on (digest version 3);
    # older entries keep their digest and say nothing of it.
    conn.execute("ALTER TABLE audit_log ADD COLUMN os_user TEXT")
    conn.execute("ALTER TABLE audit_log ADD COLUMN host TEXT")
    # Failed sign-ins in a row and, after too many, until when the account is locked. Not sealed: they are the
    # state of the door, not a decision; every change to them is an audited entry of its own.
    conn.execute("ALTER TABLE users ADD COLUMN failed_logins INTEGER NOT NULL DEFAULT 0")
    conn.execute("ALTER TABLE users ADD COLUMN locked_until TEXT")


def _v12(conn: sqlite3.Connection) -> None:
    from app.store import steps_codec

    # Explanations packed with plain zlib (or kept as text) take the preset dictionary: the same JSON, a fifth of the
    # bytes. A storage form, not a change of the record: the triggers on settlements (the exchange's change
    # numbers, the statistics) are set aside meanwhile and made again from their own SQL, so no settlement is sent
    # again and no summary row is touched. In slices, as version 8 does, for a county's millions of rows.
    triggers = conn.execute("SELECT name, sql FROM sqlite_schema WHERE type = 'trigger' AND tbl_name = 'settlements'"
                            ).fetchall()
    for name, _ in triggers:
        conn.execute(f'DROP TRIGGER "{name}"')
    last = 0
    while rows := conn.execute("SELECT rowid, steps FROM settlements WHERE rowid > ? ORDER BY rowid LIMIT 5000",
                               (last,)).fetchall():
        conn.executemany("UPDATE settlements SET steps = ? WHERE rowid = ?",
                         [(steps_codec.repack(steps), rowid) for rowid, steps in rows
                          if not (isinstance(steps, bytes) and steps[:1] == bytes([steps_codec.CURRENT]))])
        last = rows[-1][0]
    for _, sql in triggers:
        conn.execute(sql)


def _v13(conn: sqlite3.Connection) -> None:
    # 芜医保〔2021〕76号 二(二)5 assists only costs "在参保地定点医疗机构或按规定转诊异地就医（急诊、抢救除外）": a bill says
    # whether it was 急诊、抢救, in the insured area, or filed for 异地就医. A bill stored before has no value; the defaults
    # read it as 参保地, not 急诊, not 备案 — how it was settled — so every stored bill settles exactly as before.
    conn.execute("ALTER TABLE visits ADD COLUMN emergency INTEGER NOT NULL DEFAULT 0")
    conn.execute("ALTER TABLE visits ADD COLUMN in_insured_area INTEGER NOT NULL DEFAULT 1")
    conn.execute("ALTER TABLE visits ADD COLUMN filed_remote INTEGER NOT NULL DEFAULT 0")
    # They decide money, so they are sealed; each bill is sealed again with them.
    _reseal(conn, "visits", "升级时封存就医地点与急诊标记")


def _v14(conn: sqlite3.Connection) -> None:
    from app.store import records

    # A printed batch may be cancelled before it is paid (its lines wait for the next one). CHECK cannot be changed
    # in place, so the table is rebuilt (payment lines refer to it: see Migration.rebuilds).
    conn.execute("""CREATE TABLE disbursement_batches_v14 (
        id TEXT PRIMARY KEY, jurisdiction TEXT NOT NULL, year INTEGER, title TEXT NOT NULL,
        line_count INTEGER NOT NULL, total TEXT NOT NULL,
        state TEXT NOT NULL CHECK (state IN ('printed', 'paid', 'cancelled')),
        created_by TEXT NOT NULL, confirmed_by TEXT, confirmed_at TEXT,
        created_at TEXT NOT NULL, updated_at TEXT NOT NULL, site_id TEXT,
        cancelled_by TEXT, cancelled_at TEXT, cancel_reason TEXT)""")
    columns = ("id, jurisdiction, year, title, line_count, total, state, created_by, confirmed_by, confirmed_at, "
               "created_at, updated_at, site_id")
    conn.execute(f"INSERT INTO disbursement_batches_v14 ({columns}) SELECT {columns} FROM disbursement_batches")
    conn.execute("DROP TABLE disbursement_batches")
    conn.execute("ALTER TABLE disbursement_batches_v14 RENAME TO disbursement_batches")
    _reseal(conn, "disbursement_batches", "升级时封存发放批次（可撤销）")
    # The county's local values changed from a date, one record each, so that they travel like other records (the
    # setting that held them stays behind only as long as this step takes to move them).
    conn.execute("""CREATE TABLE local_values (
        id TEXT PRIMARY KEY, region_code TEXT NOT NULL, key TEXT NOT NULL, valid_from TEXT NOT NULL,
        value TEXT NOT NULL, set_by TEXT NOT NULL, created_at TEXT NOT NULL, updated_at TEXT NOT NULL,
        site_id TEXT)""")
    conn.execute("CREATE INDEX local_values_key ON local_values(key, valid_from)")
    stored = conn.execute("SELECT value FROM settings WHERE key = 'local_dated'").fetchone()
    county = conn.execute("SELECT value FROM settings WHERE key = 'county'").fetchone()
    code = (json.loads(county[0]) or {}).get("code", "") if county else ""
    for key, entries in (json.loads(stored[0]) if stored else {}).items():
        for e in entries:
            records.insert(conn, "system", "local_values", {"region_code": code, "key": key, "valid_from": e["from"],
                                                            "value": str(e["value"]), "set_by": "升级前设置"},
                           "升级时迁移自某日起的地方参数")
    if stored:
        records.delete(conn, "system", "settings", "local_dated", "升级时迁移自某日起的地方参数")
    for table in _SYNCED_V14:
        _track(conn, table)


def _v15(conn: sqlite3.Connection) -> None:
    from app.store.seal import DELETED, KEYS, POINTER, POSITIONS, SEALED

    for table in SEALED:
        conn.execute(f"ALTER TABLE {table} ADD COLUMN {POINTER} INTEGER")
        # The pointers are filled in place, not written as changes: the records themselves do not change, so the
        # triggers that queue a change for the county or move the statistics must not see these updates.
        triggers = conn.execute("SELECT name, sql FROM sqlite_master WHERE type = 'trigger' AND tbl_name = ?",
                                (table,)).fetchall()
        for name, _ in triggers:
            conn.execute(f"DROP TRIGGER {name}")
        skip = f" WHERE key NOT IN ({', '.join(repr(k) for k in sorted(POSITIONS))})" if table == "settings" else ""
        conn.execute(f"UPDATE {table} SET {POINTER} = (SELECT max(seq) FROM audit_log WHERE entity = '{table}' "
                     f"AND entity_id = {table}.{KEYS[table]} AND row_hash IS NOT NULL){skip}")
        for _, sql in triggers:
            conn.execute(sql)
    # The records whose last entry deleted them: few, and `check` looks for each one among the rows.
    conn.execute(f"CREATE INDEX audit_log_deleted ON audit_log(entity, entity_id, seq) WHERE row_hash = '{DELETED}'")


@dataclass(frozen=True)
class Migration:
    """One step of the schema: its number, what it does, and the statements or function that do it.

    `rebuilds`: the step rebuilds a table that others refer to, so it runs with foreign keys off (SQLite cannot
    switch them inside a transaction, and dropping the old table would otherwise fail) and checks them before it
    commits."""

    version: int
    name: str
    apply: list[str] | Callable[[sqlite3.Connection], None]
    rebuilds: bool = False


MIGRATIONS: tuple[Migration, ...] = (
    Migration(1, "户、人员、身份类别、参保、就诊、结算、用户、审计日志", _V1),
    Migration(2, "姓名拼音首字母检索（zs 找到 张三），为已有人员补算", _v2),
    # A short initials prefix matches thousands; with (initials, name) the index returns them already in
    # display order, so a search stops after the first page instead of sorting every match.
    Migration(3, "拼音首字母检索按姓名排序的索引", ["DROP INDEX persons_initials",
                                               "CREATE INDEX persons_initials_name ON persons(name_initials, name)"]),
    Migration(4, "依申请救助：申请、逐步记录（只追加）、附件", _V4),
    Migration(5, "与县级交换：本站编号、记录来源站点、变更序号、同步冲突记录", _v5),
    Migration(6, "金额等记录封存：审计条目带记录内容的校验值，按记录查找审计条目的索引", _v6),
    Migration(7, "审计日志分段封存（每一万条一个校验值），按记录查找封存条目的索引只收封存条目", _v7),
    Migration(8, "账单作废与更正（作废的发票号可重新录入）、支付记录与发放批次、补付追回", _v8, rebuilds=True),
    # After 8, which rebuilds visits: triggers made on the old table would go with it.
    Migration(9, "统计用汇总：按年月、村、类别的人次与金额，按人的各月人次；由触发器随每次结算维护", _v9),
    Migration(10, "同步：暂存上级记录未到的记录，冲突可标记为已补收", _v10),
    Migration(11, "审计条目记录操作系统用户和计算机名；登录失败计数与账号锁定", _v11),
    Migration(12, "结算说明以政策用语的预置字典压缩存放（内容不变，约为原来的五分之一）", _v12),
    Migration(13, "账单记录急诊抢救、是否在参保地就医、是否办理异地就医备案（旧账单按参保地、非急诊读）", _v13),
    Migration(14, "发放、补付追回和自某日起的地方参数随同步与交换包报送；发放批次可撤销", _v14, rebuilds=True),
    Migration(15, "每条记录注明封存它的审计条目编号，检查时按编号直接核对", _v15),
    Migration(16, "监测预警用汇总：按人按月的就诊人次、金额和就诊日期；由触发器随每次结算维护", _v16),
    Migration(17, "统计用汇总：按年、类别、村和有就诊的月份计人数；由触发器随按人汇总维护", _v17),
    # Nothing to change in the file: from here blocks are sealed in the split form (audit_blocks), which a program of
    # version 17 would read as json and call changed, so the version is raised to keep such a program out.
    Migration(18, "此后的审计日志分段封存改用核对更快的写法（已封存的各段不变）", []),
)
LATEST = MIGRATIONS[-1].version
# Tables every 救助通 database has had since version 1: a file without them is another program's.
OWN_TABLES = frozenset({"schema_migrations", "settings", "users", "audit_log"})


def is_ours(conn: sqlite3.Connection) -> bool:
    """Whether the database on this connection is a 救助通 database (of any version)."""
    return OWN_TABLES <= {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}

"""Merging records from another site into this site's database, by UUID, with the owner's rule."""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass, field

from typing import Any

from app.exchange import money_records, steps, territory
from app.exchange.held import HEAD_MISSING, PARENT_MISSING, hold
from app.exchange.records import APPEND_ONLY, Entity, replaces
from app.store import records
from app.store.clock import now


@dataclass
class Applied:
    """What merging one batch did here: new records, newer copies written, copies already held, refusals."""

    added: int = 0
    updated: int = 0
    same: int = 0
    conflicts: int = 0
    held: int = 0  # waiting for a parent that has not arrived yet (sync_held), tried again on the next pull
    persons_touched: set[str] = field(default_factory=set)
    applications_touched: set[str] = field(default_factory=set)
    households_added: set[str] = field(default_factory=set)
    locals_changed: set[str] = field(default_factory=set)  # dates from which a local value arrived

    def add(self, other: Applied) -> None:
        self.added += other.added
        self.updated += other.updated
        self.same += other.same
        self.conflicts += other.conflicts
        self.held += other.held
        self.persons_touched |= other.persons_touched
        self.applications_touched |= other.applications_touched
        self.households_added |= other.households_added
        self.locals_changed |= other.locals_changed


def _conflict(conn: sqlite3.Connection, source: str, table: str, record: dict, reason: str) -> None:
    conn.execute("INSERT INTO sync_conflicts (at, source, entity, entity_id, site_id, reason, record) "
                 "VALUES (?, ?, ?, ?, ?, ?, ?)",
                 (now(), source, table, record["id"], record.get("site_id"), reason,
                  json.dumps({k: v for k, v in record.items() if not isinstance(v, bytes)}, ensure_ascii=False)))


def apply(conn: sqlite3.Connection, user: Any, e: Entity, rows: list[tuple], me: str, source: str,
          sites: territory.Bounds | None = None) -> Applied:
    """Merge rows (in e.wire order) inside the caller's transaction, each through the audited write path.

    A record made here is never overwritten from outside; another site's record is replaced only by a newer copy
    from that same site (records.replaces); steps and attachments are appended once. What cannot be merged
    (a record of ours, a different site's copy, a unique number already used by another record, a record outside
    the registered jurisdiction of its site in `sites`) is kept aside in sync_conflicts with the reason, for the
    caseworker to see, instead of stopping the whole exchange."""
    out = Applied()
    cols = [*e.columns, "site_id"]
    stamp = "updated_at" if "updated_at" in e.columns else None
    action = f"接收其他站点的记录（{source}）"
    if e.table == "application_steps":
        rows = steps.in_order(rows, e.wire)
    for row in rows:
        record = dict(zip(e.wire, row))
        values = {c: record[c] for c in cols}
        if e.table == "applications":
            values = steps.summary_from_here(conn, values)
        held = conn.execute(f"SELECT site_id{', updated_at' if stamp else ''} FROM {e.table} WHERE id = ?",
                            (record["id"],)).fetchone()
        if record["site_id"] == me:
            out.same += 1  # our own record coming back: ours is the original
            continue
        if held is None:
            outcome = "added"
        elif held["site_id"] != record["site_id"]:
            out.conflicts += 1
            owner = "本站" if held["site_id"] is None else f"站点 {held['site_id']}"
            _conflict(conn, source, e.table, record, f"此记录属于{owner}，来自其他站点的副本不覆盖它")
            continue
        elif e.table in APPEND_ONLY or not stamp or not replaces(e.table, record["updated_at"], held["updated_at"]):
            out.same += 1  # this copy, or a newer one (packages may arrive out of order), is held already
            continue
        else:
            outcome = "updated"
        refused = territory.site_refusal(conn, e.table, record, sites or {}) or _refusal(conn, e.table, record)
        if refused:
            out.conflicts += 1
            _conflict(conn, source, e.table, record, refused)
            continue
        # A new record, or a newer copy, can collide here (an ID number or invoice taken by another record).
        problem = _write(conn, user, e.table, values, outcome, action)
        if problem and "FOREIGN KEY" in problem and not _parent_refused(conn, record):
            out.held += 1  # its parent has not arrived yet: kept whole and tried again, never passed over
            hold(conn, e, record, source, PARENT_MISSING)
            continue
        if problem:
            out.conflicts += 1
            _conflict(conn, source, e.table, record, _integrity_reason(e.table, problem))
            continue
        setattr(out, outcome, getattr(out, outcome) + 1)
        if outcome == "added" and e.table == "households":
            out.households_added.add(record["id"])
        if e.table == "category_periods":
            out.persons_touched.add(record["person_id"])
        if e.table == "application_steps":
            out.applications_touched.add(record["application_id"])
        if e.table == "applications":  # the owner's row may predate a step taken elsewhere
            out.applications_touched.add(record["id"])
        if e.table == "local_values":
            out.locals_changed.add(record["valid_from"])
    return out


def _refusal(conn: sqlite3.Connection, table: str, record: dict) -> str | None:
    """Why a record from elsewhere may not be kept here, for the kinds judged on arrival (None: it may)."""
    if table == "application_steps":
        refused = steps.refusal(conn, record)
        return refused and f"未采用这一办理环节：{refused}"
    if table in money_records.CHECKED:
        refused = money_records.site_refusal(conn, table, record)
        return refused and f"未采用这条{money_records.WHAT[table]}：{refused}"
    return None


def _write(conn: sqlite3.Connection, user: Any, table: str, values: dict, outcome: str, action: str) -> str | None:
    """Write one row (and its audit entry) on its own savepoint; the constraint it broke, or None if written."""
    conn.execute("SAVEPOINT merge_row")
    try:
        if outcome == "added":
            records.insert(conn, user, table, values, action)
        else:
            records.update(conn, user, table, values["id"], {k: v for k, v in values.items() if k != "id"}, action)
    except sqlite3.IntegrityError as exc:
        conn.execute("ROLLBACK TO merge_row")
        return str(exc)
    finally:
        conn.execute("RELEASE merge_row")
    return None


def _parent_refused(conn: sqlite3.Connection, record: dict) -> bool:
    """Whether a record this one belongs to was refused here (so it will not arrive by waiting)."""
    parents = [v for c, v in record.items() if c.endswith("_id") and c not in ("id", "site_id") and v]
    return bool(parents) and conn.execute(
        f"SELECT 1 FROM sync_conflicts WHERE entity_id IN ({', '.join('?' * len(parents))}) AND resolved_at IS NULL "
        f"LIMIT 1", parents).fetchone() is not None


def _integrity_reason(table: str, message: str) -> str:
    if "id_type, persons.id_number" in message or "persons.id_number" in message:
        return "本站已有同一证件号码的另一人员记录，请核对后合并"
    if "visits.hospital, visits.invoice_number" in message:
        return "本站已有同一医院同一票据号的另一张账单，请核对是否重复录入"
    if "application_steps.application_id, application_steps.seq" in message:
        return "同一申请的同一环节序号已有另一条办理记录（两处同时办理），请县里核对"
    if "FOREIGN KEY" in message:
        return "它所属的上级记录（家庭、人员、账单、申请或发放批次）未能合并（见同步冲突），这一条也未合并"
    return f"数据库拒绝写入：{message}"


def drop_headless(conn: sqlite3.Connection, user: Any, e: Entity, household_ids: set[str],
                  source: str) -> tuple[int, int]:
    """Households just added whose head did not come with them are set aside rather than left empty; how many were
    (refused, held).

    Either the head was refused (the same ID number is already registered here as another record): a household
    with no one is taken out again and kept in sync_conflicts, one with other members stays with a conflict saying
    so. Or the head has not arrived yet (its site is still pushing): a household with no one is held whole and tried
    again on the next pull, one with other members stays and its head joins it when it comes."""
    refused_n = held_n = 0
    for hid in sorted(household_ids):
        row = conn.execute("SELECT * FROM households WHERE id = ?", (hid,)).fetchone()
        if row is None or conn.execute("SELECT 1 FROM persons WHERE id = ?", (row["head_person_id"],)).fetchone():
            continue
        members = conn.execute("SELECT count(*) FROM persons WHERE household_id = ?", (hid,)).fetchone()[0]
        refused = conn.execute("SELECT 1 FROM sync_conflicts WHERE entity = 'persons' AND entity_id = ? "
                               "AND resolved_at IS NULL", (row["head_person_id"],)).fetchone()
        record = dict(row)
        if members == 0:
            records.delete(conn, user, "households", hid, f"接收其他站点的记录（{source}）：缺户主，"
                                                          + ("未导入" if refused else "暂存待户主"))
            if refused:
                refused_n += 1
                _conflict(conn, source, "households", record, REFUSED_HEAD)
            else:
                held_n += 1
                hold(conn, e, record, source, HEAD_MISSING)
        elif refused:
            _conflict(conn, source, "households", record, "户主在本站已有其他记录（证件号码相同），这一户已导入但缺户主，请核对")
    return refused_n, held_n


REFUSED_HEAD = "户主的证件号码在本站已登记为另一人员，这一户未导入，请核对后合并"
# What older versions filed for a parent not there yet, refusing it for good (and calling a household whose head
# had not arrived a refused one): the repair takes these again from the county. Newer conflicts never say this.
RETAKE = ("它所属的上级记录（家庭、人员或申请）本站没有，请先同步或导入上级记录",
          "这一户的成员都已在本站以其他记录登记（证件号码相同），这一户未导入，请核对后合并")

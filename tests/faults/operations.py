"""The operations the SIGKILL test interrupts: how each is set up, its command line, and what a kill may leave.

Adding one (county sync, say) is one more `Operation` in OPERATIONS: a `prepare` that turns a copy of the demo
county into the state the command starts from (writing any inputs beside it: a list, a second database), the
command line, the output line the command prints after each unit of work (kills are placed after those lines),
and an invariant function saying which states a kill may leave between the state before and the
state after an uninterrupted run. Every run (reference, each kill, each re-run) gets its own copy of that folder,
so a command that also writes its inputs (the other side of a sync) starts from the same state each time; an
invariant that must look at such a second file finds it beside the killed database (`Snapshot` reads any path).
"""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from .killing import AS_ADMIN, Kill
from .state import Snapshot, new_audit

YEAR = 2025  # the demo county's year of bills (conftest builds it with --year 2025)


@dataclass(frozen=True)
class Operation:
    """One interruptible command: set-up, command line, and the states a kill may leave."""

    name: str
    prepare: Callable[[Path], None]
    argv: Callable[[Path, Path], list[str]]  # `python -m app` arguments, given the database and its run's folder
    progress: re.Pattern  # the line printed after each unit of work: kills land a seeded delay after one of them
    invariant: Callable[[Snapshot, Snapshot, Snapshot], list[str]]  # (before, after, killed) → problems
    mid_work: Callable[[Kill, str], bool]  # (kill, state: before / partial / after) → did it land in the writing?


def all_or_nothing(before: Snapshot, after: Snapshot, killed: Snapshot) -> list[str]:
    """One transaction: the whole database is as before or as after, never between."""
    if killed.tables in (before.tables, after.tables):
        return []
    changed = sorted(t for t in killed.tables if killed.rows(t) not in (before.rows(t), after.rows(t)))
    mixed = sorted(t for t in killed.tables if killed.rows(t) == after.rows(t) != before.rows(t))
    return [f"partly applied: tables {changed or mixed} are neither as before nor as after"]


# ---- identity list import (python -m app import-list FILE --apply) -------------------------------------------

LIST_NAME = "民政花名册.xlsx"


def _write_roster(db: Path) -> None:
    """A 民政 roster from the demo county: 低保 from January for people with bills and no category (re-settling
    their year), an end date for some current 低保/特困 periods, and two rows the reader rejects."""
    from openpyxl import Workbook

    conn = sqlite3.connect(db)
    try:
        new = conn.execute(
            "SELECT DISTINCT p.name, p.id_number FROM persons p JOIN visits v ON v.person_id = p.id "
            "WHERE NOT EXISTS (SELECT 1 FROM category_periods c WHERE c.person_id = p.id) "
            "ORDER BY p.id_number LIMIT 200").fetchall()
        ending = conn.execute(
            "SELECT p.name, p.id_number, c.category, c.valid_from FROM category_periods c "
            "JOIN persons p ON p.id = c.person_id WHERE c.category IN ('低保对象', '特困人员') AND c.valid_to IS NULL "
            "AND c.valid_from < ? ORDER BY p.id_number LIMIT 20", (f"{YEAR}-06-01",)).fetchall()
    finally:
        conn.close()
    assert len(new) >= 100 and len(ending) >= 5, "the demo county is too small for this test"
    book = Workbook()
    sheet = book.active
    sheet.append([f"南陵县 {YEAR} 年城乡低保、特困人员花名册"])
    sheet.merge_cells("A1:F1")
    sheet.append(["序号", "姓名", "身份证号码", "救助类别", "起始保障年月", "终止时间"])
    for i, (name, number) in enumerate(new, start=1):
        sheet.append([i, name, number, "低保", f"{YEAR}-01", None])
    for name, number, category, start in ending:
        sheet.append([None, name, number, "低保" if category == "低保对象" else "特困", start[:7], f"{YEAR}-06-30"])
    sheet.append([None, "查无此人", "340223199901010000", "低保", f"{YEAR}-01", None])  # bad check digit
    sheet.append([None, "王某", new[0][1], "五保", f"{YEAR}-01", None])  # unknown category
    book.save(db.parent / LIST_NAME)


def _import_landed(kill: Kill, state: str) -> bool:
    # Kills follow the comparison's summary line, printed just before the one apply transaction begins.
    return "已应用" not in kill.output


IMPORT_LIST = Operation(
    "import-list", _write_roster,
    lambda db, inputs: ["import-list", str(inputs / LIST_NAME), "--apply", *AS_ADMIN, "--db", str(db)],
    re.compile(r"名单）：.*；未导入 \d+ 行$"), all_or_nothing, _import_landed)


# ---- re-settling a year (python -m app resettle --year Y) ----------------------------------------------------

def _change_local_values(db: Path) -> None:
    """The admin lowers the basic-insurance rate and the serious-illness deductible (audited), so the year's bills
    are due other amounts until the year is re-settled."""
    from app.services import county, users
    from app.services.demo import DEMO_LOCAL
    from app.services.session import Session
    from app.store.store import open_store

    store = open_store(db, daily_backup=False)
    try:
        admin = users.find_user(store.conn, "admin")
        county.configure_county(Session(store, admin), "340223", "南陵县（演示）", "wuhu-2022",
                                {**DEMO_LOCAL, "basic_inpatient_rate": "65%", "serious_illness_deductible": "12000"})
    finally:
        store.close()


def _by_person(snap: Snapshot) -> dict[str, tuple]:
    """Each person's settled year: their settlements and annual settlement."""
    out: dict[str, tuple[list, list]] = {}
    for s in snap.rows("settlements"):
        out.setdefault(s["person_id"], ([], []))[0].append(s)
    for a in snap.rows("annual_settlements"):
        out.setdefault(a["person_id"], ([], []))[1].append(a)
    return {p: (sorted(map(repr, s)), sorted(map(repr, a))) for p, (s, a) in out.items()}


def person_by_person(before: Snapshot, after: Snapshot, killed: Snapshot) -> list[str]:
    """One transaction per person, in person id order: each person's year is wholly old or wholly new, those
    re-settled are the first ones, the audit log holds exactly their changes, and nothing else changed."""
    problems = []
    old, new, now = _by_person(before), _by_person(after), _by_person(killed)
    if set(now) != set(old):
        problems.append("the set of people with settlements changed")
    changing = sorted(p for p in old if old[p] != new.get(p))
    done = [p for p in changing if now.get(p) == new[p]]
    for p in sorted(now):
        if now[p] not in (old.get(p), new.get(p)):
            problems.append(f"person {p}: settlements neither all old nor all new (half re-settled)")
    if done != changing[:len(done)]:
        problems.append("re-settled people are not the first ones in order: a person was skipped")
    # `changes` numbers each changed record for the next export or sync, so it moves with the settlements, and so
    # do the statistics' and the monitoring list's summary rows (app/store/summary.py, stat_masks.py,
    # risk_summary.py; `check --full` holds them to the records).
    kept = ("settlements", "annual_settlements", "audit_log", "audit_head", "changes", "stat_cells", "stat_people",
            "stat_masks", "risk_months")
    if killed.without(*kept) != before.without(*kept):
        problems.append("re-settling changed something besides settlements, the audit log and the change numbers")
    noted = {(c["entity"], c["entity_id"]) for c in killed.rows("changes")} - \
        {(c["entity"], c["entity_id"]) for c in before.rows("changes")}
    if any(entity not in ("settlements", "annual_settlements") for entity, _ in noted):
        problems.append(f"re-settling noted other records as changed: {sorted(noted)[:3]}")
    base = len(before.rows("audit_log"))
    owner = {r["id"]: r["person_id"] for t in ("settlements", "annual_settlements") for r in after.rows(t)}
    expected = [e for e in new_audit(after, base) if owner.get(e["entity_id"]) in set(done)]
    if new_audit(killed, base) != expected:
        problems.append(f"audit log: {len(new_audit(killed, base))} new entries, expected {len(expected)} "
                        f"(exactly the changes of the {len(done)} people re-settled)")
    return problems


RESETTLE = Operation(
    "resettle", _change_local_values, lambda db, inputs: ["resettle", *AS_ADMIN, "--year", str(YEAR), "--db", str(db)],
    re.compile(r"^已重新结算 \d+/\d+ 人$"), person_by_person, lambda kill, state: state == "partial")

OPERATIONS = (IMPORT_LIST, RESETTLE)

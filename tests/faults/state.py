"""A database's content compared as content (new ids labelled, times masked), and the invariants every state keeps.

The invariants come from the schema (app/store/schema.py) and the settling rules (app/services/bills.py):

- every visit has exactly one settlement, of the same person and of the year of its discharge date;
- a settlement's personal_pay is the visit's total_cost less the four tiers it received;
- every (person, year) with visits has exactly one annual_settlements row, and there is none without visits;
  its totals of the four tiers are the sums over that year's settlements, and its personal_pay their sum less
  the year's own 依申请救助 and 再救助;
- a category period ends on or after it starts;
- `check` (integrity, foreign keys, unsettled visits, audit chain) and `audit verify` pass.
"""

from __future__ import annotations

import json
import re
import sqlite3
import zlib
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

from app.store.seal import POINTER

from .killing import cli

TIERS = ("basic_paid", "serious_illness_paid", "assistance_paid", "tilt_assistance_paid")
UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
STAMP = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:[+-]\d{2}:\d{2}|Z)?")
# Columns whose value is a function of the time the change was made: they differ between any two runs.
TIMED = {"audit_log": {"at", "prev_hash", "hash"}, "audit_head": {"hash"}}
# The command line's sign-in (app/cli_auth.py) is audited before the command's own work, once per run: a run killed
# and run again has signed in twice. A state is what the command did, so sign-ins are left out and the log's
# entries are numbered without them.
SIGN_IN = "登录（命令行）"


def _read(db: Path) -> sqlite3.Connection:
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    conn.row_factory = sqlite3.Row
    return conn


def known_ids(db: Path) -> set[str]:
    """Every record id in the database: ids made later are the ones a command created."""
    conn = _read(db)
    try:
        tables = [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
        ids: set[str] = set()
        for t in tables:
            if "id" in {c[1] for c in conn.execute(f'PRAGMA table_info("{t}")')}:
                ids.update(str(r[0]) for r in conn.execute(f'SELECT id FROM "{t}"'))
        return ids
    finally:
        conn.close()


@dataclass
class Snapshot:
    """Every table's rows, normalised: a created id becomes new-1, new-2 … in the order the audit log names it."""

    tables: dict[str, list[dict]]

    def rows(self, table: str) -> list[dict]:
        return self.tables.get(table, [])

    def without(self, *tables: str) -> dict[str, list[dict]]:
        return {t: rows for t, rows in self.tables.items() if t not in tables}


def snapshot(db: Path, known: set[str]) -> Snapshot:
    """The content of `db`; `known` are the ids of the state the command started from."""
    labels: dict[str, str] = {}

    def label(match: re.Match) -> str:
        text = match.group(0)
        if text in known:
            return text
        return labels.setdefault(text, f"new-{len(labels) + 1}")

    def norm(value):
        if isinstance(value, bytes):
            try:
                value = zlib.decompress(value).decode("utf-8")  # explanation steps are stored compressed
            except zlib.error:
                return value.hex()
        if isinstance(value, str):
            return UUID.sub(label, STAMP.sub("<time>", value))
        return value

    conn = _read(db)
    try:
        kinds = dict(conn.execute("SELECT name, sql FROM sqlite_master WHERE type = 'table' ORDER BY name").fetchall())
        names = list(kinds)
        # The audit log first, in order, so that a created id gets the same label in two runs that made the same
        # changes in the same order.
        names.sort(key=lambda n: n != "audit_log")
        tables: dict[str, list[dict]] = {}
        # A record names the audit entry that sealed it by its number, which the sign-ins left out here shift.
        renumbered: dict[int, int] = {}
        for name in names:
            # A table without rowid comes in key order; the rows of every table but the log are sorted below anyway.
            order = "seq" if name == "audit_log" else "1" if "WITHOUT ROWID" in kinds[name].upper() else "rowid"
            rows = [{k: renumbered.get(r[k], f"unknown entry {r[k]}") if k == POINTER and r[k] is not None
                     else norm(r[k]) for k in r.keys() if k not in TIMED.get(name, ())}
                    for r in conn.execute(f'SELECT * FROM "{name}" ORDER BY {order}')
                    if name != "audit_log" or r["action"] != SIGN_IN]
            if name == "audit_log":
                renumbered = {r["seq"]: i for i, r in enumerate(rows, start=1)}
                rows = [{**r, "seq": i} for i, r in enumerate(rows, start=1)]
            elif name == "audit_head":
                rows = [{**r, "count": len(tables["audit_log"])} for r in rows]
            if name != "audit_log":
                rows.sort(key=lambda r: json.dumps(r, sort_keys=True, default=str))
            tables[name] = rows
        return Snapshot(tables)
    finally:
        conn.close()


def consistency(db: Path) -> list[str]:
    """Every broken invariant of the module docstring, in words (empty: the database is consistent)."""
    problems = []
    code, out, err = cli("check", "--db", str(db))
    if code != 0:
        problems.append(f"check failed: {err or out}")
    code, out, err = cli("audit", "verify", "--db", str(db))
    if code != 0:
        problems.append(f"audit verify failed: {err or out}")
    conn = _read(db)
    try:
        visits = {r["id"]: r for r in conn.execute("SELECT * FROM visits")}
        settled: dict[str, list[sqlite3.Row]] = {}
        for s in conn.execute("SELECT * FROM settlements"):
            settled.setdefault(s["visit_id"], []).append(s)
        years: dict[tuple[str, int], list[sqlite3.Row]] = {}
        for vid, v in visits.items():
            rows = settled.get(vid, [])
            if len(rows) != 1:
                problems.append(f"visit {vid} has {len(rows)} settlements")
                continue
            s = rows[0]
            if s["person_id"] != v["person_id"] or s["year"] != int(v["discharged_on"][:4]):
                problems.append(f"settlement of visit {vid} names another person or year")
            if Decimal(s["personal_pay"]) != Decimal(v["total_cost"]) - sum(Decimal(s[t]) for t in TIERS):
                problems.append(f"settlement of visit {vid}: personal_pay is not total_cost less the tiers")
            years.setdefault((s["person_id"], s["year"]), []).append(s)
        annual = {(r["person_id"], r["year"]): r for r in conn.execute("SELECT * FROM annual_settlements")}
        for key in set(annual) - set(years):
            problems.append(f"annual settlement of {key} has no visits")
        for key, rows in years.items():
            if key not in annual:
                problems.append(f"{key} has settled visits but no annual settlement")
                continue
            totals = json.loads(annual[key]["totals"])
            whole_year = Decimal(totals["application_assistance_paid"]) + Decimal(totals["re_assistance_paid"])
            for t in (*TIERS, "personal_pay"):
                summed = sum(Decimal(r[t]) for r in rows) - (whole_year if t == "personal_pay" else 0)
                if Decimal(totals[t]) != summed:
                    problems.append(f"annual {t} of {key} is {totals[t]}, its visits sum to {summed}")
        bad = conn.execute("SELECT count(*) FROM category_periods WHERE valid_to IS NOT NULL AND valid_to < valid_from"
                           ).fetchone()[0]
        if bad:
            problems.append(f"{bad} category periods end before they start")
    finally:
        conn.close()
    return problems


def new_audit(snap: Snapshot, base_count: int) -> list[dict]:
    """The audit entries written after the first `base_count`."""
    return [e for e in snap.rows("audit_log") if e["seq"] > base_count]

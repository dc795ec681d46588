"""Importing an identity list: compare it with the registry, then apply the confirmed changes in one transaction."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path

from app.exchange.identity_lists import ListRow, ParsedList, Rejected, read_list
from app.services import registry
from app.services.session import Session
from app.store import records
from app.store.db import transaction

KIND_NAMES = {"new": "新增", "changed": "类别期间变化", "ended": "终止", "unchanged": "无变化", "unknown": "未登记人员"}


@dataclass
class Change:
    """One understood row of the list and what it means for the registry."""

    kind: str                 # new, changed, ended, unchanged, unknown
    row: ListRow
    person_id: str | None = None
    period_id: str | None = None
    note: str = ""

    def describe(self) -> str:
        r = self.row
        period = f"{r.valid_from} 至 {r.valid_to or '今'}"
        return f"第 {r.line} 行 {KIND_NAMES[self.kind]}：{r.name} {r.id_number} {r.category} {period}" + \
            (f"（{self.note}）" if self.note else "")


def compare(session: Session, parsed: ParsedList) -> list[Change]:
    """What applying the list would change, row by row (writes nothing)."""
    out = []
    for row in parsed.rows:
        person = session.conn.execute(
            "SELECT p.id, p.name, h.region_code FROM persons p JOIN households h ON h.id = p.household_id "
            "WHERE p.id_type = '居民身份证' AND p.id_number = ?", (row.id_number,)).fetchone()
        if person is None or not session.user.covers(person["region_code"]):
            out.append(Change("unknown", row, note="请先登记该人员及其家庭" if person is None else "不在管辖范围"))
            continue
        note = f"登记姓名为 {person['name']}" if person["name"] != row.name else ""
        overlapping = session.conn.execute(
            "SELECT * FROM category_periods WHERE person_id = ? AND category = ? AND valid_from <= ? AND "
            "(valid_to IS NULL OR valid_to >= ?) ORDER BY valid_from LIMIT 1",
            (person["id"], row.category, (row.valid_to or date.max).isoformat(), row.valid_from.isoformat())).fetchone()
        if overlapping is None:
            out.append(Change("new", row, person_id=person["id"], note=note))
            continue
        same = (overlapping["valid_from"] == row.valid_from.isoformat()
                and overlapping["valid_to"] == (row.valid_to.isoformat() if row.valid_to else None))
        kind = "unchanged" if same else ("ended" if row.valid_to and overlapping["valid_to"] is None else "changed")
        out.append(Change(kind, row, person_id=person["id"], period_id=overlapping["id"], note=note))
    return out


def apply(session: Session, changes: list[Change], certified_by: str, source: str) -> int:
    """Write the new, changed and ended periods, audit each, and re-settle the bills they reach; all or nothing."""
    session.require("import_lists")
    todo = [c for c in changes if c.kind in ("new", "changed", "ended")]
    conn = session.conn
    with transaction(conn):
        touched: dict[str, list[dict]] = {}
        for c in todo:
            r = c.row
            fields = {"category": r.category, "valid_from": r.valid_from.isoformat(),
                      "valid_to": r.valid_to.isoformat() if r.valid_to else None, "certified_by": certified_by}
            if c.kind == "new":
                records.insert(conn, session.user, "category_periods", {"person_id": c.person_id, **fields},
                               f"导入身份名单（{source}）：新增")
            else:
                old = dict(conn.execute("SELECT * FROM category_periods WHERE id = ?", (c.period_id,)).fetchone())
                records.update(conn, session.user, "category_periods", c.period_id, fields,
                               f"导入身份名单（{source}）：{KIND_NAMES[c.kind]}")
                touched.setdefault(c.person_id, []).append(old)
            touched.setdefault(c.person_id, []).append(fields)
        for person_id, periods in touched.items():
            registry.resettle_touched(session, person_id, *periods)
    return len(todo)


def import_list(session: Session, path: Path) -> tuple[ParsedList, list[Change]]:
    """Read and compare a list file."""
    parsed = read_list(path)
    return parsed, compare(session, parsed)


def not_imported(parsed: ParsedList, changes: list[Change]) -> list[Rejected]:
    """Every row the import leaves out, each with why: the rows not understood and the people not registered here
    (or outside the user's jurisdiction), in the list's order."""
    unknown = [Rejected(c.row.line, [], f"{KIND_NAMES['unknown']}：{c.note}", c.row.name, c.row.id_number)
               for c in changes if c.kind == "unknown"]
    return sorted([*parsed.rejected, *unknown], key=lambda r: r.line)


def rejected_report(parsed: ParsedList, path: Path, changes: list[Change] = ()) -> Path:
    """The rows not imported (see not_imported), each with its reason, as an .xlsx to send back to the department."""
    from app.documents import xlsx

    by_line = {c.row.line: c.row for c in changes}
    with xlsx.Book(path) as book:
        sheet = book.sheet("未导入的行", ["原表行号", "姓名", "身份证号", "原因", "原行内容"],
                           title=f"{parsed.path.name} 中未能导入的行", first_number=4, frozen_columns=0, max_width=90)
        for r in not_imported(parsed, list(changes)):
            row = by_line.get(r.line) if not r.values else None
            cells = ([row.name, row.id_number, row.category, str(row.valid_from), str(row.valid_to or "")]
                     if row is not None else r.values)
            sheet.row([r.line, r.name, r.id_number, r.reason, " | ".join(str(v) for v in cells if v)])
        sheet.width(3, 22)
        sheet.width(4, 50)
        sheet.width(5, 90)
    return Path(path)

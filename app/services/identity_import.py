"""Importing an identity list: compare it with the registry, then apply the confirmed changes in one transaction."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path

from app.domain.errors import FieldError
from app.domain.names import same_name
from app.exchange.identity_lists import ListRow, ParsedList, Rejected, read_list
from app.services import registry
from app.services.session import Session
from app.store import records
from app.store.db import transaction

KIND_NAMES = {"new": "新增", "changed": "类别期间变化", "ended": "终止", "unchanged": "无变化", "unknown": "未登记人员",
              "outside": "不在管辖范围", "mismatch": "姓名不符", "conflict": "期间冲突"}
# Rows not applied, each listed with the rows the reader refused (not_imported).
LEFT_OUT = ("unknown", "outside", "mismatch", "conflict")


@dataclass
class Change:
    """One understood row of the list and what it means for the registry: the period to write (`valid_from`,
    `valid_to`), which is the row's own unless the registry already knows an earlier start."""

    kind: str                 # new, changed, ended, unchanged, or one of LEFT_OUT
    row: ListRow
    person_id: str | None = None
    period_id: str | None = None
    note: str = ""
    valid_from: str | None = None
    valid_to: str | None = None

    def describe(self) -> str:
        r = self.row
        period = f"{r.valid_from} 至 {r.valid_to or '今'}"
        return f"第 {r.line} 行 {KIND_NAMES[self.kind]}：{r.name} {r.id_number} {r.category} {period}" + \
            (f"（{self.note}）" if self.note else "")


def compare(session: Session, parsed: ParsedList) -> list[Change]:
    """What applying the list would change, row by row (writes nothing)."""
    return [_change(session, row) for row in parsed.rows]


def _change(session: Session, row: ListRow) -> Change:
    """What one row means for the registry as it is now.

    A list is the department's roster of who holds a category, each with the date of the certification it holds
    now. A row whose start is later than the registered period it overlaps is that period re-certified: the
    registered start is kept (moving it would take the years between out of the category and claw back what they
    were paid). An earlier start, or another end, is written. A row overlapping two registered periods of the
    category is not guessed at: the caseworker decides on the person's page. Nor is a row whose ID number is
    registered under another name: a wrong number in the department's list would give the category, and its
    assistance, to someone else (bills are refused the same way)."""
    person = session.conn.execute(
        "SELECT p.id, p.name, h.region_code FROM persons p JOIN households h ON h.id = p.household_id "
        "WHERE p.id_type = '居民身份证' AND p.id_number = ?", (row.id_number,)).fetchone()
    if person is None:
        return Change("unknown", row, note="请先登记该人员及其家庭")
    if not session.user.covers(person["region_code"]):
        return Change("outside", row, note=f"该人员登记在 {person['region_code']}，不在您的管辖范围"
                                            f"（{session.user.jurisdiction}）内，请由所在乡镇导入")
    if not same_name(person["name"], row.name):
        return Change("mismatch", row, person_id=person["id"],
                      note=f"身份证号 {row.id_number} 登记的姓名为“{person['name']}”，名单为“{row.name}”，未导入；请核对"
                           f"身份证号和姓名（确是同一人而登记的姓名有误的，先在家庭页面更正）")
    notes: list[str] = []
    start, end = row.valid_from.isoformat(), row.valid_to.isoformat() if row.valid_to else None
    overlapping = session.conn.execute(
        "SELECT * FROM category_periods WHERE person_id = ? AND category = ? AND valid_from <= ? AND "
        "(valid_to IS NULL OR valid_to >= ?) ORDER BY valid_from",
        (person["id"], row.category, (row.valid_to or date.max).isoformat(), start)).fetchall()
    if not overlapping:
        return Change("new", row, person_id=person["id"], note="；".join(notes), valid_from=start, valid_to=end)
    if len(overlapping) > 1:
        held = "、".join(f"{p['valid_from']} 至 {p['valid_to'] or '今'}" for p in overlapping)
        return Change("conflict", row, person_id=person["id"],
                      note=f"与已登记的 {len(overlapping)} 段{row.category}期间（{held}）重叠，未导入；请在家庭页面核对后手工修改")
    held = overlapping[0]
    if held["valid_from"] < start:
        notes.append(f"名单的起始日期晚于登记的 {held['valid_from']}，保留登记的起始日期")
        start = held["valid_from"]
    same = held["valid_from"] == start and held["valid_to"] == end
    kind = "unchanged" if same else ("ended" if end and held["valid_to"] is None else "changed")
    if not same and held["site_id"] is not None:
        # Changed here, a period another site made would stay on this computer, and its site's next copy undo it.
        return Change("conflict", row, person_id=person["id"],
                      note=f"已登记的{row.category}期间（{held['valid_from']} 至 {held['valid_to'] or '今'}）是从其他站点"
                           f"（{held['site_id']}）接收的，在本机修改不会送到县里，未导入；请在登记它的站点导入这份名单")
    if not same:  # what the change replaces, beside the row's own dates
        notes.insert(0, f"登记为 {held['valid_from']} 至 {held['valid_to'] or '今'}")
    return Change(kind, row, person_id=person["id"], period_id=held["id"], note="；".join(notes), valid_from=start,
                  valid_to=end)


def apply(session: Session, changes: list[Change], certified_by: str, source: str) -> int:
    """Write the new, changed and ended periods, audit each, and re-settle the bills they reach; all or nothing.

    Each row is compared again inside the transaction: if the registry changed since the list was compared (the
    same list applied twice, an edit on the person's page), nothing is written and the list is to be compared
    again."""
    session.require("import_lists")
    registry.check_certifier(certified_by)
    todo = [c for c in changes if c.kind in ("new", "changed", "ended")]
    conn = session.conn
    with transaction(conn):
        touched: dict[str, list[dict]] = {}
        for c in todo:
            now = _change(session, c.row)
            if (now.kind, now.period_id, now.valid_from, now.valid_to) != (c.kind, c.period_id, c.valid_from,
                                                                          c.valid_to):
                raise FieldError("list", f"第 {c.row.line} 行（{c.row.name}）：比对之后登记已有变化（现在为"
                                         f"“{KIND_NAMES[now.kind]}”），未作任何修改；请重新比对名单后再应用", label="身份名单")
            fields = {"category": c.row.category, "valid_from": c.valid_from, "valid_to": c.valid_to,
                      "certified_by": certified_by}
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
    unknown = [Rejected(c.row.line, [], f"{KIND_NAMES[c.kind]}：{c.note}", c.row.name, c.row.id_number)
               for c in changes if c.kind in LEFT_OUT]
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

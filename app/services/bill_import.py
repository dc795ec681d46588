"""Bulk bills from a one-stop settlement list: compare with the records (preview), then record them all at once.

Each row is understood or refused with its reason: a person not registered or registered under another name, outside
the user's jurisdiction, a figure the bill form would refuse, a settlement date none of the person's categories
covers, an invoice twice in the file or already recorded for someone else (重复报销). A row already recorded as it stands is counted, not recorded again, so importing a list
twice changes nothing. Applying records every ready row, with what the hospital paid, and settles each person's
year once, in one transaction: all or nothing.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass, field
from typing import NamedTuple
from datetime import date
from pathlib import Path

from app.domain.errors import FieldError
from app.domain.labels import label_for
from app.domain.names import same_name
from app.exchange.bill_lists import ParsedBills, read_bills
from app.exchange.identity_lists import Rejected
from app.services import bills, payments
from app.services.session import Session
from app.store import records
from app.store.clock import now
from app.store.db import transaction

_CHUNK = 500  # SQLite's default limit on one statement's parameters is far above this


@dataclass
class BillImport:
    """A compared list: rows ready to record, rows already recorded, refused rows with reasons."""

    path: Path
    ready: list[dict] = field(default_factory=list)
    already: int = 0
    rejected: list[Rejected] = field(default_factory=list)
    names: dict[str, str] = field(default_factory=dict)  # person id → name, for showing the ready rows


def _chunks(values: list) -> list[list]:
    return [values[i:i + _CHUNK] for i in range(0, len(values), _CHUNK)]


class _Person(NamedTuple):
    id: str
    name: str
    covered: bool  # within the user's jurisdiction


def _persons(session: Session, numbers: list[str]) -> dict[str, _Person]:
    out = {}
    covers = session.user.covers
    for part in _chunks(numbers):
        for pid, name, number, region in session.conn.execute(
                "SELECT p.id, p.name, p.id_number, h.region_code FROM persons p JOIN households h ON h.id = p.household_id "
                f"WHERE p.id_number IN ({', '.join('?' * len(part))})", part):
            out[number] = _Person(pid, name, covers(region))
    return out


# What a list's row and the live bill of its invoice must agree on for the row to be that bill, already recorded.
_SAME_BILL = ("person_id", "admitted_on", "discharged_on", "kind", "total_cost", "policy_covered", "basic_paid",
              "serious_illness_paid")


def _recorded(session: Session, keys: set[tuple[str, str]]) -> dict[tuple[str, str], dict]:
    """The live bills of these (hospital, invoice) pairs: each one's _SAME_BILL fields.

    Asked hospital by hospital, so that the unique index on (hospital, invoice) is searched; asking by invoice alone
    walks the whole index once a chunk, which on a county's millions of bills costs minutes."""
    by_hospital: dict[str, list[str]] = {}
    for hospital, invoice in keys:
        by_hospital.setdefault(hospital, []).append(invoice)
    out = {}
    for hospital, invoices in by_hospital.items():
        for part in _chunks(sorted(invoices)):
            for invoice, *found in session.conn.execute(
                    f"SELECT invoice_number, {', '.join(_SAME_BILL)} FROM visits "
                    f"WHERE status = 'live' AND hospital = ? AND invoice_number IN ({', '.join('?' * len(part))})",
                    [hospital, *part]):
                out[(hospital, invoice)] = dict(zip(_SAME_BILL, found))
    return out


def _periods(session: Session, person_ids: list[str]) -> dict[str, list[tuple[str, str]]]:
    """Each person's category periods as (from, to) ISO dates, an open end as the far future."""
    out: dict[str, list[tuple[str, str]]] = {}
    for part in _chunks(person_ids):
        for r in session.conn.execute(
                "SELECT person_id, valid_from, coalesce(valid_to, '9999-12-31') FROM category_periods "
                f"WHERE person_id IN ({', '.join('?' * len(part))})", part):
            out.setdefault(r[0], []).append((r[1], r[2]))
    return out


def _outside(day: str, name: str, periods: list[tuple[str, str]]) -> str | None:
    """The refusal for a bill settled on a day none of the person's categories covers (None: one covers it)."""
    for start, end in periods:
        if start <= day <= end:
            return None
    held = "、".join(f"{a}至{'今' if b == '9999-12-31' else b}" for a, b in sorted(periods)[:3])
    return (f"{label_for('discharged_on')}：{day} 不在 {name} 的身份类别有效期内（"
            + (f"登记的有效期为 {held}" if held else "没有登记身份类别")
            + "），请核对日期或先登记身份类别")


def _differences(old: dict, row: dict, person_id: str, listed: frozenset[str]) -> str:
    """How a list's row differs from the bill recorded for its invoice ("" if it is that bill), in the fields the
    row states (`listed`): a list without 入院日期, or a row leaving it empty, reads the discharge day there; one
    without 统筹 reads none."""
    if old["person_id"] != person_id:
        return "登记在另一个人名下；同一张发票不能再次报销"
    fields = [f"{label_for(k)}清单为 {row[k] or '空'}、已登记为 {old[k] or '空'}" for k in _SAME_BILL[1:]
              if k in listed and (row[k] or None) != (old[k] or None)]
    if not fields:
        return ""
    return ("但" + "，".join(fields) + "；同一张发票不能再次报销，如已登记的有误，请在该账单的页面更正（已支付的差额生成"
            "补付或追回）")


def compare(session: Session, parsed: ParsedBills, today: date | None = None) -> BillImport:
    """What applying the list would record; nothing is written."""
    result = BillImport(parsed.path, rejected=list(parsed.rejected))
    persons = _persons(session, sorted({r.id_number for r in parsed.rows}))
    periods = _periods(session, sorted(p.id for p in persons.values()))
    # The key as the bill's own check writes it (trimmed); a row whose key is not a valid bill is refused before use.
    recorded = _recorded(session, {(r.fields["hospital"], r.fields["invoice_number"]) for r in parsed.rows})
    seen: dict[tuple[str, str], int] = {}
    stamp = now()
    ready, names = result.ready, result.names

    def refuse(line_row, reason: str) -> None:
        result.rejected.append(Rejected(line_row.line, [line_row.name, line_row.id_number,
                                                        *(str(v or "") for v in line_row.fields.values())], reason,
                                        line_row.name, line_row.id_number))

    for r in parsed.rows:
        person = persons.get(r.id_number)
        if person is None:
            refuse(r, f"未登记的人员：身份证号 {r.id_number}（请先登记家庭和人员）")
            continue
        if not same_name(person.name, r.name):
            refuse(r, f"姓名“{r.name}”与登记的“{person.name}”不符，请核对")
            continue
        if not person.covered:
            refuse(r, f"{r.name} 不在您的管辖范围（{session.user.jurisdiction}）内")
            continue
        try:
            row = bills.visit_row(person.id, bills.BillInput(**r.fields), today, stamp)
        except FieldError as exc:
            refuse(r, f"{label_for(exc.field)}：{exc.reason}")
            continue
        key = (row["hospital"], row["invoice_number"])
        if key in seen:
            refuse(r, f"本文件第 {seen[key]} 行已有 {key[0]} 的发票号 {key[1]}，同一张发票只能报销一次")
            continue
        seen[key] = r.line
        old = recorded.get(key)
        if old is not None:
            differs = _differences(old, row, person.id, parsed.columns - r.unstated)
            if not differs:
                result.already += 1
                continue
            refuse(r, f"重复报销：{key[0]} 的发票号 {key[1]} 已登记过，" + differs)
            continue
        outside = _outside(row["discharged_on"], person.name, periods.get(person.id, []))
        if outside:
            refuse(r, outside)
            continue
        ready.append(row)
        names[person.id] = person.name
    return result


def import_bills(session: Session, path: Path, today: date | None = None) -> BillImport:
    """Read and compare a settlement list (the preview)."""
    return compare(session, read_bills(Path(path)), today)


def apply(session: Session, result: BillImport) -> int:
    """Record every ready row and settle each person's year once, in one transaction; returns how many were recorded.

    Should another session record one of the invoices meanwhile, the unique index refuses it and nothing is kept."""
    session.require("record_bill")
    years = sorted({(r["person_id"], int(r["discharged_on"][:4])) for r in result.ready})
    with transaction(session.conn):
        try:
            records.insert_many(session.conn, session.user, "visits", result.ready, "导入结算清单")
        except sqlite3.IntegrityError:
            raise FieldError("invoice_number", "重复报销：清单中有发票刚由其他人登记过，本次导入没有保存任何账单，"
                                               "请重新预览后再导入") from None
        for row in result.ready:
            payments.record_hospital_paid(session, row)
        for person_id, year in years:
            bills.store_year(session, person_id, year, f"导入结算清单 {result.path.name}")
    return len(result.ready)

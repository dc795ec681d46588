"""Hospital bills: validate, record, settle with the engine on the person's categories of the visit date.

A visit is settled on its discharge date (结算日期): that date picks the year and the categories. The
person's year is settled in date order; each visit receives the year's cumulative result under the
categories held on its own date, minus what the earlier visits of the year received (六盘水民发〔2017〕84号
三(六)). Recording a bill dated before others of the year re-settles the later ones; every change of a
stored amount is audited with its old and new value.
"""

from __future__ import annotations

import json
import sqlite3
from bisect import bisect_right
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import NamedTuple
from datetime import date
from decimal import Decimal

from app.domain.case import Case, Visit
from app.domain.money import ZERO, fmt
from app.domain.invoice import invoice_key
from app.domain.names import HOSPITAL_LEVEL_ALIASES, VISIT_KINDS
from app.domain.labels import label_for
from app.policy.engine import Engine
from app.policy.result import SettleResult, Step
from app.services import payments, validate
from app.services.county import engine
from app.services.registry import person as load_person
from app.services.session import Session
from app.store import reads, records, steps_codec
from app.store.clock import new_id, now
from app.store.db import commits_flushed_at_end, transaction
from app.domain.errors import FieldError

TIERS = ("basic_paid", "serious_illness_paid", "assistance_paid", "tilt_assistance_paid")


@dataclass
class BillInput:
    """A bill as entered from the hospital's one-stop settlement slip."""

    hospital: str
    admitted_on: str | date
    discharged_on: str | date
    kind: str
    total_cost: object
    policy_covered: object
    invoice_number: str
    hospital_level: str | None = None
    basic_paid: object = None
    serious_illness_paid: object = None
    referred: bool = False
    in_province: bool = True
    major_disease: bool = False
    emergency: bool = False
    in_insured_area: bool = True
    filed_remote: bool = False


def duplicate_invoice(session: Session, hospital: str, invoice: str) -> str | None:
    """The 重复报销 message if this hospital's invoice number is on a live bill, else None (a voided one may return)."""
    dup = session.conn.execute(
        "SELECT p.name, v.discharged_on FROM visits v JOIN persons p ON p.id = v.person_id "
        "WHERE v.hospital = ? AND v.invoice_number = ? AND v.status = 'live'", (hospital, invoice)).fetchone()
    if dup is None:
        return None
    return (f"重复报销：{hospital} 的发票号 {invoice} 已于 {dup['discharged_on']} 为 {dup['name']} 登记过，"
            f"同一张发票不能再次报销")


def checked(session: Session, person_id: str, bill: BillInput, today: date | None,
             allow_duplicate: bool = False) -> dict:
    """The bill as a visit row of a registered person, valid and (unless allowed) not 重复报销; or a FieldError."""
    load_person(session, person_id)
    row = visit_row(person_id, bill, today)
    duplicate = duplicate_invoice(session, row["hospital"], row["invoice_number"])
    if duplicate and not allow_duplicate:
        raise FieldError("invoice_number", duplicate)
    return row


def visit_row(person_id: str, bill: BillInput, today: date | None, stamp: str | None = None) -> dict:
    """The bill as a visit row, every field checked on its own and against the others (no database look-up).

    `stamp`: its created and updated time (now if None; a list's rows share one)."""
    hospital = validate.text(bill.hospital, "hospital", "医院名称", 100)
    admitted = validate.day(bill.admitted_on, "admitted_on", "入院（就诊）日期", today)
    discharged = validate.day(bill.discharged_on, "discharged_on", "出院（结算）日期", today)
    if discharged < admitted:
        raise FieldError("discharged_on", f"出院日期 {discharged} 早于入院日期 {admitted}，请核对")
    if bill.kind not in VISIT_KINDS:
        raise FieldError("kind", f"就诊类别应为 {'、'.join(VISIT_KINDS)} 之一")
    level = None
    if bill.hospital_level:
        level = HOSPITAL_LEVEL_ALIASES.get(bill.hospital_level)
        if level is None:
            raise FieldError("hospital_level", "医院级别应为 基层、县级、市级、省级 之一")
    total = validate.money(bill.total_cost, "total_cost")
    covered = validate.money(bill.policy_covered, "policy_covered")
    if covered > total:
        raise FieldError("policy_covered", f"政策范围内费用 {covered} 大于医疗费用总额 {total}，请核对结算单")
    basic = validate.money(bill.basic_paid, "basic_paid") if bill.basic_paid not in (None, "") else None
    serious = (validate.money(bill.serious_illness_paid, "serious_illness_paid")
               if bill.serious_illness_paid not in (None, "") else None)
    if basic is not None and basic > covered:
        raise FieldError("basic_paid", f"基本医保支付 {basic} 大于政策范围内费用 {covered}，请核对结算单")
    if serious is not None and serious + (basic or ZERO) > covered:
        raise FieldError("serious_illness_paid", "大病保险支付加基本医保支付超过政策范围内费用，请核对结算单")
    if serious is not None and basic is None:
        raise FieldError("basic_paid", "已填写大病保险支付，请同时填写基本医保支付")
    invoice = invoice_key(validate.text(bill.invoice_number, "invoice_number", "发票号", 50))
    if not invoice:
        raise FieldError("invoice_number", "请填写发票号（填写的只有空白或不可见的字符）")
    stamp = stamp or now()
    return {"id": new_id(), "person_id": person_id, "hospital": hospital, "hospital_level": level,
            "admitted_on": admitted.isoformat(), "discharged_on": discharged.isoformat(), "kind": bill.kind,
            # validate.money gives the fen already (exponent -2): its text is fmt's, without rounding again
            "total_cost": str(total), "policy_covered": str(covered),
            "basic_paid": str(basic) if basic is not None else None,
            "serious_illness_paid": str(serious) if serious is not None else None,
            "invoice_number": invoice, "referred": int(bool(bill.referred)), "in_province": int(bool(bill.in_province)),
            "major_disease": int(bool(bill.major_disease)), "emergency": int(bool(bill.emergency)),
            "in_insured_area": int(bool(bill.in_insured_area)), "filed_remote": int(bool(bill.filed_remote)),
            "created_at": stamp, "updated_at": stamp}


@dataclass
class _Due:
    amounts: dict[str, Decimal]
    steps: list[Step]
    category: str
    result: SettleResult


def _settle(session: Session, visits: list[Visit], categories: tuple[str, ...], insurance: str,
            explain: bool = True) -> SettleResult:
    eng = engine(session)
    case = Case(policy=eng.policy.id, visits=tuple(visits), categories=categories, insurance=insurance)
    return eng.settle(case, explain=explain)  # a CaseError is an FieldError naming the visit's field


def year_result(session: Session, person_id: str, year: int, until: str | None = None) -> SettleResult | None:
    """The person's year as its annual settlement holds it, counting the visits discharged up to `until`.

    That is the engine's result for those visits under the categories held on the last one's date — what
    annual_settlements stores for the whole year (its totals, warnings and 监测预警 test). None without visits.
    Pure: writes nothing."""
    until = until or f"{year}-12-31"
    return year_results(session, person_id, year, until)[0](until)


def year_results(session: Session, person_id: str, year: int, until: str) -> tuple[Callable, list[str]]:
    """year_result for any day up to `until`, the year's visits read once (those up to an earlier day are a prefix of
    them in settling order; the monitoring list settles a year at several months' ends), and the visits' days."""
    conn = session.conn
    rows = reads.year_visit_rows(conn, person_id, year, until)
    days = [r["discharged_on"] for r in rows]
    visits = [reads.visit(r) for r in rows]
    insurance = reads.insurance(conn, person_id, year) if rows else ""

    def upto(day: str) -> SettleResult | None:
        n = bisect_right(days, day)
        if not n:
            return None
        return _settle(session, visits[:n], reads.categories_on(conn, person_id, days[n - 1]), insurance, explain=False)
    return upto, days


def settle_person_year(session: Session, person_id: str, year: int, draft: dict | None = None) -> list[tuple[dict, _Due]]:
    """What each of the person's visits of the year is due, in date order (pure: writes nothing).

    `draft` is an unsaved visit row (a bill being typed) settled as if it were recorded now."""
    conn = session.conn
    rows = reads.year_visits(conn, person_id, year)
    if draft is not None:
        rows.append(draft)
        rows.sort(key=lambda r: (r["discharged_on"], r["created_at"]))
    if not rows:
        return []
    insurance = reads.insurance(conn, person_id, year)
    visits = [reads.visit(r) for r in rows]
    cats = [reads.categories_on(conn, person_id, r["discharged_on"]) for r in rows]
    return list(zip(rows, due_by_visit(engine(session), visits, cats, insurance)))


def due_by_visit(eng: Engine, visits: list[Visit], cats: list[tuple[str, ...]], insurance: str,
                 explain: bool = True) -> list[_Due]:
    """What each visit of a person's year is due under `eng`, given the categories held on each visit's date (pure).

    The stored settlements and the 政策测算 both come from here, so a simulation of "no change" is the stored year."""
    def run(upto: int, categories: tuple[str, ...]) -> SettleResult:
        case = Case(policy=eng.policy.id, visits=tuple(visits[:upto]), categories=categories, insurance=insurance)
        return eng.settle(case, explain=explain)  # a CaseError is an FieldError naming the visit's field

    out: list[_Due] = []
    if len(set(cats)) == 1:  # the usual year: one set of categories, one run gives every visit
        result = run(len(visits), cats[0])
        for vr in result.visits:
            out.append(_Due({t: getattr(vr, t) for t in TIERS}, vr.steps, result.applied_category, result))
        return out
    paid = {t: ZERO for t in TIERS}
    for k in range(len(visits)):
        result = run(k + 1, cats[k])
        totals = result.totals()
        last = result.visits[-1]
        # The year's result under today's categories, less what the year's earlier visits received. It may
        # exceed this visit's own self-pay: that is the 补差 for earlier costs the new category now covers.
        due = {t: max(totals[t] - paid[t], ZERO) for t in TIERS}
        for t in TIERS:
            paid[t] += due[t]
        steps = list(last.steps)
        moved = [t for t in TIERS if due[t] != getattr(last, t)]
        if explain and moved:  # every tier whose due is not this visit's own figure above (大病保险 too)
            steps.append(Step("说明", ZERO, "六盘水民发〔2017〕84号 三(六)",
                              f"本年身份类别有变化：按就诊日的类别（{result.applied_category}）重算本年累计应付，"
                              f"扣除本年此前各次已付，本次" + "、".join(f"{label_for(t)} {fmt(due[t])}" for t in moved)
                              + "（超出本次自付的部分是本年此前费用的补差）"))
        out.append(_Due(due, steps, result.applied_category, result))
    return out


@dataclass
class Resettled:
    """What one re-settlement changed: stored settlements, unpaid amounts replaced, 补付/追回 lines made."""

    settlements: int = 0
    unpaid: int = 0
    adjustments: int = 0

    def add(self, other: Resettled) -> Resettled:
        return Resettled(self.settlements + other.settlements, self.unpaid + other.unpaid,
                         self.adjustments + other.adjustments)


def _store_year(session: Session, person_id: str, year: int,
                reason: str = "重新结算") -> tuple[dict[str, dict], Resettled]:
    """Settle the person's year and write what changed (call inside a transaction).

    An amount not yet paid is replaced (audited); a paid one keeps its payment lines and the difference becomes a
    补付/追回 line giving `reason` (app/services/payments.py). A voided bill is due nothing from then on. Returns
    the stored settlement rows of the live bills by visit id, and what changed."""
    conn = session.conn
    eng = engine(session)
    stored = {r["visit_id"]: dict(r) for r in conn.execute(
        "SELECT * FROM settlements WHERE person_id = ? AND year = ?", (person_id, year))}
    written: dict[str, dict] = {}
    counts = Resettled()
    last: _Due | None = None

    def write(visit_id: str, values: dict, moved: dict[str, Decimal], steps: list[Step]) -> dict:
        # The explanation is packed only for a row written: packing costs several times the settling, and an
        # unchanged row keeps the explanation it has.
        old = stored.pop(visit_id, None)
        if old is None:
            row = records.insert(conn, session.user, "settlements", {"visit_id": visit_id, "person_id": person_id,
                                                                     "year": year, **values, "steps": pack_steps(steps)},
                                 "结算")
        elif any(old[k] != v for k, v in values.items()):
            row = records.update(conn, session.user, "settlements", old["id"], {**values, "steps": pack_steps(steps)},
                                 "重新结算")
            moved = {t: v for t, v in moved.items() if Decimal(old[t]) != v}
        else:
            return old
        counts.settlements += 1
        unpaid, made = payments.reconcile(session, person_id, visit_id, year, moved, reason)
        counts.unpaid += unpaid
        counts.adjustments += made
        return row

    for visit_row, due in settle_person_year(session, person_id, year):
        last = due
        personal = Decimal(visit_row["total_cost"]) - sum(due.amounts.values(), ZERO)
        values = {**{t: fmt(v) for t, v in due.amounts.items()}, "personal_pay": fmt(personal),
                  "applied_category": due.category, "policy_id": eng.policy.id, "policy_version": eng.loaded.version}
        written[visit_row["id"]] = write(visit_row["id"], values, dict(due.amounts), due.steps)
    for visit_id, old in list(stored.items()):  # bills of the year no longer live: voided
        visit = conn.execute("SELECT void_reason FROM visits WHERE id = ?", (visit_id,)).fetchone()
        values = {**{t: fmt(ZERO) for t in TIERS}, "personal_pay": fmt(ZERO)}
        void = Step("说明", ZERO, "", f"账单已作废（{visit['void_reason'] or ''}），不再结算；已支付的金额按追回处理")
        write(visit_id, values, {t: ZERO for t in TIERS}, [void])
    if last is not None:
        _store_annual(session, person_id, year, last.result, _paid_totals(written, last.result))
    elif counts.settlements:  # the year's only bills were voided
        _clear_annual(session, person_id, year)
    return written, counts


def _paid_totals(written: dict[str, dict], result: SettleResult) -> dict[str, Decimal]:
    """The year's totals as stored: what its visits received, plus the year's own 依申请救助 and 再救助.

    Not the last run's totals: when a category ends within the year, the last run (under the later category)
    pays less than the earlier visits already received, and the year would show less than was paid."""
    totals = {t: sum((Decimal(r[t]) for r in written.values()), ZERO) for t in TIERS}
    totals["application_assistance_paid"] = result.application_assistance_paid
    totals["re_assistance_paid"] = result.re_assistance_paid
    totals["personal_pay"] = (sum((Decimal(r["personal_pay"]) for r in written.values()), ZERO)
                              - result.application_assistance_paid - result.re_assistance_paid)
    return totals


def pack_steps(steps: list[Step]) -> bytes:
    """The explanation as stored (app/store/steps_codec.py): it is most of a settlement row's size."""
    return steps_codec.pack([s.to_json() for s in steps])


def unpack_steps(stored: bytes | str) -> list[dict]:
    """The stored explanation steps of a settlement row."""
    return steps_codec.unpack(stored)


def _store_annual(session: Session, person_id: str, year: int, result: SettleResult,
                  paid: dict[str, Decimal]) -> None:
    conn = session.conn
    eng = engine(session)
    totals = json.dumps({k: fmt(v) for k, v in paid.items()}, ensure_ascii=False)
    warnings = json.dumps([w.to_json() for w in result.warnings], ensure_ascii=False)
    values = {"policy_id": eng.policy.id, "policy_version": eng.loaded.version,
              "applied_category": result.applied_category, "totals": totals, "warnings": warnings}
    old = conn.execute("SELECT id FROM annual_settlements WHERE person_id = ? AND year = ?",
                       (person_id, year)).fetchone()
    if old is None:
        records.insert(conn, session.user, "annual_settlements", {"person_id": person_id, "year": year, **values},
                       "年度结算")
    else:  # a re-settlement that changes nothing writes nothing
        records.update(conn, session.user, "annual_settlements", old["id"], values, "重新年度结算")


def _clear_annual(session: Session, person_id: str, year: int) -> None:
    old = session.conn.execute("SELECT id, totals FROM annual_settlements WHERE person_id = ? AND year = ?",
                               (person_id, year)).fetchone()
    if old is not None:
        zero = {k: fmt(ZERO) for k in json.loads(old["totals"])}
        records.update(session.conn, session.user, "annual_settlements", old["id"],
                       {"totals": json.dumps(zero, ensure_ascii=False), "warnings": "[]"}, "重新年度结算")


def record_bill(session: Session, person_id: str, bill: BillInput, today: date | None = None) -> dict:
    """Validate, store and settle a bill in one transaction; returns the stored settlement of the bill."""
    session.require("record_bill")
    row = checked(session, person_id, bill, today)
    with transaction(session.conn):
        written, _ = insert_bill(session, row, "登记就诊", "新录入账单后重新结算")
    return written[row["id"]]


def insert_bill(session: Session, row: dict, action: str, reason: str) -> tuple[dict[str, dict], Resettled]:
    """Store a checked bill, record what the hospital paid and settle its year (inside the caller's transaction).

    The duplicate check runs again here, inside the write lock: another session may have saved the same invoice
    since the bill was checked. The unique index on live bills is the last guard; either way the answer is 重复报销."""
    duplicate = duplicate_invoice(session, row["hospital"], row["invoice_number"])
    if duplicate:
        raise FieldError("invoice_number", duplicate)
    try:
        records.insert(session.conn, session.user, "visits", row, action)
    except sqlite3.IntegrityError:
        raise FieldError("invoice_number", f"重复报销：{row['hospital']} 的发票号 {row['invoice_number']} "
                                           "刚由其他人登记过，同一张发票不能再次报销") from None
    payments.record_hospital_paid(session, row)
    return _store_year(session, row["person_id"], int(row["discharged_on"][:4]), reason)


def preview_bill(session: Session, person_id: str, bill: BillInput, today: date | None = None) -> dict:
    """What the bill would receive if recorded now, with its explanation, the year's totals and a duplicate warning.

    Nothing is written. Raises FieldError for a field that is not valid yet."""
    row = checked(session, person_id, bill, today, allow_duplicate=True)
    year = int(row["discharged_on"][:4])
    settled = settle_person_year(session, person_id, year, draft=row)
    due = next(d for r, d in settled if r["id"] == row["id"])
    totals = due.result.totals()
    personal_pay = Decimal(row["total_cost"]) - sum(due.amounts.values(), ZERO)
    return {"amounts": due.amounts, "personal_pay": personal_pay,
            "personal_pay_parts": _parts_of(due, row["id"], personal_pay),
            "steps": [s.to_json() for s in due.steps], "applied_category": due.category,
            "year_totals": totals,
            "limits": _limits(session, due.result, {r["id"]: r["kind"] for r, _ in settled}, row["discharged_on"]),
            "duplicate": duplicate_invoice(session, row["hospital"], row["invoice_number"]),
            "warnings": [w.to_json() for w in due.result.warnings]}


def _parts_of(due: _Due, visit_id: str, personal_pay: Decimal) -> dict | None:
    """The engine's split of the visit's own share (with "tier": whose 起付线 and 比例), when it is the share shown
    (a 补差 after a change of category makes the shown share differ from the run's: then there is none to show)."""
    vr = next((v for v in due.result.visits if v.id == visit_id), None)
    if vr is None:
        return None
    parts = vr.own_parts
    return {**parts, "tier": vr.own_parts_tier} if sum(parts.values(), ZERO) == personal_pay else None


def own_parts_by_visit(session: Session, person_id: str, year: int, shown: dict[str, Decimal]) -> dict[str, dict]:
    """Per visit of the year, the family's own share in its parts (目录外, 起付线以下, 超过封顶线, 自付比例部分), for
    the visits whose share as `shown` (visit id → personal_pay printed) the engine's split adds up to (pure)."""
    try:
        settled = settle_person_year(session, person_id, year)
    except FieldError:  # a year that cannot be settled now prints without the split, as before
        return {}
    out = {}
    for row, due in settled:
        if row["id"] in shown:
            parts = _parts_of(due, row["id"], shown[row["id"]])
            if parts is not None:
                out[row["id"]] = parts
    return out


def _limits(session: Session, result: SettleResult, kinds: dict[str, str], day: str) -> list[dict]:
    """Each assistance pool's annual limit for the applied category, what the year has used, what remains."""
    eng = engine(session)
    out = []
    for pi, pool in enumerate(eng.policy.assistance):
        t = eng.index.treatment.get((pi, result.applied_category))
        if t is None:
            continue
        limit, entry = eng.resolver.value(t.annual_limit, date.fromisoformat(day), "显示年度限额")
        used = sum((v.assistance_paid for v in result.visits if kinds.get(v.id) in pool.kinds), ZERO)
        out.append({"name": pool.name, "limit": limit, "used": used,
                    "left": None if limit is None else max(limit - used, ZERO), "reference": entry.reference})
    return out


def resettle_person_year(session: Session, person_id: str, year: int) -> int:
    """Re-settle one person's year in one transaction; returns how many stored settlements changed."""
    with transaction(session.conn):
        return _store_year(session, person_id, year)[1].settlements


class Progress(NamedTuple):
    """How far a year's re-settlement has come, and what it changed so far."""

    done: int
    total: int
    changed: int
    unpaid: int = 0
    adjustments: int = 0


def resettle_year(session: Session, year: int,
                  reason: str = "重新结算（政策或地方参数变化）") -> Iterator[Progress]:
    """Re-settle every person with visits in the year within the user's jurisdiction, one person per transaction.

    Yields Progress (done, total, settlements changed, unpaid amounts replaced, 补付/追回 lines made) as it goes, so
    a caller can show progress and stop; stopping or a crash leaves each person either fully re-settled or
    untouched, and running again finishes the job.
    """
    session.require("resettle")
    from app.services.resettle import changed_people, people_of_year  # it reads the year through this module

    total = len(people_of_year(session, year))
    done = 0
    counts = Resettled()
    yield Progress(0, total, 0)
    with commits_flushed_at_end(session.conn):
        for compared, differ in changed_people(session, year):
            for person_id in differ:
                with transaction(session.conn):
                    counts = counts.add(_store_year(session, person_id, year, reason)[1])
                done += 1
                yield Progress(done, total, counts.settlements, counts.unpaid, counts.adjustments)
            done += compared - len(differ)
            yield Progress(done, total, counts.settlements, counts.unpaid, counts.adjustments)


class _Undo(Exception):
    """Raised to roll a preview's transaction back."""


def preview_resettle(session: Session, year: int) -> Progress:
    """What re-settling the year would change (settlements, unpaid amounts, 补付/追回 lines), without changing it:
    the whole re-settlement runs in one transaction that is rolled back."""
    from app.services.resettle import changed_people

    total = 0
    counts = Resettled()
    try:
        with transaction(session.conn):
            for compared, differ in changed_people(session, year):
                total += compared
                for person_id in differ:
                    counts = counts.add(_store_year(session, person_id, year, "预览")[1])
            raise _Undo
    except _Undo:
        pass
    return Progress(total, total, counts.settlements, counts.unpaid, counts.adjustments)


def store_year(session: Session, person_id: str, year: int, reason: str = "重新结算") -> Resettled:
    """Re-settle a person's year inside the caller's transaction, auditing every changed amount; `reason` is the
    change that caused it, as a 补付/追回 line gives it."""
    return _store_year(session, person_id, year, reason)[1]


def bill_input(data: dict) -> BillInput:
    """A BillInput from a plain dict, refusing unknown keys."""
    extra = sorted(set(data) - set(BillInput.__dataclass_fields__))
    if extra:
        raise FieldError(extra[0], "账单没有这一项，请检查拼写", f"未知字段“{extra[0]}”")
    missing = [k for k in ("hospital", "admitted_on", "discharged_on", "kind", "total_cost", "policy_covered",
                           "invoice_number") if k not in data]
    if missing:
        raise FieldError(missing[0], "缺少此项，必须填写")
    return BillInput(**data)

"""A person's or household's bills as a list, and their 作废 (void with a reason) and 更正 (void plus a linked new bill).

A bill is never deleted or edited: it is voided, which is a status change on the audited write path, and the year
is settled again, so the later bills of the year receive what they are now due and any paid amount of the voided
bill becomes a 追回 line. A correction is the void and the new bill in one transaction, the new one naming the old.
"""

from __future__ import annotations

from datetime import date

from app.domain.errors import FieldError
from app.domain.labels import VALUE_NAMES
from app.services import bills, validate
from app.services.bills import BillInput, Resettled
from app.services.registry import check_own, person as load_person
from app.services.session import Session
from app.store import records
from app.store.clock import now
from app.store.db import transaction

STATUS_NAMES = VALUE_NAMES[("visits", "status")]
COLUMNS = ("v.id, v.person_id, p.name, p.id_number, v.hospital, v.hospital_level, v.kind, v.admitted_on, "
           "v.discharged_on, v.invoice_number, v.total_cost, v.policy_covered, v.status, v.void_reason, "
           "v.voided_at, v.voided_by, v.corrects_id, s.basic_paid, s.serious_illness_paid, s.assistance_paid, "
           "s.tilt_assistance_paid, s.personal_pay, s.applied_category, v.basic_paid AS slip_basic_paid, "
           "v.serious_illness_paid AS slip_serious_illness_paid")


def _rows(session: Session, where: str, params: tuple) -> list[dict]:
    rows = session.conn.execute(
        f"SELECT {COLUMNS}, (SELECT c.id FROM visits c WHERE c.corrects_id = v.id) AS corrected_by "
        "FROM visits v JOIN persons p ON p.id = v.person_id LEFT JOIN settlements s ON s.visit_id = v.id "
        f"WHERE {where} ORDER BY v.discharged_on, v.created_at", params).fetchall()
    return [{**dict(r), "year": int(r["discharged_on"][:4]), "status_name": STATUS_NAMES[r["status"]]} for r in rows]


def person_bills(session: Session, person_id: str, year: int | None = None) -> list[dict]:
    """A person's bills (voided ones too, marked), oldest first, with what each tier is due now."""
    p = load_person(session, person_id)
    session.require_region(p["region_code"], "person_id")
    where, params = "v.person_id = ?", (person_id,)
    if year is not None:
        where, params = where + " AND v.discharged_on BETWEEN ? AND ?", (*params, f"{year}-01-01", f"{year}-12-31")
    return _rows(session, where, params)


def household_bills(session: Session, household_id: str, year: int | None = None) -> list[dict]:
    """Every member's bills, as person_bills."""
    members = [r[0] for r in session.conn.execute("SELECT id FROM persons WHERE household_id = ?", (household_id,))]
    return sorted((b for m in members for b in person_bills(session, m, year)),
                  key=lambda b: (b["discharged_on"], b["name"]))


def find_bill(session: Session, hospital: str, invoice: str) -> dict:
    """The live bill of a hospital's invoice number, or a FieldError saying there is none."""
    hospital = validate.text(hospital, "hospital", "医院名称", 100)
    invoice = validate.text(invoice, "invoice_number", "发票号", 50)
    row = session.conn.execute("SELECT id FROM visits WHERE hospital = ? AND invoice_number = ? AND status = 'live'",
                               (hospital, invoice)).fetchone()
    if row is None:
        voided = session.conn.execute("SELECT 1 FROM visits WHERE hospital = ? AND invoice_number = ?",
                                      (hospital, invoice)).fetchone()
        raise FieldError("invoice_number", f"{hospital} 的发票号 {invoice} "
                                           + ("已作废，没有有效的账单" if voided else "没有登记过，请核对医院名称和发票号"))
    return bill(session, row["id"])


def bill(session: Session, visit_id: str) -> dict:
    """One bill as the list shows it."""
    rows = _rows(session, "v.id = ?", (visit_id,))
    if not rows:
        raise FieldError("visit_id", "没有找到这张账单")
    return rows[0]


def _void(session: Session, visit_id: str, reason: str) -> dict:
    """Check and void one bill inside the caller's transaction; returns the bill as it was."""
    old = bill(session, visit_id)
    session.require("correct_bill", load_person(session, old["person_id"]))
    check_own(session.conn.execute("SELECT site_id FROM visits WHERE id = ?", (visit_id,)).fetchone(), "visit_id",
              f"这张账单（{old['hospital']} 发票号 {old['invoice_number']}）", "作废或更正")
    if old["status"] != "live":
        raise FieldError("visit_id", f"这张账单（{old['hospital']} 发票号 {old['invoice_number']}）已作废，不能再作废")
    who = session.user.display_name or session.user.username
    records.update(session.conn, session.user, "visits", visit_id,
                   {"status": "void", "void_reason": reason, "voided_at": now(), "voided_by": who}, "作废账单")
    return old


def _reason(reason: str) -> str:
    return validate.text(reason, "void_reason", "作废原因", 200)


def void_bill(session: Session, visit_id: str, reason: str) -> Resettled:
    """作废: the bill stays on record as voided with its reason; its year is settled again. Returns what changed."""
    reason = _reason(reason)
    with transaction(session.conn):
        old = _void(session, visit_id, reason)
        return bills.store_year(session, old["person_id"], old["year"],
                                f"作废账单 {old['hospital']} 发票号 {old['invoice_number']}：{reason}")


def correct_bill(session: Session, visit_id: str, new: BillInput, reason: str,
                 today: date | None = None) -> dict:
    """更正: void the bill and record the corrected one, linked to it, in one transaction; both years re-settled.

    Returns the corrected bill's stored settlement."""
    reason = _reason(reason)
    old = bill(session, visit_id)
    session.require("record_bill")
    why = f"更正账单 {old['hospital']} 发票号 {old['invoice_number']}：{reason}"
    with transaction(session.conn):
        _void(session, visit_id, reason)
        # Checked after the void, so the corrected bill may keep the invoice number it corrects.
        row = {**bills.checked(session, old["person_id"], new, today), "corrects_id": visit_id}
        written, _ = bills.insert_bill(session, row, "更正账单（新账单）", why)
        if int(row["discharged_on"][:4]) != old["year"]:
            bills.store_year(session, old["person_id"], old["year"], why)
    return written[row["id"]]

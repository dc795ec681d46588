"""发放 batches of the office's own assistance, and the list of 补付/追回 lines (screen, Excel).

A batch takes, within the user's jurisdiction and a year, every 医疗救助 and 倾斜救助 amount due that no batch has
taken yet (as 原始 lines) and every 补付/追回 line not yet in a batch. Its roster is printed; once the money has gone
out, someone who records no bills confirms it, and its lines are paid, by whom and when. Nothing of a paid line
changes after that. A batch not paid may be cancelled instead (with a reason): its 原始 lines stay with it as the
record of the roster that was withdrawn, and count for nothing (the amounts are unpaid again, and the next batch
takes them as they then are); its 补付/追回 lines wait for the next batch.
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

from app.domain.errors import FieldError
from app.domain.labels import VALUE_NAMES
from app.domain.money import ZERO, fmt
from app.services import payments, validate
from app.services.payments import OFFICE, OFFICE_TIERS, ORIGINAL, TIER_NAMES
from app.services.session import Session
from app.store import reads, records
from app.store.clock import local_time, now
from app.store.db import transaction
from app.domain.refs import ref_sql, short_ref

STATE_NAMES = VALUE_NAMES[("disbursement_batches", "state")]
# The audit action of a waiting 补付/追回 withdrawn with the 原始 amount it was measured against: it joins the
# cancelled batch to be counted no more, but was never on its printed roster (roster_pdf leaves it out).
WITHDRAWN = "撤销发放批次：补付追回随原始金额撤回"
# What a cancel does, as the screen asks and the command line reports it (cancel_batch).
CANCEL_MEANS = ("其中的金额恢复为未发放，下一个批次按届时应发的金额重新列入；针对这些金额的补付追回随之撤回，"
                "此前已发放金额的补付追回退回待发放")
_PEOPLE = ("JOIN persons p ON p.id = {t}.person_id JOIN households h ON h.id = p.household_id")


def _unbatched(session: Session, year: int) -> tuple[list[dict], list[str]]:
    """What a new batch would take: new 原始 lines for amounts due without a line, a 补付/追回 for any tier whose lines
    no longer add up to what is due, and the ids of waiting lines."""
    where, params = reads.scope(session.user.jurisdiction)
    originals = []
    # Voided bills too, where their lines count: a 追回 left waiting by a batch cancelled before cancel_batch withdrew
    # it (databases written before) is made good here, as is a 补付 measured against a 原始 line since withdrawn.
    rows = session.conn.execute(
        f"SELECT s.person_id, s.visit_id, {', '.join('s.' + t for t in OFFICE_TIERS)} FROM settlements s "
        f"{_PEOPLE.format(t='s')} JOIN visits v ON v.id = s.visit_id "
        f"WHERE s.year = ? AND (v.status = 'live' OR EXISTS (SELECT 1 FROM payment_lines l WHERE l.visit_id = v.id "
        f"AND l.payer = ? AND {payments.COUNTS})) AND {where} ORDER BY h.region_code, p.name, v.discharged_on",
        (year, OFFICE, *params)).fetchall()
    # What the lines that count add up to, per bill and tier: one read of the year's lines in the jurisdiction.
    counts: dict[tuple[str, str], Decimal] = {}
    for visit_id, tier, amount in session.conn.execute(
            f"SELECT l.visit_id, l.tier, l.amount FROM payment_lines l {_PEOPLE.format(t='l')} "
            f"WHERE l.year = ? AND {where} AND {payments.COUNTS}", (year, *params)):
        counts[(visit_id, tier)] = counts.get((visit_id, tier), ZERO) + Decimal(amount)
    for r in rows:
        counted = {tier: counts[(r["visit_id"], tier)] for tier in OFFICE_TIERS if (r["visit_id"], tier) in counts}
        for tier in OFFICE_TIERS:
            due = Decimal(r[tier])
            if tier not in counted:
                if due != ZERO:
                    originals.append({"person_id": r["person_id"], "visit_id": r["visit_id"], "year": year,
                                      "tier": tier, "line_type": ORIGINAL, "payer": OFFICE, "amount": r[tier],
                                      "reason": f"{TIER_NAMES[tier]}（按结算）"})
            elif counted[tier] != due:
                diff = due - counted[tier]
                originals.append({"person_id": r["person_id"], "visit_id": r["visit_id"], "year": year, "tier": tier,
                                  "line_type": payments.TOP_UP if diff > 0 else payments.RECOVERY, "payer": OFFICE,
                                  "old_amount": fmt(counted[tier]), "new_amount": fmt(due), "amount": fmt(diff),
                                  "reason": f"{TIER_NAMES[tier]}：补齐与应发金额的差额（此前撤销的发放批次遗留）"})
    waiting = [r[0] for r in session.conn.execute(
        f"SELECT l.id FROM payment_lines l {_PEOPLE.format(t='l')} WHERE l.year = ? AND l.batch_id IS NULL "
        f"AND l.paid_at IS NULL AND {where} ORDER BY h.region_code, p.name, l.created_at", (year, *params))]
    return originals, waiting


def create_batch(session: Session, year: int) -> dict:
    """Draw up a 发放 batch of the year's unpaid amounts and waiting 补付/追回 lines in the user's jurisdiction."""
    session.require("disburse_batch")
    with transaction(session.conn):
        originals, waiting = _unbatched(session, year)
        if not originals and not waiting:
            raise FieldError("year", f"{year} 年没有待发放的医疗救助，也没有待办的补付追回")
        total = sum((Decimal(o["amount"]) for o in originals), ZERO) + sum(
            (Decimal(session.conn.execute("SELECT amount FROM payment_lines WHERE id = ?", (i,)).fetchone()[0])
             for i in waiting), ZERO)
        batch = records.insert(session.conn, session.user, "disbursement_batches", {
            "jurisdiction": session.user.jurisdiction, "year": year, "title": f"{year} 年医疗救助发放",
            "line_count": len(originals) + len(waiting), "total": fmt(total), "state": "printed",
            "created_by": session.user.display_name or session.user.username}, "生成发放批次")
        records.insert_many(session.conn, session.user, "payment_lines",
                            ({**o, "batch_id": batch["id"]} for o in originals), "列入发放批次")
        for line_id in waiting:
            records.update(session.conn, session.user, "payment_lines", line_id, {"batch_id": batch["id"]},
                           "补付追回列入发放批次")
    return batch


def batch_lines(session: Session, batch_id: str) -> list[dict]:
    """A batch's lines with the person, village and bill, as the roster prints them."""
    rows = session.conn.execute(
        "SELECT l.*, p.name, p.id_number, h.region_code, v.hospital, v.invoice_number FROM payment_lines l "
        f"{_PEOPLE.format(t='l')} JOIN visits v ON v.id = l.visit_id WHERE l.batch_id = ? "
        "ORDER BY h.region_code, p.name, l.created_at", (batch_id,)).fetchall()
    return [dict(r) for r in rows]


def batch(session: Session, batch_id: str) -> dict:
    """One batch, or a FieldError if there is none in the user's jurisdiction."""
    found = session.conn.execute(f"SELECT * FROM disbursement_batches WHERE id = ? OR {ref_sql('id')} = upper(?)",
                                 (batch_id, batch_id)).fetchall()
    if len(found) > 1:
        raise FieldError("batch_id", f"编号 {batch_id} 对应 {len(found)} 个发放批次，请输入完整的批次编号")
    row = found[0] if found else None
    if row is None or not row["jurisdiction"].startswith(session.user.jurisdiction):
        raise FieldError("batch_id", f"没有编号为 {batch_id} 的发放批次（或不在您的管辖范围内）")
    return dict(row)


def batches(session: Session, year: int | None = None) -> list[dict]:
    """The batches within the user's jurisdiction, newest first."""
    rows = session.conn.execute(
        "SELECT * FROM disbursement_batches WHERE jurisdiction >= ? AND (? IS NULL OR year = ?) "
        "ORDER BY created_at DESC", (session.user.jurisdiction, year, year)).fetchall()
    return [{**dict(r), "state_name": STATE_NAMES[r["state"]]} for r in rows
            if r["jurisdiction"].startswith(session.user.jurisdiction)]


def _printed(session: Session, batch_id: str, doing: str) -> dict:
    """A batch still printed and made here, or a FieldError saying why it cannot be confirmed or cancelled."""
    b = batch(session, batch_id)
    if b["state"] == "paid":
        raise FieldError("batch_id", f"这个发放批次已于 {local_time(b['confirmed_at']):%Y-%m-%d %H:%M} 由 "
                                     f"{b['confirmed_by']} 确认发放，不能再次{doing}")
    if b["state"] == "cancelled":
        raise FieldError("batch_id", f"这个发放批次已于 {local_time(b['cancelled_at']):%Y-%m-%d %H:%M} 由 "
                                     f"{b['cancelled_by']} 撤销，不能再{doing}")
    if b["site_id"] is not None:
        # The batch is the other site's record: a change made here would not travel, and the sites would disagree.
        raise FieldError("batch_id", f"这个发放批次是在其他站点生成的，请在生成它的电脑上{doing}")
    return b


def confirm_batch(session: Session, batch_id: str) -> dict:
    """Record that a printed batch was paid: every line paid now, by this user. Not by the one who drew it up."""
    session.require("confirm_disbursement")
    who = session.user.display_name or session.user.username
    at = now()
    # The batch's state is read inside the write lock: a cancel or a confirm made on another computer between a
    # check and the writes would otherwise leave a cancelled batch paid, or a paid one cancelled and paid again.
    with transaction(session.conn):
        b = _printed(session, batch_id, "确认")
        _may_confirm(session, b)
        for line in batch_lines(session, b["id"]):
            if line["paid_at"] is not None:  # a paid line is a fact: never paid again, never re-stamped
                raise FieldError("batch_id", f"这个发放批次中有一笔已于 {local_time(line['paid_at']):%Y-%m-%d %H:%M} "
                                             f"由 {line['paid_by']} 确认支付，批次状态与支付记录不一致，不能确认；"
                                             f"请运行数据库检查并联系县里的技术人员")
            records.update(session.conn, session.user, "payment_lines", line["id"], {"paid_at": at, "paid_by": who},
                           "确认发放")
        return records.update(session.conn, session.user, "disbursement_batches", b["id"],
                              {"state": "paid", "confirmed_by": who, "confirmed_at": at}, "确认发放批次")


def _may_confirm(session: Session, b: dict) -> None:
    """Segregation of duties at payment, by users' ids as this site's audit log records them: neither the one who
    drew up the roster nor anyone who recorded or corrected one of its bills confirms that it was paid (a county
    that lets its county roles record bills would otherwise let one of them pay what they entered)."""
    me = session.user.id
    if me is None:  # the command line's own user (see roles.py)
        return
    drew = session.conn.execute("SELECT user_id FROM audit_log WHERE entity = 'disbursement_batches' AND entity_id = ? "
                                "ORDER BY seq LIMIT 1", (b["id"],)).fetchone()
    if drew is not None and drew[0] == me:
        raise FieldError("batch_id", "生成花名册的人不能再确认发放（职责分离），请由乡镇审核或县级审批确认")
    entered = session.conn.execute(
        "SELECT 1 FROM audit_log WHERE entity = 'visits' AND user_id = ? AND entity_id IN "
        "(SELECT visit_id FROM payment_lines WHERE batch_id = ?) LIMIT 1", (me, b["id"])).fetchone()
    if entered is not None:
        raise FieldError("batch_id", "您登记或更正过这个批次中的账单，不能再确认它已发放（职责分离），请由没有经手这些账单的"
                                     "乡镇审核或县级审批确认")


def cancel_batch(session: Session, batch_id: str, reason: str) -> dict:
    """Withdraw a batch that was printed but not paid (audited): its amounts are unpaid again, its 补付/追回 lines
    wait for the next batch. Returns the cancelled batch."""
    session.require("cancel_disbursement")
    reason = validate.text(reason, "cancel_reason", "撤销原因", 200)
    who = session.user.display_name or session.user.username
    with transaction(session.conn):
        b = _printed(session, batch_id, "撤销")  # inside the write lock, as in confirm_batch
        lines = batch_lines(session, b["id"])
        withdrawn = {(line["visit_id"], line["tier"]) for line in lines if line["line_type"] == ORIGINAL}
        for line in lines:
            if line["line_type"] != ORIGINAL and (line["visit_id"], line["tier"]) not in withdrawn:
                records.update(session.conn, session.user, "payment_lines", line["id"], {"batch_id": None},
                               "撤销发放批次：补付追回退回待发放")
        for line in _measured_against(session, b["id"], withdrawn):
            records.update(session.conn, session.user, "payment_lines", line["id"], {"batch_id": b["id"]}, WITHDRAWN)
        return records.update(session.conn, session.user, "disbursement_batches", b["id"],
                              {"state": "cancelled", "cancelled_by": who, "cancelled_at": now(),
                               "cancel_reason": reason}, f"撤销发放批次：{reason}")


def _measured_against(session: Session, batch_id: str, withdrawn: set[tuple[str, str]]) -> list[dict]:
    """The waiting 补付/追回 lines of the tiers whose 原始 lines a cancel withdraws: they were measured against those
    amounts, which are now unpaid, so they go with them (the next batch takes each tier afresh, as it is due then).
    A cancel is refused if one of them is on another batch's roster or already paid."""
    found = []
    # The 补付/追回 of the bills whose 原始 lines are in the batch, elsewhere than in it, read at once.
    for line in session.conn.execute(
            "SELECT l.*, b.state AS batch_state FROM payment_lines l LEFT JOIN disbursement_batches b "
            "ON b.id = l.batch_id WHERE l.visit_id IN (SELECT visit_id FROM payment_lines WHERE batch_id = ? "
            "AND line_type = ?) AND l.line_type != ? AND l.batch_id IS NOT ? ORDER BY l.created_at",
            (batch_id, ORIGINAL, ORIGINAL, batch_id)):
        tier = line["tier"]
        if (line["visit_id"], tier) in withdrawn:
            what = f"{TIER_NAMES[tier]}的{line['line_type']} {fmt(Decimal(line['amount']))} 元"
            if line["paid_at"] is not None:
                raise FieldError("batch_id", f"本批次的原始金额已有{what}于 {local_time(line['paid_at']):%Y-%m-%d} 随另一"
                                             f"批次支付，撤销后两者对不上；本批次不能撤销，请核实后确认发放")
            if line["batch_state"] == "printed":
                raise FieldError("batch_id", f"批次 {short_ref(line['batch_id'])} 中有针对本批次原始金额的{what}，"
                                             f"请先撤销那个批次，再撤销本批次")
            if line["batch_id"] is None:
                found.append(dict(line))
    return found


def roster_pdf(session: Session, batch_id: str, path: Path) -> Path:
    """发放花名册 of one batch: each line with its kind (原始、补付、追回) and bill."""
    from app.documents import forms
    from app.services.paperwork import place, village

    b = batch(session, batch_id)
    lines = batch_lines(session, b["id"])
    if b["state"] == "cancelled":  # the roster as it was printed: not the lines withdrawn into it at the cancel
        withdrawn = {r[0] for r in session.conn.execute(
            "SELECT entity_id FROM audit_log WHERE entity = 'payment_lines' AND action = ? AND entity_id IN "
            "(SELECT id FROM payment_lines WHERE batch_id = ?)", (WITHDRAWN, b["id"]))}
        lines = [r for r in lines if r["id"] not in withdrawn]
    people = [{"name": r["name"], "id_number": r["id_number"], "village": village(r["region_code"]),
               "amount": r["amount"], "what": f"{r['line_type']}·{TIER_NAMES[r['tier']]}",
               "bill": f"{r['hospital']} {r['invoice_number']}"} for r in lines]
    return forms.roster(path, place(session), f"{b['title']}　批次 {short_ref(b['id'])}（{STATE_NAMES[b['state']]}）",
                        people)


def slips_pdf(session: Session, batch_id: str, path: Path) -> Path:
    """The year's 一站式结算单 of every person paid in one batch, in the roster's order, in one file: handed to each
    family with the money, it shows every bill, what each tier paid and each 补付/追回. A person whose bills of the
    year were all voided has none (only a 追回 on the roster) and is named on the last page."""
    from app.documents import forms
    from app.services.paperwork import place, slip_content

    b = batch(session, batch_id)
    if b["state"] == "cancelled":
        raise FieldError("batch_id", "这个发放批次已撤销，不发放，也不打印结算单（花名册仍可打印备查）")
    people = dict.fromkeys((r["person_id"], r["year"], r["name"]) for r in batch_lines(session, b["id"]))
    if not people:
        raise FieldError("batch_id", "这个发放批次中没有任何一笔，没有结算单可打印")
    # The people of the batch with a live bill in the year paid, in one look-up.
    with_bills = {(r[0], r[1]) for r in session.conn.execute(
        "SELECT DISTINCT l.person_id, l.year FROM payment_lines l JOIN visits v ON v.person_id = l.person_id "
        "AND v.status = 'live' AND v.discharged_on LIKE l.year || '-%' WHERE l.batch_id = ?", (b["id"],))}
    billed = [(person_id, year, name, (person_id, year) in with_bills) for person_id, year, name in people]
    slips = (slip_content(session, person_id=person_id, year=year) for person_id, year, _, live in billed if live)
    return forms.settlement_slips(path, place(session), slips, f"{b['title']}　批次 {short_ref(b['id'])}",
                                  [name for _, _, name, live in billed if not live])


def adjustments(session: Session, year: int) -> list[dict]:
    """The year's 补付/追回 lines in the user's jurisdiction: person, bill, tier, old, new, difference, reason, state."""
    where, params = reads.scope(session.user.jurisdiction)
    rows = session.conn.execute(
        "SELECT l.*, p.name, p.id_number, v.hospital, v.invoice_number, v.discharged_on, b.state AS batch_state "
        f"FROM payment_lines l {_PEOPLE.format(t='l')} JOIN visits v ON v.id = l.visit_id "
        "LEFT JOIN disbursement_batches b ON b.id = l.batch_id "
        f"WHERE l.year = ? AND l.line_type != ? AND {where} ORDER BY l.created_at, p.name",
        (year, ORIGINAL, *params)).fetchall()
    return [{**dict(r), "tier_name": TIER_NAMES[r["tier"]], "state_name": _line_state(r)} for r in rows]


def _line_state(r) -> str:
    if r["paid_at"]:
        return "已发放" if r["line_type"] != "追回" else "已追回"
    if r["batch_state"] == "cancelled":
        return "已随花名册撤回"
    return "已列入花名册" if r["batch_id"] else "待发放"

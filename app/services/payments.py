"""Money that moved, never rewritten: the hospital's one-stop amounts, the office's 发放 and the 补付/追回 lines.

A bill's settlement holds what each tier is due now; it changes with every re-settlement (audited). What was paid is
a payment line, written once: the slip's basic and 大病 amounts are paid by the hospital when the bill is entered;
the office's 医疗救助 and 倾斜救助 get their line when a 发放 batch takes them (roster printed), and are paid when the
batch is confirmed. From then on a changed amount is not replaced: the difference becomes a 补付 or 追回 line (old,
new, difference, and the change that caused it), which a later batch pays or recovers. So for every tier that has
lines, the lines add up to what the tier is due now.
"""

from __future__ import annotations

from decimal import Decimal

from app.domain.money import ZERO, fmt
from app.services.session import Session
from app.store import records
from app.store.clock import now

TIER_NAMES = {"basic_paid": "基本医保", "serious_illness_paid": "大病保险", "assistance_paid": "医疗救助",
              "tilt_assistance_paid": "倾斜救助"}
HOSPITAL_TIERS = ("basic_paid", "serious_illness_paid")
OFFICE_TIERS = ("assistance_paid", "tilt_assistance_paid")
HOSPITAL, OFFICE = "医院", "经办机构"
ORIGINAL, TOP_UP, RECOVERY = "原始", "补付", "追回"


def _line(person_id: str, visit_id: str, year: int, tier: str, line_type: str, payer: str, amount: Decimal,
          reason: str, **extra) -> dict:
    return {"person_id": person_id, "visit_id": visit_id, "year": year, "tier": tier, "line_type": line_type,
            "payer": payer, "amount": fmt(amount), "reason": reason, **extra}


def record_hospital_paid(session: Session, visit: dict) -> None:
    """The slip's own basic and 大病 amounts, paid by the hospital at the window (inside the caller's transaction)."""
    year = int(visit["discharged_on"][:4])
    for tier in HOSPITAL_TIERS:
        if visit[tier] is not None and Decimal(visit[tier]) != ZERO:
            records.insert(session.conn, session.user, "payment_lines", _line(
                visit["person_id"], visit["id"], year, tier, ORIGINAL, HOSPITAL, Decimal(visit[tier]),
                "一站式结算（医院结算单）", paid_at=now(), paid_by="医院（一站式结算）"), "记录医院一站式支付")


# The lines that count: none of a cancelled batch (a roster withdrawn before anything was paid). A cancelled batch
# keeps its 原始 lines and the 补付/追回 lines measured against them (disbursement.cancel_batch); the 补付/追回 of
# amounts paid before leave it to wait for the next batch.
COUNTS = ("NOT (l.batch_id IS NOT NULL AND EXISTS (SELECT 1 FROM disbursement_batches b "
          "WHERE b.id = l.batch_id AND b.state = 'cancelled'))")


def fixed(conn, visit_id: str) -> dict[str, tuple[Decimal, str]]:
    """Each tier of a bill that has payment lines that count: what they add up to, and who pays it."""
    rows = conn.execute(f"SELECT tier, amount, payer FROM payment_lines l WHERE visit_id = ? AND {COUNTS} "
                        "ORDER BY created_at", (visit_id,)).fetchall()
    out: dict[str, tuple[Decimal, str]] = {}
    for r in rows:
        total, payer = out.get(r["tier"], (ZERO, r["payer"]))
        out[r["tier"]] = (total + Decimal(r["amount"]), payer)
    return out


def reconcile(session: Session, person_id: str, visit_id: str, year: int, due: dict[str, Decimal],
              reason: str) -> tuple[int, int]:
    """After a bill's due amounts changed: a 补付/追回 line for each tier whose lines no longer add up to it.

    Returns (unpaid tiers whose amount simply changed, adjustment lines made); `due` holds the tiers that changed.
    A hospital-paid tier is adjusted by the hospital itself (its 冲正 and new slip), so its line is paid at once."""
    lines = fixed(session.conn, visit_id)
    unpaid = made = 0
    for tier, new in due.items():
        if tier not in lines:
            unpaid += 1
            continue
        old, payer = lines[tier]
        if new == old:
            continue
        diff = new - old
        paid = {"paid_at": now(), "paid_by": "医院（冲正）"} if payer == HOSPITAL else {}
        records.insert(session.conn, session.user, "payment_lines", _line(
            person_id, visit_id, year, tier, TOP_UP if diff > 0 else RECOVERY, payer, diff, reason,
            old_amount=fmt(old), new_amount=fmt(new), **paid), "补付追回")
        made += 1
    return unpaid, made

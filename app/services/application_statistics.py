"""依申请救助 in the 统计 screen: what was paid out in a period, and what is approved and waiting, by jurisdiction."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from app.services.session import Session
from app.store import clock, reads


@dataclass(frozen=True)
class ApplicationPayments:
    """People and amounts: 已发放 within the period (by the local day of 发放), 已批准待发放 now."""

    disbursed_people: int
    disbursed_amount: Decimal
    waiting_people: int
    waiting_amount: Decimal


def application_payments(session: Session, year: int, first_month: int = 1, last_month: int = 12) -> ApplicationPayments:
    """The 依申请救助 that the visit statistics do not hold: it is paid per case, not per bill."""
    where, param = reads.scope(session.user.jurisdiction, "a.region_code")
    paid = session.conn.execute(
        "SELECT a.person_id, a.approved_amount, s.at FROM applications a JOIN application_steps s "
        f"ON s.application_id = a.id AND s.action = 'disburse' WHERE a.state = 'disbursed' AND {where}", param)
    disbursed = [(r[0], Decimal(r[1] or 0)) for r in paid
                 if (lambda d: d.year == year and first_month <= d.month <= last_month)(clock.local_date(r[2]))]
    waiting = [(r[0], Decimal(r[1] or 0)) for r in session.conn.execute(
        f"SELECT a.person_id, a.approved_amount FROM applications a WHERE a.state = 'approved' AND {where}", param)]
    return ApplicationPayments(len({p for p, _ in disbursed}), sum((a for _, a in disbursed), Decimal("0.00")),
                               len({p for p, _ in waiting}), sum((a for _, a in waiting), Decimal("0.00")))

"""The 监测预警 test of every candidate's year from the per-person-month summary (app/store/risk_summary.py).

Same answer as monitoring_store.stored_years followed by StoredYear.reached, from one read of the narrow summary
instead of every visit joined to its settlement: within a year whose visits all fall under one set of categories,
one applicable category and the policy in force, the engine settles each visit from the year's earlier visits only,
so the stored figures of the visits up to a month's end are the engine's for that month (see monitoring_store).
The test is risk_check's, in whole fen: the first rule of the policy's 监测预警 section that covers the applied
category, its figure (合规自付 or 全部自付) summed over the rule's visit kinds, against its threshold on the day of the
last visit counted.

Years the summary cannot answer that way are handed back: to the engine (a visit without a settlement or settled
under another policy or version, categories that change between the year's first and last visit, several categories
the policy could apply, another applied category), or to the stored path (an amount that is not plain text, which
only the Decimal path reads as it was read before). tests/services/test_monitoring_summary.py holds the list from the
summary to the list made before, on demo counties, after voids, corrections and a re-settlement.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from app.domain.case import CaseError
from app.policy.result import RiskCheck
from app.policy.tiers.annual import RISK_SCOPE
from app.services.county import engine
from app.services.monitoring_store import _changes_between, _held
from app.services.session import Session
from app.store import reads

NEED = "判断因病返贫致贫监测预警"


@dataclass(frozen=True)
class Figures:
    """A listed person's year up to the month's end, as the list shows it (amounts in Decimal yuan)."""

    applied_category: str
    visits: int
    amounts: tuple[Decimal, ...]     # total_cost, policy_covered, basic, serious, assistance, tilt, personal_pay
    check: RiskCheck
    first_month: int
    categories: tuple[str, ...]      # held at the month's end


@dataclass
class Answer:
    """The candidates of the month and what the summary says of each."""

    candidates: list[str] = field(default_factory=list)
    listed: dict[str, Figures] = field(default_factory=dict)
    engine: list[str] = field(default_factory=list)    # years the engine settles again (monitoring._entry)
    stored: list[str] = field(default_factory=list)    # years read visit by visit (monitoring_store.stored_years)


def _yuan(fen: int) -> Decimal:
    return Decimal(fen).scaleb(-2)


def summary_years(session: Session, year: int, month: int, as_of: date, floor: Decimal | None) -> Answer:
    """Every person of the jurisdiction whose costs up to `as_of` reach `floor`, answered from the summary."""
    answer = Answer()
    if floor is None:
        return answer
    eng = engine(session)
    policy, version, resolve = eng.policy.id, eng.loaded.version, eng.resolver.value
    policy_rules = eng.policy.warnings
    where, param = reads.scope(session.user.jurisdiction)
    # The year's rows of the jurisdiction, person by person, months in order (one indexed read).
    rows = session.conn.execute(
        "SELECT r.person_id, r.month, r.kind, r.category, r.policy_id, r.policy_version, r.visits, r.tc, r.pc, r.bp, "
        "r.sp, r.ap, r.tp, r.first_day, r.last_day FROM risk_months r "
        "CROSS JOIN persons p ON p.id = r.person_id CROSS JOIN households h ON h.id = p.household_id "
        f"WHERE r.year = ? AND r.month <= ? AND {where} ORDER BY r.person_id, r.month",
        (year, month, *param)).fetchall()
    periods: dict[str, list] = {}
    for row in session.conn.execute("SELECT person_id, category, valid_from, valid_to FROM category_periods "
                                    "WHERE valid_from <= ? AND (valid_to IS NULL OR valid_to >= ?)",
                                    (as_of.isoformat(), f"{year}-01-01")):
        periods.setdefault(row[0], []).append((row[1], row[2], row[3]))
    floor_fen = int(floor * 100)
    applicable: dict[tuple[str, ...], list[str] | None] = {}
    rule_of: dict[str, object] = {}
    thresholds: dict[tuple[int, str], tuple] = {}
    end = as_of.isoformat()
    start, n = 0, len(rows)
    while start < n:
        person_id = rows[start][0]
        stop = start + 1
        while stop < n and rows[stop][0] == person_id:
            stop += 1
        mine = rows[start:stop]
        start = stop
        tc_values = [r[7] for r in mine]
        if None in tc_values:
            answer.candidates.append(person_id)
            answer.stored.append(person_id)
            continue
        if sum(tc_values) < floor_fen:
            continue
        answer.candidates.append(person_id)
        cats = {r[3] for r in mine}
        if len(cats) != 1 or any(r[4] != policy or r[5] != version for r in mine):
            answer.engine.append(person_id)
            continue
        cat = mine[0][3]
        held = periods.get(person_id, ())
        first, last = min(r[13] for r in mine), max(r[14] for r in mine)
        if _changes_between(held, first, last):
            answer.engine.append(person_id)
            continue
        on_first = _held(held, first)
        if on_first not in applicable:
            try:
                applicable[on_first] = eng.index.candidates(on_first, None)
            except CaseError:
                applicable[on_first] = None
        if applicable[on_first] != [cat]:
            answer.engine.append(person_id)
            continue
        if any(None in r[8:13] for r in mine):
            answer.stored.append(person_id)
            continue
        if cat not in rule_of:
            rule_of[cat] = next((r for r in policy_rules if cat in r.categories), None)
        rule = rule_of[cat]
        if rule is None:
            continue  # no rule covers the category: the test says nothing, as risk_check
        figures = _test(rule, mine, month, thresholds, resolve)
        if figures is not None:
            check, first_month, sums = figures
            answer.listed[person_id] = Figures(cat, sum(r[6] for r in mine), sums, check, first_month,
                                               _held(held, end))
    return answer


def _test(rule, mine: list, month: int, thresholds: dict, resolve):
    """risk_check over the months up to the list's month, and the first month at whose end it was met."""
    compliant = rule.measure == "合规自付"
    kinds = rule.kinds
    by_month: list[tuple[int, int, str]] = []      # (month, measured amount up to its end, last day up to it)
    measured, last = 0, ""
    for r in mine:
        if r[2] in kinds:
            measured += (r[8] if compliant else r[7]) - r[9] - r[10] - r[11] - r[12]
        last = max(last, r[14])
        if by_month and by_month[-1][0] == r[1]:
            by_month[-1] = (r[1], measured, last)
        else:
            by_month.append((r[1], measured, last))

    def met(amount: int, day: str) -> tuple[bool, Decimal, object]:
        key = (id(rule), day)
        if key not in thresholds:
            thresholds[key] = resolve(rule.threshold, date.fromisoformat(day), NEED)
        threshold, entry = thresholds[key]
        value = _yuan(amount)
        return (value >= threshold if rule.comparison == "达到" else value > threshold), threshold, entry

    amount, day = by_month[-1][1], by_month[-1][2]
    hit, threshold, entry = met(amount, day)
    if not hit:
        return None
    first = month
    for m, upto, then in by_month:
        if m >= month:
            break
        if met(upto, then)[0]:
            first = m
            break
    check = RiskCheck(rule.measure, RISK_SCOPE[rule.measure], tuple(kinds), _yuan(amount), threshold,
                      rule.comparison, entry.reference, True)
    tc, pc, bp, sp, ap, tp = (sum(r[i] for r in mine) for i in range(7, 13))
    sums = tuple(_yuan(x) for x in (tc, pc, bp, sp, ap, tp, tc - bp - sp - ap - tp))
    return check, first, sums

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
from itertools import accumulate
from datetime import date
from decimal import Decimal

from app.domain.case import CaseError
from app.policy.tiers.annual import RISK_SCOPE
from app.services.county import engine
from app.services.monitoring_entry import RiskEntry
from app.services.monitoring_store import _changes_between, _held
from app.services.session import Session
from app.store import reads

NEED = "判断因病返贫致贫监测预警"


@dataclass
class Answer:
    """The candidates of the month and what the summary says of each."""

    candidates: list[str] = field(default_factory=list)
    listed: dict[str, RiskEntry] = field(default_factory=dict)
    engine: list[str] = field(default_factory=list)    # years the engine settles again (monitoring._entry)
    stored: list[str] = field(default_factory=list)    # years read visit by visit (monitoring_store.stored_years)


def _measured(rules) -> tuple[str, list[str]]:
    """SQL for what the first rule covering a row's category measures of the row, in fen (NULL: no rule covers it)."""
    cases, params = [], []
    for category in dict.fromkeys(c for rule in rules for c in rule.categories):
        rule = next(r for r in rules if category in r.categories)
        figure = "pc" if rule.measure == "合规自付" else "tc"
        cases.append(f"WHEN ? THEN CASE WHEN kind IN ({', '.join('?' * len(rule.kinds))}) "
                     f"THEN {figure} - bp - sp - ap - tp ELSE 0 END")
        params += [category, *rule.kinds]
    return (f"CASE category {' '.join(cases)} END" if cases else "NULL"), params


def summary_years(session: Session, year: int, month: int, as_of: date, floor: Decimal | None,
                  within: tuple[str, str | None] | None = None) -> Answer:
    """Every person of the jurisdiction whose costs up to `as_of` reach `floor`, answered from the summary (only
    those whose id is from within[0] up to, not including, within[1], when given: a worker's share)."""
    answer = Answer()
    if floor is None:
        return answer
    eng = engine(session)
    rules = eng.policy.warnings
    measured, measured_params = _measured(rules)
    where, param = reads.scope(session.user.jurisdiction)
    low, high = within or ("", None)
    between = "AND person_id >= ?" + (" AND person_id < ?" if high is not None else "")
    bounds = (low,) if high is None else (low, high)
    test = _Test(month, eng.resolver.value, rules, date(year, 1, 1), as_of)
    # One row per candidate, summed in SQL over the year's rows read in index order; the months only as text, read
    # for the people the test lists. Rows come in the list's order (RiskEntry.key: text compares by code point in
    # both, and the last term keeps ties as the grouping gave them), so the entries are made sorted: SQLite's sort
    # costs ~0.3 s a county where Python's of the same entries cost ~1.5 s.
    # A NULL in any amount (a sum over a row's text that is not plain) sends the year to the stored path.
    cursor = session.conn.cursor()
    cursor.row_factory = None  # plain tuples: sqlite3.Row costs ~1 s more over a county's 370,000 rows
    rows = cursor.execute(
        # Who and where each person is, as the list shows them, is read with the figures (the last seven columns).
        "SELECT g.*, p.id, p.name, p.id_number, p.relation_to_head, h.address, h.region_code, "
        "coalesce(head.name, '') AS head_name FROM (SELECT person_id, count(*) - count(tc), count(category) < count(*) "
        "OR min(category) IS NOT max(category) OR max(policy_id IS NOT ? OR policy_version IS NOT ?), "
        "count(*) - count(tc + pc + bp + sp + ap + tp), min(category), min(first_day), max(last_day), sum(visits), sum(tc), sum(pc), sum(bp), "
        f"sum(sp), sum(ap), sum(tp), sum(m), group_concat({test.months}) "
        f"FROM (SELECT *, {measured} AS m FROM risk_months WHERE year = ? AND month <= ? {between}) "
        "GROUP BY person_id HAVING sum(tc) >= ? OR count(*) > count(tc)) g "
        "CROSS JOIN persons p ON p.id = g.person_id CROSS JOIN households h ON h.id = p.household_id "
        f"LEFT JOIN persons head ON head.id = h.head_person_id WHERE {where} "
        "ORDER BY h.region_code, h.address, p.relation_to_head != '户主', p.name, p.id_number, g.person_id",
        (eng.policy.id, eng.loaded.version, *measured_params, year, month, *bounds, int(floor * 100), *param)).fetchall()
    periods: dict[str, list] = {}
    for row in session.conn.execute("SELECT person_id, category, valid_from, valid_to FROM category_periods "
                                    f"WHERE valid_from <= ? AND (valid_to IS NULL OR valid_to >= ?) {between}",
                                    (as_of.isoformat(), f"{year}-01-01", *bounds)):  # this process's share only
        periods.setdefault(row[0], []).append((row[1], row[2], row[3]))
    applicable: dict[tuple[str, ...], list[str] | None] = {}
    rule_of = {c: next((i for i, r in enumerate(rules) if c in r.categories), None)
               for r in rules for c in r.categories}
    end = as_of.isoformat()
    specs: dict[tuple, tuple] = {}  # one RiskEntry.rule per rule, threshold and clause, shared by its entries
    for row in rows:
        person_id, no_tc, mixed, no_amount, cat, first, last, visits, tc, pc, bp, sp, ap, tp, amount, months = row[:16]
        answer.candidates.append(person_id)
        if no_tc:
            answer.stored.append(person_id)
            continue
        held = periods.get(person_id, ())
        if mixed or (held and _changes_between(held, first, last)):
            answer.engine.append(person_id)
            continue
        on_first = _held(held, first) if held else ()
        if on_first not in applicable:
            try:
                applicable[on_first] = eng.index.candidates(on_first, None)
            except CaseError:
                applicable[on_first] = None
        if applicable[on_first] != [cat]:
            answer.engine.append(person_id)
            continue
        if no_amount:
            answer.stored.append(person_id)
            continue
        rule = rule_of.get(cat)
        if rule is None:
            continue  # no rule covers the category: the test says nothing, as risk_check
        found = test(rules[rule], amount, last, months)
        if found is not None:
            threshold, reference, first_month = found
            spec = specs.get((rule, threshold, reference))
            if spec is None:
                measure = rules[rule].measure
                spec = specs[(rule, threshold, reference)] = (measure, RISK_SCOPE[measure], tuple(rules[rule].kinds),
                                                              rules[rule].comparison, threshold, reference)
            _, name, id_number, relation_to_head, address, region_code, head_name = row[16:]
            # Positional, in the fields' order: ~300,000 entries a county month.
            answer.listed[person_id] = RiskEntry(
                person_id, name, id_number, head_name, relation_to_head, address, region_code,
                _held(held, end) if held else (), cat, visits, tc, pc, bp, sp, ap, tp, 0, 0, tc - bp - sp - ap - tp,
                amount, spec, first_month)
    return answer


class _Test:
    """risk_check in whole fen, with each rule's threshold resolved once a day (once a year where it holds all year)."""

    def __init__(self, month: int, resolve, rules=(), first: date | None = None, last: date | None = None):
        self.month, self.resolve, self.thresholds = month, resolve, {}
        # Rules whose threshold and clause are the same on every day from `first` to `last`: the test of those needs
        # no day, so the first month met is a running sum (most counties set one threshold a year).
        self.fixed: dict[int, tuple] = {}
        for rule in rules if first is not None and last is not None else ():
            try:
                held = {self._bound(rule, date.fromordinal(day))
                        for day in range(first.toordinal(), last.toordinal() + 1)}
            except CaseError:
                continue  # not in force all year (a policy that began in it): the test goes day by day
            if len(held) == 1 and None not in held:
                self.fixed[id(rule)] = held.pop()
        # What the summary's query lists of each month row (SQL): its day only when some threshold changes in the year
        # (concatenating and splitting 1.7 million days cost ~1.5 s a county month).
        self.short = len(self.fixed) == len(rules) > 0
        self.months = ("month || ',' || coalesce(m, 0)" if self.short
                       else "month || ' ' || coalesce(m, 0) || ' ' || last_day")

    def _bound(self, rule, day: date) -> tuple | None:
        """(bound in fen, whether ≥, threshold as the policy says it, its entry) on `day`; None where 不设."""
        threshold, entry = self.resolve(rule.threshold, day, NEED)
        if threshold is None:
            return None
        cents = Decimal(threshold) * 100
        # amount ≥ t ⟺ amount ≥ ⌈100t⌉ and amount > t ⟺ amount > ⌊100t⌋ for whole fen
        bound = -((-cents) // 1) if rule.comparison == "达到" else cents // 1
        return int(bound), rule.comparison == "达到", str(threshold), entry

    def met(self, rule, amount: int, day: str) -> bool:
        """Whether `amount` fen meets the rule's threshold on `day` (compared in whole fen, exactly)."""
        key = (id(rule), day)
        if key not in self.thresholds:
            self.thresholds[key] = self._bound(rule, date.fromisoformat(day))
        bound, at_least, _, _ = self.thresholds[key]
        return amount >= bound if at_least else amount > bound

    def __call__(self, rule, amount: int, last: str, months: str) -> tuple[str, str, int] | None:
        """The check over the whole year up to the month met: its threshold and clause, and the first month at whose
        end it was met."""
        fixed = self.fixed.get(id(rule))
        if fixed is not None:
            return self._fixed(fixed, amount, months)
        if not self.met(rule, amount, last):
            return None
        _, _, threshold, entry = self.thresholds[(id(rule), last)]
        by_month: dict[int, list] = {}
        for part in months.split(","):
            m, measured, day = part.split(" ")
            m = int(m)
            if m < self.month:  # the month itself is met (by the whole figure) if no earlier one is
                got = by_month.get(m)
                if got is None:
                    by_month[m] = [int(measured), day]
                else:
                    got[0] += int(measured)
                    got[1] = max(got[1], day)
        first, upto = self.month, 0
        for m in sorted(by_month):
            if m >= self.month:
                break
            upto += by_month[m][0]
            if self.met(rule, upto, by_month[m][1]):
                first = m
                break
        return threshold, entry.reference, first

    def _fixed(self, fixed: tuple, amount: int, months: str) -> tuple[str, str, int] | None:
        """The same test against a threshold that holds all year: the first month is where the running sum meets it."""
        bound, at_least, threshold, entry = fixed
        if amount < bound if at_least else amount <= bound:
            return None
        if not at_least:
            bound += 1  # amount > b ⟺ amount ≥ b + 1 in whole fen
        if self.short:
            flat = list(map(int, months.split(",")))
            days, amounts = flat[::2], flat[1::2]
        else:
            days, amounts = map(list, zip(*[(int(m), int(v)) for m, v, _ in (p.split(" ") for p in months.split(","))]))
        if days != sorted(days):  # the index gives a person's rows by month; SQL does not promise it
            days, amounts = map(list, zip(*sorted(zip(days, amounts))))
        first = self.month
        for m, upto, after in zip(days, accumulate(amounts), days[1:] + [13]):
            if m >= self.month:
                break
            if upto >= bound and after != m:  # met at the month's end (its last row)
                first = m
                break
        return threshold, entry.reference, first

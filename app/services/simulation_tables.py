"""政策测算's figures: each person-year's amounts under every column summed into the tables shown, current beside proposed.

The 医疗救助基金 spends 医疗救助, 倾斜救助 (and 二次救助, which the engine counts there), 再救助 and 依申请救助;
基本医保 and 大病保险 are the insurance funds' and are shown because a change of their local values moves the fund's
share. A person gains or loses by what the three tiers together pay them. Each person is counted under the category
their year is settled under today, so that every column's rows are the same people.
"""

from __future__ import annotations

import sqlite3
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from app.domain.case import CaseError
from app.domain.money import ZERO, round_fen
from app.policy.engine import Engine
from app.services.applications import mask_id
from app.services.places import township_and_village
from app.services.simulation_settle import PersonYear, YearAmounts

# The tiers as columns of a year: the per-visit four (bills.TIERS order), then the year's own two.
TIER_LABELS = ("基本医保", "大病保险", "医疗救助", "倾斜救助", "再救助", "依申请救助")
FUND = (2, 3, 4, 5)   # what the 医疗救助基金 pays
TOP = 20
BANDS = ((Decimal(100), "100 元以下"), (Decimal(1000), "100—1,000 元"), (Decimal(5000), "1,000—5,000 元"),
         (None, "5,000 元以上"))


@dataclass(frozen=True)
class Table:
    """One table as every output shows it: headers, rows of values (label first), and which last rows are totals."""

    title: str
    headers: tuple[str, ...]
    rows: tuple[tuple[object, ...], ...]
    totals: int = 0          # the last `totals` rows are sums, shown bold
    money: bool = True       # the values are amounts (else counts)


@dataclass(frozen=True)
class Tables:
    """All of a simulation's tables; `fund` is each column's 医疗救助基金 total (scaled when asked)."""

    fund: tuple[Decimal, ...]
    tiers: Table
    categories: Table
    townships: Table
    months: Table
    changes: Table
    limits: Table
    top: tuple[Table, ...]   # one per proposal

    def all(self) -> tuple[Table, ...]:
        return (self.tiers, self.categories, self.townships, self.months, self.changes, self.limits, *self.top)

    def fund_series(self) -> list[tuple[str, list[Decimal]]]:
        """What a chart draws: each fund tier that any column pays, under 现行 and each proposal (no 增减 columns)."""
        rows = {row[0]: [row[1], *row[2::2]] for row in self.tiers.rows}
        out = [(TIER_LABELS[t], rows[TIER_LABELS[t]]) for t in FUND if any(rows[TIER_LABELS[t]])]
        return out or [(TIER_LABELS[2], rows[TIER_LABELS[2]])]


def value_headers(names: Sequence[str]) -> list[str]:
    """现行, then each proposal and its difference from 现行."""
    out = [names[0]]
    for name in names[1:]:
        out += [name, f"{name}增减"]
    return out


def with_differences(values: Sequence[Decimal]) -> list[Decimal]:
    out = [values[0]]
    for v in values[1:]:
        out += [v, v - values[0]]
    return out


class Tally:
    """Per person-year and column: the six tier totals, the visits' amounts by month, and the limits reached."""

    def __init__(self, people: Sequence[PersonYear], engines: Sequence[Engine]):
        self.people = people
        self.engines = engines
        n = len(engines)
        self.years: list[list[tuple[Decimal, ...] | None]] = [[None] * n for _ in people]
        self.category: list[str] = [""] * len(people)
        self.months: list[dict[int, Decimal]] = [defaultdict(lambda: ZERO) for _ in engines]
        self.limits: list[dict[str, int]] = [defaultdict(int) for _ in engines]

    def add(self, column: int, i: int, a: YearAmounts) -> None:
        py = self.people[i]
        tiers = tuple(a.tier(t) for t in range(4)) + (a.re_assistance, a.application)
        self.years[i][column] = tiers
        if column == 0:
            self.category[i] = a.category
        months = self.months[column]
        for v, amounts in zip(py.visits, a.visits):
            months[v.date.month] += amounts[2] + amounts[3]
        months[py.visits[-1].date.month] += a.re_assistance + a.application
        for label in limits_reached(self.engines[column], py, a):
            self.limits[column][label] += 1

    def tables(self, conn: sqlite3.Connection, names: Sequence[str], scale: Decimal | None) -> Tables:
        n = len(names)
        heads = value_headers(names)
        grow = (lambda v: round_fen(v * scale)) if scale is not None else (lambda v: v)
        tier_sums = [[ZERO] * 6 for _ in range(n)]
        by_cat: dict[str, list[Decimal]] = defaultdict(lambda: [ZERO] * n)
        by_town: dict[str, list[Decimal]] = defaultdict(lambda: [ZERO] * n)
        for i, py in enumerate(self.people):
            for c in range(n):
                y = self.years[i][c]
                fund = sum((y[t] for t in FUND), ZERO)
                for t in range(6):
                    tier_sums[c][t] += y[t]
                by_cat[self.category[i]][c] += fund
                by_town[py.region_code[:9]][c] += fund
        fund = [sum((tier_sums[c][t] for t in FUND), ZERO) for c in range(n)]
        tier_rows = [(label, *with_differences([grow(tier_sums[c][t]) for c in range(n)]))
                     for t, label in enumerate(TIER_LABELS)]
        tier_rows.append(("医疗救助基金合计", *with_differences([grow(f) for f in fund])))

        def grouped(title: str, key: str, groups: dict[str, list[Decimal]], label) -> Table:
            rows = [(label(k), *with_differences([grow(v) for v in vals])) for k, vals in sorted(groups.items())]
            rows.append(("合计", *with_differences([grow(f) for f in fund])))
            return Table(title, (key, *heads), tuple(rows), totals=1)

        month_rows = [(f"{m}月", *with_differences([self.months[c].get(m, ZERO) for c in range(n)]))
                      for m in range(1, 13) if any(self.months[c].get(m) for c in range(n))]
        month_rows.append(("合计", *with_differences([sum(self.months[c].values(), ZERO) for c in range(n)])))
        return Tables(
            fund=tuple(grow(f) for f in fund),
            tiers=Table("按待遇", ("待遇", *heads), tuple(tier_rows), totals=1),
            categories=grouped("按类别（医疗救助基金）", "身份类别", by_cat, lambda k: k or "（无）"),
            townships=grouped("按乡镇（医疗救助基金）", "乡镇", by_town,
                              lambda k: township_and_village(k + "000")[0]),
            months=Table("按月份（医疗救助基金，实际数）", ("出院月份", *heads), tuple(month_rows), totals=1),
            changes=self._changes(names),
            limits=self._limits(names),
            top=tuple(self._top(conn, names, c) for c in range(1, n)))

    def _paid(self, i: int, c: int) -> Decimal:
        return sum(self.years[i][c], ZERO)

    def _changes(self, names: Sequence[str]) -> Table:
        """Who gains and who loses under each proposal, and by how much (everything the three tiers pay them)."""
        rows: list[list[object]] = []
        labels = ["受益人数", "受益金额合计", "人均受益", "最多受益",
                  *(f"受益 {b}" for _, b in BANDS),
                  "减少人数", "减少金额合计", "人均减少", "最多减少",
                  *(f"减少 {b}" for _, b in BANDS), "不变人数"]
        columns = []
        for c in range(1, len(names)):
            diffs = [self._paid(i, c) - self._paid(i, 0) for i in range(len(self.people))]
            up = [d for d in diffs if d > 0]
            down = [-d for d in diffs if d < 0]
            columns.append([*_side(up), *_side(down), len(diffs) - len(up) - len(down)])
        for r, label in enumerate(labels):
            rows.append([label, *(col[r] for col in columns)])
        return Table("受益与减少的人数和金额", ("项目", *names[1:]), tuple(tuple(r) for r in rows))

    def _limits(self, names: Sequence[str]) -> Table:
        labels = sorted({k for counts in self.limits for k in counts})
        rows = [(label, *(self.limits[c].get(label, 0) for c in range(len(names)))) for label in labels]
        if not rows:
            rows = [("（在任何一列下都没有人达到年度限额、封顶线）", *(0 for _ in names))]
        return Table("达到限额的人数", ("限额", *names), tuple(rows), money=False)

    def _top(self, conn: sqlite3.Connection, names: Sequence[str], c: int) -> Table:
        ranked = sorted(range(len(self.people)), key=lambda i: (-abs(self._paid(i, c) - self._paid(i, 0)),
                                                                 self.people[i].person_id))[:TOP]
        ranked = [i for i in ranked if self._paid(i, c) != self._paid(i, 0)]
        who = _people(conn, [self.people[i].person_id for i in ranked])
        rows = []
        for n, i in enumerate(ranked, start=1):
            name, number = who.get(self.people[i].person_id, ("", ""))
            town = township_and_village(self.people[i].region_code)[0]
            before, after = self._paid(i, 0), self._paid(i, c)
            rows.append((n, name, mask_id(number), town, self.category[i], before, after, after - before))
        return Table(f"受影响最大的 {TOP} 人（{names[c]}）",
                     ("序号", "姓名", "身份证号", "乡镇", "身份类别", f"{names[0]}三重制度合计", f"{names[c]}三重制度合计",
                      "增减"), tuple(rows))


def _side(amounts: list[Decimal]) -> list[object]:
    total = sum(amounts, ZERO)
    bands = [0] * len(BANDS)
    for a in amounts:
        bands[next(k for k, (top, _) in enumerate(BANDS) if top is None or a <= top)] += 1
    mean = round_fen(total / len(amounts)) if amounts else ZERO
    return [len(amounts), total, mean, max(amounts, default=ZERO), *bands]


def _people(conn: sqlite3.Connection, ids: list[str]) -> dict[str, tuple[str, str]]:
    if not ids:
        return {}
    marks = ",".join("?" * len(ids))
    return {r[0]: (r[1], r[2]) for r in conn.execute(f"SELECT id, name, id_number FROM persons WHERE id IN ({marks})", ids)}


def limits_reached(eng: Engine, py: PersonYear, a: YearAmounts) -> list[str]:
    """The limits this person-year's amounts reach under `eng`, by name: the annual limits of 基本医保, 大病保险,
    each assistance pool and each above-limit block, 二次救助 and 再救助, at the values in force on the last visit."""
    policy, day, cat = eng.policy, py.visits[-1].date, a.category
    out: list[str] = []

    def reached(rule, paid: Decimal, label: str) -> None:
        if rule is None:
            return
        try:
            limit = eng.resolver.value(rule, day, "测算达到限额的人数")[0]
        except CaseError:
            return  # the county has not set it: nothing can reach it
        if limit is not None and limit > 0 and paid >= limit:
            out.append(label)

    def in_kinds(kinds, tier: int) -> Decimal:
        return sum((amounts[tier] for v, amounts in zip(py.visits, a.visits) if v.kind in kinds), ZERO)

    if policy.basic is not None and any(v.basic_paid is None for v in py.visits):
        reached(policy.basic.annual_cap, a.tier(0), "基本医保年度最高支付限额")
    if policy.serious is not None:
        adj = next((x for x in policy.serious.adjustments if cat in x.categories and x.cap is not None), None)
        reached(adj.cap if adj else policy.serious.cap, a.tier(1), "大病保险封顶线")
    for pi, pool in enumerate(policy.assistance):
        t = eng.index.treatment.get((pi, cat))
        if t is None:
            continue
        reached(t.annual_limit, in_kinds(pool.kinds, 2), f"医疗救助年度限额（{pool.name}）")
        for blk in pool.above_limit:
            if cat in blk.categories and blk.counts_as == "倾斜救助" and blk.extra_limit is not None:
                reached(blk.extra_limit, in_kinds(blk.kinds or pool.kinds, 3), f"{blk.name}年度限额")
    sec = policy.secondary
    if sec is not None and cat in sec.categories:
        reached(sec.annual_limit, in_kinds(sec.kinds, 3), f"{sec.name}年度限额")
    if policy.re_assistance is not None:
        reached(policy.re_assistance.cap, a.re_assistance, "再救助封顶线")
    return out

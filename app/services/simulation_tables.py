"""政策测算's figures: each person-year's amounts under every column summed into the tables shown, current beside proposed.

The 医疗救助基金 spends 医疗救助, 倾斜救助 (and 二次救助, which the engine counts there), 再救助 and 依申请救助;
基本医保 and 大病保险 are the insurance funds' and are shown because a change of their local values moves the fund's
share. A person gains or loses by what the three tiers together pay them. Each person is counted under the category
their year is settled under today, so that every column's rows are the same people.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

import numpy as np

from app.domain.case import CaseError
from app.domain.money import ZERO, round_fen
from app.policy.engine import Engine
from app.services.applications import mask_id
from app.services.places import township_and_village
from app.services.simulation_settle import Settled
from app.services.year_columns import KIND, YearData

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


def money(fen: int | np.integer) -> Decimal:
    """Integer fen as a Decimal amount of yuan (exact)."""
    return Decimal(int(fen)).scaleb(-2)


class Tally:
    """Per column: each person-year's six tier totals (int64 fen), the fund by month and the limits reached."""

    def __init__(self, data: YearData, engines: Sequence[Engine]):
        self.data = data
        self.engines = engines
        self.starts = data.starts
        self.month = data.date.astype("datetime64[M]").astype(np.int64) % 12 + 1
        self.years: list[np.ndarray] = []          # per column: shape (6, people)
        self.months: list[np.ndarray] = []         # per column: fund by month 1..12 (index 0 unused)
        self.limits: list[dict[str, int]] = []
        self.category: list[str] = []

    def add(self, column: int, s: Settled) -> None:
        assert column == len(self.years), "columns are added in order"
        per_person = np.zeros((6, self.data.people), np.int64)
        if self.data.visits:
            per_person[:4] = np.add.reduceat(s.tiers, self.starts, axis=1)
        per_person[4], per_person[5] = s.re_assistance, s.application
        self.years.append(per_person)
        if column == 0:
            self.category = list(s.category)
        months = np.zeros(13, np.int64)
        np.add.at(months, self.month, s.tiers[2] + s.tiers[3])
        ends = np.r_[self.starts[1:], self.data.visits] - 1
        np.add.at(months, self.month[ends], s.re_assistance + s.application)
        self.months.append(months)
        self.limits.append(limits_reached(self.engines[column], self.data, s, per_person))

    def tables(self, conn: sqlite3.Connection, names: Sequence[str], scale: Decimal | None) -> Tables:
        n = len(names)
        heads = value_headers(names)
        grow = (lambda v: round_fen(v * scale)) if scale is not None else (lambda v: v)
        fund_of = [y[list(FUND)].sum(axis=0) for y in self.years]       # per column, per person
        fund = [money(f.sum()) for f in fund_of]
        tier_rows = [(label, *with_differences([grow(money(self.years[c][t].sum())) for c in range(n)]))
                     for t, label in enumerate(TIER_LABELS)]
        tier_rows.append(("医疗救助基金合计", *with_differences([grow(f) for f in fund])))

        def grouped(title: str, key: str, keys: list[str], label) -> Table:
            order = sorted(set(keys))
            position = {k: i for i, k in enumerate(order)}
            index = np.array([position[k] for k in keys], np.int64)
            sums = np.zeros((n, len(order)), np.int64)
            for c in range(n):
                np.add.at(sums[c], index, fund_of[c])
            rows = [(label(k), *with_differences([grow(money(sums[c][g])) for c in range(n)]))
                    for g, k in enumerate(order)]
            rows.append(("合计", *with_differences([grow(f) for f in fund])))
            return Table(title, (key, *heads), tuple(rows), totals=1)

        month_rows = [(f"{m}月", *with_differences([money(self.months[c][m]) for c in range(n)]))
                      for m in range(1, 13) if any(self.months[c][m] for c in range(n))]
        month_rows.append(("合计", *with_differences([money(self.months[c].sum()) for c in range(n)])))
        return Tables(
            fund=tuple(grow(f) for f in fund),
            tiers=Table("按待遇", ("待遇", *heads), tuple(tier_rows), totals=1),
            categories=grouped("按类别（医疗救助基金）", "身份类别", [c or "（无）" for c in self.category], str),
            townships=grouped("按乡镇（医疗救助基金）", "乡镇", [r[:9] for r in self.data.regions],
                              lambda k: township_and_village(k + "000")[0]),
            months=Table("按月份（医疗救助基金，实际数）", ("出院月份", *heads), tuple(month_rows), totals=1),
            changes=self._changes(names),
            limits=self._limits(names),
            top=tuple(self._top(conn, names, c) for c in range(1, n)))

    def _paid(self, c: int) -> np.ndarray:
        """Everything the three tiers pay each person under column `c` (fen)."""
        return self.years[c].sum(axis=0)

    def _changes(self, names: Sequence[str]) -> Table:
        """Who gains and who loses under each proposal, and by how much (everything the three tiers pay them)."""
        labels = ["受益人数", "受益金额合计", "人均受益", "最多受益",
                  *(f"受益 {b}" for _, b in BANDS),
                  "减少人数", "减少金额合计", "人均减少", "最多减少",
                  *(f"减少 {b}" for _, b in BANDS), "不变人数"]
        columns = []
        for c in range(1, len(names)):
            diffs = self._paid(c) - self._paid(0)
            up, down = diffs[diffs > 0], -diffs[diffs < 0]
            columns.append([*_side(up), *_side(down), int(len(diffs) - len(up) - len(down))])
        rows = [(label, *(col[r] for col in columns)) for r, label in enumerate(labels)]
        return Table("受益与减少的人数和金额", ("项目", *names[1:]), tuple(rows))

    def _limits(self, names: Sequence[str]) -> Table:
        labels = sorted({k for counts in self.limits for k in counts})
        rows = [(label, *(self.limits[c].get(label, 0) for c in range(len(names)))) for label in labels]
        if not rows:
            rows = [("（在任何一列下都没有人达到年度限额、封顶线）", *(0 for _ in names))]
        return Table("达到限额的人数", ("限额", *names), tuple(rows), money=False)

    def _top(self, conn: sqlite3.Connection, names: Sequence[str], c: int) -> Table:
        before, after = self._paid(0), self._paid(c)
        diffs = after - before
        # Largest change first; among equal changes, by person id (the rows' order), so the list is reproducible.
        ranked = [int(i) for i in np.argsort(-np.abs(diffs), kind="stable")[:TOP] if diffs[i]]
        ids = [self.data.person_ids[i] for i in ranked]
        who = _people(conn, ids)
        rows = []
        for k, i in enumerate(ranked, start=1):
            name, number = who.get(self.data.person_ids[i], ("", ""))
            town = township_and_village(self.data.regions[i])[0]
            rows.append((k, name, mask_id(number), town, self.category[i], money(before[i]), money(after[i]),
                         money(diffs[i])))
        return Table(f"受影响最大的 {TOP} 人（{names[c]}）",
                     ("序号", "姓名", "身份证号", "乡镇", "身份类别", f"{names[0]}三重制度合计", f"{names[c]}三重制度合计",
                      "增减"), tuple(rows))


# The bands' upper ends in fen (the last is open).
_EDGES = np.array([int(top * 100) for top, _ in BANDS if top is not None], np.int64)


def _side(amounts: np.ndarray) -> list[object]:
    """Count, total, mean, largest and count per band of one side's changes (fen in, Decimal out)."""
    total = int(amounts.sum())
    bands = np.bincount(np.searchsorted(_EDGES, amounts, side="left"), minlength=len(BANDS))
    mean = round_fen(money(total) / len(amounts)) if len(amounts) else ZERO
    return [int(len(amounts)), money(total), mean, money(amounts.max()) if len(amounts) else ZERO,
            *(int(b) for b in bands)]


def _people(conn: sqlite3.Connection, ids: list[str]) -> dict[str, tuple[str, str]]:
    if not ids:
        return {}
    marks = ",".join("?" * len(ids))
    return {r[0]: (r[1], r[2]) for r in conn.execute(f"SELECT id, name, id_number FROM persons WHERE id IN ({marks})", ids)}


def limits_reached(eng: Engine, data: YearData, s: Settled, per_person: np.ndarray) -> dict[str, int]:
    """How many person-years reach each limit under `eng`, by name: the annual limits of 基本医保, 大病保险, each
    assistance pool and each above-limit block, 二次救助 and 再救助, at the values in force on the year's last visit
    for the category the year is settled under."""
    policy = eng.policy
    starts = data.starts
    ends = np.r_[starts[1:], data.visits] - 1
    # The limits depend on the category and the day only: resolve each pair once.
    names = sorted(set(s.category))
    code = {c: i for i, c in enumerate(names)}
    days = data.date[ends].astype(np.int64) if data.visits else np.zeros(0, np.int64)
    keys, pair_of = np.unique(np.array([code[c] for c in s.category], np.int64) * (1 << 32) + days,
                              return_inverse=True)
    pairs = {(names[k >> 32], np.datetime64(k & 0xFFFFFFFF, "D").item()): n for n, k in enumerate(keys.tolist())}
    out: dict[str, int] = {}

    def in_kinds(kinds, tier: int) -> np.ndarray:
        mask = np.isin(data.kind, [KIND[k] for k in kinds])
        return np.add.reduceat(np.where(mask, s.tiers[tier], 0), starts) if data.visits else np.zeros(0, np.int64)

    def count(label: str, rule_for, paid: np.ndarray, among: np.ndarray | None = None) -> None:
        limits = np.full(len(pairs), -1, np.int64)
        for (cat, day), k in pairs.items():
            rule = rule_for(cat)
            if rule is None:
                continue
            try:
                value = eng.resolver.value(rule, day, "测算达到限额的人数")[0]
            except CaseError:
                continue  # the county has not set it: nothing can reach it
            if value is not None and value > 0:
                limits[k] = int(value * 100)
        limit = limits[pair_of]
        hit = (limit > 0) & (paid >= limit)
        if among is not None:
            hit &= among
        if hit.any():
            out[label] = int(hit.sum())

    if policy.basic is not None:
        computed = np.add.reduceat((data.basic_paid < 0).astype(np.int64), starts) > 0
        count("基本医保年度最高支付限额", lambda cat: policy.basic.annual_cap, per_person[0], computed)
    if policy.serious is not None:
        def serious_cap(cat):
            adj = next((x for x in policy.serious.adjustments if cat in x.categories and x.cap is not None), None)
            return adj.cap if adj else policy.serious.cap
        count("大病保险封顶线", serious_cap, per_person[1])
    for pi, pool in enumerate(policy.assistance):
        def pool_limit(cat, pi=pi):
            t = eng.index.treatment.get((pi, cat))
            return t.annual_limit if t is not None else None
        count(f"医疗救助年度限额（{pool.name}）", pool_limit, in_kinds(pool.kinds, 2))
        for blk in pool.above_limit:
            if blk.counts_as == "倾斜救助" and blk.extra_limit is not None:
                count(f"{blk.name}年度限额", lambda cat, blk=blk: blk.extra_limit if cat in blk.categories else None,
                      in_kinds(blk.kinds or pool.kinds, 3))
    sec = policy.secondary
    if sec is not None:
        count(f"{sec.name}年度限额", lambda cat: sec.annual_limit if cat in sec.categories else None,
              in_kinds(sec.kinds, 3))
    if policy.re_assistance is not None:
        count("再救助封顶线", lambda cat: policy.re_assistance.cap, per_person[4])
    return out

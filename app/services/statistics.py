"""The 统计 screen's figures: a year's settled visits counted and summed by category, township and month."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal, InvalidOperation

from app.policy.index import PolicyIndex
from app.policy.loader import PolicyError, load_policy
from app.services.places import county_regions, place_name
from app.services.session import Session
from app.store import clock, reads, stat_masks
from app.store.summary import ANY, AMOUNT_COLUMNS
from app.domain.errors import FieldError
from app.store.errors import StoreError

# (attribute, column header) of the amounts, in the order a 报表 shows them; values are Decimal yuan.
AMOUNTS: tuple[tuple[str, str], ...] = (
    ("total_cost", "医疗费用总额"),
    ("policy_covered", "政策范围内费用"),
    ("basic_paid", "基本医保统筹支付"),
    ("serious_illness_paid", "大病保险支付"),
    ("assistance_paid", "医疗救助支付"),
    ("tilt_assistance_paid", "倾斜救助支付"),
    ("personal_pay", "个人自付"),
)
# Every column of a row after its label: 人数 counts distinct people, 人次 counts visits.
COLUMNS: tuple[tuple[str, str], ...] = (("people", "人数"), ("visits", "人次"), *AMOUNTS)
TOTAL_LABEL = "合计"

# Where each amount lives: the bill's own figures on the visit, the tiers as settled (the order of stat_cells' a0–a6).
_SOURCES = ("v.total_cost", "v.policy_covered", "s.basic_paid", "s.serious_illness_paid", "s.assistance_paid",
            "s.tilt_assistance_paid", "s.personal_pay")
_KINDS = ("category", "township", "month")

# The summary rows (app/store/summary.py) hold the year already counted and summed by month, village and category,
# and its people counted by village, category and the months they had a visit in (app/store/stat_masks.py), so a
# county year reads a few thousand cells of visits and amounts and a few hundred thousand of people, instead of
# joining two million visits.
_CELLS = f"""
    SELECT category, substr(region_code, 1, 9), month, sum(visits), {', '.join(f'sum({a})' for a in AMOUNT_COLUMNS)},
           sum(bad)
    FROM stat_cells WHERE year = :year AND month BETWEEN :first_month AND :last_month
      AND region_code >= :lo AND region_code < :hi
    GROUP BY 1, 2, 3 HAVING sum(visits) > 0"""
_PEOPLE_WHERE = "year = :year AND region_code >= :lo AND region_code < :hi"

# Only when an amount is not plain decimal text: the same sums row by row in Python Decimal.
_FROM = """
    FROM households h
    CROSS JOIN persons p ON p.household_id = h.id
    CROSS JOIN visits v ON v.person_id = p.id
    CROSS JOIN settlements s ON s.visit_id = v.id
    WHERE h.region_code >= :lo AND h.region_code < :hi AND v.discharged_on BETWEEN :first AND :last
      AND v.status = 'live'"""
_KEYS = ("s.applied_category AS category, substr(h.region_code, 1, 9) AS township, "
         "CAST(substr(v.discharged_on, 6, 2) AS INTEGER) AS month")
_RAW_QUERY = f"SELECT {_KEYS}, {', '.join(_SOURCES)} {_FROM}"


@dataclass(frozen=True)
class Row:
    """One line of a breakdown: its key (category name, 9-digit township code, month 1–12; None for 合计)."""

    key: str | int | None
    label: str
    people: int
    visits: int
    total_cost: Decimal
    policy_covered: Decimal
    basic_paid: Decimal
    serious_illness_paid: Decimal
    assistance_paid: Decimal
    tilt_assistance_paid: Decimal
    personal_pay: Decimal

    def value(self, column: str) -> int | Decimal:
        """A column by its name in COLUMNS."""
        return getattr(self, column)


@dataclass(frozen=True)
class Breakdown:
    """The rows of one breakdown in display order, and its 合计 row."""

    kind: str          # "category", "township" or "month"
    title: str         # the sheet's and tab's name: 按类别 …
    key_header: str    # what the label column is: 身份类别 …
    rows: tuple[Row, ...]
    total: Row


@dataclass(frozen=True)
class Statistics:
    """All three breakdowns of a year (or some of its months) within one jurisdiction, and when they were taken."""

    year: int
    first_month: int
    last_month: int
    jurisdiction: str
    place: str                 # the jurisdiction by name: 南陵县, 南陵县籍山镇 …
    generated_at: datetime     # the county's local time, aware
    by_category: Breakdown
    by_township: Breakdown
    by_month: Breakdown

    @property
    def breakdowns(self) -> tuple[Breakdown, Breakdown, Breakdown]:
        return (self.by_category, self.by_township, self.by_month)

    @property
    def total(self) -> Row:
        """The grand total; every breakdown's 合计 is this same row."""
        return self.by_township.total

    @property
    def period(self) -> str:
        """The period as a title says it: 2025年, 2025年3月, 2025年1—6月."""
        if (self.first_month, self.last_month) == (1, 12):
            return f"{self.year}年"
        if self.first_month == self.last_month:
            return f"{self.year}年{self.first_month}月"
        return f"{self.year}年{self.first_month}—{self.last_month}月"


def years(session: Session) -> list[int]:
    """The years that have settled visits, newest first (for the screen's year picker)."""
    return [r[0] for r in session.conn.execute("SELECT DISTINCT year FROM settlements ORDER BY year DESC")]


def year_statistics(session: Session, year: int, first_month: int = 1, last_month: int = 12) -> Statistics:
    """Counts and Decimal sums of the settled visits discharged in the months, within the user's jurisdiction.

    Every category of the county's policy (in its order of precedence), every township of the jurisdiction (by
    code) and every month of the range gets a row, with zeros where nothing was settled, so that reports of
    different periods line up; a category or township found only in the data follows. A person whose category
    changed during the year counts once under each category, and once in 合计.
    """
    if not isinstance(year, int) or not 1900 <= year <= 9999:
        raise FieldError("year", f"年度应为四位数字的年份（收到 {year!r}）")
    if not (isinstance(first_month, int) and isinstance(last_month, int) and 1 <= first_month <= last_month <= 12):
        raise FieldError("months", f"月份范围应在 1—12 月之间且起始不晚于结束（收到 {first_month}—{last_month}）")
    scope = session.user.jurisdiction
    lo, hi = reads.bounds(scope)
    params = {"lo": lo, "hi": hi, "year": year, "first_month": first_month, "last_month": last_month,
              "first": f"{year}-{first_month:02d}-01", "last": f"{year}-{last_month:02d}-31"}
    counts, amounts, malformed = _summed(session.conn, params)
    if malformed:
        amounts = _decimal_sums(session, params)

    county = session.store.setting("county") or {}
    towns = _townships(scope, county.get("code"), counts["township"])
    categories = _category_order(session.store.setting("policy_id"), counts["category"])
    months = list(range(first_month, last_month + 1))
    total_people = sum(p for p, _ in counts["township"].values())
    # Each breakdown covers every selected visit once, so any of them sums to the grand total.
    total_visits = sum(v for _, v in counts["township"].values())
    total_amounts = [sum(col, Decimal("0.00")) for col in zip(*amounts["township"].values())] or _zeros()
    total = Row(None, TOTAL_LABEL, total_people, total_visits, *total_amounts)

    def breakdown(kind: str, title: str, header: str, keys: list[tuple[object, str]]) -> Breakdown:
        rows = tuple(Row(key, label, *counts[kind].get(key, (0, 0)), *amounts[kind].get(key, _zeros()))
                     for key, label in keys)
        return Breakdown(kind, title, header, rows, total)

    return Statistics(
        year=year, first_month=first_month, last_month=last_month, jurisdiction=scope,
        place=place_name(scope, county), generated_at=clock.local_now(),
        by_category=breakdown("category", "按类别", "身份类别", [(c, c) for c in categories]),
        by_township=breakdown("township", "按乡镇", "乡镇（街道）", towns),
        by_month=breakdown("month", "按月份", "月份", [(m, f"{m}月") for m in months]))


def _summed(conn, params: dict) -> tuple[dict, dict, int]:
    """(people, visits) and fen sums per key of each breakdown, and how many selected visits had unreadable amounts."""
    visits: dict[str, dict[object, int]] = {k: defaultdict(int) for k in _KINDS}
    fen: dict[str, dict[object, list[int]]] = {k: defaultdict(lambda: [0] * len(_SOURCES)) for k in _KINDS}
    malformed = 0
    for category, township, month, n, *sums, bad in conn.execute(_CELLS, params):
        for kind, key in zip(_KINDS, (category, township, month)):
            visits[kind][key] += n
            into = fen[kind][key]
            for i, v in enumerate(sums):
                into[i] += v
        malformed += bad
    people = _people(conn, params)
    counts = {k: {key: (people[k].get(key, 0), n) for key, n in visits[k].items()} for k in _KINDS}
    amounts = {k: {key: [Decimal(f).scaleb(-2) for f in sums] for key, sums in fen[k].items()} for k in _KINDS}
    return counts, amounts, malformed


def _people(conn, params: dict) -> dict[str, dict[object, int]]:
    """Distinct people with a settled visit in the months, per category, per township and per month."""
    months = range(params["first_month"], params["last_month"] + 1)
    counted = {**params, "months": stat_masks.months_mask(params["first_month"], params["last_month"])}
    out: dict[str, dict[object, int]] = {"category": dict(conn.execute(
        f"SELECT category, sum(people) FROM stat_masks WHERE {_PEOPLE_WHERE} AND category != '{ANY}' "
        f"AND mask & :months != 0 GROUP BY 1", counted).fetchall()), "township": {}, "month": {}}
    # The cells under ANY count each person once however many categories their year was settled under.
    for township, people, *per_month in conn.execute(
            f"SELECT substr(region_code, 1, 9), sum(people * (mask & :months != 0)), "
            f"{', '.join(f'sum(people * (mask >> {m - 1} & 1))' for m in months)} "
            f"FROM stat_masks WHERE {_PEOPLE_WHERE} AND category = '{ANY}' GROUP BY 1", counted):
        if people:
            out["township"][township] = people
        for m, n in zip(months, per_month):
            if n:
                out["month"][m] = out["month"].get(m, 0) + n
    return out


def _zeros() -> list[Decimal]:
    return [Decimal("0.00")] * len(_SOURCES)


def _decimal_sums(session: Session, params: dict) -> dict[str, dict[object, list[Decimal]]]:
    """The same sums, row by row in Python Decimal: slower, but exact for any amount Decimal can read."""
    out: dict[str, dict[object, list[Decimal]]] = {k: defaultdict(_zeros) for k in _KINDS}
    for category, township, month, *raw in session.conn.execute(_RAW_QUERY, params):
        try:
            values = [Decimal(x) for x in raw]
        except (InvalidOperation, TypeError):
            raise StoreError(f"结算记录中有无法识别的金额（{'、'.join(map(str, raw))}），统计无法进行；"
                             f"请运行 jiuzhu check 检查数据库") from None
        for kind, key in zip(_KINDS, (category, township, month)):
            sums = out[kind][key]
            for i, v in enumerate(values):
                sums[i] += v
    return {k: dict(v) for k, v in out.items()}


def _category_order(policy_id: str | None, found: dict) -> list[str]:
    rank: dict[str, int] = {}
    if policy_id:
        try:
            rank = PolicyIndex.of(load_policy(policy_id).policy).rank
        except PolicyError:
            pass  # a policy file gone from this install: still count, in name order
    ordered = sorted(rank, key=rank.__getitem__)
    return ordered + sorted(set(found) - set(rank))


def _townships(scope: str, county_code: str | None, found: dict) -> list[tuple[str, str]]:
    """(code, name) of the jurisdiction's townships by code: those of the bundled list, and any others found."""
    known: dict[str, str] = {}
    for code in {county_code or scope[:6], *(c[:6] for c in found)}:
        if code:
            known.update(county_regions(code)[0])
    # A township lies in the jurisdiction if it is inside it (county user) or contains it (village user).
    codes = {c for c in known if c.startswith(scope) or scope.startswith(c)} | set(found)
    return [(c, known.get(c, c)) for c in sorted(codes)]

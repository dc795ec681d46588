"""因病返贫致贫风险监测预警 (return_to_poverty_risk): the month's list for 民政 and 乡村振兴, figures from the engine.

Who is on the list is decided by the engine's own 监测预警 test (app/policy/tiers/annual.py: risk_check), run on
each person's year as the annual settlement holds it, counting the visits discharged up to the month's end: the
first rule of the policy's 监测预警 section that covers the category the year is settled under sets the figure
(合规自付 or 全部自付, over the rule's visit kinds), the threshold and the comparison (达到 ≥, 超过 >). The list
repeats the engine's figures; it computes none of its own. They are read from the per-person-month summary
(monitoring_summary) where the stored settlements answer exactly, visit by visit (monitoring_store) or from the
engine otherwise.

- The category is the engine's: the year is settled under the categories held on the date of the month's last
  bill, as the stored annual settlement is. The sheet also shows the categories held at the month's end, so a
  person certified since (say 低保对象) is visible as such.
- 首次达到月份 is the earliest month of the year at whose end the test was met. A year's self-paid costs only
  grow, so it stays met, unless a later bill is settled under a category outside the rule (e.g. a 稳定脱贫人口
  certified 低保对象 in 芜湖, where only 稳定脱贫人口 and 普通参保居民 are monitored): such a person leaves the list.
- ID numbers are shown in full: the list goes only to the 民政 and 乡村振兴 departments, who match it against
  their own rosters by ID number (湘医保通知(2022-06-20) 五(一) “相关人员信息”; 芜医保〔2021〕76号 二(二)5
  “人员信息”). The sheet says it is for internal checking. Both documents send one list to both departments.
- A policy without a 监测预警 section (黔南: the document refers to 行业部门预警标准 without a number) is refused,
  never guessed.
"""

from __future__ import annotations

import calendar
import json
import re
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from app.domain.money import ZERO, fmt
from app.policy.result import SettleResult
from app.policy.tiers.annual import RISK_SCOPE
from app.services import bills, monitoring_worker
from app.services.monitoring_store import stored_years
from app.services.monitoring_entry import RiskEntry, fen, rule_of
from app.services.monitoring_summary import Answer, summary_years
from app.store import reads
from app.services.county import engine
from app.services.places import place_name
from app.services.session import Session
from app.store import clock
from app.domain.errors import FieldError

NEEDED_FOR = "生成因病返贫致贫风险监测预警名单"


@dataclass(frozen=True)
class RiskRule:
    """One rule of the policy's 监测预警 section, with its threshold on the list's date."""

    categories: tuple[str, ...]
    scope: str
    kinds: tuple[str, ...]
    comparison: str
    threshold: Decimal
    reference: str

    def describe(self) -> str:
        return (f"{'、'.join(self.categories)}：本年度{self.scope}（{'、'.join(self.kinds)}）{self.comparison} "
                f"{fmt(self.threshold)} 元（{self.reference}）")


@dataclass(frozen=True)
class RiskList:
    """The month's list within one jurisdiction."""

    year: int
    month: int
    as_of: date
    jurisdiction: str
    place: str
    policy_id: str
    policy_title: str
    policy_document: str
    rules: tuple[RiskRule, ...]
    entries: tuple[RiskEntry, ...]
    examined: int                    # people whose year's costs could reach a threshold, each settled by the engine
    generated_at: datetime

    @property
    def period(self) -> str:
        return f"{self.year}年{self.month}月"


def parse_month(text: str) -> tuple[int, int]:
    """A month as typed: 2025-06, 2025-6, 202506, 2025年6月."""
    raw = str(text or "").strip()
    m = re.fullmatch(r"(\d{4})(?:[-/.年]\s*(\d{1,2})月?|(\d{2}))", raw)
    month = int(m.group(2) or m.group(3)) if m else 0
    if not m or not 1 <= month <= 12:
        raise FieldError("month", f"“{raw}”无法识别，请写成 2025-06 的形式")
    return int(m.group(1)), month


def month_end(year: int, month: int) -> date:
    return date(year, month, calendar.monthrange(year, month)[1])


def risk_rules(session: Session, as_of: date) -> tuple[RiskRule, ...]:
    """The policy's 监测预警 rules with their thresholds on `as_of`; refused when the policy sets none."""
    eng = engine(session)
    policy = eng.policy
    if not policy.warnings:
        said = [s for s in re.split(r"(?<=。)", policy.note or "") if "预警" in s]
        raise FieldError("policy", f"本县适用的政策（{policy.document}）没有规定因病返贫致贫风险监测预警标准，无法生成监测"
                                   f"预警名单" + (f"：{said[0].strip()}" if said else "。") +
                                   "预警标准须以文件为准，本程序不代为确定。")
    if as_of < policy.effective:
        raise FieldError("month", f"{as_of.year}年{as_of.month}月 早于本县政策（{policy.document}）的施行日期 {policy.effective}，"
                                  f"该政策没有这个月的预警标准")
    rules = []
    for rule in policy.warnings:
        threshold, entry = eng.resolver.value(rule.threshold, as_of, NEEDED_FOR)  # CaseError: an FieldError
        if threshold is None:
            continue  # a county that set the threshold to 不设 monitors nobody under this rule
        rules.append(RiskRule(tuple(rule.categories), RISK_SCOPE[rule.measure], tuple(rule.kinds), rule.comparison,
                              threshold, entry.reference))
    return tuple(rules)


def build_risk_list(session: Session, year: int, month: int, today: date | None = None,
                    workers: int | None = None) -> Iterator[tuple[int, int, RiskList | None]]:
    """Build the list, yielding (done, total, None) as people are examined and finally (total, total, the list).

    A county's list is made by two processes (`workers`: 1 or 2; by the file's size when None), each examining the
    people of one range of ids; the worker hands its figures back as plain values (monitoring_worker)."""
    if not isinstance(year, int) or not 2000 <= year <= 9999 or not isinstance(month, int) or not 1 <= month <= 12:
        raise FieldError("month", f"月份应为 2000 年以后的某年某月（收到 {year!r}-{month!r}）")
    today = today or clock.today()
    if (year, month) > (today.year, today.month):
        raise FieldError("month", f"{year}年{month}月还没有到，不能生成这个月的名单")
    as_of = month_end(year, month)
    rules = risk_rules(session, as_of)
    eng = engine(session)
    scope = session.user.jurisdiction
    floor = min((r.threshold for r in rules), default=None)
    if workers is None:
        workers = monitoring_worker.workers_for(session)
    split = monitoring_worker.split(session) if workers > 1 and floor is not None else None
    helper = None if split is None else monitoring_worker.start(session, year, month, as_of, floor, (split, None))
    found: list[tuple[int, list, list]] = []
    try:
        yield from examine(session, year, month, as_of, floor, None if split is None else ("", split), found)
        if helper is not None:
            found.append(helper.result())
    finally:
        if helper is not None:
            helper.cancel()
    examined = sum(count for count, _, _ in found)
    entries: list[RiskEntry] = []
    for _, listed, others in found:
        entries += listed
        entries += others
    entries.sort(key=RiskEntry.key)  # each process's share came sorted: this merges runs (timsort)
    yield examined, examined, RiskList(
        year=year, month=month, as_of=as_of, jurisdiction=scope,
        place=place_name(scope, session.store.setting("county") or {}), policy_id=eng.policy.id,
        policy_title=eng.policy.title, policy_document=eng.policy.document, rules=rules, entries=tuple(entries),
        examined=examined, generated_at=clock.local_now())


def examine(session: Session, year: int, month: int, as_of: date, floor: Decimal | None,
            within: tuple[str, str | None] | None, found: list[tuple[int, list, list]]) -> Iterator[tuple[int, int, None]]:
    """Examine the candidates (those of one range of ids when `within`), yielding progress, and add to `found` how
    many were examined, the entries of those the summary lists (in the list's order) and the entries of those
    settled again or read visit by visit."""
    answer = summary_years(session, year, month, as_of, floor, within)
    people = answer.candidates
    stored = stored_years(session, year, as_of, answer.stored) if answer.stored else {}
    who = _who(session, [*answer.engine, *answer.stored])
    others = []
    for done, person_id in enumerate([*answer.engine, *answer.stored], start=1):
        held = stored.get(person_id)
        if held is None:  # a year the stored settlements cannot answer: the engine settles it again
            entry = _entry(session, who[person_id], year, month, as_of)
        else:
            hit = held.reached(month)
            entry = None if hit is None else risk_entry(who[person_id], *hit, held.categories)
        if entry is not None:
            others.append(entry)
        yield len(answer.listed) + done, len(people), None
    found.append((len(people), list(answer.listed.values()), others))


def risk_list(session: Session, year: int, month: int, today: date | None = None,
              workers: int | None = None) -> RiskList:
    """The month's list (see build_risk_list for the same with progress)."""
    last = None
    for last in build_risk_list(session, year, month, today, workers):
        pass
    return last[2]


def old_answer(session: Session, year: int, month: int, as_of: date, floor: Decimal | None,
               within: tuple[str, str | None] | None = None) -> Answer:
    """Every candidate read visit by visit (the list before the summary; tests compare the two)."""
    low, high = within or ("", None)
    people = [p for p in _candidates(session, year, as_of, floor) if low <= p and (high is None or p < high)]
    return Answer(candidates=people, stored=people)


def _candidates(session: Session, year: int, as_of: date, floor: Decimal | None) -> list[str]:
    """People of the jurisdiction whose year's costs up to `as_of` could reach the lowest threshold.

    Every figure a rule measures is part of the year's total cost, so a total below the lowest threshold cannot
    reach it. The sum is taken in whole fen (amounts are stored as fixed two-place text), so the filter is exact;
    every figure on the list comes from the engine in Decimal."""
    if floor is None:
        return []
    where, param = reads.scope(session.user.jurisdiction)
    rows = session.conn.execute(
        "SELECT p.id FROM households h CROSS JOIN persons p ON p.household_id = h.id "
        "CROSS JOIN visits v ON v.person_id = p.id "
        f"WHERE {where} AND v.discharged_on BETWEEN ? AND ? AND v.status = 'live' "
        "GROUP BY p.id HAVING sum(CAST(replace(v.total_cost, '.', '') AS INTEGER)) >= ? ORDER BY p.id",
        (*param, f"{year}-01-01", as_of.isoformat(), int(floor * 100)))
    return [r[0] for r in rows]


def _who(session: Session, people: list[str]) -> dict[str, sqlite3.Row]:
    """Who each person is and where the household lives, as the list shows them, read at once."""
    return {r["id"]: r for r in session.conn.execute(
        "SELECT p.id, p.name, p.id_number, p.relation_to_head, h.address, h.region_code, "
        "coalesce(head.name, '') AS head_name FROM json_each(?) j CROSS JOIN persons p ON p.id = j.value "
        "JOIN households h ON h.id = p.household_id LEFT JOIN persons head ON head.id = h.head_person_id",
        (json.dumps(people),))}


def _entry(session: Session, who: sqlite3.Row, year: int, month: int, as_of: date) -> RiskEntry | None:
    """The person's entry with every figure from the engine: the year settled again up to the month's end, and for
    each earlier month with bills until the first at whose end the test was met (the list before stored results)."""
    person_id = who["id"]
    result_on, days = bills.year_results(session, person_id, year, as_of.isoformat())
    result = result_on(as_of.isoformat())
    if result is None or result.risk is None or not result.risk.reached:
        return None
    first = month
    for earlier in sorted({date.fromisoformat(day).month for day in days if day < f"{year}-{month:02d}-01"}):
        then = result_on(month_end(year, earlier).isoformat())
        if then is not None and then.risk is not None and then.risk.reached:
            first = earlier
            break
    return risk_entry(who, result, first, reads.categories_on(session.conn, person_id, as_of.isoformat()))


def risk_entry(who: sqlite3.Row, result: SettleResult, first: int, categories: tuple[str, ...]) -> RiskEntry:
    """One line of the list: who and where, and the figures of the year's result up to the month's end."""
    totals = result.totals()
    return RiskEntry(
        person_id=who["id"], name=who["name"], id_number=who["id_number"], head_name=who["head_name"],
        relation_to_head=who["relation_to_head"], address=who["address"], region_code=who["region_code"],
        categories=categories, applied_category=result.applied_category, visits=len(result.visits),
        total_cost_fen=fen(sum((v.total_cost for v in result.visits), ZERO)),
        policy_covered_fen=fen(sum((v.policy_covered for v in result.visits), ZERO)),
        **{f"{name}_fen": fen(totals[name]) for name in (
            "basic_paid", "serious_illness_paid", "assistance_paid", "tilt_assistance_paid",
            "application_assistance_paid", "re_assistance_paid", "personal_pay")},
        measured_fen=fen(result.risk.amount), rule=rule_of(result.risk), first_month=first)

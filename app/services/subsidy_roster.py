"""资助参保 (premium_subsidy) roster for a coming year: who, under which category and rule, and how much.

The rules and their choice are the engine's (app/policy/tiers/premium.py: premium_options): every rule of the
policy's 资助参保 section that covers one of the person's categories, terms on the roster's date. Choices made here,
where the documents leave it to the one who draws up the roster:

- The date that decides is 1 January of the roster's year, the first day of the year the contribution pays for:
  a category period valid on that day counts (one ending on 31 December before does not; one certified to start
  on 1 January does). 湘医保通知(2022-06-20) 一(一): those certified after the 集中参保缴费期 “不再追补参保资助费用”,
  so a roster is drawn up from the periods as recorded when the contributions are collected; draw it again after
  importing the latest lists.
- The amount: 全额 is the year's individual contribution; 比例 that contribution times the share, rounded half-up
  to the fen; 定额 the fixed amount (a county's local parameter where the policy leaves it to the county; the
  resolver refuses, naming it, when it is not set). The contribution itself is set each year by the 筹资 notice
  (芜医保〔2021〕76号 二(一)1 “在每年医保筹资文件中明确”): the roster takes it as given, else from the policy's
  dated 个人缴费 where the county has written that notice's value there, and refuses without either.
- 就高: among the person's rules the one paying the most applies, once (不得重复资助); on a tie, the rule the policy
  lists first. A 定额 amount above the contribution is refused as a data error rather than paid.
- Insurance: the enrolment of the roster's year if recorded, else the latest one before, else 城乡居民医保. Every
  document subsidises the individual contribution to the residents' scheme (城乡居民医保, or 新农合 / 城镇居民医保
  before 2019); 职工医保 members are listed apart (湘医保通知(2022-06-20) 一(一) says so in as many words).
- ID numbers in full: the roster is used to collect contributions and pay subsidies per person.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from app.domain.case import CaseError
from app.domain.money import ZERO, fmt, pct, round_fen
from app.domain.names import DEFAULT_INSURANCE, INSURANCE_SCHEMES
from app.policy.tiers.premium import PremiumOption, premium_options
from app.policy.tiers.premium import contribution as premium_contribution  # the roster's own `contribution` is the input
from app.services import validate
from app.services.county import engine
from app.services.places import place_name, township_and_village
from app.services.session import Session
from app.store import clock, reads
from app.domain.errors import FieldError

NEEDED_FOR = "编制资助参保名单"
EMPLOYEE_SCHEME = "职工医保"
RESIDENT_SCHEMES = tuple(s for s in INSURANCE_SCHEMES if s != EMPLOYEE_SCHEME)
MODE_NAMES = {"全额": "全额资助", "比例": "按比例资助", "定额": "定额资助"}


@dataclass(frozen=True)
class Person:
    """Who a roster line is about, and where they live."""

    person_id: str
    name: str
    id_number: str
    head_name: str
    relation_to_head: str
    address: str
    region_code: str
    township: str
    village: str
    insurance: str
    categories: tuple[str, ...]      # held on the roster's date, as recorded


@dataclass(frozen=True)
class SubsidyEntry:
    """One person's subsidy: the category that gives the most, its rule and the amount."""

    person: Person
    category: str
    certified_by: str
    mode: str                        # 全额, 比例 or 定额
    share: Decimal | None            # of the contribution (1 for 全额); None for 定额
    contribution: Decimal
    amount: Decimal
    reference: str
    note: str                        # the other rules the person qualified for, when 就高 chose among several

    @property
    def rule(self) -> str:
        return rule_text(self.mode, self.share)


@dataclass(frozen=True)
class Unlisted:
    """A person holding a category on the date who gets no subsidy, and why."""

    person: Person
    reason: str


@dataclass(frozen=True)
class SubsidyRoster:
    """The coming year's roster within one jurisdiction."""

    year: int
    on: date
    jurisdiction: str
    place: str
    policy_id: str
    policy_title: str
    policy_document: str
    contributions: dict[str, Decimal]
    contribution_sources: dict[str, str]  # scheme → where the policy file declares it (absent: given for the roster)
    category_order: tuple[str, ...]  # the policy's categories in its order of precedence
    entries: tuple[SubsidyEntry, ...]
    unlisted: tuple[Unlisted, ...]
    generated_at: datetime

    @property
    def total(self) -> Decimal:
        return sum((e.amount for e in self.entries), ZERO)

    def by_category(self) -> list[tuple[str, str, int, Decimal]]:
        """(资助类别, 资助方式, 人数, 金额) for each category on the roster, in the policy's order of categories."""
        groups: dict[tuple[str, str], list[Decimal]] = defaultdict(list)
        for e in self.entries:
            groups[(e.category, e.rule)].append(e.amount)
        rank = {c: i for i, c in enumerate(self.category_order)}
        return sorted(((c, r, len(a), sum(a, ZERO)) for (c, r), a in groups.items()),
                      key=lambda g: (rank.get(g[0], len(rank)), g[1]))


def contributions(raw: object) -> dict[str, Decimal]:
    """The year's individual contribution per residents' scheme: one amount for all of them, or {scheme: amount}."""
    if raw is None or raw == "" or raw == {}:
        return {}
    items = raw.items() if isinstance(raw, Mapping) else ((s, raw) for s in RESIDENT_SCHEMES)
    out = {}
    for scheme, value in items:
        if scheme not in RESIDENT_SCHEMES:
            raise FieldError("contribution", f"险种“{scheme}”不是城乡居民医保类险种，应为 {'、'.join(RESIDENT_SCHEMES)} 之一")
        amount = validate.money(value, "contribution")
        if amount <= 0:
            raise FieldError("contribution", "个人缴费标准应大于 0（元/人·年）")
        out[scheme] = amount
    return out


def declared_contribution(session: Session, year: int, scheme: str = DEFAULT_INSURANCE) -> tuple[Decimal, str] | None:
    """The contribution the county's policy file declares (个人缴费) for a scheme in `year`, with its clause; None if
    it declares none. A value left to an unset local parameter is a FieldError naming it."""
    if not isinstance(year, int) or year < 2000:
        return None
    eng = engine(session)
    try:
        return premium_contribution(eng.policy, eng.resolver.value, scheme, date(year, 1, 1), NEEDED_FOR)
    except CaseError as exc:
        if exc.field == "visits.date":
            return None  # the file's contribution starts after that year: nothing declared for it
        raise


def build_subsidy_roster(session: Session, year: int, contribution: object,
                         today: date | None = None) -> Iterator[tuple[int, int, SubsidyRoster | None]]:
    """Build the roster, yielding (done, total, None) per person and finally (total, total, the roster)."""
    today = today or clock.today()
    if not isinstance(year, int) or not 2000 <= year <= today.year + 1:
        raise FieldError("year", f"资助参保年度应在 2000 年至 {today.year + 1} 年之间（收到 {year!r}）")
    paid_for = contributions(contribution)
    sources: dict[str, str] = {}
    for scheme in RESIDENT_SCHEMES:
        declared = None if scheme in paid_for else declared_contribution(session, year, scheme)
        if declared is not None:
            paid_for[scheme], sources[scheme] = declared[0], f"本县政策文件，{declared[1]}"
    eng = engine(session)
    on = date(year, 1, 1)
    if on < eng.policy.effective:
        raise FieldError("year", f"{on} 早于本县政策（{eng.policy.document}）的施行日期 {eng.policy.effective}，"
                                 f"请选用当时有效的政策")
    people = _people(session, on)
    entries, unlisted = [], []
    for done, (person, held) in enumerate(people, start=1):
        line = _line(session, person, held, on, paid_for)
        (entries if isinstance(line, SubsidyEntry) else unlisted).append(line)
        yield done, len(people), None
    scope = session.user.jurisdiction
    yield len(people), len(people), SubsidyRoster(
        year=year, on=on, jurisdiction=scope, place=place_name(scope, session.store.setting("county") or {}),
        policy_id=eng.policy.id, policy_title=eng.policy.title, policy_document=eng.policy.document,
        contributions=paid_for, contribution_sources=sources, category_order=tuple(d.name for d in eng.policy.categories), entries=tuple(entries), unlisted=tuple(unlisted), generated_at=clock.local_now())


def subsidy_roster(session: Session, year: int, contribution: object, today: date | None = None) -> SubsidyRoster:
    """The roster (see build_subsidy_roster for the same with progress)."""
    last = None
    for last in build_subsidy_roster(session, year, contribution, today):
        pass
    return last[2]


def _people(session: Session, on: date) -> list[tuple[Person, list[tuple[str, str]]]]:
    """Everyone of the jurisdiction with a category period valid on `on`, with (category, certified_by) of each."""
    where, param = reads.scope(session.user.jurisdiction)
    day = on.isoformat()
    conn = session.conn
    rows = conn.execute(
        "SELECT p.id, p.name, p.id_number, p.relation_to_head, h.address, h.region_code, "
        "coalesce(head.name, '') AS head_name, c.category, c.certified_by, "
        "(SELECT e.insurance FROM enrollments e WHERE e.person_id = p.id AND e.year <= ? "
        " ORDER BY e.year DESC LIMIT 1) AS insurance "
        "FROM households h CROSS JOIN persons p ON p.household_id = h.id "
        "CROSS JOIN category_periods c ON c.person_id = p.id LEFT JOIN persons head ON head.id = h.head_person_id "
        f"WHERE {where} AND c.valid_from <= ? AND (c.valid_to IS NULL OR c.valid_to >= ?) "
        "ORDER BY h.region_code, h.address, p.relation_to_head != '户主', p.name, p.id, c.category",
        (on.year, *param, day, day))
    people: dict[str, tuple[dict, list[tuple[str, str]]]] = {}
    for r in rows:
        people.setdefault(r["id"], (dict(r), []))[1].append((r["category"], r["certified_by"]))
    out = []
    for person_id, (r, held) in people.items():
        township, village = township_and_village(r["region_code"])
        out.append((Person(person_id, r["name"], r["id_number"], r["head_name"], r["relation_to_head"], r["address"],
                           r["region_code"], township, village, r["insurance"] or DEFAULT_INSURANCE,
                           tuple(dict.fromkeys(c for c, _ in held))), held))
    return out


def _line(session: Session, person: Person, held: list[tuple[str, str]], on: date,
          paid_for: dict[str, Decimal]) -> SubsidyEntry | Unlisted:
    eng = engine(session)
    if person.insurance == EMPLOYEE_SCHEME:
        return Unlisted(person, "已参加职工医保：资助参保只资助参加城乡居民医保的个人缴费部分")
    try:
        cands = eng.candidates(person.categories, None)
        options = premium_options(eng.policy, eng.resolver.value, cands, person.insurance, on, eng.resolver.local)
    except CaseError as exc:
        raise exc.under(exc.field, exc.label, f"{person.name}（{person.id_number}）：{exc.message}") from None
    if not options:
        # The policy's own word on these categories, where it has one (黔南: 稳定脱贫人口 “不再享受资助参保”).
        said = [d.note for d in eng.policy.categories if d.name in cands and d.note and "资助" in d.note]
        return Unlisted(person, f"本政策（{eng.policy.document}）没有为{'、'.join(person.categories)}"
                                f"（参加{person.insurance}）规定资助参保" + (f"：{said[0]}" if said else ""))
    contribution = paid_for.get(person.insurance)
    if contribution is None:
        raise FieldError("contribution", f"{on.year} 年度{person.insurance}个人缴费标准未填写：资助金额按它计算"
                                         f"（全额、按比例资助，定额资助也不能超过它），由当年医保筹资文件确定，"
                                         f"请填写（元/人·年）")
    priced = [(_amount(session, o, contribution, person), o) for o in options]
    amount, best = max(priced, key=lambda p: p[0])  # the first of equal amounts: the rule the policy lists first
    others = [f"{o.category}（{rule_text(o.mode, o.share)}，{fmt(a)} 元）" for a, o in priced if o is not best]
    note = f"同时符合{'、'.join(others)}，按就高原则只资助一次" if others else ""
    canonical = eng.index.canonical
    certified = "、".join(dict.fromkeys(by for c, by in held if canonical.get(c, c) == best.category)) or "—"
    return SubsidyEntry(person, best.category, certified, best.mode, best.share, contribution, amount,
                        best.reference, note)


def _amount(session: Session, option: PremiumOption, contribution: Decimal, person: Person) -> Decimal:
    if option.share is not None:
        return round_fen(contribution * option.share)
    amount = option.amount
    if amount is None:
        amount = engine(session).resolver.local_value(option.local, NEEDED_FOR)  # CaseError: an FieldError
    if amount is None or amount > contribution:
        shown = "不设" if amount is None else f"{fmt(amount)} 元"
        param = engine(session).policy.locals.get(option.local) if option.local else None
        raise FieldError(f"local.{option.local}" if option.local else "policy",
                         f"{option.category}定额资助标准为 {shown}，与个人缴费标准 {fmt(contribution)} 元不相称"
                         f"（资助的是个人缴费部分），请核对（{option.reference}）", param.label if param else None)
    return amount


def rule_text(mode: str, share: Decimal | None) -> str:
    """A rule as a roster says it: 全额资助, 按比例资助 90%, 定额资助."""
    return MODE_NAMES[mode] + (f" {pct(share)}" if mode == "比例" and share is not None else "")

"""政策测算 (fund simulation): the county's real year settled under proposed rules beside the current ones, writing nothing.

黔南 三(四) leaves the 倾斜救助 rate and limit to each county "根据医疗救助基金支撑能力确定"; 湖南 六(二) asks for
"科学做好医疗救助资金需求测算"; 芜湖 二(二)5 grants 倾斜救助 "可视医疗救助资金筹集情况". This answers the question
they put: what would the fund pay? Every person-year of the jurisdiction is settled once under the county's current
policy and local values (the 现行 column, which is what the stored settlements hold) and once under each proposal:
other local values (several side by side), from a date if given, and/or another policy file.

Nothing is written: the records are read in one snapshot and settled in memory (app/services/simulation_settle.py).
For the year under way the figures cover the bills recorded so far; `full_year` scales the money by the days
elapsed (a plain linear projection, said so wherever it is shown).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

from app.domain.errors import FieldError
from app.policy.engine import Engine
from app.policy.loader import LoadedPolicy, PolicyError, load_file
from app.policy.resolver import UNIVERSAL_LABEL, UNIVERSAL_LOCAL
from app.services import validate
from app.services.county import engine as county_engine
from app.services.places import place_name
from app.services.session import Session
from app.services.simulation_settle import Settled, join, read_and_settle, settle_part
from app.services.year_columns import concat, person_ranges, read_ranges
from app.services.simulation_tables import Tally, Tables
from app.store import clock

CURRENT = "现行"
MAX_SCENARIOS = 8   # columns a page, a sheet and one printed page can still hold side by side
PART = 5000         # person-years settled between two progress reports
PIECES = 16         # person ranges a year is read in (a county's: about 30,000 people each)


@dataclass(frozen=True)
class Proposal:
    """One proposed column: local values to change (key → value as typed) and/or another policy file."""

    name: str
    local: dict[str, str] = field(default_factory=dict)
    policy_file: Path | None = None


@dataclass(frozen=True)
class Scenario:
    """A column of the simulation: its name, what it changes in words, and the engine that settles it."""

    name: str
    changes: str
    engine: Engine


@dataclass(frozen=True)
class Simulation:
    """The result: every figure current beside proposed, as tables the page, the workbook and the PDF all show."""

    year: int
    place: str
    jurisdiction: str
    policy: str                       # the current policy, as its document number
    scenarios: tuple[tuple[str, str], ...]   # (name, what it changes), 现行 first
    first_day: date
    last_day: date                    # the data run to this discharge date
    scale: Decimal | None             # the full-year factor, when the money is scaled
    people: int
    visits: int
    tables: Tables
    generated_at: datetime

    @property
    def period(self) -> str:
        whole = self.last_day == date(self.year, 12, 31)
        return f"{self.year}年" if whole else f"{self.year}年1月1日至{self.last_day.month}月{self.last_day.day}日"

    @property
    def scale_text(self) -> str:
        if self.scale is None:
            return ""
        days = (self.last_day - self.first_day).days + 1
        return (f"金额按已过 {days} 天线性折算为全年（× {self.scale:.4f}）；人数、人次和按月数字为实际数，"
                f"未折算")

    def heading(self, unit: str = "元") -> list[str]:
        """The lines every output puts above the figures: what was run, on which data, what each column changes."""
        lines = [f"测算范围：{self.place}（{self.jurisdiction or '全部'}）　{self.period}已录入的账单 {self.people:,} 人、"
                 f"{self.visits:,} 人次　现行政策：{self.policy}　生成时间：{self.generated_at:%Y-%m-%d %H:%M}　"
                 f"金额单位：{unit}"]
        lines.append("；".join(f"{name}：{changes}" for name, changes in self.scenarios))
        if self.scale_text:
            lines.append(self.scale_text)
        lines.append("测算只读取记录，不改变任何结算；决定调整后须按规定修改地方参数并重新结算。")
        return lines


@dataclass(frozen=True)
class LocalChoice:
    """A local value the county may change, as the page offers it: key, label, unit and its value today."""

    key: str
    label: str
    unit: str
    current: str
    note: str


def local_choices(session: Session) -> list[LocalChoice]:
    """The current policy's local parameters with the county's values today (and their dated changes)."""
    policy = county_engine(session).policy
    local = session.store.setting("local", {}) or {}
    dated = session.store.setting("local_dated", {}) or {}
    out = []
    for key, param in policy.locals.items():
        current = str(local.get(key, "未设"))
        later = "；".join(f"自 {e['from']} 起 {e['value']}" for e in dated.get(key, []))
        out.append(LocalChoice(key, param.label, param.unit, current + (f"（{later}）" if later else ""),
                               param.note or param.reference))
    return out


def parse_assignments(items: Sequence[str]) -> list[dict[str, str]]:
    """`--local KEY=VALUE` items as proposals' local values: several values of a key separated by "/" (e.g.
    tilt_rate=50%/60%/70%) make one proposal each; keys with several values must have as many, taken in step."""
    wanted: dict[str, list[str]] = {}
    for item in items:
        key, sep, value = str(item).partition("=")
        key = key.strip()
        if not sep or not key or not value.strip():
            raise FieldError("local", f"“{item}”请写成 键=值，例如 tilt_rate=60%；几个值并列比较写成 tilt_rate=50%/60%/70%",
                             "地方参数")
        if key in wanted:
            raise FieldError("local", f"地方参数 {key} 写了两次，几个值并列比较请写在一起：{key}=值1/值2", "地方参数")
        wanted[key] = [v.strip() for v in value.split("/")]
        if any(not v for v in wanted[key]):
            raise FieldError("local", f"“{item}”中有空的值", "地方参数")
    counts = {len(v) for v in wanted.values() if len(v) > 1}
    if len(counts) > 1:
        raise FieldError("local", "几个地方参数都列了多个值时，值的个数必须相同（逐列对应）："
                                  + "；".join(f"{k} {len(v)} 个" for k, v in wanted.items() if len(v) > 1), "地方参数")
    n = counts.pop() if counts else 1
    return [{k: (v[i] if len(v) > 1 else v[0]) for k, v in wanted.items()} for i in range(n)]


def proposals_from(local_items: Sequence[str], policy_file: Path | None) -> list[Proposal]:
    """The CLI's proposals: one per value of a "/"-list, each with the policy file if one is given."""
    sets = parse_assignments(local_items) if local_items else [{}]
    if sets == [{}] and policy_file is None:
        raise FieldError("local", "请给出要测算的变化：--local 键=值（可写多个值 50%/60%/70% 并列比较）或 --policy 政策文件",
                         "测算方案")
    return [Proposal(f"方案{i}" if len(sets) > 1 else "方案", s, policy_file) for i, s in enumerate(sets, start=1)]


def scenarios(session: Session, proposals: Sequence[Proposal], start: date | str | None = None) -> list[Scenario]:
    """现行 and each proposal as an engine; a value the policy refuses is refused here, naming the local."""
    if not proposals:
        raise FieldError("local", "请至少添加一个测算方案", "测算方案")
    if len(proposals) > MAX_SCENARIOS:
        raise FieldError("local", f"最多并列 {MAX_SCENARIOS} 个方案，请分次测算", "测算方案")
    start_day = validate.day(start, "valid_from", "生效日期", allow_future=True) if start else None
    current = county_engine(session)
    base_local = dict(session.store.setting("local", {}) or {})
    base_dated = {k: list(v) for k, v in (session.store.setting("local_dated", {}) or {}).items()}
    out = [Scenario(CURRENT, f"本县现行政策（{current.policy.document}）和地方参数", current)]
    for p in proposals:
        if not p.local and p.policy_file is None:
            raise FieldError("local", f"{p.name}没有填写任何要调整的值，请填写或删去这一列", "测算方案")
        loaded = _policy(p.policy_file) if p.policy_file is not None else current.loaded
        local, dated = _locals(loaded, base_local, base_dated, p.local, start_day)
        try:
            eng = Engine(loaded, local, dated)   # checks every value against the policy's declaration
        except FieldError as exc:
            raise exc.under(exc.field, exc.label, f"{p.name}：{exc.message}") from None
        out.append(Scenario(p.name, _changes(loaded, current.loaded, p, start_day), eng))
    return out


def _policy(path: Path) -> LoadedPolicy:
    try:
        return load_file(Path(path))
    except PolicyError as exc:
        raise FieldError("policy", str(exc), "政策文件") from None


def _locals(loaded: LoadedPolicy, base: dict, dated: dict, changes: dict[str, str],
            start: date | None) -> tuple[dict, dict]:
    """The county's values the policy declares, with the proposal's changes: from `start` as a dated value, or in
    place of the value (and of its dated changes) for the whole year."""
    declared = set(loaded.policy.locals) | {UNIVERSAL_LOCAL}
    local = {k: v for k, v in base.items() if k in declared}
    dated = {k: v for k, v in dated.items() if k in declared}
    for key, value in changes.items():
        if start is None:
            local[key] = value
            dated.pop(key, None)
        else:
            entries = [e for e in dated.get(key, []) if e["from"] != start.isoformat()]
            dated[key] = sorted([*entries, {"from": start.isoformat(), "value": value}], key=lambda e: e["from"])
    return local, dated


def _changes(loaded: LoadedPolicy, current: LoadedPolicy, p: Proposal, start: date | None) -> str:
    parts = []
    if p.policy_file is not None:
        parts.append(f"政策文件 {Path(p.policy_file).name}（{loaded.policy.document}，版本 {loaded.version}）"
                     if loaded.version != current.version else f"政策文件 {Path(p.policy_file).name}（与现行相同）")
    for key, value in p.local.items():
        param = loaded.policy.locals.get(key)
        parts.append(f"{param.label if param else UNIVERSAL_LABEL if key == UNIVERSAL_LOCAL else key} {value}")
    text = "；".join(parts) or "不作改变"
    return text + (f"（自 {start} 起）" if start is not None and p.local else "")


def simulate(session: Session, year: int, proposals: Sequence[Proposal], start: date | str | None = None,
             full_year: bool = False) -> Iterator[tuple[int, int, Simulation | None]]:
    """Settle the year under 现行 and each proposal; yields (done, total, None) as person-years are settled, and
    finally (total, total, the Simulation). Reads only: nothing is written, whoever runs it."""
    session.require("simulate")
    today = clock.today()
    if not isinstance(year, int) or not 2000 <= year <= today.year:
        raise FieldError("year", f"年度应为 2000 年至今年（{today.year}）之间的年份", "年度")
    runs = scenarios(session, proposals, start)
    last = min(today, date(year, 12, 31))
    engines = [s.engine for s in runs]
    key = _year_key(session, year, last)
    kept = session._cache.get("simulation_year")
    columns: list[Settled] = []
    if kept is not None and kept[0] == key:
        data = kept[1]
        total = data.people * len(runs)
        done = 0
        for engine in engines:
            parts = []
            # In parts, so that progress shows and a cancel stops between two of them.
            for lo in range(0, data.people, PART):
                part = data.part(lo, min(lo + PART, data.people))
                parts.append(settle_part(engine, part))
                done += part.people
                yield done, total, None
            columns.append(join(parts))
    else:
        # Read by person range, and each range settled under every column where it was read: in worker processes
        # side by side for a big file (year_columns.read_ranges). Progress counts the ranges.
        pieces = [(session.user.jurisdiction, year, last.isoformat(), first, final, None, engines, False)
                  for first, final in person_ranges(session.conn, PIECES)]
        read = []
        for piece in read_ranges(session.conn, session.store.path, pieces, read_and_settle):
            read.append(piece)
            yield len(read), len(pieces), None
        data = concat([d for d, _ in read])
        columns = [join([s[c] for _, s in read]) for c in range(len(engines))]
        # Kept while the records stay as they were: an officer trying value after value waits for the settling only.
        session._cache["simulation_year"] = (key, data)
    if not data.people:
        raise FieldError("year", f"{year} 年在您的管辖范围内没有已录入的账单，无法测算", "年度")
    tally = Tally(data, engines)
    for column, settled in enumerate(columns):
        tally.add(column, settled)
    total = data.people * len(runs)
    first = date(year, 1, 1)
    scale = None
    if full_year and last < date(year, 12, 31):
        scale = Decimal((date(year, 12, 31) - first).days + 1) / Decimal((last - first).days + 1)
    county = session.store.setting("county") or {}
    yield total, total, Simulation(
        year=year, place=place_name(session.user.jurisdiction, county), jurisdiction=session.user.jurisdiction,
        policy=runs[0].engine.policy.document, scenarios=tuple((s.name, s.changes) for s in runs),
        first_day=first, last_day=last, scale=scale, people=data.people, visits=data.visits, tables=tally.tables(session.conn, [s.name for s in runs], scale),
        generated_at=clock.local_now())


def _year_key(session: Session, year: int, last: date) -> tuple:
    """What the year's columns kept in the session were read for. Every change of a record appends to the audit log,
    so its head (count and hash) says whether anything changed since."""
    head = session.conn.execute("SELECT count, hash FROM audit_head").fetchone()
    return year, last, session.user.jurisdiction, tuple(head) if head is not None else None


def run(session: Session, year: int, proposals: Sequence[Proposal], start: date | str | None = None,
        full_year: bool = False) -> Simulation:
    """The simulation without progress (the CLI, tests)."""
    result = None
    for _, _, result in simulate(session, year, proposals, start, full_year):
        pass
    return result

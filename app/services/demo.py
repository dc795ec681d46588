"""A synthetic demo county on real village codes: faker names, valid ID numbers, categories and a year of bills.

Everything it writes is invented except the 统计用区划代码 of 南陵县 (resources/regions). The county's
local policy values below are demonstration figures, not any county's decision.
"""

from __future__ import annotations

import json
import random
from collections.abc import Iterator
from datetime import date, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING

from app.domain.errors import FieldError
from app.domain.idnumber import check_digit
from app.domain.money import fmt
from app.domain.names import initials
from app.domain.regions import regions
from app.services import bills, county, users
from app.services.session import Session
from app.store import clock, records
from app.store.clock import new_id, now
from app.store.db import transaction

if TYPE_CHECKING:
    from faker import Faker

COUNTY_CODE = "340223"
DEMO_POLICY = "wuhu-2022"
# Demonstration values for the local parameters wuhu-2022 leaves to the county (plausible, invented).
DEMO_LOCAL = {"basic_deductible_primary": "200", "basic_deductible_county": "500", "basic_deductible_city": "700",
              "basic_deductible_province": "1000", "basic_inpatient_rate": "70%", "basic_chronic_deductible": "0",
              "basic_chronic_rate": "60%", "basic_annual_cap": "300000", "serious_illness_deductible": "15000",
              "serious_illness_rate": "60%"}
DEMO_PASSWORD = "jiuzhu-demo"
# Share of people in each category, roughly as a rural county's rosters run.
CATEGORY_MIX = (("特困人员", 0.012, "民政"), ("低保对象", 0.06, "民政"), ("返贫致贫人口", 0.004, "乡村振兴"),
                ("监测对象", 0.02, "乡村振兴"), ("脱贫不稳定人口", 0.01, "乡村振兴"), ("边缘易致贫人口", 0.01, "乡村振兴"),
                ("稳定脱贫人口", 0.05, "乡村振兴"))
HOSPITALS = (("南陵县医院", "县级"), ("南陵县中医院", "县级"), ("芜湖市第一人民医院", "市级"), ("芜湖市第二人民医院", "市级"),
             ("安徽省立医院", "省级"), ("安徽医科大学第一附属医院", "省级"))


def id_number(rng: random.Random, region: str, born: date, male: bool) -> str:
    """A valid 18-digit ID number (GB 11643) for an invented person."""
    seq = rng.randrange(0, 500) * 2 + (1 if male else 0)
    body = f"{region}{born:%Y%m%d}{seq:03d}"
    return body + check_digit(body)


def _member(rng: random.Random, index: int, head_male: bool, head_age: int) -> tuple[str, bool, int]:
    """A household member whose relation, sex and age fit the head's: spouse, children, a parent, grandchildren."""
    if index == 1:
        return "配偶", not head_male, max(18, head_age + rng.randint(-5, 5))
    roll = rng.random()
    if roll < 0.6 and head_age >= 22:
        male = rng.random() < 0.5
        return ("子" if male else "女"), male, rng.randint(0, max(head_age - 20, 0))
    if roll < 0.75 and head_age <= 65:
        male = rng.random() < 0.4
        return "父母", male, min(100, head_age + rng.randint(20, 32))
    if head_age >= 45:
        return "孙子女", rng.random() < 0.5, rng.randint(0, max(head_age - 42, 0))
    male = rng.random() < 0.5
    return ("子" if male else "女"), male, rng.randint(0, max(head_age - 20, 0))


def _money(rng: random.Random, low: int, high: int) -> Decimal:
    return Decimal(rng.randint(low * 100, high * 100)) / 100


def _bill(rng: random.Random, year: int, town: str) -> dict:
    kind = rng.choices(("住院", "门诊慢特病", "普通门诊"), (5, 4, 1))[0]
    if kind == "住院":
        hospital, level = rng.choice(HOSPITALS)
        total = _money(rng, 1500, 80000 if level != "省级" else 200000)
        stay = rng.randint(2, 20)
    else:
        hospital, level = (f"{town}卫生院", "基层") if rng.random() < 0.6 else rng.choice(HOSPITALS[:2])
        total = _money(rng, 80, 3000 if kind == "门诊慢特病" else 400)
        stay = 0
    discharged = date(year, 1, 1) + timedelta(days=rng.randrange(365))
    covered = (total * Decimal(rng.randint(80, 98)) / 100).quantize(Decimal("0.01"))
    basic = (covered * Decimal(rng.randint(55, 75)) / 100).quantize(Decimal("0.01"))
    return {"hospital": hospital, "hospital_level": level, "kind": kind,
            "admitted_on": (discharged - timedelta(days=stay)).isoformat(), "discharged_on": discharged.isoformat(),
            "total_cost": fmt(total), "policy_covered": fmt(covered), "basic_paid": fmt(basic),
            "referred": int(level in ("市级", "省级") and rng.random() < 0.7), "in_province": 1, "major_disease": 0}


def _faker(seed) -> Faker:
    """Chinese names and addresses, repeatable from the seed."""
    from faker import Faker  # ~0.3 s to import: only making demo data needs it, never a start of the program

    fake = Faker("zh_CN")
    fake.seed_instance(seed)
    return fake


def _households(rng: random.Random, fake: Faker, n: int, year: int, taken: set[str],
                mean_visits: float) -> Iterator[dict]:
    towns, villages = regions(COUNTY_CODE)
    run = new_id()[-8:]  # invoice numbers stay unique when the demo is added to twice
    invoice = 0
    for _ in range(n):
        code, village = rng.choice(villages)
        town = towns[code[:9]]
        surname = fake.last_name()
        size = rng.choices((1, 2, 3, 4, 5, 6), (8, 20, 25, 25, 14, 8))[0]
        members = []
        head_age = rng.randint(35, 80)
        head_male = rng.random() < 0.8
        for m in range(size):
            if m == 0:
                male, age, relation = head_male, head_age, "户主"
            else:
                relation, male, age = _member(rng, m, head_male, head_age)
            born = date(year - age, rng.randint(1, 12), rng.randint(1, 28))
            given = fake.first_name_male() if male else fake.first_name_female()
            name = (surname if m == 0 or rng.random() < 0.7 else fake.last_name()) + given
            number = id_number(rng, COUNTY_CODE, born, male)
            while number in taken:  # invented numbers can collide; the registry would refuse a duplicate
                number = id_number(rng, COUNTY_CODE, born, male)
            taken.add(number)
            members.append({"name": name, "male": male, "born": born, "id_number": number, "relation": relation})
        head_cat = rng.random()
        household_category = None
        acc = 0.0
        for cat, share, dept in CATEGORY_MIX:
            acc += share  # a category is certified for the whole household
            if head_cat < acc:
                household_category = (cat, dept)
                break
        bills_by_member = []
        for _m in members:
            # Most people have no bill in a year and a few have many: a geometric-like spread around the mean.
            count = min(int(rng.expovariate(1 / mean_visits) + 0.5), 40) if mean_visits > 0 else 0
            person_bills = []
            for _b in range(count):
                invoice += 1
                person_bills.append({**_bill(rng, year, town), "invoice_number": f"DEMO{year}-{run}-{invoice:08d}"})
            bills_by_member.append(person_bills)
        yield {"code": code, "address": f"{town}{village.removesuffix('村委会').removesuffix('居委会')}"
                                          f"{rng.randint(1, 120)}号", "members": members,
               "category": household_category, "bills": bills_by_member}


# The setting that marks a database made as a demo: only such a database takes demo data (and its public password).
MARK = "demo"
# The demo county's name says so too (on screen and paper); the setting, not the name, is the test.
DEMO_MARK = "（演示）"


def is_demo(store) -> bool:
    """Whether this database was made as a demo (its window title says so)."""
    return bool(store.setting(MARK))


def start_demo(session: Session) -> bool:
    """Make an empty database a demo, with its administrator; False (nothing done) if it is not empty.

    Runs as whoever may create the first administrator of an empty database (the command line, as for init)."""
    conn = session.conn
    if conn.execute("SELECT EXISTS (SELECT 1 FROM users) OR EXISTS (SELECT 1 FROM households)").fetchone()[0]:
        return False
    with transaction(conn):
        records.put_setting(conn, session.user, MARK, {"created_at": now()}, "建立演示数据库")
    users.create_user(session, "admin", "管理员（演示）", "管理员", COUNTY_CODE, DEMO_PASSWORD)
    return True


def require_demo(session: Session) -> None:
    """Refuse demo data in a database that was not made as a demo (a county's real records)."""
    if not is_demo(session.store):
        raise FieldError("database", f"{session.store.path} 不是演示数据库：演示数据（虚构的人、账单和公开的演示密码）"
                                     f"只能写入用 jiuzhu demo 新建的空数据库，请换一个新文件名（--db）")


def new_seed() -> int:
    """A fresh seed for one demo run, so that demo sites of one training county register different people."""
    return random.SystemRandom().randrange(1, 1_000_000_000)


def build_demo(session: Session, households: int, year: int | None = None, seed: int = 2026,
               chunk: int = 500, mean_visits: float = 1.2) -> Iterator[tuple[int, int]]:
    """Generate the demo county, `chunk` households per transaction; yields (done, total).

    The seed is recorded in the setting demo_runs (with the count and year), so a run can be made again with it.

    Each chunk is written and settled in one transaction through the audited write path (every record has its
    entry and seal, as if typed in), so a crash leaves whole chunks; demo data is not meant to be resumed, but it is
    never half a household.
    """
    session.require("make_demo")
    require_demo(session)
    year = year or clock.today().year - 1
    if not users.has_admin(session.conn):
        raise RuntimeError("演示数据需要先有管理员")
    if not session.store.setting("policy_id"):
        county.configure_county(session, COUNTY_CODE, f"南陵县{DEMO_MARK}", DEMO_POLICY, DEMO_LOCAL)
    rng = random.Random(seed)
    fake = _faker(seed)
    taken = {r[0] for r in session.conn.execute("SELECT id_number FROM persons")}
    gen = _households(rng, fake, households, year, taken, mean_visits)
    with transaction(session.conn):
        runs = session.store.setting("demo_runs", [])
        records.put_setting(session.conn, session.user, "demo_runs",
                            [*runs, {"seed": seed, "households": households, "year": year, "at": now()}], "生成演示数据")
    done = 0
    while done < households:
        batch = [next(gen) for _ in range(min(chunk, households - done))]
        stamp = now()
        rows: dict[str, list[dict]] = {t: [] for t in ("households", "persons", "category_periods", "enrollments", "visits")}
        settle_people: list[str] = []
        for hh in batch:
            hid = new_id()
            pids = [new_id() for _ in hh["members"]]
            rows["households"].append({"id": hid, "region_code": hh["code"], "address": hh["address"],
                                       "head_person_id": pids[0], "created_at": stamp, "updated_at": stamp})
            for pid, m, person_bills in zip(pids, hh["members"], hh["bills"]):
                rows["persons"].append({
                    "id": pid, "household_id": hid, "name": m["name"], "name_initials": initials(m["name"]),
                    "id_type": "居民身份证", "id_number": m["id_number"],
                    "birth_date": m["born"].isoformat(), "sex": "男" if m["male"] else "女",
                    "relation_to_head": m["relation"], "created_at": stamp, "updated_at": stamp})
                rows["enrollments"].append({"id": new_id(), "person_id": pid, "year": year, "insurance": "城乡居民医保",
                                            "created_at": stamp, "updated_at": stamp})
                if hh["category"]:
                    cat, dept = hh["category"]
                    rows["category_periods"].append({
                        "id": new_id(), "person_id": pid, "category": cat,
                        "valid_from": f"{year - rng.randint(0, 3)}-{rng.randint(1, 12):02d}-01", "valid_to": None,
                        "certified_by": dept, "created_at": stamp, "updated_at": stamp})
                for b in person_bills:
                    rows["visits"].append({"id": new_id(), "person_id": pid, **b, "serious_illness_paid": None,
                                           "created_at": stamp, "updated_at": stamp})
                if person_bills:
                    settle_people.append(pid)
        with transaction(session.conn):
            for table in ("households", "persons", "category_periods", "enrollments", "visits"):
                records.insert_many(session.conn, session.user, table, rows[table], "生成演示数据")
            for pid in settle_people:
                bills.store_year(session, pid, year)
        done += len(batch)
        yield done, households


def demo_users(session: Session) -> list[str]:
    """One user per role for trying the workflow; all share the demo password."""
    towns, villages = regions(COUNTY_CODE)
    town = next(iter(towns))
    village = next(code for code, _ in villages if code.startswith(town))
    made = []
    for username, name, role, scope in (("cun", "村级经办（演示）", "村级经办", village),
                                        ("cun2", "村级经办乙（演示）", "村级经办", village),
                                        ("xiang2", "乡镇经办乙（演示）", "乡镇经办", town),
                                        ("xiang", "乡镇经办（演示）", "乡镇经办", town),
                                        ("xiangshen", "乡镇审核（演示）", "乡镇审核", town),
                                        ("yibao", "县医保审核（演示）", "县级医保审核", COUNTY_CODE),
                                        ("minzheng", "县民政审核（演示）", "县级民政审核", COUNTY_CODE),
                                        ("shenpi", "县级审批（演示）", "县级审批", COUNTY_CODE)):
        if users.find_user(session.conn, username) is None:
            users.create_user(session, username, name, role, scope, DEMO_PASSWORD)
            made.append(username)
    return made


def summary_json(session: Session) -> str:
    db = session.store.db
    counts = {t: db[t].count for t in ("households", "persons", "category_periods", "visits", "settlements")}
    return json.dumps(counts, ensure_ascii=False)


def demo_applications(session: Session, year: int | None = None, seed: int = 7, county_steps: bool = True) -> int:
    """A few 依申请救助 cases in the demo users' village, walked to different steps by the demo users.

    `county_steps` False: the demo stands for a township's laptop, where the county's steps (its opinions, 批准 and
    不予救助 at 县级审批) are never taken: those are the county installation's to take (replay.check refuses them from
    any other site), so the cases that would go further wait at 县级审批."""
    from datetime import timedelta

    from app.services import applications as apps
    from app.services import registry
    from app.services.session import Session as _Session

    year = year or clock.today().year - 1
    staff = {u: _Session(session.store, users.find_user(session.conn, u)) for u in
             ("cun", "cun2", "xiang", "xiang2", "xiangshen", "yibao", "minzheng", "shenpi")}
    if any(s.user is None for s in staff.values()):
        return 0
    village = staff["cun"].user.jurisdiction
    rng = random.Random(seed)
    fake = _faker(seed)
    taken = {r[0] for r in session.conn.execute("SELECT id_number FROM persons")}
    ends = ["draft", "township_review", "public_notice", "approved", "approved", "disbursed", "rejected"]
    past = clock.today() - timedelta(days=20)
    meeting = dict(meeting_date=past.isoformat(), attendees=11, votes_for=10, votes_against=1)
    made = 0
    for n, end in enumerate(ends):
        # Birth dates from the seed too: with fixed dates only the 3-digit sequence differs, and demo sites of one
        # training county would register the same applicant about one time in five.
        born = date(1950 + rng.randrange(25), 1 + rng.randrange(12), 1 + rng.randrange(28))
        number = id_number(rng, COUNTY_CODE, born, True)
        while number in taken:
            number = id_number(rng, COUNTY_CODE, born, True)
        taken.add(number)
        _, pid = registry.register_household(session, village, f"演示申请户 {n + 1} 号",
                                             registry.PersonInput(fake.last_name() + fake.first_name_male(), number))
        total = Decimal(60000 + 9000 * n)
        bills.record_bill(staff["cun"], pid, bills.BillInput(
            "安徽省立医院", f"{year}-03-01", f"{year}-03-20", "住院", fmt(total), fmt(total * Decimal("0.9")),
            f"DEMO-APP-{new_id()[-8:]}", "省级", fmt(total * Decimal("0.45")), fmt(total * Decimal("0.1"))))
        app_id = apps.create_application(staff["cun"], pid, year, "18000", "9600", True)
        steps = [("cun", "draft", "submit", {}), ("cun2", "village_review", "pass", meeting),
                 ("xiangshen", "township_review", "pass", {}), ("xiang", "public_notice", "close_notice", {}),
                 ("yibao", "county_approval", "medical_opinion", {}), ("minzheng", "county_approval", "civil_opinion", {}),
                 ("shenpi", "county_approval", "approve", {}), ("xiang2", "approved", "disburse", {})]
        stop = {"draft": 0, "township_review": 2, "public_notice": 3, "approved": 7, "disbursed": 8, "rejected": 6}[end]
        if not county_steps:
            stop, end = min(stop, 4), (end if stop <= 4 else "county_approval")
        for who, state, action, extra in steps[:stop]:
            # 公示 of the finished cases began three weeks ago, so its seven days are over.
            day = past if (action == "pass" and state == "township_review" and end != "public_notice") else clock.today()
            apps.act(staff[who], app_id, state, apps.Decision(action, "同意（演示）", **extra), today=day)
        if end == "rejected":
            apps.act(staff["shenpi"], app_id, "county_approval",
                     apps.Decision("reject", "家庭财产超过低收入家庭核查标准（演示）"))
        made += 1
    return made

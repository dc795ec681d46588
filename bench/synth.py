"""A synthetic county's settlement cases: people with categories and a year of visits, generated lazily."""

from __future__ import annotations

import random
from collections.abc import Iterator
from datetime import date, timedelta
from decimal import Decimal

from app.domain.case import Case, Household, Visit

# Local values for benchmarking only. They are plausible magnitudes, not any county's policy:
# the engine needs some value for every local parameter it is asked to use.
BENCH_LOCALS: dict[str, dict[str, str]] = {
    "wuhu-2022": {"basic_deductible_primary": "200", "basic_deductible_county": "500", "basic_deductible_city": "700",
                  "basic_deductible_province": "1000", "basic_inpatient_rate": "70%", "basic_chronic_deductible": "0",
                  "basic_chronic_rate": "60%", "basic_annual_cap": "300000", "serious_illness_deductible": "15000",
                  "serious_illness_rate": "60%"},
    "qiannan-2021": {"basic_deductible_primary": "200", "basic_deductible_county": "500", "basic_deductible_city": "800",
                     "basic_deductible_province": "1200", "basic_inpatient_rate": "70%", "basic_chronic_deductible": "0",
                     "basic_chronic_rate": "60%", "tilt_rate": "60%", "tilt_limit": "60000",
                     "premium_subsidy_dibao": "200", "premium_subsidy_fragile": "150"},
    "zhanjiang-2019": {"basic_deductible_primary": "300", "basic_deductible_county": "600", "basic_deductible_city": "900",
                       "basic_deductible_province": "1300", "basic_inpatient_rate": "70%",
                       "basic_inpatient_rate_primary": "70%", "referral_continuation": "是", "basic_annual_cap": "不设",
                       "serious_illness_deductible": "12000", "serious_illness_rate": "60%", "serious_illness_cap": "不设",
                       "serious_cut_tekun": "80%", "serious_rate_tekun": "80%", "serious_cut_poor": "70%",
                       "serious_rate_poor": "70%", "assistance_rate": "80%", "assistance_annual_limit": "100000",
                       "secondary_deductible": "5000", "secondary_rate": "50%", "secondary_rate_high": "50%",
                       "secondary_rate_tekun": "50%", "secondary_rate_tekun_high": "50%",
                       "secondary_grade_cost": "1000000", "secondary_limit": "50000"},
    "hunan-2022": {"per_capita_disposable_income": "31000", "serious_deductible_share": "50%",
                   "assistance_deductible_share": "5%", "basic_deductible_primary": "200",
                   "basic_deductible_county": "500", "basic_deductible_city": "800", "basic_deductible_province": "1200",
                   "basic_inpatient_rate": "70%", "basic_inpatient_rate_province": "70%", "basic_annual_cap": "不设",
                   "basic_outpatient_cap": "500",
                   "outpatient_assistance_limit": "8000", "re_assistance_rate": "50%", "re_assistance_cap": "100000",
                   "application_deductible": "5000", "application_rate": "50%", "application_limit": "50000"},
    "liupanshui-2017": {"basic_deductible_primary": "100", "basic_deductible_county": "300", "basic_deductible_city": "600",
                        "basic_deductible_province": "1000", "basic_inpatient_rate": "70%", "basic_annual_cap": "不设",
                        "serious_illness_deductible": "8000", "serious_illness_rate": "50%", "serious_illness_cap": "300000",
                        "urban_serious_illness_cap": "不设", "assistance_deductible": "0", "assistance_rate": "70%",
                        "assistance_annual_limit": "30000", "premium_dibao_rural": "30", "premium_dibao_urban": "60",
                        "premium_low_income": "10"},
}

YEAR = {"wuhu-2022": 2023, "qiannan-2021": 2022, "zhanjiang-2019": 2019, "hunan-2022": 2023, "liupanshui-2017": 2018}
INSURANCE = {"liupanshui-2017": ("新农合", "城镇居民医保")}
CATEGORY_POOL: dict[str, tuple[str, ...]] = {
    "wuhu-2022": ("特困人员", "低保对象", "返贫致贫人口", "监测对象", "稳定脱贫人口"),
    "qiannan-2021": ("特困人员", "低保对象", "脱贫不稳定人口", "边缘易致贫人口", "突发严重困难户"),
    "zhanjiang-2019": ("特困人员", "低保对象", "建档立卡贫困人口", "孤儿"),
    "hunan-2022": ("特困人员", "低保对象", "监测对象", "重度残疾人", "低保边缘家庭成员"),
    "liupanshui-2017": ("特困人员", "低保对象", "优抚对象", "低收入家庭老年人"),
}
KIND_WEIGHTS = (("住院", 5), ("门诊慢特病", 4), ("普通门诊", 1))
LEVELS = ("基层", "县级", "市级", "省级")


def _money(rng: random.Random, low: int, high: int) -> Decimal:
    return Decimal(rng.randint(low * 100, high * 100)) / 100


def _visit(rng: random.Random, n: int, day: date, policy: str) -> Visit:
    kind = rng.choices([k for k, _ in KIND_WEIGHTS], [w for _, w in KIND_WEIGHTS])[0]
    if kind == "住院":
        total = _money(rng, 2000, 60000)
    elif kind == "门诊慢特病":
        total = _money(rng, 100, 3000)
    else:
        total = _money(rng, 20, 400)
    covered = (total * Decimal(rng.randint(75, 100)) / 100).quantize(Decimal("0.01"))
    level = "基层" if kind == "普通门诊" else rng.choice(LEVELS)
    given = rng.random() < 0.7 or kind != "住院"
    basic = serious = None
    if given:
        basic = (covered * Decimal(rng.randint(50, 75)) / 100).quantize(Decimal("0.01"))
        serious = (max(covered - basic - Decimal(8000), Decimal(0)) * Decimal("0.6")).quantize(Decimal("0.01"))
    return Visit(id=f"v{n}", date=day, kind=kind, total_cost=total, policy_covered=covered, basic_paid=basic,
                 serious_illness_paid=serious, referred=rng.random() < 0.3, in_province=rng.random() < 0.9,
                 hospital_level=level, major_disease=rng.random() < 0.05)


def cases(people: int, visits_per_person: int = 10, seed: int = 20261124) -> Iterator[Case]:
    """Yield one case per person, round-robin across the five policies, without holding them all."""
    rng = random.Random(seed)
    policies = sorted(BENCH_LOCALS)
    for p in range(people):
        policy = policies[p % len(policies)]
        roll = rng.random()
        pool = CATEGORY_POOL[policy]
        if roll < 0.35:
            categories: tuple[str, ...] = ()
        elif roll < 0.9:
            categories = (rng.choice(pool),)
        else:
            categories = tuple(rng.sample(pool, 2))
        start = date(YEAR[policy], 1, 1)
        days = sorted(rng.randrange(365) for _ in range(visits_per_person))
        visits = tuple(_visit(rng, i + 1, start + timedelta(days=d), policy) for i, d in enumerate(days))
        insurance = rng.choice(INSURANCE.get(policy, ("城乡居民医保",)))
        yield Case(policy=policy, visits=visits, categories=categories, insurance=insurance,
                   local=BENCH_LOCALS[policy], household=Household(), application=False)

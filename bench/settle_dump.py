"""Every result and refusal of ~12,000 varied settlements, one line each, to diff an engine change against (not timed).

Run as `python bench/settle_dump.py ROOT OUT`: ROOT's own app/ and bench/synth.py are imported (so an older tree can be
dumped the same way), 6,000 of bench/synth.py's cases across the five policies are varied (where-treated flags, the
slip's figures left out, a missing level, categories outside the policy, 职工医保, an application with a household,
an engine whose county left a value out) and each is settled without and with explanation. A line holds the whole
settle-json result with the figures it leaves out (the 监测预警 test, the 依申请救助 ceiling, total_paid), or the
refusal's field, label and message. Two trees agree when `cmp` finds the files identical.
"""

from __future__ import annotations

import dataclasses
import json
import random
import sys
from decimal import Decimal


def main() -> None:
    root, out_path = sys.argv[1], sys.argv[2]
    sys.path.insert(0, root)
    from app.domain.case import CaseError, Household
    from app.policy.engine import Engine
    from app.policy.loader import load_policy, policies_dir
    from bench.synth import BENCH_LOCALS, CATEGORY_POOL, cases

    rng = random.Random(7)
    folder = policies_dir()

    def left_out(policy: str) -> dict:
        local = dict(BENCH_LOCALS[policy])
        key = rng.choice(sorted(local))
        if rng.random() < 0.5:
            del local[key]
        return local

    engines = {p: Engine(load_policy(p, folder), BENCH_LOCALS[p]) for p in BENCH_LOCALS}
    others = {p: [Engine(load_policy(p, folder), left_out(p)) for _ in range(3)] for p in BENCH_LOCALS}
    settled = 0
    with open(out_path, "w", encoding="utf-8") as out:
        for case in cases(6000, 6, seed=99):
            visits = list(case.visits)
            if rng.random() < 0.3:
                visits = [dataclasses.replace(
                    v, emergency=rng.random() < 0.3, in_insured_area=rng.random() < 0.7, filed_remote=rng.random() < 0.3,
                    basic_paid=None if rng.random() < 0.5 else v.basic_paid,
                    serious_illness_paid=None if rng.random() < 0.5 else v.serious_illness_paid,
                    hospital_level=None if rng.random() < 0.05 else v.hospital_level, referred=rng.random() < 0.5)
                    for v in visits]
            categories = case.categories
            if rng.random() < 0.2:
                named = CATEGORY_POOL[case.policy] + ("普通参保人", "孤儿", "nonsense")
                categories = tuple(rng.sample(named, rng.randint(1, 3)))
            insurance = "职工医保" if rng.random() < 0.05 else case.insurance
            application = rng.random() < 0.15
            household = (Household(annual_income=Decimal(rng.randint(0, 60000)),
                                   low_income_standard=Decimal(rng.randint(5000, 20000)),
                                   passes_asset_check=rng.random() < 0.8) if rng.random() < 0.3 else Household())
            case = dataclasses.replace(case, visits=tuple(visits), categories=categories, insurance=insurance,
                                       application=application, household=household)
            engine = engines[case.policy] if rng.random() < 0.8 else rng.choice(others[case.policy])
            for explain in (False, True):
                try:
                    r = engine.settle(case, explain=explain)
                    line = (json.dumps(r.to_json(), ensure_ascii=False, sort_keys=True) + " "
                            + repr((r.risk, r.application_ceiling, r.application_passes, r.total_paid)))
                    settled += len(case.visits)
                except CaseError as exc:
                    line = f"ERR {exc.field} {exc.label} {exc.message}"
                out.write(f"{explain} {line}\n")
    print(f"{settled:,} visits settled into {out_path}")


if __name__ == "__main__":
    main()

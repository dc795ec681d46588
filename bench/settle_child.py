"""One timed settling of bench/synth.py's workload by the engine of a given source tree (run by bench_settle.py).

Run as `python settle_child.py ROOT PEOPLE VISITS`: ROOT's own app/ and bench/synth.py are imported, so an older
tree's engine settles the workload its own generator makes with its own policy files and bench locals. Prints one
JSON line: visits, engine CPU seconds, the total paid and a digest of the inputs (what both trees must agree on).
"""

from __future__ import annotations

import hashlib
import json
import sys
import time
from decimal import Decimal


def _digest(h, case) -> None:
    # The generator's inputs only, in a form every tree's Case and Visit classes give alike.
    h.update(repr((case.policy, case.categories, case.insurance)).encode())
    for v in case.visits:
        h.update(repr((str(v.date), v.kind, str(v.total_cost), str(v.policy_covered), str(v.basic_paid),
                       str(v.serious_illness_paid), v.referred, v.in_province, v.hospital_level,
                       v.major_disease)).encode())


def main() -> None:
    root, people, visits = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    sys.path.insert(0, root)
    import app.policy.engine
    from app.policy.engine import Engine
    from app.policy.loader import load_policy, policies_dir
    from bench.synth import BENCH_LOCALS, cases

    folder = policies_dir()  # the tree's bundled files, never the county folder of whoever runs the bench
    engines = {p: Engine(load_policy(p, folder), BENCH_LOCALS[p]) for p in BENCH_LOCALS}
    h = hashlib.sha256()
    cpu = time.process_time
    engine_cpu = 0.0
    settled = 0
    paid = Decimal(0)
    for case in cases(people, visits):
        _digest(h, case)
        engine = engines[case.policy]
        c0 = cpu()
        result = engine.settle(case, explain=False)
        engine_cpu += cpu() - c0
        settled += len(case.visits)
        paid += result.total_paid
    print(json.dumps({"visits": settled, "engine_cpu": engine_cpu, "paid": str(paid), "inputs": h.hexdigest(),
                      "engine_file": app.policy.engine.__file__}))


if __name__ == "__main__":
    main()

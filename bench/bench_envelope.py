"""Sealing and opening a package (sign, encrypt to the county; decrypt, verify), and signing a sync batch.

A package file of --mb megabytes of incompressible bytes (the worst case: a zip's deflated records) is sealed and
opened again; wall and CPU seconds and the peak memory of the process are printed. Then the row digests and the
signature of a push batch of 20,000 rows of the person kind.

    python bench/bench_envelope.py [--mb 256]
"""

from __future__ import annotations

import argparse
import os
import resource
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from app.exchange import county_keys, envelope, keys  # noqa: E402
from bench.report import emit  # noqa: E402


def timed(fn) -> tuple[float, float]:
    wall, cpu = time.perf_counter(), time.process_time()
    fn()
    return time.perf_counter() - wall, time.process_time() - cpu


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--mb", type=int, default=256)
    ap.add_argument("--json")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="jiuzhu-bench-envelope-") as tmp:
        folder = Path(tmp)
        site, county = keys.load(folder / "site.sqlite3", "site"), keys.load(folder / "county.sqlite3", "county")
        plain = folder / "package.zip"
        with open(plain, "wb") as f:
            for _ in range(args.mb):
                f.write(os.urandom(1 << 20))
        sealed = folder / "package.jzpkg"
        seal = timed(lambda: envelope.seal(plain, sealed, site, [county.public()], "340223"))

        def unseal():
            with envelope.opened(sealed, county, lambda s: site.public(), 1 << 40):
                pass

        opened = timed(unseal)
        from app.exchange.records import Entity

        person = Entity("persons", ("id", "household_id", "name", "id_type", "id_number", "birth_date", "sex",
                                    "relation_to_head", "name_initials", "created_at", "updated_at"))
        rows = [(f"{n:036d}", f"{n // 3:036d}", "张三丰", "居民身份证", f"34022319800101{n:04d}", "1980-01-01", "男",
                 "户主", "zsf", "2026-01-01T00:00:00+00:00", "2026-01-01T00:00:00+00:00", "site", "340223100201")
                for n in range(20_000)]
        signing = timed(lambda: county_keys.sign_push(site, "site", person, rows))
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    emit([(f"seal a {args.mb} MB package (sign + encrypt to the county)",
           f"{seal[0]:.1f} s wall, {seal[1]:.1f} s CPU ({args.mb / seal[1]:.0f} MB/s CPU)", "—"),
          ("open it (decrypt + verify, to a private temporary file)",
           f"{opened[0]:.1f} s wall, {opened[1]:.1f} s CPU ({args.mb / opened[1]:.0f} MB/s CPU)", "—"),
          ("peak memory of the process", f"{peak:.0f} MB", "bounded: one 1 MB chunk at a time"),
          ("sign one push batch of 20,000 person rows (row digests + Ed25519)",
           f"{signing[0] * 1000:.0f} ms wall, {signing[1] * 1000:.0f} ms CPU", "—")], args.json)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

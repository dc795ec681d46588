"""Six townships syncing with the county at the same moment, against the same six one after another.

Builds six demo sites (300 households each by default, each from its own seed, with applications), starts a
PostgreSQL server for the run, and times two rounds of `jiuzhu sync` (each site in its own process, as on six
laptops): the first round pushes every site and pulls what was already there, the second pulls the rest. Both ways
start from the same six sites and an empty county database. Afterwards every site is compared with the county
(`check --county-url`): the figures count only if each agrees.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

import pgserver  # noqa: E402
import psycopg  # noqa: E402

from app.exchange import county_db  # noqa: E402
from bench.report import emit, machine  # noqa: E402


def jiuzhu(*args: str) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "app", *args], cwd=ROOT, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True)


def done(proc: subprocess.Popen) -> str:
    out, _ = proc.communicate()
    if proc.returncode:
        raise RuntimeError(f"{' '.join(proc.args)} exited {proc.returncode}:\n{out}")
    return out


def build_sites(folder: Path, sites: int, households: int) -> list[Path]:
    paths = []
    for n in range(sites):
        path = folder / f"site{n + 1}.sqlite3"
        done(jiuzhu("demo", "--db", str(path), "--households", str(households), "--seed", str(1000 + n), "--quiet"))
        paths.append(path)
    return paths


def round_of(paths: list[Path], url: str, together: bool) -> float:
    """One sync of every site, all started at once or each after the last; wall seconds."""
    t0 = time.perf_counter()
    if together:
        for proc in [jiuzhu("sync", "--db", str(p), "--county-url", url) for p in paths]:
            done(proc)
    else:
        for p in paths:
            done(jiuzhu("sync", "--db", str(p), "--county-url", url))
    return time.perf_counter() - t0


def run(sites: int, households: int) -> dict:
    work = Path(tempfile.mkdtemp(prefix="jiuzhu-round-"))
    server = pgserver.PgServer()
    try:
        (work / "built").mkdir()
        originals = build_sites(work / "built", sites, households)
        records = 0
        out = {}
        for way, together in (("together", True), ("one_by_one", False)):
            folder = work / way
            folder.mkdir()
            paths = [Path(shutil.copy(p, folder / p.name)) for p in originals]
            url = server.database(f"county_{way}")
            county_db.init_db(url)
            out[f"{way}_first"] = round_of(paths, url, together)
            out[f"{way}_second"] = round_of(paths, url, together)
            for p in paths:  # every site must hold exactly the county's records, or the times mean nothing
                done(jiuzhu("check", "--db", str(p), "--county-url", url))
            with psycopg.connect(url) as pg:
                records = sum(county_db.counts(pg, [e.table for e in county_db.local_entities()]).values())
        out["records"] = records
        return out
    finally:
        server.close()
        shutil.rmtree(work, ignore_errors=True)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sites", type=int, default=6)
    ap.add_argument("--households", type=int, default=300)
    ap.add_argument("--json", metavar="PATH", help="also write the figures there (bench/run.py)")
    args = ap.parse_args()
    r = run(args.sites, args.households)
    print(f"machine: {machine()}")
    print(f"{args.sites} sites of {args.households} demo households; the county holds {r['records']:,} records")
    n = args.sites
    emit([(f"{n} sites syncing at once: first round (push and pull)", f"{r['together_first']:.1f} s", "—"),
          (f"{n} sites syncing at once: second round (the rest pulled)", f"{r['together_second']:.1f} s", "—"),
          (f"the same {n} one after another: first round", f"{r['one_by_one_first']:.1f} s", "—"),
          (f"the same {n} one after another: second round", f"{r['one_by_one_second']:.1f} s", "—")], args.json)


if __name__ == "__main__":
    main()

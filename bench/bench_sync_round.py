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
import sqlite3
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
from app.services import county, demo, site_keys, users  # noqa: E402
from app.services.session import SYSTEM, Session  # noqa: E402
from app.store.store import open_store  # noqa: E402
from bench.report import emit, machine  # noqa: E402


# Syncing changes records, so it is done signed in; every demo user has this password.
SIGNED_IN = ("--user", "admin", "--password-stdin")


def jiuzhu(*args: str) -> subprocess.Popen:
    proc = subprocess.Popen([sys.executable, "-m", "app", *args], cwd=ROOT, stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    proc.stdin.write(f"{demo.DEMO_PASSWORD}\n" if "--password-stdin" in args else "")
    proc.stdin.close()
    return proc


def done(proc: subprocess.Popen) -> str:
    out = proc.stdout.read()
    proc.wait()
    if proc.returncode:
        raise RuntimeError(f"{' '.join(proc.args)} exited {proc.returncode}:\n{out}")
    return out


def build_sites(folder: Path, sites: int, households: int) -> list[Path]:
    """Demo sites from seeds 1000, 1001 …; a site that happens to invent an ID number another already holds is made
    again from the next free seed, so that the rounds time sync, not the handling of a duplicate person."""
    paths, taken, seed = [], set(), 1000
    while len(paths) < sites:
        path = folder / f"site{len(paths) + 1}.sqlite3"
        # --township: each is a township's laptop, whose cases wait for the county's steps (taken only at the
        # county's installation; the county refuses them from any other site, and the site would never agree)
        done(jiuzhu("demo", "--db", str(path), "--households", str(households), "--seed", str(seed), "--township",
                    "--quiet"))
        seed += 1
        conn = sqlite3.connect(path)
        numbers = {r[0] for r in conn.execute("SELECT id_number FROM persons")}
        conn.close()
        if numbers & taken:
            for suffix in ("", "-wal", "-shm"):
                Path(f"{path}{suffix}").unlink(missing_ok=True)
            continue
        taken |= numbers
        paths.append(path)
    return paths


def round_of(paths: list[Path], url: str, together: bool) -> float:
    """One sync of every site, all started at once or each after the last; wall seconds."""
    t0 = time.perf_counter()
    if together:
        for proc in [jiuzhu("sync", "--db", str(p), "--county-url", url, *SIGNED_IN) for p in paths]:
            done(proc)
    else:
        for p in paths:
            done(jiuzhu("sync", "--db", str(p), "--county-url", url, *SIGNED_IN))
    return time.perf_counter() - t0


def keys_exchanged(folder: Path, url: str, paths: list[Path]) -> None:
    """As before a county's first sync: its office claims the county database and registers each site's key card,
    and each site takes in the county's card."""
    office = Session(open_store(folder / "county-office.sqlite3", daily_backup=False), SYSTEM)
    sites = [Session(open_store(p, daily_backup=False), SYSTEM) for p in paths]
    try:
        users.create_user(office, "admin", "管理员", "管理员", demo.COUNTY_CODE, demo.DEMO_PASSWORD)
        county.configure_county(office, demo.COUNTY_CODE, "南陵县（演示）", sites[0].store.setting("policy_id"),
                                sites[0].store.setting("local"))
        site_keys.claim_county(office, url)
        for site in sites:
            site_keys.register_site(office, url, site_keys.card(site), demo.COUNTY_CODE)  # demo sites span the county
            site_keys.trust_county(site, site_keys.card(office))
    finally:
        for session in [office, *sites]:
            session.store.close()


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
            # Each site in a folder of its own, as on six laptops (its backups beside it, not in a shared folder).
            paths = []
            for p in originals:
                (folder / p.stem).mkdir()
                paths.append(Path(shutil.copy(p, folder / p.stem / p.name)))
            url = server.database(f"county_{way}")
            county_db.init_db(url)
            keys_exchanged(folder, url, paths)
            out[f"{way}_first"] = round_of(paths, url, together)
            out[f"{way}_second"] = round_of(paths, url, together)
            # Every site should hold exactly the county's records; a disagreement is reported with the figures (demo
            # sites can, rarely, invent the same ID number: a real duplicate that sync refuses and lists).
            checks = [jiuzhu("check", "--db", str(p), "--county-url", url) for p in paths]
            for proc in checks:
                said = proc.stdout.read()
                proc.wait()
                if proc.returncode:
                    print(said, file=sys.stderr)
            out[f"{way}_agree"] = sum(proc.returncode == 0 for proc in checks)
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
          (f"the same {n} one after another: second round", f"{r['one_by_one_second']:.1f} s", "—"),
          ("sites agreeing with the county afterwards (check --county-url)",
           f"{r['together_agree']}/{n} at once, {r['one_by_one_agree']}/{n} one by one", f"{n}/{n}")], args.json)


if __name__ == "__main__":
    main()

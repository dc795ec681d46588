"""Exchange packages at 10%, 30% and 100% of a county: export, import at the county (PostgreSQL) and at a site.

Each county is a demo county (bench/county.py) of that many households under bench/out/, copied to a scratch file
first (an export writes its position and an audit entry). Every record of the county goes into one package
(export --everything: households, people, categories, bills, settlements, audit entries …), which is then imported
into a fresh county database on a PostgreSQL server started for the run (tests/pgserver.py) and into a fresh site
database. Figures are records per second of wall and of this process's CPU time (the county import's PostgreSQL
work runs in the server's processes, so its CPU is not in that figure), and how the time grows from 10% to 100%.
The export is also timed with an empty 记录一览 workbook, to show what the readable copy costs.

The target figures are medians of --runs runs (3 by default): the export with its workbook on the full county and
the import at the county at each size. One run of the same code on the same file moved by a fifth from one hour to
the next on this machine (bench/README, stop 30), more than most changes measured here.

    python bench/bench_packages.py [--households 15000] [--skip-site] [--runs 3]
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

from app.exchange import package, trust  # noqa: E402
from app.store.errors import StoreError  # noqa: E402
from app.services import county, packages, site_keys  # noqa: E402
from app.services.demo import COUNTY_CODE, DEMO_LOCAL, DEMO_POLICY  # noqa: E402
from app.services.session import SYSTEM, Session  # noqa: E402
from app.store.db import transaction  # noqa: E402
from app.store.store import open_store  # noqa: E402
from bench.county import ensure_county  # noqa: E402
from bench.report import emit, growth, machine  # noqa: E402

SHARES = (0.1, 0.3, 1.0)


def timed(fn) -> tuple[float, float, object]:
    t0, c0 = time.perf_counter(), time.process_time()
    out = fn()
    return time.perf_counter() - t0, time.process_time() - c0, out


def median_run(runs: list[tuple]) -> tuple:
    """The run whose wall time is the median (of an odd number; the faster middle one of an even number), whole, so
    that its records, wall and CPU belong together."""
    return sorted(runs, key=lambda r: r[0])[(len(runs) - 1) // 2]


def _runs(runs: list[tuple]) -> str:
    """Each run's records per wall second, for the table: what the median was taken from."""
    return " / ".join(f"{r[-1] / r[0]:,.0f}" for r in runs)


def _county_installation(scratch: Path, db: Path) -> Path:
    """The county office's installation beside the copied county: it holds the county's keys, the site trusts them
    (so its package is sealed to the county) and it registered the site's (so it opens the package)."""
    office = scratch / "county-office.sqlite3"
    site, county_ = (Session(open_store(p, daily_backup=False), SYSTEM) for p in (db, office))
    try:
        county.configure_county(county_, "340223", "南陵县", DEMO_POLICY, DEMO_LOCAL)
        site_keys.trust_county(site, site_keys.card(county_))
        with transaction(county_.conn):
            trust.with_site(county_.store, county_.conn, county_.user, site_keys.card(site), None, "登记站点公钥")
    finally:
        site.store.close()
        county_.store.close()
    return office


def _export(db: Path, out: Path, readable: bool) -> tuple[float, float, int]:
    session = Session(open_store(db, daily_backup=False), SYSTEM)
    real = package.Readable.tee
    if not readable:  # the same package with a workbook of its summary sheet and headers only
        package.Readable.tee = lambda self, index, rows: rows
    try:
        wall, cpu, manifest = timed(lambda: packages.export_package(session, out, everything=True))
    finally:
        package.Readable.tee = real
        session.store.close()
    return wall, cpu, sum(manifest["counts"].values())


def _site_import(office: Path, pkg: Path) -> tuple[float, float]:
    # A site's package opens only with the county's keys: the county office's installation takes it in, records and
    # all, as a site takes in the county's.
    session = Session(open_store(office, daily_backup=False), SYSTEM)
    try:
        wall, cpu, _ = timed(lambda: packages.import_here(session, pkg))
    finally:
        session.store.close()
    return wall, cpu


def _county_import(server, name: str, office: Path, pkg: Path) -> tuple[float, float]:
    from app.exchange import county_db

    url = server.database(name)
    county_db.init_db(url)
    session = Session(open_store(office, daily_backup=False), SYSTEM)
    try:
        site_keys.claim_county(session, url)  # the county database takes this installation's keys as the county's
        site = Session(open_store(pkg.with_name("county.sqlite3"), daily_backup=False), SYSTEM)
        try:
            site_keys.register_site(session, url, site_keys.card(site), COUNTY_CODE)  # the bench county is one site
        finally:
            site.store.close()
        wall, cpu, _ = timed(lambda: packages.import_to_county(session, pkg, url))
    finally:
        session.store.close()
    return wall, cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--households", type=int, default=15_000, help="the 100% county")
    parser.add_argument("--db", type=Path, help="the 100%% county, copied as it is (10%% and 30%% are built)")
    parser.add_argument("--skip-site", action="store_true", help="the site import writes every record audited")
    parser.add_argument("--runs", type=int, default=3, help="runs of each target figure, of which the median is kept")
    parser.add_argument("--json", metavar="PATH", help="also write the figures there (bench/run.py)")
    args = parser.parse_args()
    out = ROOT / "bench" / "out"
    each: dict[str, list[str]] = {"export": [], "county": []}  # every run of the target figures, per size
    out.mkdir(exist_ok=True)
    try:
        import pgserver

        server = None if pgserver.available() else pgserver.PgServer()
    except Exception as exc:  # noqa: BLE001 - the county import is left out, and the table says why
        print(f"no PostgreSQL server for the county import: {exc}", file=sys.stderr)
        server = None
    figures: dict[str, list[tuple[float, float, int]]] = {k: [] for k in ("export", "records", "county", "site")}
    sizes = []
    refused: list[tuple[str, str]] = []
    try:
        for share in SHARES:
            households = int(args.households * share)
            source = args.db if args.db and share == 1.0 else out / f"growth-{households}.sqlite3"
            ensure_county(source, households).close()
            with tempfile.TemporaryDirectory(prefix="bench-packages-", dir=out) as scratch:
                scratch = Path(scratch)
                db = scratch / "county.sqlite3"
                shutil.copyfile(source, db)
                office = _county_installation(scratch, db)
                wall, cpu, n = _export(db, scratch / "records-only.jzpkg", readable=False)
                figures["records"].append((wall, cpu, n))
                pkg = scratch / "all.jzpkg"
                # The target is the county's figure; the smaller counties show its growth, once each.
                exports = [_export(db, pkg, readable=True) for _ in range(args.runs if share == 1.0 else 1)]
                figures["export"].append(median_run(exports))
                each["export"].append(_runs(exports))
                n = exports[-1][2]  # the package left is the last one's
                sizes.append(f"{households:,} households / {n:,} records / {pkg.stat().st_size / 1e6:,.0f} MB")
                if server is not None:
                    try:
                        imports = [(*_county_import(server, f"county_{households}_{i}", office, pkg), n)
                                   for i in range(args.runs)]
                        figures["county"].append(median_run(imports))
                        each["county"].append(_runs(imports))
                    except StoreError as exc:  # a package past the importer's bounds is refused whole, as it must be
                        refused.append((f"import at the county of the {int(share * 100)}% package "
                                        f"({pkg.stat().st_size / 1e6:,.0f} MB, {n:,} records)", f"refused: {exc}"))
                if not args.skip_site:
                    figures["site"].append((*_site_import(office, pkg), n))
                print(f"{households} households: " + "; ".join(
                    f"{k} {v[-1][2] / v[-1][0]:,.0f}/s wall, {v[-1][2] / v[-1][1]:,.0f}/s CPU"
                    for k, v in figures.items() if len(v) == len(sizes)), flush=True)
    finally:
        if server is not None:
            server.close()
    print(f"machine: {machine()}; counties: {'; '.join(sizes)}")

    def row(figure: str, measured: list[tuple[float, float, int]], target: str,
            server: bool = False, runs: list[str] | None = None) -> tuple[str, str, str]:
        walls = " / ".join(f"{n / w:,.0f}" for w, _, n in measured)
        cpus = " / ".join(f"{n / c:,.0f}" for _, c, n in measured)
        # CPU time, not wall: on a shared machine the wall time grows with the load as much as with the county.
        grows = growth([n for _, _, n in measured], [c for _, c, _ in measured])
        # Except where a server does the work: this process's CPU does not see it (a query scanning the whole
        # county table for each batch once hid there), so its wall time's growth is printed too.
        if server:
            grows += f"; wall time {growth([n for _, _, n in measured], [w for w, _, _ in measured])}"
        medians = ("; medians of runs at " + ", ".join(
            f"{int(s * 100)}%: {r}" for s, r in zip(SHARES, runs) if " / " in r)) if runs else ""
        return (f"{figure} at {' / '.join(f'{int(s * 100)}%' for s in SHARES[:len(measured)])} of "
                f"{args.households:,} households",
                f"{walls} records/s (per CPU second {cpus}; CPU time {grows} of the records{medians})", target)

    rows = [row("export package (every record, with 记录一览)", figures["export"], "≥ 50,000 records/s",
                runs=each["export"]),
            row("export package, 记录一览 left empty (what the records cost alone)", figures["records"], "—")]
    if figures["county"]:
        rows.append(row("import a package at the county (PostgreSQL)", figures["county"], "≥ 50,000 records/s",
                        server=True, runs=each["county"]))
    # A whole county in one package passes the 4 GB unpacked bound (app/exchange/package.py): a township's USB
    # package holds its own changes, so the bound is not raised for a benchmark; the refusal is shown instead.
    rows += [(figure, value, "refused whole, nothing written") for figure, value in refused]
    if figures["site"]:
        rows.append(row("import a package into the county office's installation (every record audited)", figures["site"], "—"))
    emit(rows, args.json)


if __name__ == "__main__":
    main()

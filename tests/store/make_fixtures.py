"""Build tests/fixtures/store-vN.sqlite3: for every released schema version, a small database written by the code of
the last commit on main where that version was the newest, so upgrade tests start from what users really hold.

    .venv/bin/python tests/store/make_fixtures.py            # every version in RELEASES
    .venv/bin/python tests/store/make_fixtures.py 4 5        # only these

Each version's commit is checked out into a temporary `git worktree` and its own code, not today's, runs there
(`BUILD` below, in a subprocess with that tree first on the path; the editable install of this checkout is taken off
the import path so that `app` cannot come from here). It writes through the services of that version: the first
admin and a township user, the county and its local values, a household of two registered by hand with a category,
an enrollment and a bill each, then (where that version has them) the demo county's households, users and
依申请救助 applications with their steps. Everything is audited as that version audited it.

Schema version 1 was never the newest on main: the first store commit (4cb74a8) shipped versions 1 and 2 together.
Its fixture is that commit's migration to version 1 (`migrate(target=1)`), filled with the rows that commit's
services wrote (at version 2) less the column version 2 added, so that upgrading from version 1 is still tested
with data a real build wrote.

When a later migration lands on main, the version before it is released: add that version with the last commit
where it was the newest to RELEASES, run this for it alone, and commit the fixture (tests/store/test_upgrades.py
picks up every store-vN.sqlite3). An old fixture is never rebuilt from newer code.
"""

from __future__ import annotations

import shutil
import sqlite3
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = ROOT / "tests" / "fixtures"
# version → the last commit on main (first-parent) where it was the newest; found with
#   for c in $(git rev-list --first-parent main); do git show $c:app/store/schema.py | grep -c "^    Migration("; done
RELEASES = {
    1: "4cb74a8",  # never the newest alone; see the module docstring
    2: "e5f6417",  # GUI tests driving the real widgets (the commit before migration 3)
    3: "396d4c3",  # edit forms (the commit before migration 4)
    4: "87f4214",  # an imported row's change holds the row (the commit before migration 5)
    5: "6820295",  # monitoring prefilter in whole fen (the commit before migration 6)
    6: "05d74a8",  # insert_many without read-back (the commit before migration 7)
    7: "615092c",  # audit log sealed in blocks (the commit before migration 8)
    8: "2d615a8",  # packages merged (the commit before migration 9, statistics summary)
    9: "183ae2b",  # block sealing verifies in Python (the commit before migration 10, sync holding)
    10: "d35e285",  # fixtures of 8 and 9 (the commit before migration 11, OS user and host, login lockout)
    11: "7b804da",  # creds merged (the commit before migration 12, explanations with a preset dictionary; 13 brings 急诊抢救 and 参保地 on bills)
    12: "893c1de",  # lean's migration renumbered (the commit before migration 13, where-treated flags on bills)
    13: "9e140af",  # scale merged (13 was newest until money2 brought 14; the next commit, cace50b, cannot build its demo)
    14: "3d08cad",  # main at the end of stop 22 (the commit before migration 15, each row naming its sealing entry)
    15: "62abeae",  # check merged: each row names its sealing entry (15 was newest until the monitoring summary)
    16: "8d6a01d",  # main at the end of stop 28 (the commit before migration 17, people counted by month pattern)
    17: "ddfad1b",  # main at the end of stop 36 (the commit before migration 18, blocks sealed in the split form)
}

BUILD = r'''
import sys
sys.meta_path[:] = [f for f in sys.meta_path if not type(f).__module__.startswith("__editable__")]
sys.path.insert(0, ".")
from datetime import date
from pathlib import Path

import app
assert Path(app.__file__).resolve().parent == Path("app").resolve(), app.__file__

from app.domain.idnumber import check_digit
from app.services import bills, county, registry, users
from app.services.session import SYSTEM, Session
from app.store.store import open_store

db, target = Path(sys.argv[1]), int(sys.argv[2])
LOCAL = {"basic_deductible_primary": "200", "basic_deductible_county": "500", "basic_deductible_city": "700",
         "basic_deductible_province": "1000", "basic_inpatient_rate": "70%", "basic_chronic_deductible": "0",
         "basic_chronic_rate": "60%", "basic_annual_cap": "300000", "serious_illness_deductible": "15000",
         "serious_illness_rate": "60%"}
YEAR, TODAY = 2024, date(2024, 12, 31)


def number(body):
    return body + check_digit(body)


store = open_store(db, daily_backup=False)
session = Session(store, SYSTEM)
try:
    from app.services import demo
except ImportError:  # the first store commit had no demo county yet
    demo = None
if hasattr(demo, "require_demo"):
    # From version 11 demo households go only into a database marked a demo when it was made (start_demo, which
    # would also make its own administrator: the fixture's is made below, with its own password).
    from app.store import records
    from app.store.clock import now
    from app.store.db import transaction

    with transaction(store.conn):
        records.put_setting(store.conn, session.user, demo.MARK, {"created_at": now()}, "建立演示数据库")
users.create_user(session, "admin", "管理员", "管理员", "340223", "fixture-admin")
admin = Session(store, users.find_user(store.conn, "admin"))
users.create_user(admin, "jishan", "籍山镇经办", "乡镇经办", "340223100", "fixture-jishan")
# From version 8 demo households go only into a county named as a demo (DEMO_MARK).
county.configure_county(admin, "340223", "南陵县" + getattr(demo, "DEMO_MARK", ""), "wuhu-2022", LOCAL)
hid, head = registry.register_household(admin, "340223100201", "籍山镇某村 1 号",
                                        registry.PersonInput("张三", number("34022319491231001")))
spouse = registry.add_member(admin, hid, registry.PersonInput("李秀英", number("34022319520315002"), "配偶"))
registry.set_category(admin, head, "低保对象", "2020-01-01", None, "民政")
for pid in (head, spouse):
    registry.set_enrollment(admin, pid, YEAR, "城乡居民医保")
# From version 6 an administrator may not record bills (segregation of duties); the township caseworker does.
clerk = Session(store, users.find_user(store.conn, "jishan"))
bills.record_bill(clerk, head, bills.BillInput("南陵县医院", "2024-03-01", "2024-03-10", "住院", "12000.00",
                                               "10000.00", "FIXTURE-1", "县级", "6000.00", "0.00"), today=TODAY)
bills.record_bill(clerk, spouse, bills.BillInput("芜湖市第一人民医院", "2024-05-02", "2024-05-20", "住院",
                                                 "48000.50", "40000.00", "FIXTURE-2", "市级"), today=TODAY)
if demo is not None:
    demo.demo_users(admin)
    for _ in demo.build_demo(admin, 6, YEAR, seed=11):
        pass
    if hasattr(demo, "demo_applications"):
        demo.demo_applications(admin, YEAR)
store.close()

if target == 1:
    # The same rows in a database that this commit's migrations took to version 1 only.
    from app.store.db import connect
    from app.store.store import migrate

    full = db.with_name("full.sqlite3")
    db.rename(full)
    for suffix in ("-wal", "-shm"):
        Path(f"{db}{suffix}").unlink(missing_ok=True)
    conn = connect(db)
    migrate(conn, None, target=1)
    conn.execute("ATTACH DATABASE ? AS full", (str(full),))
    tables = [r[0] for r in conn.execute("SELECT name FROM main.sqlite_master WHERE type = 'table' "
                                         "AND name != 'schema_migrations'")]
    with conn:
        for t in tables:
            cols = ", ".join(r[1] for r in conn.execute(f"PRAGMA main.table_info({t})"))
            conn.execute(f"INSERT INTO main.{t} ({cols}) SELECT {cols} FROM full.{t}")
    conn.execute("DETACH DATABASE full")
    conn.close()
'''


def build(version: int, commit: str, work: Path) -> Path:
    """The fixture of one version, built in a worktree of its commit; its path."""
    tree = work / f"v{version}"
    subprocess.run(["git", "worktree", "add", "--detach", str(tree), commit], cwd=ROOT, check=True,
                   capture_output=True)
    try:
        db = work / f"store-v{version}.sqlite3"
        subprocess.run([sys.executable, "-c", BUILD, str(db), str(version)], cwd=tree, check=True)
        conn = sqlite3.connect(db)
        got = conn.execute("PRAGMA user_version").fetchone()[0]
        # One self-contained file: no WAL beside it.
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        conn.execute("PRAGMA journal_mode = DELETE")
        conn.execute("VACUUM")
        conn.close()
        assert got == version, f"{commit} built schema version {got}, not {version}"
        out = FIXTURES / db.name
        shutil.copyfile(db, out)
        return out
    finally:
        subprocess.run(["git", "worktree", "remove", "--force", str(tree)], cwd=ROOT, check=True)


def main(versions: list[int]) -> None:
    with tempfile.TemporaryDirectory(prefix="jiuzhu-fixtures-") as work:
        for v in versions:
            out = build(v, RELEASES[v], Path(work))
            print(f"{out.relative_to(ROOT)}: schema version {v}, built by {RELEASES[v]}, {out.stat().st_size:,} bytes")


if __name__ == "__main__":
    main([int(a) for a in sys.argv[1:]] or sorted(RELEASES))

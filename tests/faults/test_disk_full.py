"""A full disk: recording bills and importing a list stop with a message naming the folder, the failed
transaction leaves nothing, and after space is freed everything saved before is there and `check` passes; a backup
on a full disk leaves no half-written file that could later be restored.

The disk is a 16 MB tmpfs (room for SQLite's 4 MB WAL beside the database) mounted for the test (root only; skipped with the reason where mounting is not allowed).
"""

from __future__ import annotations

import errno
import shutil
import subprocess
import tempfile
from datetime import date
from pathlib import Path

import pytest

from app.services import bills, county, identity_import, registry, users
from app.services.demo import DEMO_LOCAL
from app.services.session import SYSTEM, Session
from app.store import anchors, backup
from app.store.check import check_database
from app.store.errors import DiskFull
from app.store.store import open_store

from .killing import cli

pytestmark = pytest.mark.faults
PEOPLE = 40


@pytest.fixture
def small_disk():
    if not shutil.which("mount"):
        pytest.skip("mount is not installed")
    path = Path(tempfile.mkdtemp(prefix="jiuzhu-full-"))
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=16m", "tmpfs", str(path)], capture_output=True,
                             text=True, check=False)
    if mounted.returncode != 0:
        path.rmdir()
        pytest.skip(f"cannot mount a small tmpfs here: {mounted.stderr.strip() or 'mount failed'}")
    yield path
    subprocess.run(["umount", "-l", str(path)], check=False)
    path.rmdir()


def fill(disk: Path, leave: int) -> Path:
    """Fill the disk with one file, then free `leave` bytes of it."""
    filler = disk / "filler.bin"
    # Unbuffered: a write the disk takes only in part must not leave the rest in a buffer that closing the file
    # would try (and fail) to write again.
    with filler.open("wb", buffering=0) as f:
        try:
            while True:
                f.write(b"\0" * 65536)
        except OSError as exc:
            assert exc.errno == errno.ENOSPC
    with filler.open("r+b") as f:
        f.truncate(max(filler.stat().st_size - leave, 0))
    return filler


@pytest.fixture
def county_on(small_disk):
    """A county of 40 people on the small disk, each with a 低保 period from 2024."""
    store = open_store(small_disk / "county.sqlite3", daily_backup=False)
    admin = users.create_user(Session(store, SYSTEM), "admin", "管理员", "管理员", "340223", "correct-horse")
    session = Session(store, admin)
    county.configure_county(session, "340223", "南陵县", "wuhu-2022", DEMO_LOCAL)
    # The township's caseworker registers, enters bills and imports lists (the administrator records no bills).
    session = Session(store, users.create_user(session, "xiang", "乡镇经办", "乡镇经办", "340223100", "correct-horse"))
    from app.domain.idnumber import check_digit

    people = []
    for k in range(PEOPLE):
        body = f"34022319{50 + k:02d}0101{k:03d}"
        _, pid = registry.register_household(session, "340223100201", f"某村 {k} 号",
                                             registry.PersonInput(f"测试{k}", body + check_digit(body)))
        people.append((pid, body + check_digit(body)))
    yield session, people
    store.close()


def bill(k: int) -> bills.BillInput:
    return bills.BillInput("南陵县医院", "2025-03-01", "2025-03-05", "住院", f"{9000 + k}.00", "8000.00", f"FULL-{k:05d}",
                           "县级", "4000.00", "0.00")


def saved(session) -> dict:
    conn = session.conn
    return {t: conn.execute(f"SELECT count(*) FROM {t}").fetchone()[0]
            for t in ("visits", "settlements", "category_periods", "audit_log")}


def test_recording_bills_until_the_disk_is_full(county_on, small_disk):
    session, people = county_on
    # Room for a few bills: each writes its visit, the hospital's payment line, its settlement and their entries.
    # Each commit appends the pages it touched (16 KiB each, some twenty of them) to the WAL.
    filler = fill(small_disk, leave=1024 * 1024)
    recorded = []
    with pytest.raises(DiskFull) as info:
        for k in range(5000):
            bills.record_bill(session, people[k % PEOPLE][0], bill(k), today=date(2025, 12, 31))
            recorded.append(f"FULL-{k:05d}")
    message = str(info.value)
    assert "磁盘已满" in message and str(small_disk) in message and "已保存的数据没有丢失" in message
    assert recorded, "some bills fit before the disk was full"
    failed = f"FULL-{len(recorded):05d}"
    conn = session.conn
    assert not conn.in_transaction
    assert conn.execute("SELECT count(*) FROM visits WHERE invoice_number = ?", (failed,)).fetchone()[0] == 0
    filler.unlink()
    assert check_database(small_disk / "county.sqlite3") == []
    stored = {r[0] for r in conn.execute("SELECT invoice_number FROM visits")}
    assert stored == set(recorded)
    assert saved(session)["visits"] == saved(session)["settlements"] == len(recorded)
    bills.record_bill(session, people[0][0], bill(len(recorded)), today=date(2025, 12, 31))  # space again: it works


def test_importing_a_list_on_a_full_disk_changes_nothing(county_on, small_disk, tmp_path):
    from openpyxl import Workbook

    session, people = county_on
    for k in range(PEOPLE):
        bills.record_bill(session, people[k][0], bill(k), today=date(2025, 12, 31))
    book = Workbook()
    book.active.append(["姓名", "身份证号码", "救助类别", "起始保障年月"])
    for k, (_, number) in enumerate(people):
        book.active.append([f"测试{k}", number, "低保", "2025-01"])
    book.save(tmp_path / "低保.xlsx")
    parsed, changes = identity_import.import_list(session, tmp_path / "低保.xlsx")
    assert len([c for c in changes if c.kind == "new"]) == PEOPLE
    before = saved(session)
    # An empty WAL, so the import needs new room on the disk (a WAL reuses the space it already has).
    session.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    filler = fill(small_disk, leave=8 * 1024)
    with pytest.raises(DiskFull) as info:
        identity_import.apply(session, changes, "民政", "民政")
    assert str(small_disk) in str(info.value)
    assert saved(session) == before, "not one period, settlement or audit entry of the failed import"
    filler.unlink()
    assert check_database(small_disk / "county.sqlite3") == []
    assert identity_import.apply(session, changes, "民政", "民政") == PEOPLE  # with room, the same import goes through
    assert check_database(small_disk / "county.sqlite3") == []


def test_a_backup_on_a_full_disk_leaves_no_half_written_file(county_on, small_disk):
    session, _ = county_on
    folder = backup.backups_dir(small_disk / "county.sqlite3")
    first = backup.backup(session.conn, folder)
    filler = fill(small_disk, leave=16 * 1024)
    code, out, err = cli("backup", "--db", str(small_disk / "county.sqlite3"))
    assert code == 2 and "磁盘已满" in err and str(folder) in err and "Traceback" not in err
    assert sorted(p.name for p in folder.iterdir()) == [first.name, anchors.sidecar(first).name], \
        "no partial or journal file is left"
    assert backup.list_backups(folder) == [first]
    filler.unlink()
    assert check_database(small_disk / "county.sqlite3") == []
    assert backup.backup(session.conn, folder).exists()
    shutil.rmtree(folder)

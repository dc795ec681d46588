"""A database that cannot be written is refused at open with the reason (which file or folder, what to do), in the
command line (exit 2) and the GUI's start, and nothing in it changes.

Tests run as root, for whom file permissions do not stop writes; so the commands run as the user `nobody`
(setpriv), which makes the operating system refuse exactly as it would a caseworker's account. A read-only file
system is a bind mount remounted read-only in a private mount namespace (unshare), where root cannot write either.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from app.services import bills
from app.services.session import SYSTEM, Session
from app.store import backup
from app.store.errors import DatabaseReadOnly
from app.store.store import Store

from .killing import AS_ADMIN, ROOT, password_input

pytestmark = pytest.mark.faults
AS_NOBODY = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"] if os.geteuid() == 0 else []
needs_user_switch = pytest.mark.skipif(os.geteuid() == 0 and not shutil.which("setpriv"),
                                       reason="as root, setpriv is needed to run as a user permissions apply to")


def run(*args: str, prefix: list[str] = AS_NOBODY) -> subprocess.CompletedProcess:
    return subprocess.run([*prefix, sys.executable, "-m", "app", *args], cwd=ROOT, capture_output=True, text=True,
                          encoding="utf-8", env={**os.environ, "QT_QPA_PLATFORM": "offscreen"},
                          input=password_input(args) or "", check=False)


def digest(folder: Path) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.fixture
def folder(demo_county):
    """A folder `nobody` can enter (pytest's own tmp folders are root's alone) holding a copy of the demo county."""
    path = Path(tempfile.mkdtemp(prefix="jiuzhu-ro-"))
    path.chmod(0o755)
    shutil.copy2(demo_county, path / "county.sqlite3")
    (path / "county.sqlite3").chmod(0o444)
    yield path
    path.chmod(0o755)
    shutil.rmtree(path)


@needs_user_switch
@pytest.mark.parametrize("command", [["resettle", *AS_ADMIN, "--year", "2025"], ["backup"], ["gui", "--smoke"]],
                         ids=["resettle", "backup", "gui"])
def test_read_only_file_in_a_read_only_folder(folder, command):
    db = folder / "county.sqlite3"
    folder.chmod(0o555)  # nowhere to write the WAL either
    before = digest(folder)
    done = run(*command, "--db", str(db))
    assert done.returncode == 2, done.stderr
    assert "Traceback" not in done.stderr
    assert "只读" in done.stderr and str(db) in done.stderr and "已保存的数据没有丢失" in done.stderr
    assert digest(folder) == before


@needs_user_switch
def test_read_only_file_in_a_writable_folder_is_refused_before_any_work(folder):
    db = folder / "county.sqlite3"
    folder.chmod(0o777)  # SQLite opens the file read-only without a word; the first write would fail
    before = hashlib.sha256(db.read_bytes()).hexdigest()
    done = run("resettle", *AS_ADMIN, "--year", "2025", "--db", str(db))
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert f"数据库文件 {db} 是只读的" in done.stderr and "取消“只读”" in done.stderr
    assert hashlib.sha256(db.read_bytes()).hexdigest() == before
    assert not backup.backups_dir(db).exists(), "no daily backup is started for a database that cannot be used"


def test_read_only_file_system(folder):
    """A write-protected stick or a read-only share: EROFS, which stops root too."""
    db = folder / "county.sqlite3"
    db.chmod(0o644)
    mount = f"mount --bind {folder} {folder} && mount -o remount,bind,ro {folder} && exec \"$@\""
    prefix = ["unshare", "--mount", "sh", "-c", mount, "sh"]
    if not shutil.which("unshare"):
        pytest.skip("unshare (util-linux) is not installed")
    probe = subprocess.run([*prefix, "true"], capture_output=True, check=False)
    if probe.returncode != 0:
        pytest.skip(f"cannot make a private read-only mount here: {probe.stderr.decode(errors='replace').strip()}")
    done = run("resettle", *AS_ADMIN, "--year", "2025", "--db", str(db), prefix=prefix)
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert "只读的位置" in done.stderr and str(db) in done.stderr


def test_recording_a_bill_on_a_read_only_connection_says_which_file(demo_county, tmp_path):
    """Read-only after opening (a share turning read-only, a file opened read-only): SQLite's SQLITE_READONLY from
    inside the bill's transaction becomes the message, and the transaction is rolled back."""
    db = tmp_path / "county.sqlite3"
    shutil.copy2(demo_county, db)
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True, isolation_level=None, check_same_thread=False)
    conn.row_factory = sqlite3.Row
    session = Session(Store(conn, db), SYSTEM)
    person = conn.execute("SELECT id FROM persons LIMIT 1").fetchone()[0]
    with pytest.raises(DatabaseReadOnly) as info:
        bills.record_bill(session, person, bills.BillInput("南陵县医院", "2025-03-01", "2025-03-05", "住院", "8000",
                                                           "7000", "RO-1", "县级", "4000", "0"))
    assert str(db) in str(info.value) and "无法保存" in str(info.value)
    assert not conn.in_transaction
    assert conn.execute("SELECT count(*) FROM visits WHERE invoice_number = 'RO-1'").fetchone()[0] == 0
    conn.close()

"""The store's command line: demo → check → audit verify, and tampering with any past audit row is caught."""

from __future__ import annotations

import sqlite3
import subprocess
import sys

import pytest


def jiuzhu(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "app", *args], capture_output=True, text=True, encoding="utf-8",
                          check=False)


@pytest.fixture(scope="module")
def demo_db(tmp_path_factory):
    db = tmp_path_factory.mktemp("demo") / "county.sqlite3"
    run = jiuzhu("demo", "--households", "200", "--db", str(db), "--quiet")
    assert run.returncode == 0, run.stderr
    assert "households" in run.stdout
    return db


def test_demo_then_check_and_verify_pass(demo_db):
    for args in (("check",), ("audit", "verify")):
        run = jiuzhu(*args, "--db", str(demo_db))
        assert run.returncode == 0, run.stderr


@pytest.mark.parametrize("column", ["username", "after", "at", "action", "os_user", "host"])
def test_altering_any_past_audit_row_fails_check_and_verify(demo_db, tmp_path, column):
    copy = tmp_path / "copy.sqlite3"
    src = sqlite3.connect(demo_db)
    dst = sqlite3.connect(copy)
    src.backup(dst)
    src.close()
    count = dst.execute("SELECT count(*) FROM audit_log").fetchone()[0]
    for seq in (1, count // 2, count):
        dst.execute(f"UPDATE audit_log SET {column} = coalesce({column}, '') || 'x' WHERE seq = ?", (seq,))
        dst.commit()
        for args in (("check",), ("audit", "verify")):
            run = jiuzhu(*args, "--db", str(copy))
            assert run.returncode != 0, (args, seq)
            assert "审计日志" in run.stderr
        dst.execute(f"UPDATE audit_log SET {column} = substr({column}, 1, length({column}) - 1) WHERE seq = ?", (seq,))
        dst.execute(f"UPDATE audit_log SET {column} = NULL WHERE seq = ? AND {column} = ''", (seq,))
        dst.commit()
    dst.close()


def test_store_commands_take_db_after_their_name(tmp_path):
    db = tmp_path / "x.sqlite3"
    run = jiuzhu("backup", "--db", str(db), "--keep", "2")
    assert run.returncode == 0, run.stderr
    assert (tmp_path / "backups").is_dir()
    assert jiuzhu("check", "--db", str(tmp_path / "absent.sqlite3")).returncode != 0

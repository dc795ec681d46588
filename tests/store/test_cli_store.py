"""The store's command line: demo → check → audit verify, and tampering with any past audit row is caught."""

from __future__ import annotations

import json
import re
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
    run = jiuzhu("demo", "--households", "200", "--seed", "2026", "--db", str(db), "--quiet")
    assert run.returncode == 0, run.stderr
    assert "households" in run.stdout
    return db


def test_each_demo_run_takes_its_own_seed_and_says_it_so_it_can_be_made_again(tmp_path):
    def people(db):
        conn = sqlite3.connect(db)
        try:
            return sorted(r[0] for r in conn.execute("SELECT id_number FROM persons")), json.loads(
                conn.execute("SELECT value FROM settings WHERE key = 'demo_runs'").fetchone()[0])
        finally:
            conn.close()

    seeds, numbers = [], []
    for n in range(2):
        run = jiuzhu("demo", "--households", "3", "--db", str(tmp_path / f"{n}.sqlite3"), "--quiet")
        assert run.returncode == 0, run.stderr
        seeds.append(int(re.search(r"随机种子 (\d+)（--seed \1 可重现", run.stdout).group(1)))
        got, runs = people(tmp_path / f"{n}.sqlite3")
        assert [r["seed"] for r in runs] == [seeds[-1]]
        numbers.append(got)
    assert seeds[0] != seeds[1] and not set(numbers[0]) & set(numbers[1])  # two demo sites, different people
    again = jiuzhu("demo", "--households", "3", "--seed", str(seeds[0]), "--db", str(tmp_path / "again.sqlite3"),
                   "--quiet")
    assert again.returncode == 0, again.stderr
    assert people(tmp_path / "again.sqlite3")[0] == numbers[0]


def test_a_township_demo_leaves_the_countys_steps_to_the_county(tmp_path):
    def steps(db):
        conn = sqlite3.connect(db)
        try:
            return {r[0] for r in conn.execute("SELECT role FROM application_steps")}
        finally:
            conn.close()

    county_roles = {"县级医保审核", "县级民政审核", "县级审批"}
    whole = jiuzhu("demo", "--households", "3", "--db", str(tmp_path / "one.sqlite3"), "--quiet")
    township = jiuzhu("demo", "--households", "3", "--db", str(tmp_path / "site.sqlite3"), "--township", "--quiet")
    assert whole.returncode == 0 and township.returncode == 0, whole.stderr + township.stderr
    assert county_roles <= steps(tmp_path / "one.sqlite3")  # one laptop shows every role's step
    assert not county_roles & steps(tmp_path / "site.sqlite3") and steps(tmp_path / "site.sqlite3")


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
    assert (tmp_path / "x.sqlite3.backups").is_dir()
    assert jiuzhu("check", "--db", str(tmp_path / "absent.sqlite3")).returncode != 0

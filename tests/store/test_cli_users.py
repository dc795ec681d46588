"""jiuzhu user add / list / passwd / disable / enable: exit codes and the lines a county IT person reads."""

from __future__ import annotations

import subprocess
import sys

import pytest

from app import cli
from app.services import users
from app.domain.errors import FieldError
from app.store.store import open_store


ADMIN_PASSWORD = "correct-horse"
AS_ADMIN = ("--user", "admin", "--password-stdin")


def jiuzhu(*args: str, stdin: str = "") -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "app", *args], input=stdin, capture_output=True, text=True,
                          encoding="utf-8", check=False)


def as_admin(*args: str, new_password: str | None = None) -> subprocess.CompletedProcess:
    """A user command signed in as the administrator (password on the first line, a new password on the second)."""
    return jiuzhu(*args, *AS_ADMIN, stdin=f"{ADMIN_PASSWORD}\n" + (f"{new_password}\n" if new_password else ""))


@pytest.fixture
def db(tmp_path):
    path = tmp_path / "site.sqlite3"
    run = jiuzhu("init", "--admin", "admin", "--county", "340223", "--county-name", "南陵县", "--policy", "wuhu-2022",
                 "--password-stdin", "--db", str(path), stdin="correct-horse\n")
    assert run.returncode == 0, run.stderr
    return path


def _signs_in(db, username: str, password: str) -> bool:
    store = open_store(db, daily_backup=False)
    try:
        users.authenticate(store.conn, username, password)
        return True
    except FieldError:
        return False
    finally:
        store.close()


def test_add_list_passwd_disable_enable(db):
    run = as_admin("user", "add", "cun1", "--name", "张村官", "--role", "村级经办", "--jurisdiction", "340223100201",
                   "--db", str(db), new_password="village-pass-1")
    assert run.returncode == 0, run.stderr
    assert "已新增用户 cun1：张村官，村级经办，管辖 340223100201" in run.stdout
    assert _signs_in(db, "cun1", "village-pass-1")
    run = jiuzhu("user", "list", "--db", str(db))
    assert run.returncode == 0
    lines = run.stdout.splitlines()
    assert lines[0].split("\t") == ["用户名", "姓名", "角色", "管辖范围", "状态", "建立时间"]
    assert lines[2].split("\t")[:5] == ["cun1", "张村官", "村级经办", "340223100201", "在用"]
    run = as_admin("user", "passwd", "cun1", "--db", str(db), new_password="fresh-pass-22")
    assert run.returncode == 0 and "已重置 cun1 的密码" in run.stdout
    assert _signs_in(db, "cun1", "fresh-pass-22") and not _signs_in(db, "cun1", "village-pass-1")
    run = as_admin("user", "disable", "cun1", "--db", str(db))
    assert run.returncode == 0 and "已停用用户 cun1" in run.stdout
    assert not _signs_in(db, "cun1", "fresh-pass-22")
    assert "已停用" in jiuzhu("user", "list", "--db", str(db)).stdout
    run = as_admin("user", "disable", "cun1", "--db", str(db))
    assert run.returncode == 0 and "本已停用" in run.stdout
    run = as_admin("user", "enable", "cun1", "--db", str(db))
    assert run.returncode == 0 and "已启用用户 cun1" in run.stdout
    assert _signs_in(db, "cun1", "fresh-pass-22")
    assert jiuzhu("audit", "verify", "--db", str(db)).returncode == 0


@pytest.mark.parametrize(("args", "stdin", "expected"), [
    (("add", "cun2", "--name", "王", "--role", "村级经办", "--jurisdiction", "340223"), "village-pass-1\n",
     "村级经办的管辖范围应为 12 位"),
    (("add", "cun2", "--name", "王", "--role", "村长", "--jurisdiction", "340223100201"), "village-pass-1\n",
     "“村长”不是角色"),
    (("add", "cun2", "--name", "王", "--role", "村级经办", "--jurisdiction", "340223100201"), "short\n",
     "密码至少 8 位"),
    (("add", "admin", "--name", "王", "--role", "县级审批", "--jurisdiction", "340223"), "village-pass-1\n",
     "已被使用"),
    (("passwd", "ghost"), "village-pass-1\n", "没有用户名为“ghost”的用户"),
    (("disable", "admin"), "", "不能停用自己的账号"),
    (("enable", "ghost"), "", "ghost"),
])
def test_refusals_exit_2_with_one_chinese_line(db, args, stdin, expected):
    run = jiuzhu("user", *args, *AS_ADMIN, "--db", str(db), stdin=f"{ADMIN_PASSWORD}\n{stdin}")
    assert run.returncode == 2, run.stdout
    assert expected in run.stderr and len(run.stderr.strip().splitlines()) == 1
    assert [line.split("\t")[0] for line in jiuzhu("user", "list", "--db", str(db)).stdout.splitlines()[1:]] == ["admin"]


def test_without_password_stdin_asks_twice_and_refuses_a_mismatch(db, monkeypatch, capsys):
    answers = iter([ADMIN_PASSWORD, "village-pass-1", "village-pass-2"])
    monkeypatch.setattr("getpass.getpass", lambda prompt="": next(answers))
    code = cli.main(["user", "add", "cun1", "--name", "张村官", "--role", "村级经办", "--jurisdiction", "340223100201",
                     "--user", "admin", "--db", str(db)])
    assert code == 2 and "两次输入的密码不一致" in capsys.readouterr().err
    assert not _signs_in(db, "cun1", "village-pass-1")
    answers = iter([ADMIN_PASSWORD, "village-pass-1", "village-pass-1"])
    code = cli.main(["user", "add", "cun1", "--name", "张村官", "--role", "村级经办", "--jurisdiction", "340223100201",
                     "--user", "admin", "--db", str(db)])
    assert code == 0 and "已新增用户 cun1" in capsys.readouterr().out
    assert _signs_in(db, "cun1", "village-pass-1")


def test_init_on_a_database_with_an_admin_points_to_user_add(db):
    run = jiuzhu("init", "--admin", "x", "--county", "340223", "--county-name", "南陵县", "--policy", "wuhu-2022",
                 "--password-stdin", "--db", str(db), stdin="correct-horse\n")
    assert run.returncode == 2 and "jiuzhu user add" in run.stderr


def _users(db) -> list[str]:
    return [line.split("\t")[0] for line in jiuzhu("user", "list", "--db", str(db)).stdout.splitlines()[1:]]


@pytest.mark.parametrize(("who", "stdin", "expected"), [
    ((), "", "请用 --user 写明您的用户名"),
    (("--user", "admin", "--password-stdin"), "wrong-horse\nnew-admin-pass\n", "用户名或密码不正确"),
    (("--user", "ghost", "--password-stdin"), "correct-horse\nnew-admin-pass\n", "用户名或密码不正确"),
    (("--user", "admin", "--password-stdin"), "", "标准输入中没有您的密码"),
])
def test_adding_an_admin_without_an_admins_password_fails_and_adds_nothing(db, who, stdin, expected):
    run = jiuzhu("user", "add", "xx", "--name", "某", "--role", "管理员", "--jurisdiction", "340223", *who,
                 "--db", str(db), stdin=stdin)
    assert run.returncode == 2 and expected in run.stderr, run.stderr
    assert len(run.stderr.strip().splitlines()) == 1 and "Traceback" not in run.stderr
    assert _users(db) == ["admin"]


def test_a_caseworker_signed_in_may_not_manage_users(db):
    assert as_admin("user", "add", "cun1", "--name", "张村官", "--role", "村级经办", "--jurisdiction", "340223100201",
                    "--db", str(db), new_password="village-pass-1").returncode == 0
    run = jiuzhu("user", "add", "xx", "--name", "某", "--role", "管理员", "--jurisdiction", "340223", "--user", "cun1",
                 "--password-stdin", "--db", str(db), stdin="village-pass-1\nnew-admin-pass\n")
    assert run.returncode == 2 and "只有管理员可以管理用户，您是村级经办" in run.stderr
    assert _users(db) == ["admin", "cun1"]


def test_the_audit_log_names_the_user_the_os_user_and_the_host(db):
    import sqlite3

    from app.store.audit import origin

    assert as_admin("user", "disable", "admin", "--db", str(db)).returncode == 2
    conn = sqlite3.connect(db)
    rows = conn.execute("SELECT username, action, os_user, host FROM audit_log ORDER BY seq DESC LIMIT 1").fetchall()
    conn.close()
    assert rows == [("admin", "登录（命令行）", *origin())]


def test_unlock_from_the_command_line(db):
    assert as_admin("user", "add", "cun1", "--name", "张村官", "--role", "村级经办", "--jurisdiction", "340223100201",
                    "--db", str(db), new_password="village-pass-1").returncode == 0
    for _ in range(5):
        jiuzhu("resettle", "--year", "2025", "--user", "cun1", "--password-stdin", "--db", str(db), stdin="wrong-one\n")
    run = jiuzhu("resettle", "--year", "2025", "--user", "cun1", "--password-stdin", "--db", str(db),
                 stdin="village-pass-1\n")
    assert run.returncode == 2 and "已锁定" in run.stderr, "the command line counts towards the lock too"
    run = as_admin("user", "unlock", "cun1", "--db", str(db))
    assert run.returncode == 0 and "已解除 cun1 的锁定" in run.stdout
    assert _signs_in(db, "cun1", "village-pass-1")
    assert "没有被锁定" in as_admin("user", "unlock", "cun1", "--db", str(db)).stdout


def test_demo_refuses_a_database_not_made_as_a_demo(db, tmp_path):
    run = jiuzhu("demo", "--households", "2", "--user", "admin", "--password-stdin", "--db", str(db), "--quiet",
                 stdin="correct-horse\n")
    assert run.returncode == 2 and "不是演示数据库" in run.stderr
    assert _users(db) == ["admin"], "no demo users, no demo password"
    demo = tmp_path / "demo.sqlite3"
    assert jiuzhu("demo", "--households", "2", "--db", str(demo), "--quiet").returncode == 0
    run = jiuzhu("demo", "--households", "2", "--db", str(demo), "--quiet")
    assert run.returncode == 2 and "--user" in run.stderr, "adding to a demo that exists signs in"
    run = jiuzhu("demo", "--households", "2", "--user", "admin", "--password-stdin", "--db", str(demo), "--quiet",
                 stdin="jiuzhu-demo\n")
    assert run.returncode == 0, run.stderr

"""jiuzhu user add / list / passwd / disable / enable: exit codes and the lines a county IT person reads."""

from __future__ import annotations

import subprocess
import sys

import pytest

from app import cli
from app.services import users
from app.domain.errors import FieldError
from app.store.store import open_store


def jiuzhu(*args: str, stdin: str = "") -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "app", *args], input=stdin, capture_output=True, text=True,
                          encoding="utf-8", check=False)


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
    run = jiuzhu("user", "add", "cun1", "--name", "张村官", "--role", "村级经办", "--jurisdiction", "340223100201",
                 "--password-stdin", "--db", str(db), stdin="village-pass-1\n")
    assert run.returncode == 0, run.stderr
    assert "已新增用户 cun1：张村官，村级经办，管辖 340223100201" in run.stdout
    assert _signs_in(db, "cun1", "village-pass-1")
    run = jiuzhu("user", "list", "--db", str(db))
    assert run.returncode == 0
    lines = run.stdout.splitlines()
    assert lines[0].split("\t") == ["用户名", "姓名", "角色", "管辖范围", "状态", "建立时间"]
    assert lines[2].split("\t")[:5] == ["cun1", "张村官", "村级经办", "340223100201", "在用"]
    run = jiuzhu("user", "passwd", "cun1", "--password-stdin", "--db", str(db), stdin="fresh-pass-22\n")
    assert run.returncode == 0 and "已重置 cun1 的密码" in run.stdout
    assert _signs_in(db, "cun1", "fresh-pass-22") and not _signs_in(db, "cun1", "village-pass-1")
    run = jiuzhu("user", "disable", "cun1", "--db", str(db))
    assert run.returncode == 0 and "已停用用户 cun1" in run.stdout
    assert not _signs_in(db, "cun1", "fresh-pass-22")
    assert "已停用" in jiuzhu("user", "list", "--db", str(db)).stdout
    run = jiuzhu("user", "disable", "cun1", "--db", str(db))
    assert run.returncode == 0 and "本已停用" in run.stdout
    run = jiuzhu("user", "enable", "cun1", "--db", str(db))
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
    (("disable", "admin"), "", "唯一在用的管理员"),
    (("enable", "ghost"), "", "ghost"),
])
def test_refusals_exit_2_with_one_chinese_line(db, args, stdin, expected):
    password = ("--password-stdin",) if args[0] in ("add", "passwd") else ()
    run = jiuzhu("user", *args, *password, "--db", str(db), stdin=stdin)
    assert run.returncode == 2, run.stdout
    assert expected in run.stderr and len(run.stderr.strip().splitlines()) == 1
    assert [line.split("\t")[0] for line in jiuzhu("user", "list", "--db", str(db)).stdout.splitlines()[1:]] == ["admin"]


def test_without_password_stdin_asks_twice_and_refuses_a_mismatch(db, monkeypatch, capsys):
    answers = iter(["village-pass-1", "village-pass-2"])
    monkeypatch.setattr("getpass.getpass", lambda prompt="": next(answers))
    code = cli.main(["user", "add", "cun1", "--name", "张村官", "--role", "村级经办", "--jurisdiction", "340223100201",
                     "--db", str(db)])
    assert code == 2 and "两次输入的密码不一致" in capsys.readouterr().err
    assert not _signs_in(db, "cun1", "village-pass-1")
    answers = iter(["village-pass-1", "village-pass-1"])
    code = cli.main(["user", "add", "cun1", "--name", "张村官", "--role", "村级经办", "--jurisdiction", "340223100201",
                     "--db", str(db)])
    assert code == 0 and "已新增用户 cun1" in capsys.readouterr().out
    assert _signs_in(db, "cun1", "village-pass-1")


def test_init_on_a_database_with_an_admin_points_to_user_add(db):
    run = jiuzhu("init", "--admin", "x", "--county", "340223", "--county-name", "南陵县", "--policy", "wuhu-2022",
                 "--password-stdin", "--db", str(db), stdin="correct-horse\n")
    assert run.returncode == 2 and "jiuzhu user add" in run.stderr

"""Signing in: five wrong passwords lock an account for 15 minutes on the county's clock, an admin unlocks, every
attempt is audited with the OS user and the computer."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from app.domain.errors import FieldError
from app.services import login, users
from app.services.session import Session
from app.store import audit, clock

START = datetime(2026, 3, 2, 9, 0)


@pytest.fixture
def clerk(session):
    return users.create_user(session, "cun1", "张村官", "村级经办", "340223100201", "village-pass-1")


def _fail(conn, password: str = "wrong-pass") -> str:
    with pytest.raises(FieldError) as info:
        login.sign_in(conn, "cun1", password)
    assert info.value.field == "password"
    return info.value.reason


def _entries(conn, n: int) -> list[tuple]:
    return [tuple(r) for r in conn.execute(
        "SELECT username, action, os_user, host FROM audit_log ORDER BY seq DESC LIMIT ?", (n,))][::-1]


def test_five_wrong_passwords_lock_for_fifteen_minutes_then_the_count_starts_again(session, clerk):
    conn = session.conn
    with clock.freeze(START):
        for n in range(1, login.MAX_FAILURES):
            assert _fail(conn) == login.WRONG
        assert "已锁定，09:15 后可再试" in _fail(conn)
        assert "已锁定" in _fail(conn, "village-pass-1"), "not even the right password while locked"
    here = audit.origin()
    assert _entries(conn, 3) == [("cun1", "登录失败：密码错误，连续第 4 次（程序）", *here),
                                 ("cun1", "登录失败 5 次，账号锁定 15 分钟（程序）", *here),
                                 ("cun1", "登录被拒：账号已锁定（程序）", *here)]
    with clock.freeze(START + timedelta(minutes=14, seconds=59)):
        assert "已锁定" in _fail(conn, "village-pass-1")
    with clock.freeze(START + timedelta(minutes=15, seconds=1)):
        assert _fail(conn) == login.WRONG  # a lock that ran out: this is the first failure of a new count
        assert conn.execute("SELECT failed_logins, locked_until FROM users WHERE username = 'cun1'").fetchone()[:] == (
            1, None)
        assert login.sign_in(conn, "cun1", "village-pass-1").username == "cun1"
    assert conn.execute("SELECT failed_logins FROM users WHERE username = 'cun1'").fetchone()[0] == 0
    assert audit.verify(conn) == []


def test_an_unknown_name_and_a_disabled_user_get_the_same_message(session, clerk):
    conn = session.conn
    with pytest.raises(FieldError, match=login.WRONG):
        login.sign_in(conn, "ghost", "village-pass-1")
    assert _entries(conn, 1)[0][:2] == ("（无此用户）ghost", "登录失败：无此用户名（程序）")
    users.set_active(session, "cun1", False)
    assert _fail(conn, "village-pass-1") == login.WRONG


def test_an_admin_unlocks_and_only_an_admin(session, clerk):
    conn = session.conn
    with clock.freeze(START):
        for _ in range(login.MAX_FAILURES):
            _fail(conn)
        locked = {u.username: u.locked_until for u in users.list_users(session)}
        assert locked["cun1"] is not None and f"{locked['cun1']:%H:%M}" == "09:15" and locked["admin"] is None
        with pytest.raises(FieldError, match="只有管理员可以管理用户"):
            login.unlock(Session(session.store, clerk), "cun1")
        assert login.unlock(session, "cun1") is True
        assert _entries(conn, 1)[0][:2] == ("admin", "解除锁定")
        assert login.unlock(session, "cun1") is False
        assert login.sign_in(conn, "cun1", "village-pass-1").username == "cun1"


def test_sign_out_and_the_idle_lock_are_audited(session, clerk):
    login.sign_out(session.conn, clerk, "切换用户")
    login.sign_out(session.conn, clerk, "锁定（闲置 10 分钟或手动锁定）")
    assert [e[:2] for e in _entries(session.conn, 2)] == [("cun1", "切换用户"), ("cun1", "锁定（闲置 10 分钟或手动锁定）")]

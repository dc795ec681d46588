"""Signing in and out: five wrong passwords in a row lock an account for 15 minutes, an admin may unlock it, and
every sign-in, sign-out, failure, lock and unlock is an audit entry (which records the OS user and the computer)."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from app.domain.errors import FieldError
from app.services.session import Session, User
from app.store import audit, clock, records
from app.store.db import transaction

MAX_FAILURES = 5
LOCK_MINUTES = 15
WRONG = "用户名或密码不正确"
_HASHER = PasswordHasher()
# A name typed at the login that no account has is logged, cut to this length (the log travels to the county).
_NAME_KEPT = 64


def _user(row) -> User:
    return User(row["id"], row["username"], row["display_name"], row["role"], row["jurisdiction"])


def locked_until(row) -> datetime | None:
    """Until when (county time) an account is locked, or None if it is not locked now."""
    if row["locked_until"] is None:
        return None
    until = clock.local_time(row["locked_until"])
    return until if until > clock.local_now() else None


def _locked_message(until: datetime) -> str:
    return (f"该账号因连续 {MAX_FAILURES} 次密码错误已锁定，{until:%H:%M} 后可再试；"
            f"如需立即使用，请管理员在“用户管理”中解除锁定")


def sign_in(conn, username: str, password: str, where: str = "程序") -> User:
    """The user with these credentials, audited as signed in via `where` (程序, 命令行, 解锁); otherwise FieldError.

    A wrong password counts towards the lock; at MAX_FAILURES the account is locked for LOCK_MINUTES, and while it
    is locked not even the right password is tried. One message for a wrong name and a wrong password, so names
    cannot be probed (only an account that is locked says so)."""
    row = conn.execute("SELECT * FROM users WHERE username = ?", (username,)).fetchone()
    until = locked_until(row) if row is not None else None
    if until is not None:
        with transaction(conn):
            audit.append(conn, _user(row), f"登录被拒：账号已锁定（{where}）", "users", row["id"])
        raise FieldError("password", _locked_message(until))
    ok = row is not None and bool(row["active"]) and _verified(row["password_hash"], password)
    with transaction(conn):
        if ok:
            user = _user(row)
            if row["failed_logins"] or row["locked_until"]:
                records.update(conn, user, "users", row["id"], {"failed_logins": 0, "locked_until": None},
                               f"登录（{where}）")
            else:
                audit.append(conn, user, f"登录（{where}）", "users", row["id"])
            return user
        if row is None:
            name = (username or "")[:_NAME_KEPT]
            audit.append(conn, f"（无此用户）{name}", f"登录失败：无此用户名（{where}）", "users", name)
            refusal = FieldError("password", WRONG)
        else:  # read again inside the write lock: two wrong attempts at once both count
            refusal = _count_failure(conn, conn.execute("SELECT * FROM users WHERE id = ?", (row["id"],)).fetchone(),
                                     where)
    raise refusal


def _verified(password_hash: str, password: str) -> bool:
    try:
        return _HASHER.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def _count_failure(conn, row, where: str) -> FieldError:
    """Count a wrong password (a lock that has run out starts the count again); lock at the limit."""
    expired = row["locked_until"] is not None
    failures = (0 if expired else row["failed_logins"]) + 1
    if failures >= MAX_FAILURES:
        until = clock.local_now() + timedelta(minutes=LOCK_MINUTES)
        stamp = until.astimezone(timezone.utc).isoformat(timespec="milliseconds")
        records.update(conn, _user(row), "users", row["id"], {"failed_logins": failures, "locked_until": stamp},
                       f"登录失败 {failures} 次，账号锁定 {LOCK_MINUTES} 分钟（{where}）")
        return FieldError("password", _locked_message(until))
    records.update(conn, _user(row), "users", row["id"], {"failed_logins": failures, "locked_until": None},
                   f"登录失败：密码错误，连续第 {failures} 次（{where}）")
    return FieldError("password", WRONG)


def sign_out(conn, user: User, why: str = "退出登录") -> None:
    """Audit that the user left (退出登录, 切换用户) or that the idle lock hid the screen (闲置锁定)."""
    if user.id is None:
        return
    with transaction(conn):
        audit.append(conn, user, why, "users", user.id)


def unlock(session: Session, username: str) -> bool:
    """An admin lifts a lock (and the count of failures) at once; False when the account was not locked."""
    session.require("manage_users")
    conn = session.conn
    with transaction(conn):
        row = conn.execute("SELECT * FROM users WHERE username = ?", (username,)).fetchone()
        if row is None:
            raise FieldError("username", f"没有用户名为“{username}”的用户，请用“用户列表”核对")
        if locked_until(row) is None and not row["failed_logins"]:
            return False
        records.update(conn, session.user, "users", row["id"], {"failed_logins": 0, "locked_until": None},
                       "解除锁定")
    return True

"""Users: roles with a jurisdiction, passwords hashed with argon2, the first-run admin and the admin's user management."""

from __future__ import annotations

import re
from dataclasses import dataclass

from datetime import datetime

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from app.services import login
from app.services.session import Session, User
from app.store import records
from app.store.clock import new_id
from app.store.db import transaction
from app.domain.errors import FieldError, collect
from app.workflow import roles

ROLES = roles.ASSIGNABLE
# What length of 统计用区划代码 prefix each role's jurisdiction must be.
ROLE_SCOPE = {key: roles.ROLES[key].scope for key in ROLES}
_HASHER = PasswordHasher()
_USERNAME = re.compile(r"^[A-Za-z0-9_.\-]{2,32}$")


def _row_user(row) -> User:
    return User(row["id"], row["username"], row["display_name"], row["role"], row["jurisdiction"])


def has_admin(session_or_conn) -> bool:
    conn = getattr(session_or_conn, "conn", session_or_conn)
    return conn.execute("SELECT 1 FROM users WHERE role = '管理员' AND active = 1 LIMIT 1").fetchone() is not None


@dataclass(frozen=True)
class UserEntry:
    """One user as the user list shows it (never the password hash)."""

    username: str
    display_name: str
    role: str
    jurisdiction: str
    active: bool
    created_at: str
    locked_until: datetime | None = None  # county time, while a lock after wrong passwords lasts


def _check_details(display_name: str, role: str, jurisdiction: str) -> None:
    """The same rules for a new user and an edited one: a name, a known role, a jurisdiction of the role's length."""
    if not display_name or not display_name.strip():
        raise FieldError("display_name", "请填写姓名")
    if role not in ROLES:
        raise FieldError("role", f"“{role}”不是角色，应为 {'、'.join(ROLES)} 之一")
    scope = ROLE_SCOPE[role]
    if not re.fullmatch(rf"\d{{{scope}}}", jurisdiction or ""):
        raise FieldError("jurisdiction", f"{role}的管辖范围应为 {scope} 位统计用区划代码（县 6 位、乡镇 9 位、村 12 位）")


def new_user_problems(conn, username: str, display_name: str, role: str, jurisdiction: str,
                      password: str) -> list[FieldError]:
    """Every reason a new user would be refused, at once."""
    return collect(lambda: _check_username(conn, username), lambda: _check_details(display_name, role, jurisdiction),
                   lambda: _check_password(password))


def _check_username(conn, username: str) -> None:
    if not _USERNAME.match(username or ""):
        raise FieldError("username", "用户名应为 2–32 位字母、数字或 _ . -")
    if conn.execute("SELECT 1 FROM users WHERE username = ?", (username,)).fetchone():
        raise FieldError("username", f"用户名“{username}”已被使用")


def _check_password(password: str, field: str = "password") -> None:
    if len(password or "") < 8:
        raise FieldError(field, "密码至少 8 位")


def _row(conn, username: str):
    row = conn.execute("SELECT * FROM users WHERE username = ?", (username,)).fetchone()
    if row is None:
        raise FieldError("username", f"没有用户名为“{username}”的用户，请用“用户列表”核对")
    return row


def _other_active_admins(conn, user_id: str) -> int:
    return conn.execute("SELECT count(*) FROM users WHERE role = '管理员' AND active = 1 AND id != ?",
                        (user_id,)).fetchone()[0]


def create_user(session: Session, username: str, display_name: str, role: str, jurisdiction: str,
                password: str) -> User:
    """Add a user; only an admin may, except for the very first admin of a clean database."""
    conn = session.conn
    first_admin = role == "管理员" and not has_admin(conn)
    if not first_admin:
        session.require("manage_users")
    problems = new_user_problems(conn, username, display_name, role, jurisdiction, password)
    if problems:
        raise problems[0]
    user = User(new_id(), username, display_name.strip(), role, jurisdiction)
    with transaction(conn):
        records.insert(conn, session.user, "users",
                       {"id": user.id, "username": username, "display_name": user.display_name, "role": role,
                        "jurisdiction": jurisdiction, "password_hash": _HASHER.hash(password), "active": 1}, "新增用户")
    return user


def list_users(session: Session) -> list[UserEntry]:
    """Every user for an admin (active first, then by username); anyone else sees only themself."""
    sql = "SELECT * FROM users"
    params: tuple = ()
    if not session.may("manage_users").allowed:
        sql += " WHERE id = ?"
        params = (session.user.id,)
    rows = session.conn.execute(sql + " ORDER BY active DESC, username", params).fetchall()
    return [UserEntry(r["username"], r["display_name"], r["role"], r["jurisdiction"], bool(r["active"]),
                      r["created_at"], login.locked_until(r)) for r in rows]


def update_user(session: Session, username: str, display_name: str, role: str, jurisdiction: str) -> User:
    """Change a user's name, role or jurisdiction (admin only); the last active admin keeps the admin role."""
    session.require("manage_users")
    _check_details(display_name, role, jurisdiction)
    conn = session.conn
    with transaction(conn):
        row = _row(conn, username)
        if row["role"] == "管理员" and role != "管理员":
            if row["id"] == session.user.id:
                raise FieldError("role", "不能取消自己的管理员角色，请由另一位管理员操作")
            if row["active"] and not _other_active_admins(conn, row["id"]):
                raise FieldError("role", f"“{username}”是唯一在用的管理员，不能改为其他角色；请先新增另一位管理员")
        after = {"display_name": display_name.strip(), "role": role, "jurisdiction": jurisdiction}
        records.update(conn, session.user, "users", row["id"], after, "修改用户")
    return User(row["id"], username, after["display_name"], role, jurisdiction)


def reset_password(session: Session, username: str, new_password: str) -> None:
    """An admin sets anyone's password (a forgotten one, a new colleague's first)."""
    session.require("manage_users")
    _check_password(new_password)
    conn = session.conn
    hashed = _HASHER.hash(new_password)  # ~50 ms; outside the write lock
    with transaction(conn):
        row = _row(conn, username)
        records.update(conn, session.user, "users", row["id"], {"password_hash": hashed}, "重置密码")


def change_password(session: Session, old_password: str, new_password: str) -> None:
    """The signed-in user changes their own password, proving the old one first."""
    conn = session.conn
    row = conn.execute("SELECT * FROM users WHERE id = ? AND active = 1", (session.user.id,)).fetchone()
    if row is None:
        raise FieldError("old_password", "当前用户不是已登记的在用用户，不能修改密码")
    try:
        _HASHER.verify(row["password_hash"], old_password)
    except (VerificationError, InvalidHashError):
        raise FieldError("old_password", "原密码不正确") from None
    _check_password(new_password, "new_password")
    if new_password == old_password:
        raise FieldError("new_password", "新密码与原密码相同，请换一个")
    hashed = _HASHER.hash(new_password)
    with transaction(conn):
        records.update(conn, session.user, "users", row["id"], {"password_hash": hashed}, "修改密码")


def set_active(session: Session, username: str, active: bool) -> bool:
    """Disable or enable a user (admin only); False when already so. A disabled user cannot sign in.

    An admin cannot disable themself, and the last active admin cannot be disabled: either would leave the
    database with nobody able to manage users."""
    session.require("manage_users")
    conn = session.conn
    with transaction(conn):
        row = _row(conn, username)
        if bool(row["active"]) == active:
            return False
        if not active:
            if row["id"] == session.user.id:
                raise FieldError("username", "不能停用自己的账号，请由另一位管理员操作")
            if row["role"] == "管理员" and not _other_active_admins(conn, row["id"]):
                raise FieldError("username", f"“{username}”是唯一在用的管理员，不能停用；请先新增另一位管理员")
        records.update(conn, session.user, "users", row["id"], {"active": int(active)},
                       "启用用户" if active else "停用用户")
    return True


def authenticate(session_or_conn, username: str, password: str, where: str = "程序") -> User:
    """The user with these credentials, signed in and audited (app/services/login.py: lockout, one message)."""
    return login.sign_in(getattr(session_or_conn, "conn", session_or_conn), username, password, where)


def find_user(conn, username: str) -> User | None:
    row = conn.execute("SELECT * FROM users WHERE username = ?", (username,)).fetchone()
    return _row_user(row) if row else None

"""Users: roles with a jurisdiction, passwords hashed with argon2, and the first-run admin."""

from __future__ import annotations

import re

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from app.services.session import Session, User
from app.store import audit
from app.store.clock import new_id, now
from app.store.db import transaction
from app.store.errors import InputError

ROLES = ("村级经办", "乡镇经办", "乡镇审核", "县级医保审核", "县级民政审核", "县级审批", "管理员")
# What length of 统计用区划代码 prefix each role's jurisdiction must be.
ROLE_SCOPE = {"村级经办": 12, "乡镇经办": 9, "乡镇审核": 9, "县级医保审核": 6, "县级民政审核": 6, "县级审批": 6, "管理员": 6}
_HASHER = PasswordHasher()
_USERNAME = re.compile(r"^[A-Za-z0-9_.\-]{2,32}$")


def _row_user(row) -> User:
    return User(row["id"], row["username"], row["display_name"], row["role"], row["jurisdiction"])


def has_admin(session_or_conn) -> bool:
    conn = getattr(session_or_conn, "conn", session_or_conn)
    return conn.execute("SELECT 1 FROM users WHERE role = '管理员' AND active = 1 LIMIT 1").fetchone() is not None


def create_user(session: Session, username: str, display_name: str, role: str, jurisdiction: str,
                password: str) -> User:
    """Add a user; only an admin may, except for the very first admin of a clean database."""
    conn = session.conn
    first_admin = role == "管理员" and not has_admin(conn)
    if not first_admin and session.user.role != "管理员":
        raise InputError("role", "只有管理员可以新增用户")
    if not _USERNAME.match(username or ""):
        raise InputError("username", "用户名应为 2–32 位字母、数字或 _ . -")
    if not display_name or not display_name.strip():
        raise InputError("display_name", "请填写姓名")
    if role not in ROLES:
        raise InputError("role", f"“{role}”不是角色，应为 {'、'.join(ROLES)} 之一")
    scope = ROLE_SCOPE[role]
    if not re.fullmatch(rf"\d{{{scope}}}", jurisdiction or ""):
        raise InputError("jurisdiction", f"{role}的管辖范围应为 {scope} 位统计用区划代码（县 6 位、乡镇 9 位、村 12 位）")
    if len(password or "") < 8:
        raise InputError("password", "密码至少 8 位")
    if conn.execute("SELECT 1 FROM users WHERE username = ?", (username,)).fetchone():
        raise InputError("username", f"用户名“{username}”已被使用")
    user = User(new_id(), username, display_name.strip(), role, jurisdiction)
    stamp = now()
    with transaction(conn):
        conn.execute("INSERT INTO users (id, username, display_name, role, jurisdiction, password_hash, active, "
                     "created_at, updated_at) VALUES (?,?,?,?,?,?,1,?,?)",
                     (user.id, username, user.display_name, role, jurisdiction, _HASHER.hash(password), stamp, stamp))
        audit.append(conn, session.user, "新增用户", "users", user.id, None,
                     {"username": username, "display_name": user.display_name, "role": role, "jurisdiction": jurisdiction})
    return user


def authenticate(session_or_conn, username: str, password: str) -> User:
    """The user with these credentials; one message for any failure, so names cannot be probed."""
    conn = getattr(session_or_conn, "conn", session_or_conn)
    row = conn.execute("SELECT * FROM users WHERE username = ? AND active = 1", (username,)).fetchone()
    try:
        if row is None:
            raise VerificationError
        _HASHER.verify(row["password_hash"], password)
    except (VerificationError, InvalidHashError):
        raise InputError("password", "用户名或密码不正确") from None
    return _row_user(row)


def find_user(conn, username: str) -> User | None:
    row = conn.execute("SELECT * FROM users WHERE username = ?", (username,)).fetchone()
    return _row_user(row) if row else None

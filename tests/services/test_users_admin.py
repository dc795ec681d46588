"""Managing users after first run: list, edit, passwords, disable/enable; admin-only, audited, no secrets in the log."""

from __future__ import annotations

import pytest

from app.services import users
from app.services.session import Session
from app.store import audit
from app.domain.errors import FieldError

PASSWORD = "village-pass-1"


def _audit(session, action: str) -> list:
    return session.conn.execute("SELECT * FROM audit_log WHERE action = ? ORDER BY seq", (action,)).fetchall()


def _no_secrets(session, *secrets: str) -> None:
    hashes = [r[0] for r in session.conn.execute("SELECT password_hash FROM users")]
    for row in session.conn.execute("SELECT before, after FROM audit_log"):
        text = f"{row['before']} {row['after']}"
        for secret in (*secrets, *hashes, "argon2"):
            assert secret not in text
    assert audit.verify(session.conn) == []


@pytest.fixture
def clerk(session):
    """A 村级经办 added by the admin, and a session acting as that clerk."""
    user = users.create_user(session, "cun1", "张村官", "村级经办", "340223100201", PASSWORD)
    return Session(session.store, user)


def test_list_users_admin_sees_everyone_others_only_themselves(session, clerk):
    users.create_user(session, "xiang1", "李乡长", "乡镇审核", "340223100", PASSWORD)
    listed = users.list_users(session)
    assert [u.username for u in listed] == ["admin", "cun1", "xiang1"]
    cun = listed[1]
    assert (cun.display_name, cun.role, cun.jurisdiction, cun.active) == ("张村官", "村级经办", "340223100201", True)
    assert cun.created_at[:4].isdigit() and not hasattr(cun, "password_hash")
    assert [u.username for u in users.list_users(clerk)] == ["cun1"]


def test_disabled_users_list_after_active_ones(session, clerk):
    users.set_active(session, "cun1", False)
    listed = users.list_users(session)
    assert [(u.username, u.active) for u in listed] == [("admin", True), ("cun1", False)]


def test_reset_password_lets_the_new_one_sign_in_and_is_audited_without_it(session, clerk):
    users.reset_password(session, "cun1", "brand-new-pass")
    assert users.authenticate(session.conn, "cun1", "brand-new-pass").username == "cun1"
    with pytest.raises(FieldError):
        users.authenticate(session.conn, "cun1", PASSWORD)
    (entry,) = _audit(session, "重置密码")
    assert entry["username"] == "admin" and entry["entity_id"] == clerk.user.id and "cun1" in entry["after"]
    _no_secrets(session, PASSWORD, "brand-new-pass")


def test_reset_password_refusals(session, clerk):
    with pytest.raises(FieldError) as e:
        users.reset_password(clerk, "admin", "takeover-pass")
    assert e.value.field == "role" and "只有管理员" in e.value.reason
    with pytest.raises(FieldError) as e:
        users.reset_password(session, "nobody", "whatever-123")
    assert e.value.field == "username" and "nobody" in e.value.reason
    with pytest.raises(FieldError) as e:
        users.reset_password(session, "cun1", "short")
    assert e.value.field == "password" and "至少 8 位" in e.value.reason
    assert users.authenticate(session.conn, "admin", "correct-horse")
    assert users.authenticate(session.conn, "cun1", PASSWORD)
    assert _audit(session, "重置密码") == []


def test_change_own_password_needs_the_old_one(session, clerk):
    with pytest.raises(FieldError) as e:
        users.change_password(clerk, "wrong-old-pass", "another-pass-2")
    assert e.value.field == "old_password" and "原密码不正确" in e.value.reason
    with pytest.raises(FieldError) as e:
        users.change_password(clerk, PASSWORD, "short")
    assert e.value.field == "new_password"
    with pytest.raises(FieldError) as e:
        users.change_password(clerk, PASSWORD, PASSWORD)
    assert e.value.field == "new_password" and "相同" in e.value.reason
    assert _audit(session, "修改密码") == []
    users.change_password(clerk, PASSWORD, "another-pass-2")
    assert users.authenticate(session.conn, "cun1", "another-pass-2")
    (entry,) = _audit(session, "修改密码")
    assert entry["username"] == "cun1" and entry["user_id"] == clerk.user.id
    _no_secrets(session, PASSWORD, "another-pass-2")


@pytest.fixture
def store_session_system(session):
    from app.services.session import SYSTEM

    return Session(session.store, SYSTEM)


def test_the_command_line_system_user_has_no_own_password(store_session_system):
    with pytest.raises(FieldError) as e:
        users.change_password(store_session_system, "correct-horse", "another-pass-2")
    assert e.value.field == "old_password"


def test_disabled_user_cannot_sign_in_until_enabled(session, clerk):
    assert users.set_active(session, "cun1", False) is True
    with pytest.raises(FieldError) as e:
        users.authenticate(session.conn, "cun1", PASSWORD)
    assert e.value.reason == "用户名或密码不正确"
    with pytest.raises(FieldError):  # a disabled user cannot change their password either
        users.change_password(clerk, PASSWORD, "another-pass-2")
    assert users.set_active(session, "cun1", False) is False  # already disabled: nothing changes, nothing logged
    assert users.set_active(session, "cun1", True) is True
    assert users.authenticate(session.conn, "cun1", PASSWORD).username == "cun1"
    (off,), (on,) = _audit(session, "停用用户"), _audit(session, "启用用户")
    assert '"active":0' in off["after"] and '"active":1' in on["after"] and "cun1" in off["after"]
    _no_secrets(session, PASSWORD)


def test_set_active_refusals(session, clerk):
    with pytest.raises(FieldError) as e:
        users.set_active(clerk, "admin", False)
    assert e.value.field == "role"
    with pytest.raises(FieldError) as e:
        users.set_active(session, "admin", False)
    assert "自己" in e.value.reason
    with pytest.raises(FieldError) as e:
        users.set_active(session, "ghost", False)
    assert e.value.field == "username"
    assert users.authenticate(session.conn, "admin", "correct-horse")


def test_the_last_active_admin_cannot_be_disabled_or_demoted(session, clerk):
    from app.services.session import SYSTEM

    system = Session(session.store, SYSTEM)  # the command line: not the admin themself, so only the last-admin rule
    with pytest.raises(FieldError) as e:
        users.set_active(system, "admin", False)
    assert e.value.field == "username" and "唯一在用的管理员" in e.value.reason
    with pytest.raises(FieldError) as e:
        users.update_user(system, "admin", "管理员", "县级审批", "340223")
    assert e.value.field == "role" and "唯一在用的管理员" in e.value.reason
    second = users.create_user(session, "admin2", "赵管理", "管理员", "340223", PASSWORD)
    assert users.set_active(system, "admin", False)
    with pytest.raises(FieldError) as e:  # now admin2 is the last one
        users.set_active(system, "admin2", False)
    assert "唯一在用的管理员" in e.value.reason
    with pytest.raises(FieldError):  # and admin2 cannot disable themself either
        users.set_active(Session(session.store, second), "admin2", False)
    assert users.has_admin(session.conn)


def test_update_user_changes_details_with_the_create_rules(session, clerk):
    updated = users.update_user(session, "cun1", " 张村官二 ", "乡镇经办", "340223100")
    assert (updated.display_name, updated.role, updated.jurisdiction) == ("张村官二", "乡镇经办", "340223100")
    row = users.list_users(session)[1]
    assert (row.display_name, row.role, row.jurisdiction) == ("张村官二", "乡镇经办", "340223100")
    (entry,) = _audit(session, "修改用户")
    assert '"role":"村级经办"' in entry["before"] and '"role":"乡镇经办"' in entry["after"]
    users.update_user(session, "cun1", "张村官二", "乡镇经办", "340223100")  # nothing changed: nothing logged
    assert len(_audit(session, "修改用户")) == 1
    for args, field in ((("", "乡镇经办", "340223100"), "display_name"),
                        (("张", "村长", "340223100"), "role"),
                        (("张", "村级经办", "340223100"), "jurisdiction"),
                        (("张", "县级审批", "3402231"), "jurisdiction")):
        with pytest.raises(FieldError) as e:
            users.update_user(session, "cun1", *args)
        assert e.value.field == field
    with pytest.raises(FieldError) as e:
        users.update_user(clerk, "cun1", "张", "管理员", "340223")
    assert e.value.field == "role" and "只有管理员" in e.value.reason
    with pytest.raises(FieldError) as e:
        users.update_user(session, "admin", "王", "县级审批", "340223")
    assert "自己" in e.value.reason
    _no_secrets(session, PASSWORD)


def test_only_an_admin_adds_users_once_there_is_one(session, clerk):
    with pytest.raises(FieldError) as e:
        users.create_user(clerk, "cun2", "王村官", "村级经办", "340223100201", PASSWORD)
    assert e.value.field == "role"
    assert [u.username for u in users.list_users(session)] == ["admin", "cun1"]

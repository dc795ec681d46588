"""The county's settings: its code, the policy it settles under and the local values that policy leaves to it."""

from __future__ import annotations

import re
from datetime import date
from typing import Any

from app.policy.engine import Engine
from app.policy.loader import PolicyError, UnknownPolicy, load_policy
from app.services import validate
from app.services.session import Session
from app.store import reads, records
from app.store.db import transaction
from app.domain.errors import FieldError
from app.store.errors import StoreError
from app.workflow import duties


def configure_county(session: Session, county_code: str, county_name: str, policy_id: str,
                     local: dict[str, Any]) -> None:
    """Set (or change) the county, its policy and local values; every change is audited."""
    session.require("change_settings")
    check_county(county_code, policy_id, local)
    after = {"county": {"code": county_code, "name": county_name}, "policy_id": policy_id, "local": local}
    with transaction(session.conn):
        for key, value in after.items():
            records.put_setting(session.conn, session.user, key, value, "设置县及政策")
    session._cache.pop("engine", None)


def check_county(county_code: str, policy_id: str, local: dict[str, Any]) -> None:
    """Refuse a county code that is not 6 digits, an unknown policy, or local values the policy does not accept."""
    check_county_code(county_code)
    try:
        Engine(load_policy(policy_id), local)  # validates every local value against the policy's declarations
    except UnknownPolicy:
        raise  # a FieldError naming 政策
    except PolicyError as exc:
        raise FieldError("policy", str(exc)) from None  # the file itself is wrong: its message names file and key


def check_county_code(county_code: str) -> None:
    """Refuse a county code that is not 6 digits."""
    if not re.fullmatch(r"\d{6}", county_code or ""):
        raise FieldError("county_code", "县级统计用区划代码应为 6 位数字")


def set_county_records_bills(session: Session, allowed: bool) -> None:
    """The county's permission table: whether its county roles may record bills (default no; admin only, audited).

    Even when they may, nobody approves a case whose bills they recorded (app/workflow/duties.py)."""
    session.require("change_settings")
    stored = dict(session.store.setting(duties.SETTING) or {})
    with transaction(session.conn):
        records.put_setting(session.conn, session.user, duties.SETTING, {**stored, "county_records_bills": bool(allowed)},
                            "权限表：" + ("允许" if allowed else "不允许") + "县级角色录入账单")


def engine(session: Session) -> Engine:
    """The settlement engine for the county's policy and local values (built once per session)."""
    cached = session._cache.get("engine")
    if cached is None:
        policy_id = session.store.setting("policy_id")
        if not policy_id:
            raise StoreError("尚未设置本县适用的政策，请先由管理员完成初始设置（jiuzhu init，或打开程序按首次运行向导设置）")
        cached = session._cache["engine"] = Engine(load_policy(policy_id), session.store.setting("local", {}),
                                                   reads.dated_locals(session.conn))
    return cached


def dated_locals(session: Session) -> dict[str, list[dict]]:
    """The county's local values changed from a date (see reads.dated_locals), wherever they were set."""
    return reads.dated_locals(session.conn)


def set_local_from(session: Session, key: str, value: str, start: date | str) -> list[int]:
    """Change one local value from a date on (audited); returns the years with bills it reaches, to re-settle.

    Like a policy's own values, the change is keyed by the date it takes effect: bills before it keep the old value.
    Setting the same date again replaces that date's value. Each is a record of its own, so it travels to the county
    and to the other sites like a bill."""
    session.require("change_settings")
    start = validate.day(start, "valid_from", "生效日期", allow_future=True)
    value = str(value).strip()
    dated = reads.dated_locals(session.conn)
    entries = [e for e in dated.get(key, []) if e["from"] != start.isoformat()]
    dated[key] = sorted([*entries, {"from": start.isoformat(), "value": value}], key=lambda e: e["from"])
    check_dated(session.store.setting("policy_id"), session.store.setting("local", {}), dated)
    code = (session.store.setting("county") or {}).get("code", "")
    mine = session.conn.execute("SELECT id FROM local_values WHERE key = ? AND valid_from = ? AND site_id IS NULL",
                                (key, start.isoformat())).fetchone()
    action = f"修改地方参数 {key}（自 {start} 起）"
    who = session.user.display_name or session.user.username
    with transaction(session.conn):
        if mine:
            records.update(session.conn, session.user, "local_values", mine["id"], {"value": value, "set_by": who},
                           action)
        else:
            records.insert(session.conn, session.user, "local_values", {
                "region_code": code, "key": key, "valid_from": start.isoformat(), "value": value, "set_by": who}, action)
    session._cache.pop("engine", None)
    return years_from(session, start.isoformat())


def check_dated(policy_id: str | None, local: dict, dated: dict[str, list[dict]]) -> None:
    """Refuse dated local values the county's policy does not declare or accept, with the policy's own message."""
    try:
        Engine(load_policy(policy_id), local, dated)
    except PolicyError as exc:
        raise FieldError("policy", str(exc)) from None


def years_from(session: Session, start: str) -> list[int]:
    """The years with live bills on or after a date: what a value changed from that date reaches."""
    return [int(r[0]) for r in session.conn.execute(
        "SELECT DISTINCT substr(discharged_on, 1, 4) FROM visits WHERE discharged_on >= ? AND status = 'live' "
        "ORDER BY 1", (start,))]

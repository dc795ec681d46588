"""Workflow records arriving at a site: each step judged by the permission model before it is kept, and the
application's state always folded from the steps held here, never taken from the copy that arrived."""

from __future__ import annotations

import json
import sqlite3
from decimal import Decimal
from typing import Any

from app.exchange import trust
from app.store import reads, records
from app.store.clock import now
from app.workflow import duties, replay

_STEP_COLUMNS = "seq, state, action, to_state, user_id, username, display_name, role, at, opinion, details"


def held(conn: sqlite3.Connection, application_id: str) -> list[dict]:
    """The steps of one application held here, in order."""
    return [dict(r) for r in conn.execute(f"SELECT {_STEP_COLUMNS} FROM application_steps WHERE application_id = ? "
                                          "ORDER BY seq", (application_id,))]


def refusal(conn: sqlite3.Connection, step: dict) -> str | None:
    """Why a step from elsewhere may not be kept here (see replay.check); None if it may."""
    app = conn.execute("SELECT * FROM applications WHERE id = ?", (step["application_id"],)).fetchone()
    if app is None:
        return "它所属的依申请救助本站没有，请先同步或导入上级记录"
    options = duties.Options.of(_setting(conn, duties.SETTING))
    offices = _setting(conn, duties.ONE_PERSON_SETTING) or []
    steps = held(conn, step["application_id"])
    # The county's own installation is the one whose keys this site took in as the county's; a step's site_id is
    # the site that made it, which the county checked against that site's registered key before passing it on.
    county = (_setting(conn, trust.SETTING) or {}).get("county") or {}
    workflow = _setting(conn, "workflow") or {}
    return replay.check(step, steps, app["region_code"], options=options,
                        one_person=duties.office_level(offices, app["region_code"]),
                        recorders=reads.bill_recorders(conn, app["person_id"], app["year"]),
                        from_county=bool(county.get("site_id")) and step.get("site_id") == county["site_id"],
                        notice_days=_days(workflow.get("notice_days", DEFAULT_NOTICE_DAYS)),
                        computed=amount_here(conn, dict(app), steps) if step["action"] == "approve" else None)


# applications.DEFAULTS["notice_days"]: a site that never changed its settings runs 公示 for this many days.
DEFAULT_NOTICE_DAYS = 7


def _days(value: object) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def amount_here(conn: sqlite3.Connection, app: dict, steps: list[dict]) -> Decimal | None:
    """The 依申请救助 this site computes for a case from the bills it holds, with the 财产核查 its held steps record;
    None where it cannot (no policy here, no bill of the year here, no 财产核查 yet, a value the policy lacks)."""
    from app.domain.errors import FieldError
    from app.policy.engine import Engine
    from app.policy.loader import PolicyError, load_policy

    check = replay.certified(steps).get("passes_asset_check", app.get("passes_asset_check"))
    policy_id = _setting(conn, "policy_id")
    if check is None or not policy_id:
        return None
    try:
        case = reads.application_case(conn, app, policy_id, bool(check))
        if case is None:
            return None
        engine = Engine(load_policy(policy_id), _setting(conn, "local") or {}, reads.dated_locals(conn))
        return engine.settle(case).application_assistance_paid
    except (FieldError, PolicyError, ArithmeticError, TypeError, ValueError):
        return None


def _setting(conn: sqlite3.Connection, key: str):
    stored = conn.execute("SELECT value FROM settings WHERE key = ?", (key,)).fetchone()
    return json.loads(stored[0]) if stored else None


def in_order(rows: list[tuple], wire: tuple[str, ...]) -> list[tuple]:
    """Steps in the order they were taken, so that each is judged after the ones before it."""
    a, s = wire.index("application_id"), wire.index("seq")
    return sorted(rows, key=lambda r: (str(r[a]), r[s] if isinstance(r[s], int) else 0))


def summary_from_here(conn: sqlite3.Connection, values: dict) -> dict:
    """An application row as it arrived, with its state, dates and amounts as the steps held here make them."""
    row = conn.execute(f"SELECT {', '.join(replay.DERIVED + replay.CERTIFIED)} FROM applications WHERE id = ?",
                       (values["id"],)).fetchone()
    steps = held(conn, values["id"])
    if row is not None:
        # What 民政 certified stays as it is here once its step is held: the owner's newer copy does not undo it.
        kept = replay.CERTIFIED if any(s["action"] == "civil_opinion" for s in steps) else ()
        return {**values, **{k: row[k] for k in replay.DERIVED + kept}, **replay.certified(steps)}
    folded = replay.fold(steps)
    return {**values, **folded, **replay.certified(steps),
            "state_since": folded["state_since"] or values.get("created_at")}


def follow(conn: sqlite3.Connection, user: Any, application_id: str) -> bool:
    """Bring an application's summary to the fold of its steps held here; True if it changed.

    Steps are the record of what happened; the application row only summarises them, so it follows them."""
    a = conn.execute(f"SELECT {', '.join(replay.DERIVED)}, passes_asset_check FROM applications WHERE id = ?",
                     (application_id,)).fetchone()
    steps = held(conn, application_id)
    if a is None or not steps:
        return False
    folded = {**replay.fold(steps), **replay.certified(steps)}  # a civil_opinion's 财产核查 decides the case
    changes = {k: v for k, v in folded.items() if v != a[k] and not (k == "state_since" and v is None)}
    if not changes:
        return False
    records.update(conn, user, "applications", application_id, {**changes, "updated_at": now()},
                   "依申请救助：按其他站点的办理记录更新状态")
    return True

"""Workflow records arriving at a site: each step judged by the permission model before it is kept, and the
application's state always folded from the steps held here, never taken from the copy that arrived."""

from __future__ import annotations

import json
import sqlite3
from typing import Any

from app.exchange import trust
from app.store import reads, records
from app.store.clock import now
from app.workflow import duties, replay, rules

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
    # A step's site_id is the site that made it, which the county checked against that site's registered key before
    # passing it on. Only a site this one knows as a township's is refused the county's steps: one it does not know
    # (or a county computer replaced since) is not bound here. The approved amount is bounded by the computed one
    # here; what the bills held here support is checked again at 发放 (applications._still_supported), where the money
    # goes out: refusing the 批准 itself for a bill voided here since would stop the case here for good.
    registry = _setting(conn, trust.SETTING) or {}
    county_site = (registry.get("county") or {}).get("site_id")
    townships = set(registry.get("sites") or {}) - {county_site}
    workflow = _setting(conn, "workflow") or {}
    return replay.check(step, steps, app["region_code"], options=options,
                        one_person=duties.office_level(offices, app["region_code"]),
                        recorders=reads.bill_recorders(conn, app["person_id"], app["year"]),
                        from_county=False if step.get("site_id") in townships else None,
                        notice_days=_days(workflow.get("notice_days", rules.NOTICE_DAYS)))


def _days(value: object) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


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
    # On a received application this stamp is this site's, not the owner's: sites take any copy of one with another
    # stamp (records.STAMPED_HERE), so the owner's next copy still replaces the row, whatever either clock says.
    records.update(conn, user, "applications", application_id, {**changes, "updated_at": now()},
                   "依申请救助：按其他站点的办理记录更新状态")
    return True

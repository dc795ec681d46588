"""Workflow records arriving at the county database: each step judged by the permission model against the steps
the county holds before it is kept; a refused one is kept aside with its reason; an application's state, dates and
amounts are folded from the steps the county holds, never taken from the copy a site sent."""

from __future__ import annotations

import json
from collections import defaultdict
from typing import TYPE_CHECKING

from app.exchange import county_keys
from app.exchange.steps import in_order
from app.workflow import duties, replay
from app.workflow.rules import NOTICE_DAYS

if TYPE_CHECKING:
    import psycopg

    from app.exchange.records import Entity

_COLUMNS = ("application_id", "seq", "state", "action", "to_state", "user_id", "username", "display_name", "role",
            "at", "opinion", "details")


def _held(pg: psycopg.Connection, ids: list[str]) -> dict[str, list[dict]]:
    out: dict[str, list[dict]] = defaultdict(list)
    for row in pg.execute(f"SELECT {', '.join(_COLUMNS)} FROM application_steps WHERE application_id = ANY(%s) "
                          "ORDER BY application_id, seq", (ids,)):
        out[row[0]].append(dict(zip(_COLUMNS, row)))
    return out


def summaries(pg: psycopg.Connection, e: Entity, rows: list[tuple]) -> list[tuple]:
    """Application rows with their derived columns replaced by the fold of the steps the county holds."""
    held = _held(pg, [r[0] for r in rows])
    out = []
    for row in rows:
        record = dict(zip(e.wire, row))
        folded = replay.fold(held.get(record["id"], []))
        record.update(folded, state_since=folded["state_since"] or record.get("created_at"))
        out.append(tuple(record[c] for c in e.wire))
    return out


# The county's own decisions in its permission table (duties.SETTING) and its list of offices with a single
# caseworker (duties.ONE_PERSON_SETTING), as its installation last published them: settings do not travel with the
# records, and a waiver is the receiver's to grant, never the sender's claim.
RULES_KEY = "workflow_rules"


def publish_rules(pg: psycopg.Connection, store) -> dict:
    """Record the county installation's permission decisions (`store`'s settings) as the county database's, so that
    the steps it admits follow the same rules as the county's own site; returns what was recorded."""
    held = {"duties": store.setting(duties.SETTING) or {},
            "one_person_offices": list(store.setting(duties.ONE_PERSON_SETTING) or []),
            # The county's 公示 length: a step opening a shorter one is refused (replay.check's notice_days).
            "notice_days": (store.setting("workflow") or {}).get("notice_days", NOTICE_DAYS)}
    pg.execute("INSERT INTO county_meta (key, value) VALUES (%s, %s) ON CONFLICT (key) DO UPDATE "
               "SET value = excluded.value", (RULES_KEY, json.dumps(held, ensure_ascii=False)))
    return held


def rules(pg: psycopg.Connection) -> tuple[duties.Options, list[str]]:
    """The county's permission options and single-caseworker offices; the defaults (none) until it published any."""
    row = pg.execute("SELECT value FROM county_meta WHERE key = %s", (RULES_KEY,)).fetchone()
    held = json.loads(row[0]) if row else {}
    offices = held.get("one_person_offices") or []
    return duties.Options.of(held.get("duties")), [str(code) for code in offices if isinstance(code, str)]


def _notice_days(pg: psycopg.Connection) -> int:
    row = pg.execute("SELECT value FROM county_meta WHERE key = %s", (RULES_KEY,)).fetchone()
    days = (json.loads(row[0]) if row else {}).get("notice_days", NOTICE_DAYS)
    return days if isinstance(days, int) and not isinstance(days, bool) else NOTICE_DAYS


def admit(pg: psycopg.Connection, e: Entity, rows: list[tuple]) -> tuple[list[tuple], list[tuple[dict, str]]]:
    """The steps that may be kept, in order, and the refused ones with the reason (see replay.check), under the
    county's published rules, as a site judges them under its own (steps.refusal)."""
    rows = in_order(rows, e.wire)
    ids = sorted({r[e.wire.index("application_id")] for r in rows})
    held = _held(pg, ids)
    options, offices = rules(pg)
    notice_days = _notice_days(pg)
    # A township's registered site does not take the county's steps; a row's site_id is the site whose registered key
    # signed its push (or whose package the county's installation imported). A site not registered as a township's
    # (the county's installation, claimed or not, or a county computer replaced since) is not bound here.
    county = county_keys.county(pg)
    county_site = county[0].site_id if county else None
    townships = {s["site_id"] for s in county_keys.sites(pg)} - {county_site}
    regions = dict(pg.execute("SELECT id, region_code FROM applications WHERE id = ANY(%s)", (ids,)).fetchall())
    recorders = _recorders(pg, ids)
    known = {r[0] for r in pg.execute("SELECT id FROM application_steps WHERE id = ANY(%s)", ([r[0] for r in rows],))}
    kept, refused = [], []
    for row in rows:
        step = dict(zip(e.wire, row))
        if step["id"] in known:
            kept.append(row)  # already held: merge leaves it as it is
            continue
        region = regions.get(step["application_id"])
        reason = ("它所属的依申请救助县里没有" if region is None
                  else replay.check(step, held[step["application_id"]], region, options=options,
                                    one_person=duties.office_level(offices, region),
                                    recorders=recorders.get(step["application_id"], ()),
                                    from_county=False if step.get("site_id") in townships else None,
                                    notice_days=notice_days))
        if reason:
            refused.append((step, reason))
            continue
        held[step["application_id"]].append(step)
        kept.append(row)
    return kept, refused


def _recorders(pg: psycopg.Connection, ids: list[str]) -> dict[str, list[str]]:
    """Per application, who recorded or corrected the applicant's bills of its year, by the sites' audit logs held
    here (each user id is a site's account; an approver who entered the money is refused, as at the site)."""
    out: dict[str, list[str]] = defaultdict(list)
    for app_id, user_id in pg.execute(
            "SELECT DISTINCT a.id, l.user_id FROM applications a JOIN visits v ON v.person_id = a.person_id "
            "AND v.discharged_on BETWEEN make_date(a.year::int, 1, 1) AND make_date(a.year::int, 12, 31) "
            "JOIN audit_log l ON l.entity = 'visits' AND l.entity_id = v.id AND l.user_id IS NOT NULL "
            "WHERE a.id = ANY(%s)", (ids,)):
        out[app_id].append(user_id)
    return out


def keep_aside(pg: psycopg.Connection, table: str, refused: list[tuple[dict, str]], what: str = "这一办理环节") -> None:
    """Keep refused records in the county's conflicts table, with the reason, for the county to see."""
    for record, reason in refused:
        pg.execute("INSERT INTO conflicts (entity, entity_id, site_id, reason, record) VALUES (%s, %s, %s, %s, %s)",
                   (table, record["id"], record.get("site_id"), f"未采用{what}：{reason}",
                    json.dumps(record, ensure_ascii=False, default=str)))


def folded(pg: psycopg.Connection, ids: set[str]) -> dict[str, dict]:
    """The derived columns of each application as the steps the county holds make them (while not a draft)."""
    out = {}
    for app_id, steps in _held(pg, sorted(ids)).items():
        summary = replay.fold(steps)
        if summary["state_since"] is None:
            del summary["state_since"]
        out[app_id] = summary
    return out

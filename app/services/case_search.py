"""依申请查询: every case in the jurisdiction, in any state and year, by name, ID number or pinyin initials."""

from __future__ import annotations

from app.services import applications as apps
from app.services.search import person_match, surname_readings
from app.services.session import Session
from app.store import reads
from app.workflow import rules

LIMIT = 500


def search_cases(session: Session, query: str = "", state: str | None = None, year: int | None = None,
                 limit: int = LIMIT) -> list[dict]:
    """The matching cases, the latest handled first, each with the applicant and its state's name."""
    clause, params, _ = person_match(query)
    args = list(params)
    for reading, reading_args in surname_readings(query):  # zxx finds 曾小贤 (stored cxx); cases are few: one OR
        clause = f"{clause} OR {reading}"
        args.extend(reading_args)
    where = [f"({clause})"] if clause else []
    scope, scope_args = reads.scope(session.user.jurisdiction, "a.region_code")
    where.append(scope)
    args.extend(scope_args)
    if state:
        if state not in rules.STATE_NAMES:
            return []
        where.append("a.state = ?")
        args.append(state)
    if year:
        where.append("a.year = ?")
        args.append(int(year))
    rows = session.conn.execute(
        "SELECT a.*, p.name, p.id_number FROM applications a JOIN persons p ON p.id = a.person_id "
        f"WHERE {' AND '.join(where)} ORDER BY a.updated_at DESC LIMIT {int(limit)}", args)
    return [{**dict(r), "state_name": rules.STATE_NAMES[r["state"]]} for r in rows]


def case_years(session: Session) -> list[int]:
    """The years that have cases in the jurisdiction, newest first (for the year picker)."""
    scope, args = reads.scope(session.user.jurisdiction, "region_code")
    return [r[0] for r in session.conn.execute(f"SELECT DISTINCT year FROM applications WHERE {scope} "
                                               "ORDER BY year DESC", args)]


def attachments(session: Session, app_id: str) -> list[dict]:
    """The scans kept with a case, in the order added."""
    apps.application_row(session, app_id)
    return [dict(r) for r in session.conn.execute(
        "SELECT kind, filename, size, added_by, created_at FROM attachments WHERE application_id = ? "
        "ORDER BY created_at", (app_id,))]

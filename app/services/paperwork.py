"""Printed documents from the records: gather what each needs, render it, and check a printed form against the record."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path

from app.domain.money import ZERO, fmt
from app.policy.result import OWN_PARTS
from app.services import applications as apps
from app.services import bills
from app.services.bills import unpack_steps
from app.services.registry import household_detail
from app.services.registry import person as load_person
from app.services.session import Session
from app.store import clock, reads
from app.domain.errors import FieldError
from app.workflow import rules
from app.domain.refs import short_ref


def _forms():
    # reportlab (~0.4 s to import on a slow machine) loads with the first document, not with the app's window.
    from app.documents import forms

    return forms


def place(session: Session) -> str:
    """The county's name as documents print it."""
    return (session.store.setting("county") or {}).get("name", "")


def _visit_rows(session: Session, where: str, params: tuple) -> list[dict]:
    # The settled tiers, not the slip's own basic/serious figures (which may be empty when the engine computed them).
    settled = ("basic_paid", "serious_illness_paid", "assistance_paid", "tilt_assistance_paid", "personal_pay")
    rows = session.conn.execute(
        f"SELECT v.*, {', '.join(f's.{c} AS settled_{c}' for c in settled)}, s.applied_category, s.steps "
        f"FROM visits v JOIN settlements s ON s.visit_id = v.id WHERE {where} "
        "ORDER BY v.discharged_on, v.created_at", params).fetchall()
    return [{**dict(r), **{c: r[f"settled_{c}"] for c in settled}, "steps": unpack_steps(r["steps"])} for r in rows]


_SUMMED = ("total_cost", "policy_covered", "basic_paid", "serious_illness_paid", "assistance_paid",
           "tilt_assistance_paid", "personal_pay")


def _with_payments(session: Session, visit: dict) -> dict:
    """A settled visit with its payment lines: the first amount of each paid tier, and each 补付/追回 after it.

    The tiers shown are what is due now (the net); original plus the adjustments is that net."""
    from app.services.payments import COUNTS, ORIGINAL, TIER_NAMES

    lines = session.conn.execute(f"SELECT * FROM payment_lines l WHERE visit_id = ? AND {COUNTS} ORDER BY created_at",
                                 (visit["id"],)).fetchall()
    original = {t: visit[t] for t in TIER_NAMES}
    adjustments = []
    for line in lines:
        if line["line_type"] == ORIGINAL:
            original[line["tier"]] = line["amount"]
        else:
            adjustments.append({"tier": line["tier"], "tier_name": TIER_NAMES[line["tier"]], "kind": line["line_type"],
                                "old": line["old_amount"], "new": line["new_amount"], "amount": line["amount"],
                                "reason": line["reason"], "paid": bool(line["paid_at"])})
    return {**visit, "original": original, "adjustments": adjustments}


def slip_content(session: Session, visit_id: str | None = None, person_id: str | None = None,
                 year: int | None = None) -> dict:
    """What a 结算单 prints: the person, each live visit (net amounts, original, adjustments) and the year's totals."""
    if visit_id:
        visits = _visit_rows(session, "v.id = ? AND v.status = 'live'", (visit_id,))
    else:
        visits = _visit_rows(session, "v.person_id = ? AND v.discharged_on LIKE ? AND v.status = 'live'",
                             (person_id, f"{year}-%"))
    if not visits:
        raise FieldError("visit_id", "没有找到已结算的有效就诊记录")
    _add_own_parts(session, visits)
    totals = None
    if len(visits) > 1:
        sums = {k: sum((Decimal(v[k]) for v in visits), ZERO) for k in _SUMMED}
        totals = {k: fmt(x) for k, x in sums.items()}
        totals["out_of_catalog"] = fmt(sums["total_cost"] - sums["policy_covered"])
        if all("personal_pay_parts" in v for v in visits):
            tiers = {v["personal_pay_parts"]["tier"] for v in visits}
            totals["personal_pay_parts"] = {k: sum((v["personal_pay_parts"][k] for v in visits), ZERO)
                                            for k in OWN_PARTS}
            totals["personal_pay_parts"]["tier"] = tiers.pop() if len(tiers) == 1 else ""
    # A paid bill voided since: not in the table (it is due nothing now), but its 追回 is money the family gives
    # back, so the year's slip lists it with the other adjustments.
    voided = [] if visit_id else [v for v in (_with_payments(session, r) for r in _visit_rows(
        session, "v.person_id = ? AND v.discharged_on LIKE ? AND v.status = 'void'", (person_id, f"{year}-%")))
        if v["adjustments"]]
    return {"person": load_person(session, visits[0]["person_id"]),
            "visits": [_with_payments(session, v) for v in visits], "totals": totals, "voided": voided}


def _add_own_parts(session: Session, visits: list[dict]) -> None:
    """Give each visit the engine's split of the family's own share, where it adds up to the share printed."""
    by_year: dict[tuple[str, int], dict[str, Decimal]] = {}
    for v in visits:
        by_year.setdefault((v["person_id"], int(v["discharged_on"][:4])), {})[v["id"]] = Decimal(v["personal_pay"])
    for (person_id, year), shown in by_year.items():
        parts = bills.own_parts_by_visit(session, person_id, year, shown)
        for v in visits:
            if v["id"] in parts:
                v["personal_pay_parts"] = parts[v["id"]]


def year_slip_content(session: Session, person_id: str, year: int) -> dict:
    """The annual 结算单's content for a person's year."""
    return slip_content(session, person_id=person_id, year=year)


def settlement_slip(session: Session, path: Path, visit_id: str | None = None, person_id: str | None = None,
                    year: int | None = None) -> Path:
    """一站式结算单 for one visit, or for a person's year with its totals; paid tiers show original, 补付/追回, net."""
    content = slip_content(session, visit_id, person_id, year)
    return _forms().settlement_slip(path, place(session), content["person"], content["visits"], content["totals"],
                                    content["voided"])


def notice_list(session: Session, path: Path) -> Path:
    """公示名单 of the cases now on public notice in the user's jurisdiction."""
    rows = apps.notice_list(session)
    if not rows:
        raise FieldError("notice", "目前没有正在公示的申请")
    return _forms().notice_list(path, place(session), rows, apps.settings(session)["contact_phone"])


def rejection_notice(session: Session, app_id: str, path: Path) -> Path:
    """不予救助通知书 for a rejected application, with the approver's reason."""
    a = apps.application_row(session, app_id)
    if a["state"] != "rejected":
        raise FieldError("state", "只有“不予救助”的申请才能打印不予救助通知书")
    step = apps.timeline(session, app_id)[-1]
    p = load_person(session, a["person_id"])
    decided = clock.local_date(step["at"]).strftime("%Y年%m月%d日")
    return _forms().rejection_notice(path, place(session), p["name"], a["year"], step["opinion"] or "", decided,
                                  document_number(a), step["state_name"])


def roster(session: Session, path: Path) -> Path:
    """发放花名册 of the approved cases awaiting disbursement in the user's jurisdiction."""
    where, param = reads.scope(session.user.jurisdiction, "a.region_code")
    rows = session.conn.execute(
        "SELECT a.*, p.name, p.id_number FROM applications a JOIN persons p ON p.id = a.person_id "
        f"WHERE a.state = 'approved' AND {where} ORDER BY a.region_code, p.name", param).fetchall()
    if not rows:
        raise FieldError("roster", "目前没有待发放的已批准申请")
    people = [{"name": r["name"], "id_number": r["id_number"], "village": village(r["region_code"]),
               "amount": r["approved_amount"]} for r in rows]
    return _forms().roster(path, place(session), "依申请救助（已批准待发放）", people)


def village(code: str) -> str:
    """A 12-digit region code as township and village names (the code itself if the names are not known)."""
    from app.domain.regions import regions

    try:
        towns, villages = regions(code[:6])
    except OSError:
        return code
    return towns.get(code[:9], "") + dict(villages).get(code, code)


def document_number(a: dict) -> str:
    """The form's number: 依申请〔year〕 and the first 8 characters of the application's id."""
    return f"依申请〔{a['year']}〕{short_ref(a['id'])}"


ASSET_CHECK = {None: apps.PENDING_CHECK, 1: "符合", 0: "不符合"}
# The household's own request and its withdrawal are not levels of the 审批表. The payment is printed once made, but
# is not part of the decision the form's code vouches for, so a form printed once approved still checks after 发放.
UNPRINTED_STEPS = ("submit", "withdraw")


def step_record(step: dict) -> str:
    """What a step records beside its opinion, as the page and the 审批表 show it: the village meeting's date and
    votes, the 财产核查 民政 recorded, and whether one person took two steps by the county's leave."""
    d = step["details"]
    text = step["opinion"] or ""
    if "votes_for" in d:
        text += (f"（{d['meeting_date']} 评议，到会 {d['attendees']} 人，同意 {d['votes_for']} 票，"
                 f"反对 {d['votes_against']} 票）")
    if "asset_check" in d:
        text += f"（财产核查：{'符合' if d['asset_check'] else '不符合'}）"
    if d.get("waiver"):
        text += f"（{d['waiver']}）"
    return text


def _level(step: dict, notice: tuple[str, str] | None = None) -> dict:
    """One level's row on the 审批表; the close of a 公示 with the period it ran (`notice`: its first and last day)."""
    opinion = f"{step['action_name']}：{step_record(step)}".rstrip("：")
    level = {"step": f"{step['state_name']}（{step['role']}）", "opinion": opinion, "who": step["display_name"],
             "date": clock.local_date(step["at"]).isoformat(), "after_decision": step["action"] == "disburse"}
    if notice:
        start, end = notice
        days = (date.fromisoformat(end) - date.fromisoformat(start)).days + 1
        level["notice"] = f"公示 {start} 至 {end}，{days} 天"
    return level


def _levels(steps: list[dict]) -> list[dict]:
    """The 审批表's levels: a 公示's close carries the period the step before it opened (its closing date alone did
    not say whether the notice ran its days)."""
    out, notice = [], None
    for step in steps:
        if "notice_start" in step["details"] and "notice_end" in step["details"]:
            notice = (step["details"]["notice_start"], step["details"]["notice_end"])
        if step["action"] not in UNPRINTED_STEPS:
            out.append(_level(step, notice if step["action"] == "close_notice" else None))
    return out


def approval_form_content(session: Session, app_id: str) -> dict:
    """Everything the 审批表 prints, built only from the records (so it can be rebuilt to verify a printed copy)."""
    a = apps.application_row(session, app_id)
    p = load_person(session, a["person_id"])
    household = household_detail(session, a["household_id"])
    visits = _visit_rows(session, "v.person_id = ? AND v.discharged_on LIKE ? AND v.status = 'live'",
                         (a["person_id"], f"{a['year']}-%"))  # a voided bill is no cost of the year
    keys = ("total_cost", "policy_covered", "basic_paid", "serious_illness_paid", "assistance_paid",
            "tilt_assistance_paid", "personal_pay")
    totals = {k: fmt(sum((Decimal(v[k]) for v in visits), ZERO)) for k in keys}
    totals["visits"] = len(visits)
    try:
        computed = apps.compute_amount(session, app_id)
        computation = (computed["pending"] or
                       "；".join(f"{s['explain']}〔{s['reference']}〕" for s in computed["steps"]) or "—")
    except FieldError as exc:
        computed, computation = None, f"无法测算：{exc}"  # the label says what is missing
    levels = _levels(apps.timeline(session, app_id))
    last_day = visits[-1]["discharged_on"] if visits else f"{a['year']}-12-31"
    adjusted = a["approved_amount"] is not None and a["computed_amount"] is not None and \
        Decimal(a["approved_amount"]) != Decimal(a["computed_amount"])
    # Only an adjusted amount carries its reason, so a form printed before reasons were printed still verifies.
    reason = {"amount_reason": a["amount_reason"] or ""} if adjusted else {}
    return {
        "application": {"id": a["id"], "name": p["name"], "id_number": p["id_number"], "address": p["address"],
                        "year": a["year"], "annual_income": a["annual_income"],
                        "low_income_standard": a["low_income_standard"],
                        "asset_check": ASSET_CHECK[a["passes_asset_check"]],
                        "categories": "、".join(reads.categories_on(session.conn, a["person_id"], last_day)),
                        "computed_amount": a["computed_amount"] or (
                            None if computed is None or computed["amount"] is None else fmt(computed["amount"])),
                        "approved_amount": a["approved_amount"], **reason,
                        "amount_note": "" if computed is None else (computed["pending"] or "")},
        "members": [{k: m[k] for k in ("name", "relation_to_head", "id_number", "sex", "birth_date")}
                    for m in household["members"]],
        "totals": totals, "computation": computation, "levels": levels,
    }


def approval_form(session: Session, app_id: str, path: Path) -> Path:
    """医疗救助（依申请）审批表 with its QR verification code."""
    content = approval_form_content(session, app_id)
    return _forms().approval_form(path, place(session), document_number(apps.application_row(session, app_id)), content)


def approval_forms_batch(session: Session, path: Path, state: str = "approved") -> Path:
    """Every 审批表 of the cases in a state (by default approved, awaiting disbursement) in one file to print."""
    where, param = reads.scope(session.user.jurisdiction, "a.region_code")
    ids = [r[0] for r in session.conn.execute(
        f"SELECT a.id FROM applications a JOIN persons p ON p.id = a.person_id WHERE a.state = ? AND {where} "
        "ORDER BY a.region_code, p.name", (state, *param))]
    if not ids:
        raise FieldError("state", f"没有“{rules.STATE_NAMES[state]}”的申请")
    return _forms().approval_forms(path, place(session), [(document_number(apps.application_row(session, i)),
                                                         approval_form_content(session, i)) for i in ids])


def verify_form(session: Session, code: str) -> tuple[bool, str]:
    """Whether a printed form's code matches the record as it stands now, and a sentence saying so."""
    parts = code.strip().split(":")
    if len(parts) != 3 or parts[0] != "JZ1":
        return False, "校验码格式不对，应为 JZ1:申请编号:校验值"
    _, app_id, digest = parts
    try:
        content = approval_form_content(session, app_id)
    except FieldError:
        return False, "系统中没有这份申请"
    if _forms().form_digest(content) == digest:
        a = apps.application_row(session, app_id)
        return True, f"一致：这份审批表与系统记录相符（{content['application']['name']}，{rules.STATE_NAMES[a['state']]}）"
    return False, "不一致：审批表打印后记录已有变动，或这份表不是本系统打印的，请以系统记录为准"


def sample(session: Session, folder: Path) -> list[Path]:
    """One of each document from the database, for review and for the packaging check."""
    folder.mkdir(parents=True, exist_ok=True)
    made = []
    visit = session.conn.execute("SELECT v.id, v.person_id, substr(v.discharged_on, 1, 4) AS y FROM visits v "
                                 "JOIN settlements s ON s.visit_id = v.id ORDER BY v.person_id, v.discharged_on "
                                 "LIMIT 1").fetchone()
    if visit:
        made.append(settlement_slip(session, folder / "结算单-单次.pdf", visit_id=visit["id"]))
        busiest = session.conn.execute("SELECT person_id, substr(discharged_on, 1, 4) AS y, count(*) AS n FROM visits "
                                       "GROUP BY person_id, y ORDER BY n DESC LIMIT 1").fetchone()
        made.append(settlement_slip(session, folder / "结算单-年度.pdf", person_id=busiest["person_id"],
                                    year=int(busiest["y"])))
    for state, name, fn in (("public_notice", "公示名单.pdf", lambda p: notice_list(session, p)),
                            ("approved", "发放花名册.pdf", lambda p: roster(session, p))):
        if session.conn.execute("SELECT 1 FROM applications WHERE state = ?", (state,)).fetchone():
            made.append(fn(folder / name))
    rejected = session.conn.execute("SELECT id FROM applications WHERE state = 'rejected' LIMIT 1").fetchone()
    if rejected:
        made.append(rejection_notice(session, rejected["id"], folder / "不予救助通知书.pdf"))
    latest = session.conn.execute("SELECT id FROM applications ORDER BY (state = 'disbursed') DESC, updated_at DESC "
                                  "LIMIT 1").fetchone()
    if latest:
        made.append(approval_form(session, latest["id"], folder / "审批表.pdf"))
    return made



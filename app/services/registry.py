"""Households, their members, identity categories over time and insurance enrolment."""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from datetime import date

from app.domain.idnumber import ID_TYPES, parse_id_number, resident_shaped
from app.domain.names import CANONICAL_CATEGORIES, INSURANCE_SCHEMES
from app.services import validate
from app.services.session import Session
from app.store import clock, records
from app.store.clock import new_id
from app.store.db import transaction
from app.domain.errors import FieldError
from app.domain.names import initials

RELATIONS = ("户主", "配偶", "子", "女", "儿媳", "女婿", "孙子女", "父母", "祖父母", "兄弟姐妹", "其他")
HEAD = RELATIONS[0]  # what relation_to_head holds for the head itself
CERTIFIERS = ("民政", "乡村振兴", "残联", "医保", "退役军人事务", "卫生健康", "其他")


@dataclass
class PersonInput:
    """A person as entered: a resident ID number derives birth date and sex; other documents give them."""

    name: str
    id_number: str
    relation_to_head: str = "户主"
    id_type: str = "居民身份证"
    birth_date: str | None = None
    sex: str | None = None


def _person_fields(session: Session, p: PersonInput, field: str, exclude: str | None = None) -> dict:
    """Checked person fields; an ID number registered to anyone else is refused, naming who has it."""
    name = validate.text(p.name, f"{field}.name", "姓名", 50)
    if p.id_type not in ID_TYPES:
        raise FieldError(f"{field}.id_type", f"证件类型应为 {'、'.join(ID_TYPES)} 之一")
    check_relation(p.relation_to_head, f"{field}.relation_to_head")
    if p.id_type == "居民身份证":
        checked = parse_id_number(p.id_number, f"{field}.id_number")  # an IdNumberError is an FieldError
        number, born, sex = checked.value, checked.birth_date.isoformat(), checked.sex
    else:
        number = validate.text(p.id_number, f"{field}.id_number", "证件号码", 40)
        number = resident_shaped(number) or number
        born = validate.day(p.birth_date, f"{field}.birth_date", "出生日期").isoformat() if p.birth_date else None
        if p.sex not in (None, "男", "女"):
            raise FieldError(f"{field}.sex", "性别应为 男 或 女")
        sex = p.sex
    existing = _holder(session, p.id_type, number, p.id_number, exclude)
    if existing:
        raise FieldError(f"{field}.id_number", _registered_elsewhere(session, existing))
    return {"name": name, "name_initials": initials(name), "id_type": p.id_type, "id_number": number,
            "birth_date": born, "sex": sex, "relation_to_head": p.relation_to_head}


def check_relation(relation: str, field: str, member: bool = False) -> str:
    """A relation to the head chosen from RELATIONS; `member`: of someone who is not the head (户主 refused)."""
    if not relation:
        raise FieldError(field, "请选择与户主关系")
    if relation not in RELATIONS:
        raise FieldError(field, f"与户主关系应为 {'、'.join(RELATIONS)} 之一")
    if member and relation == HEAD:
        raise FieldError(field, "该户已有户主，请选择成员与户主的关系")
    return relation


def _holder(session: Session, id_type: str, number: str, typed: str, exclude: str | None) -> sqlite3.Row | None:
    """Whoever else holds the number: a resident ID number under any document type, another number under its own.

    One person entered as 居民身份证 and again as 户口簿, or as 34022319800101101x, is one person twice, and two
    settlements of one year. Rows stored before numbers were made plain may hold the lower-case x or the number as
    it was typed; those spellings are looked up too (by the index: a scan of every person per registration is too
    slow for a county). A number of another shape (a 出生医学证明's) is only compared within its document type."""
    if resident_shaped(number):
        spellings = sorted({number, number.lower(), str(typed).strip()})
        where = f"p.id_number IN ({', '.join('?' * len(spellings))})"
        args: tuple = (*spellings,)
    else:
        where, args = "p.id_type = ? AND p.id_number = ?", (id_type, number)
    return session.conn.execute(
        "SELECT p.id_type, p.id_number, p.name, h.address, h.region_code FROM persons p "
        f"JOIN households h ON h.id = p.household_id WHERE {where} AND p.id IS NOT ? LIMIT 1",
        (*args, exclude)).fetchone()


def _registered_elsewhere(session: Session, existing: sqlite3.Row) -> str:
    """Why a number already held is refused: who holds it inside the user's jurisdiction, only where outside it.

    A caseworker may not read another township's people (session.require_region), and a duplicate check must not
    become a way round that by typing ID numbers: outside the jurisdiction the message names the place, never the
    person or the address."""
    id_type, number = existing["id_type"], existing["id_number"]  # as held: it may be another document type
    if session.user.covers(existing["region_code"]):
        return f"{id_type} {number} 已登记为 {existing['name']}（{existing['address']}），请在该人员处修改，不要重复登记"
    from app.services.places import township_and_village

    township, village = township_and_village(existing["region_code"])
    # A person moves between households only within the jurisdiction of whoever moves them (household_changes), and
    # no one outside the place may change its record: the county, whose jurisdiction covers both places, is who sorts
    # out a person who has moved from elsewhere.
    return (f"{id_type} {number} 已在{township}{village}登记，不在您的管辖范围内，同一人不能重复登记；"
            f"如此人已迁入本地，请联系县级医疗救助经办人员（管辖范围包括两地）核实处理")


def _person_row(session: Session, p: PersonInput, household_id: str, field: str) -> dict:
    return {"id": new_id(), "household_id": household_id, **_person_fields(session, p, field)}


def register_household(session: Session, region_code: str, address: str, head: PersonInput) -> tuple[str, str]:
    """A new household with its head; returns (household id, head's person id)."""
    session.require("register")
    code = validate.region_code(region_code)
    session.require_region(code, "region_code")
    addr = validate.text(address, "address", "住址", 200)
    if head.relation_to_head != "户主":
        raise FieldError("head.relation_to_head", "新登记户的第一个人必须是户主")
    household_id = new_id()
    person = _person_row(session, head, household_id, "head")
    row = {"id": household_id, "region_code": code, "address": addr, "head_person_id": person["id"]}
    with transaction(session.conn):
        records.insert(session.conn, session.user, "households", row, "登记家庭")
        records.insert(session.conn, session.user, "persons", person, "登记人员")
    return household_id, person["id"]


def check_own(row, field: str, what: str, doing: str = "修改") -> None:
    """Refuse to change a record another site made: only a record's own site sends it, so the change would stay on
    this computer, never reach the county, and the next copy from its site would undo it."""
    if row["site_id"] is not None:
        raise FieldError(field, f"{what}是从其他站点（{row['site_id']}）接收的，在本机{doing}不会送到县里，下次收到"
                                f"它的站点的记录时还会被改回；请在登记它的站点{doing}")


def household(session: Session, household_id: str) -> dict:
    """A household's row, refused when it is gone or outside the user's jurisdiction."""
    row = session.conn.execute("SELECT * FROM households WHERE id = ?", (household_id,)).fetchone()
    if row is None:
        raise FieldError("household_id", "找不到这个家庭，可能已被其他人删除，请刷新后重试")
    session.require_region(row["region_code"], "household_id")
    return dict(row)


def add_member(session: Session, household_id: str, person: PersonInput) -> str:
    """Add a member to a household; returns the person id."""
    session.require("register")
    household(session, household_id)
    check_relation(person.relation_to_head, "member.relation_to_head", member=True)
    row = _person_row(session, person, household_id, "member")
    with transaction(session.conn):
        records.insert(session.conn, session.user, "persons", row, "登记人员")
    return row["id"]


def person(session: Session, person_id: str) -> dict:
    """A person with the household's region, refused outside the user's jurisdiction."""
    row = session.conn.execute("SELECT p.*, h.region_code, h.address FROM persons p JOIN households h "
                               "ON h.id = p.household_id WHERE p.id = ?", (person_id,)).fetchone()
    if row is None:
        raise FieldError("person_id", "找不到这个人员，请刷新后重试")
    session.require_region(row["region_code"], "person_id")
    return dict(row)


def policy_categories(session: Session) -> list[str]:
    """The categories the county's policy has, by their names in it and in its order: what a form offers."""
    policy_id = session.store.setting("policy_id")
    if not policy_id:
        return sorted(CANONICAL_CATEGORIES)
    from app.policy.loader import load_policy
    return list(dict.fromkeys(decl.name for decl in load_policy(policy_id).policy.categories))


def check_certifier(certified_by: str) -> None:
    """Refuse a certifying department that is not one of CERTIFIERS (a form's choice and a list's apply alike)."""
    if certified_by not in CERTIFIERS:
        raise FieldError("certified_by", f"认定部门应为 {'、'.join(CERTIFIERS)} 之一")


def _category_names(session: Session) -> dict[str, str]:
    """Every name a category may be entered by → the name it is stored under.

    The policy's aliases (特困供养人员) map to its own name, as the settlement engine reads them (its PolicyIndex); the
    canonical categories it has no name for stay as they are."""
    names = {name: name for name in CANONICAL_CATEGORIES}
    if session.store.setting("policy_id"):
        from app.services.county import engine

        names.update(engine(session).index.canonical)
    return names


def known_categories(session: Session) -> set[str]:
    """Canonical categories and whatever the county's policy names (with its aliases)."""
    return set(_category_names(session))


def _period_day(value, field: str, label: str) -> date:
    """A period's date, within the years an identity list may carry (a certification may run ahead of today).

    0001-01-01 or 2999-01-01 is a slip of the keyboard, and taken as written it puts a category over every bill the
    person ever had; the identity import refuses the same range, so a list and a form agree on what is plausible."""
    from app.exchange.identity_lists import FIRST_YEAR, LAST_YEAR

    day = validate.day(value, field, label, allow_future=True)
    if not FIRST_YEAR <= day.year <= LAST_YEAR:
        raise FieldError(field, f"{day} 不在 {FIRST_YEAR} 至 {LAST_YEAR} 年之间，多半是年份输错了，请对照认定文件核对",
                         label)
    return day


def _period(session: Session, person_id: str, category: str, valid_from, valid_to, certified_by: str,
            exclude: str | None = None) -> dict:
    """Checked period fields; periods of one category may not overlap (the edited one excepted).

    The category is stored by the policy's own name, and compared by it: an alias stored as typed would let
    特困供养人员 and 特困人员 cover the same days, and ending one would leave the other open."""
    if not category:
        raise FieldError("category", "请选择身份类别")
    names = _category_names(session)
    if category not in names:
        raise FieldError("category", f"“{category}”不是已知的身份类别")
    category = names[category]
    start = _period_day(valid_from, "valid_from", "起始日期")
    end = _period_day(valid_to, "valid_to", "终止日期") if valid_to else None
    if end is not None and end < start:
        raise FieldError("valid_to", f"终止日期 {end} 早于起始日期 {start}")
    check_certifier(certified_by)
    # Every period of the person, not only those stored under this name: rows written before names were made
    # canonical may hold an alias.
    for held in session.conn.execute(
            "SELECT category, valid_from, valid_to FROM category_periods WHERE person_id = ? "
            "AND valid_from <= ? AND (valid_to IS NULL OR valid_to >= ?) AND id IS NOT ? ORDER BY valid_from",
            (person_id, (end or date.max).isoformat(), start.isoformat(), exclude)):
        if names.get(held["category"], held["category"]) == category:
            raise FieldError("valid_from", f"与已登记的{held['category']}期间 {held['valid_from']} 至 "
                                           f"{held['valid_to'] or '今'} 重叠，请先修改原期间")
    return {"category": category, "valid_from": start.isoformat(), "valid_to": end.isoformat() if end else None,
            "certified_by": certified_by}


def resettle_touched(session: Session, person_id: str, *periods: dict, reason: str = "身份类别变更") -> None:
    """Re-settle the years of the person's bills that a changed period reaches (inside the caller's transaction).

    A category certified back to January covers bills already recorded; the year is settled again and the
    difference (补差) is audited, as the cumulative 结算程序 asks."""
    from app.services.bills import store_year

    first = min(p["valid_from"] for p in periods)
    years = [r[0] for r in session.conn.execute(
        "SELECT DISTINCT substr(discharged_on, 1, 4) FROM visits WHERE person_id = ? AND discharged_on >= ?",
        (person_id, f"{first[:4]}-01-01"))]
    for year in years:
        store_year(session, person_id, int(year), reason)


def set_category(session: Session, person_id: str, category: str, valid_from: str | date,
                 valid_to: str | date | None, certified_by: str) -> str:
    """Record that a person held a category over a period, and re-settle the bills it covers."""
    session.require("edit_categories")
    person(session, person_id)
    fields = _period(session, person_id, category, valid_from, valid_to, certified_by)
    with transaction(session.conn):
        row = records.insert(session.conn, session.user, "category_periods", {"person_id": person_id, **fields},
                             "登记身份类别")
        resettle_touched(session, person_id, row)
    return row["id"]


def _held_period(session: Session, period_id: str) -> sqlite3.Row:
    """A period the user may edit: the permission, the period itself, and the person within the jurisdiction."""
    session.require("edit_categories")
    old = session.conn.execute("SELECT * FROM category_periods WHERE id = ?", (period_id,)).fetchone()
    if old is None:
        raise FieldError("period_id", "找不到这段身份类别期间，请刷新后重试")
    person(session, old["person_id"])
    return old


def _sent_away(session: Session, period: sqlite3.Row) -> str | None:
    """Why a period may not be removed here, when a copy of it is already at the county or came from another site.

    The exchange carries records and their changes, never a removal: a period removed here would stay in the county's
    database (and at every site the county hands it to), and be settled there as if it held. Until the exchange can
    carry a removal, a period that left this site is corrected where both copies can be: by the county."""
    if period["site_id"] is not None:
        return f"这段期间是从其他站点（{period['site_id']}）接收的，请在登记它的站点删除"
    from app.services import packages, sync

    created = session.conn.execute(
        "SELECT min(seq) FROM audit_log WHERE entity = 'category_periods' AND entity_id = ? AND row_hash IS NOT NULL",
        (period["id"],)).fetchone()[0]
    sent = max(sync.state(session)["pushed_audit"], packages.export_state(session)["audit"])
    if created is not None and created <= sent:
        return ("这段期间已随同步或导出送到县里，在本机删除不会传到县级数据库；"
                "请联系县级医疗救助经办人员处理，或把它的日期改正")
    return None


def remove_category(session: Session, period_id: str, reason: str) -> None:
    """删除（录入错误）: remove a period that should never have been entered, with the reason, audited.

    Changing the dates cannot do this (a period needs a day), so a mistaken period stayed for good. The years its bills
    fall in are settled again exactly as when a period changes: money already paid is never rewritten, the difference
    becomes a 补付 or 追回 line (payments.reconcile)."""
    why = validate.text(reason, "reason", "删除原因", 200)
    with transaction(session.conn):
        # Inside the write lock: a sync or export in another window between a check and the delete would send it.
        old = _held_period(session, period_id)
        refused = _sent_away(session, old)
        if refused:
            raise FieldError("period_id", refused, "身份类别期间")
        records.delete(session.conn, session.user, "category_periods", period_id, f"删除身份类别（录入错误）：{why}")
        resettle_touched(session, old["person_id"], dict(old), reason="身份类别删除（录入错误）")


def update_category(session: Session, period_id: str, valid_from: str | date, valid_to: str | date | None,
                    certified_by: str) -> None:
    """Change a period's dates or certifier (ending a period is setting its 终止日期); bills are re-settled."""
    old = _held_period(session, period_id)
    check_own(old, "period_id", "这段身份类别期间")
    fields = _period(session, old["person_id"], old["category"], valid_from, valid_to, certified_by, exclude=period_id)
    with transaction(session.conn):
        records.update(session.conn, session.user, "category_periods", period_id, fields, "修改身份类别")
        resettle_touched(session, old["person_id"], dict(old), fields)


def update_person(session: Session, person_id: str, p: PersonInput) -> None:
    """Correct a person's name, document or relation to the head; the head stays the head."""
    session.require("register")
    old = person(session, person_id)
    check_own(old, "person_id", f"{old['name']}的人员记录")
    if (old["relation_to_head"] == "户主") != (p.relation_to_head == "户主"):
        raise FieldError("member.relation_to_head", "户主的关系不能在这里改动，户主以外的成员也不能改为户主")
    fields = _person_fields(session, p, "member", exclude=person_id)
    with transaction(session.conn):
        records.update(session.conn, session.user, "persons", person_id, fields, "修改人员")


def update_household(session: Session, household_id: str, address: str) -> None:
    """Correct a household's address."""
    session.require("register")
    check_own(household(session, household_id), "household_id", "这一户的家庭记录")
    addr = validate.text(address, "address", "住址", 200)
    with transaction(session.conn):
        records.update(session.conn, session.user, "households", household_id, {"address": addr}, "修改家庭")


def set_enrollment(session: Session, person_id: str, year: int, insurance: str) -> None:
    """Record the person's insurance scheme for a year (a change is audited with its old value)."""
    session.require("register")
    person(session, person_id)
    if insurance not in INSURANCE_SCHEMES:
        raise FieldError("insurance", f"险种应为 {'、'.join(INSURANCE_SCHEMES)} 之一")
    if not isinstance(year, int) or not 1990 <= year <= clock.today().year + 1:
        raise FieldError("year", "参保年度不合理")
    old = session.conn.execute("SELECT id, site_id FROM enrollments WHERE person_id = ? AND year = ?",
                               (person_id, year)).fetchone()
    if old:
        check_own(old, "insurance", f"{year} 年的参保记录")
    with transaction(session.conn):
        if old:
            records.update(session.conn, session.user, "enrollments", old["id"], {"insurance": insurance}, "修改参保")
        else:
            records.insert(session.conn, session.user, "enrollments",
                           {"person_id": person_id, "year": year, "insurance": insurance}, "登记参保")


def person_input(data: dict) -> PersonInput:
    """A PersonInput from a plain dict (the CLI and importers), refusing unknown keys."""
    allowed = set(PersonInput.__dataclass_fields__)
    extra = sorted(set(data) - allowed)
    if extra:
        raise FieldError(extra[0], "人员信息没有这一项，请检查拼写", f"未知字段“{extra[0]}”")
    return PersonInput(**data)




def household_detail(session: Session, household_id: str) -> dict:
    """A household, its members (head first) and every category period each member has held."""
    row = household(session, household_id)
    members = []
    for p in session.conn.execute("SELECT * FROM persons WHERE household_id = ? ORDER BY relation_to_head != '户主', "
                                  "birth_date", (household_id,)):
        periods = [dict(r) for r in session.conn.execute(
            "SELECT id, category, valid_from, valid_to, certified_by FROM category_periods WHERE person_id = ? "
            "ORDER BY valid_from", (p["id"],))]
        members.append({**dict(p), "periods": periods})
    return {**row, "members": members}

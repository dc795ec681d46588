"""户主变更 and 成员迁入另一户: a household's head changed, a member moved into another household, whole or not at all."""

from __future__ import annotations

from dataclasses import dataclass

from app.domain.errors import FieldError
from app.domain.refs import short_ref
from app.domain.regions import label
from app.services import registry, search
from app.services.places import township_and_village
from app.services.registry import HEAD
from app.services.session import Session
from app.store import records
from app.store.db import transaction
from app.workflow import rules

# An 依申请救助 still in progress, as a condition on applications (with its parameters).
_IN_PROGRESS = (f"state NOT IN ({', '.join('?' * len(rules.FINAL))})", tuple(sorted(rules.FINAL)))


@dataclass(frozen=True)
class Changed:
    """What a change did: the households and people it wrote, and what the caseworker should check next."""

    households: tuple[str, ...]
    persons: tuple[str, ...]
    to_check: tuple[str, ...] = ()


def change_head(session: Session, household_id: str, new_head_person_id: str, former_head_relation: str) -> Changed:
    """户主变更: a member becomes the head (relation 户主); the former head takes the relation given to the new one.

    The other members' relations were given to the former head, and are not guessed anew (the former head's spouse
    may be the new head's mother or wife): the result names them for the caseworker to check."""
    session.require("register")
    with transaction(session.conn):  # read inside the write lock: another window may change the household meanwhile
        household, new, former = _head_change(session, household_id, new_head_person_id)
        relation = registry.check_relation(former_head_relation, "former_head_relation", member=True)
        records.update(session.conn, session.user, "households", household_id, {"head_person_id": new["id"]},
                       "户主变更")
        records.update(session.conn, session.user, "persons", new["id"], {"relation_to_head": HEAD},
                       "户主变更：设为户主")
        if former is not None:
            records.update(session.conn, session.user, "persons", former["id"], {"relation_to_head": relation},
                           f"户主变更：原户主改为{relation}")
        written = (new["id"],) + ((former["id"],) if former is not None else ())
        others = session.conn.execute(
            f"SELECT name, relation_to_head FROM persons WHERE household_id = ? AND id NOT IN "
            f"({', '.join('?' * len(written))}) ORDER BY birth_date, name", (household_id, *written)).fetchall()
    return Changed((household_id,), written, _relations_to_check(new["name"], former, others))


def _head_change(session: Session, household_id: str, new_head_person_id: str) -> tuple[dict, dict, dict | None]:
    """The household, its member who is to be head (not the head already) and its head now (None if it has none):
    all within the jurisdiction and made at this site."""
    household = registry.household(session, household_id)
    registry.check_own(household, "household_id", "这一户")
    new = session.conn.execute("SELECT * FROM persons WHERE id = ?", (new_head_person_id,)).fetchone()
    if new is None or new["household_id"] != household_id:
        raise FieldError("new_head_person_id", "新户主须是本户的成员，请在本户成员中选择")
    if new["id"] == household["head_person_id"] or new["relation_to_head"] == HEAD:
        raise FieldError("new_head_person_id", f"{new['name']} 已是本户户主，请选择本户的其他成员")
    registry.check_own(new, "new_head_person_id", f"{new['name']}的人员记录")
    former = session.conn.execute("SELECT * FROM persons WHERE id = ? AND household_id = ?",
                                  (household["head_person_id"], household_id)).fetchone()
    if former is not None:
        registry.check_own(former, "former_head_relation", f"原户主{former['name']}的人员记录")
    return household, dict(new), dict(former) if former is not None else None


def _relations_to_check(head: str, former: dict | None, others: list) -> tuple[str, ...]:
    """The members whose relation was given to the former head, for the caseworker to check (none: nothing to say)."""
    if not others:
        return ()
    listed = "、".join(f"{o['name']}（{o['relation_to_head']}）" for o in others)
    given = f"原户主{former['name']}" if former is not None else "原户主"
    return (f"其他成员的与户主关系是相对{given}登记的，现在的户主是{head}：{listed}，请逐一核对，"
            f"需要改的用“修改成员信息”改正",)


def move_member(session: Session, person_id: str, target_household_id: str, relation: str) -> Changed:
    """成员迁入另一户 (after a marriage, a household split): the person, with their bills, categories, insurance and
    payments, now belongs to the target household, under the relation to its head given.

    Refused whole: the head (the household would have none: change the head first), the household they are in,
    a household outside the user's jurisdiction, a person with an 依申请救助 still in progress, a record this site
    did not make.

    Nothing is settled again, because nothing that decides money depends on who lives with whom:
    - the engine settles one person's year from that person's bills, categories and insurance (app/store/reads.py
      builds the Case); a Case's household figures are those an application declared (reads.application_case),
      never a household's members; annual limits are per person;
    - an application keeps the household and region it was made for, with the income declared then; one still in
      progress is why a move is refused (_open_application);
    - the monitoring list, the 资助参保 roster and 发放 batches are drawn up from the records as they are then, and
      read the household only for the place and the head's name; the statistics' summary follows a member's
      household by trigger (app/store/summary.py, stat_person_move).
    Only within a village (居): the county files a person's bills, categories and payments under the village they
    were sent from, and a site of another village would get the person without them (its next bill settled as if
    the year's limit were unused, another village's site recording bills under the old household meanwhile)."""
    session.require("register")
    with transaction(session.conn):
        person = registry.person(session, person_id)
        registry.check_own(person, "person_id", f"{person['name']}的人员记录")
        source = registry.household(session, person["household_id"])
        _not_head(session, person, source)
        target = _target(session, target_household_id, person)
        checked = registry.check_relation(relation, "relation_to_head", member=True)
        _open_application(session, person)
        records.update(session.conn, session.user, "persons", person_id,
                       {"household_id": target["id"], "relation_to_head": checked},
                       f"成员迁入另一户：从{source['address']}迁入{target['address']}")
        pending = _applications_in(session, (source["id"], target["id"]))
    return Changed((source["id"], target["id"]), (person_id,), pending)


def _target(session: Session, target_household_id: str, person: dict) -> dict:
    """The household a member moves into: chosen, there, another than theirs, within the user's jurisdiction."""
    if not target_household_id:
        raise FieldError("target_household_id", "请先查找并选中要迁入的家庭")
    row = session.conn.execute("SELECT * FROM households WHERE id = ?", (target_household_id,)).fetchone()
    if row is None:
        raise FieldError("target_household_id", "找不到要迁入的家庭，可能已被其他人改动，请重新查找")
    if row["id"] == person["household_id"]:
        raise FieldError("target_household_id", f"{person['name']} 已在这一户，请选择要迁入的另一户")
    decision = session.may("register", dict(row))  # the one permission model: the role, and the place
    if not decision.allowed:
        raise FieldError("target_household_id", f"{decision.reason}：只能迁入您辖区内的家庭，迁往辖区以外的请联系县级"
                                                 f"医疗救助经办人员")
    if row["region_code"] != person["region_code"]:
        there, here = (label(code) for code in (row["region_code"], person["region_code"]))
        raise FieldError("target_household_id", f"要迁入的家庭在{there}，{person['name']}现在在{here}：本程序只办理同一村（居）"
                                                 f"内的迁移。跨村迁移后，其已有的账单、身份类别在县里仍归原村，新村的站点收不到，"
                                                 f"会按不全的记录结算（少算已用的年度限额）；请联系县级医疗救助经办人员")
    return dict(row)


def _not_head(session: Session, person: dict, household: dict) -> None:
    """A head stays until another member is made head: a household is never left without one."""
    if person["id"] != household["head_person_id"] and person["relation_to_head"] != HEAD:
        return
    others = session.conn.execute("SELECT count(*) FROM persons WHERE household_id = ? AND id != ?",
                                  (household["id"], person["id"])).fetchone()[0]
    if others:
        raise FieldError("person_id", f"{person['name']} 是本户户主，不能直接迁出：请先选中本户另一成员点“设为户主”，"
                                      f"再办理迁出")
    raise FieldError("person_id", f"{person['name']} 是本户唯一的成员，迁出后本户就没有人了，本程序不能注销一户；"
                                  f"如是两户合并，请把另一户的成员迁入本户")


def _open_application(session: Session, person: dict) -> None:
    """Refuse the move of a person whose 依申请救助 is still in progress.

    The application was made for the household the person is in: its region decided who reviews it and where its
    公示 was posted, and its 家庭年度总收入 is that household's, as declared. An application never changes its
    household afterwards (its steps are the record of who decided on what), so moving its applicant midway would
    leave a case decided on one household for a person of another. Finish it (发放, 不予救助) or withdraw it first;
    a new application is then made for the new household."""
    row = session.conn.execute(f"SELECT id, year, state FROM applications WHERE person_id = ? AND {_IN_PROGRESS[0]} "
                               f"ORDER BY year LIMIT 1", (person["id"], *_IN_PROGRESS[1])).fetchone()
    if row is not None:
        raise FieldError("person_id", f"{person['name']} 的 {row['year']} 年依申请救助（编号 {short_ref(row['id'])}，"
                                      f"{rules.STATE_NAMES[row['state']]}）还在办理中，它是按原户申报的家庭收入审核的：请办结"
                                      f"（发放或不予救助）或撤回后再迁移")


def _applications_in(session: Session, households: tuple[str, ...]) -> tuple[str, ...]:
    """Applications of other members still in progress in the households a move touched: their household income was
    declared before it, and may need a second look at the next step."""
    rows = session.conn.execute(
        f"SELECT p.name, a.year FROM applications a JOIN persons p ON p.id = a.person_id WHERE a.household_id IN "
        f"({', '.join('?' * len(households))}) AND a.{_IN_PROGRESS[0]} ORDER BY p.name, a.year",
        (*households, *_IN_PROGRESS[1])).fetchall()
    if not rows:
        return ()
    names = "、".join(f"{r['name']}（{r['year']} 年）" for r in rows)
    return (f"{names}的依申请救助还在办理中，其家庭年度总收入是迁移前申报的；如因成员迁入迁出而变化，请在下一环节核实",)


def households_matching(session: Session, query: str, exclude: str | None = None, village: str | None = None,
                        limit: int = 30) -> list[dict]:
    """Households within the user's jurisdiction (and in `village`, a region code, when given: where a member may move
    to) with a member matching the query as 人员查询 finds people (ID number, name or pinyin initials), for choosing
    where a member moves: each with its head, address and the members found."""
    if not (query or "").strip():
        return []
    found: dict[str, dict] = {}
    for p in search.search_people(session, query, village, limit=limit * 4):
        if p["household_id"] != exclude:
            entry = found.setdefault(p["household_id"], {"id": p["household_id"], "address": p["address"],
                                                         "region_code": p["region_code"], "matched": []})
            entry["matched"].append(p["name"])
    chosen = list(found.values())[:limit]
    heads = {r[0]: r[1] for r in session.conn.execute(
        f"SELECT h.id, p.name FROM households h LEFT JOIN persons p ON p.id = h.head_person_id "
        f"WHERE h.id IN ({', '.join('?' * len(chosen))})", [h["id"] for h in chosen])}
    return [{**h, "head_name": heads.get(h["id"]) or "", "place": "".join(township_and_village(h["region_code"]))}
            for h in chosen]

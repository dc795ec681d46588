"""户主变更 and 成员迁入另一户: the happy paths leave a sound database and every amount as it was; every refusal names
its field in Chinese and leaves nothing written."""

from __future__ import annotations

import pytest

from app.domain.errors import FieldError
from app.services import applications as apps
from app.services import bills, household_changes, registry, users
from app.services.session import SYSTEM, Session
from app.store import records
from app.store.check import check_database
from app.store.db import transaction

from .conftest import valid_id
from .test_validation import bill

TOWN, VILLAGE, OTHER_VILLAGE = "340223100", "340223100201", "340223100202"


def user(session: Session, name: str, role: str, jurisdiction: str) -> Session:
    found = users.find_user(session.conn, name) or users.create_user(
        Session(session.store, SYSTEM), name, name, role, jurisdiction, "correct-horse")
    return Session(session.store, found)


@pytest.fixture
def clerk(session) -> Session:
    """The township's caseworker: registers, records bills, and moves people between the township's villages."""
    return user(session, "xiang", "乡镇经办", TOWN)


@pytest.fixture
def home(clerk):
    """张三's household: 张三 (户主), 李四 (配偶), 张小五 (子), 张小六 (女)."""
    hid, head = registry.register_household(clerk, VILLAGE, "籍山镇某村 1 号",
                                            registry.PersonInput("张三", valid_id("34022319500101001")))
    people = {"张三": head}
    for name, body, relation in (("李四", "34022319520304002", "配偶"), ("张小五", "34022319800101003", "子"),
                                 ("张小六", "34022319820101004", "女")):
        people[name] = registry.add_member(clerk, hid, registry.PersonInput(name, valid_id(body), relation))
    return hid, people


@pytest.fixture
def other(clerk):
    """王大's household in the same village (a member moves only within a village)."""
    hid, head = registry.register_household(clerk, VILLAGE, "籍山镇某村 7 号",
                                            registry.PersonInput("王大", valid_id("34022319780101005")))
    return hid, head


def snapshot(session: Session) -> dict:
    """Every household and person as stored, the audit log's length and the exchange's queue: what a refusal must
    leave as it found."""
    rows = lambda sql: [tuple(r) for r in session.conn.execute(sql)]  # noqa: E731
    return {"households": rows("SELECT * FROM households ORDER BY id"), "persons": rows("SELECT * FROM persons ORDER BY id"),
            "audit": rows("SELECT count(*) FROM audit_log"), "changes": rows("SELECT * FROM changes ORDER BY seq")}


def refused(session: Session, field: str, fragment: str, call) -> str:
    before = snapshot(session)
    with pytest.raises(FieldError) as info:
        call()
    assert info.value.field == field, str(info.value)
    assert fragment in info.value.message, info.value.message
    assert field not in str(info.value)  # a person reads the label, never the key
    assert snapshot(session) == before, "nothing may be saved"
    return info.value.message


def relation(session: Session, person_id: str) -> tuple[str, str]:
    row = session.conn.execute("SELECT household_id, relation_to_head FROM persons WHERE id = ?", (person_id,)).fetchone()
    return row["household_id"], row["relation_to_head"]


def head_of(session: Session, household_id: str) -> str:
    return session.conn.execute("SELECT head_person_id FROM households WHERE id = ?", (household_id,)).fetchone()[0]


def from_another_site(session: Session, table: str, key: str) -> None:
    """Mark a record as received from another site (as a sync or package would have written it)."""
    with transaction(session.conn):
        records.update(session.conn, SYSTEM, table, key, {"site_id": "site-elsewhere"}, "接收其他站点的记录（测试）")


# 户主变更 ---------------------------------------------------------------------------------------------------------

def test_the_head_changes_and_the_other_relations_are_named_for_checking(clerk, home):
    hid, p = home
    done = household_changes.change_head(clerk, hid, p["张小五"], "父母")
    assert head_of(clerk, hid) == p["张小五"]
    assert relation(clerk, p["张小五"]) == (hid, "户主")
    assert relation(clerk, p["张三"]) == (hid, "父母")
    assert relation(clerk, p["李四"]) == (hid, "配偶")  # not guessed: named for the caseworker instead
    assert done.households == (hid,) and set(done.persons) == {p["张小五"], p["张三"]}
    assert len(done.to_check) == 1 and "李四（配偶）" in done.to_check[0] and "张小六（女）" in done.to_check[0]
    assert "张小五" in done.to_check[0] and "原户主张三" in done.to_check[0]
    actions = [r[0] for r in clerk.conn.execute("SELECT action FROM audit_log WHERE action LIKE '户主变更%' ORDER BY seq")]
    assert actions == ["户主变更", "户主变更：设为户主", "户主变更：原户主改为父母"]
    detail = registry.household_detail(clerk, hid)
    assert detail["members"][0]["name"] == "张小五"  # the head first, as the page shows it
    assert check_database(clerk.store.path) == []


def test_a_household_of_two_has_nothing_else_to_check(clerk):
    hid, head = registry.register_household(clerk, VILLAGE, "某村 3 号",
                                            registry.PersonInput("赵一", valid_id("34022319600101006")))
    wife = registry.add_member(clerk, hid, registry.PersonInput("钱二", valid_id("34022319620101007"), "配偶"))
    assert household_changes.change_head(clerk, hid, wife, "配偶").to_check == ()
    assert check_database(clerk.store.path) == []


def test_the_new_head_must_be_a_member_not_already_the_head(clerk, home, other):
    hid, p = home
    refused(clerk, "new_head_person_id", "本户的成员", lambda: household_changes.change_head(clerk, hid, other[1], "子"))
    refused(clerk, "new_head_person_id", "已是本户户主", lambda: household_changes.change_head(
        clerk, hid, p["张三"], "子"))


@pytest.mark.parametrize("given, fragment", [("", "请选择与户主关系"), ("户主", "已有户主"), ("外甥", "应为")])
def test_the_former_heads_relation_is_checked_as_a_members(clerk, home, given, fragment):
    hid, p = home
    refused(clerk, "former_head_relation", fragment, lambda: household_changes.change_head(
        clerk, hid, p["李四"], given))


def test_a_household_outside_the_jurisdiction_is_refused(clerk, home, session):
    hid, p = home
    elsewhere = user(session, "cun", "村级经办", OTHER_VILLAGE)
    refused(clerk, "household_id", "管辖范围", lambda: household_changes.change_head(elsewhere, hid, p["李四"], "配偶"))


def test_records_of_another_site_are_changed_where_they_were_made(clerk, home):
    hid, p = home
    from_another_site(clerk, "persons", p["张三"])
    refused(clerk, "former_head_relation", "其他站点", lambda: household_changes.change_head(
        clerk, hid, p["李四"], "配偶"))
    from_another_site(clerk, "households", hid)
    refused(clerk, "household_id", "其他站点", lambda: household_changes.change_head(clerk, hid, p["李四"], "配偶"))


def test_a_write_that_fails_midway_leaves_the_household_as_it_was(clerk, home, monkeypatch):
    hid, p = home
    before = snapshot(clerk)
    real = records.update

    def failing(conn, who, table, key, changes, action):
        if table == "persons" and changes.get("relation_to_head") == "配偶":  # the former head's, the last write
            raise OSError("disk gone")
        return real(conn, who, table, key, changes, action)

    monkeypatch.setattr(household_changes.records, "update", failing)
    with pytest.raises(OSError):
        household_changes.change_head(clerk, hid, p["李四"], "配偶")
    assert snapshot(clerk) == before and head_of(clerk, hid) == p["张三"]


# 成员迁入另一户 ----------------------------------------------------------------------------------------------------

def settled(session: Session, person_id: str) -> list[tuple]:
    return [tuple(r) for r in session.conn.execute(
        "SELECT s.* FROM settlements s JOIN visits v ON v.id = s.visit_id WHERE v.person_id = ? ORDER BY s.id",
        (person_id,))] + [tuple(r) for r in session.conn.execute(
            "SELECT * FROM annual_settlements WHERE person_id = ? ORDER BY id", (person_id,))]


def test_a_member_moves_with_their_bills_and_nothing_is_settled_again(clerk, home, other):
    hid, p = home
    registry.set_category(clerk, p["张小六"], "低保对象", "2023-01-01", None, "民政")
    bills.record_bill(clerk, p["张小六"], bill())
    money = settled(clerk, p["张小六"])
    assert money
    done = household_changes.move_member(clerk, p["张小六"], other[0], "配偶")
    assert relation(clerk, p["张小六"]) == (other[0], "配偶")
    assert done.households == (hid, other[0]) and done.persons == (p["张小六"],) and done.to_check == ()
    assert settled(clerk, p["张小六"]) == money  # no amount hangs on who lives with whom
    assert [m["name"] for m in registry.household_detail(clerk, other[0])["members"]] == ["王大", "张小六"]
    action = clerk.conn.execute("SELECT action FROM audit_log WHERE entity = 'persons' ORDER BY seq DESC LIMIT 1")
    assert action.fetchone()[0] == "成员迁入另一户：从籍山镇某村 1 号迁入籍山镇某村 7 号"
    # The statistics' summary follows the member to the new village (check --full makes it afresh and compares).
    assert check_database(clerk.store.path, full=True) == []


def queued(session: Session, person_id: str) -> dict[str, int]:
    """The exchange's queue position of each of the person's bills, categories and settlements."""
    return {r[0]: r[1] for r in session.conn.execute(
        "SELECT c.entity_id, c.seq FROM changes c WHERE c.entity_id IN (SELECT id FROM visits WHERE person_id = ?1 "
        "UNION SELECT id FROM category_periods WHERE person_id = ?1 UNION SELECT id FROM settlements "
        "WHERE person_id = ?1)", (person_id,))}


def test_a_move_to_another_village_is_refused(clerk, home):
    """The county files a person's bills and categories under the village they were sent from: a site of the new
    village would get the person without them and settle the next bill as if the year's limit were unused."""
    elsewhere, _ = registry.register_household(clerk, OTHER_VILLAGE, "籍山镇另一村 7 号",
                                               registry.PersonInput("王大", valid_id("34022319780101005")))
    bills.record_bill(clerk, home[1]["张小六"], bill())
    message = refused(clerk, "target_household_id", "只办理同一村（居）内的迁移",
                      lambda: household_changes.move_member(clerk, home[1]["张小六"], elsewhere, "配偶"))
    assert "联系县级医疗救助经办人员" in message


def test_a_move_within_the_village_sends_only_the_person(clerk, home):
    hid, p = home
    bills.record_bill(clerk, p["张小六"], bill())
    neighbour, _ = registry.register_household(clerk, VILLAGE, "籍山镇某村 2 号",
                                               registry.PersonInput("孙七", valid_id("34022319700101008")))
    before = queued(clerk, p["张小六"])
    household_changes.move_member(clerk, p["张小六"], neighbour, "配偶")
    assert queued(clerk, p["张小六"]) == before
    assert check_database(clerk.store.path) == []


def test_a_move_that_fails_midway_leaves_the_member_where_they_were(clerk, home, other, monkeypatch):
    hid, p = home
    bills.record_bill(clerk, p["张小六"], bill())
    before = snapshot(clerk)

    def failing(session, households):
        raise OSError("disk gone")  # after the person was written, before the move's notes were read

    monkeypatch.setattr(household_changes, "_applications_in", failing)
    with pytest.raises(OSError):
        household_changes.move_member(clerk, p["张小六"], other[0], "配偶")
    assert snapshot(clerk) == before and relation(clerk, p["张小六"]) == (hid, "女")


def test_the_head_is_not_moved_out(clerk, home, other):
    hid, p = home
    refused(clerk, "person_id", "设为户主", lambda: household_changes.move_member(clerk, p["张三"], other[0], "配偶"))


def test_a_household_is_never_left_empty(clerk, home, other):
    refused(clerk, "person_id", "唯一的成员", lambda: household_changes.move_member(clerk, other[1], home[0], "子"))


def test_the_target_is_another_household_that_exists(clerk, home):
    hid, p = home
    refused(clerk, "target_household_id", "另一户", lambda: household_changes.move_member(clerk, p["张小五"], hid, "子"))
    refused(clerk, "target_household_id", "请先查找", lambda: household_changes.move_member(clerk, p["张小五"], "", "子"))
    refused(clerk, "target_household_id", "找不到", lambda: household_changes.move_member(
        clerk, p["张小五"], "no-such-household", "子"))


def test_a_household_outside_the_jurisdiction_is_not_a_target(clerk, home, session):
    hid, p = home
    far, stranger = registry.register_household(session, "340223101001", "许镇某村 2 号",
                                         registry.PersonInput("周八", valid_id("34022319700101009")))
    message = refused(clerk, "target_household_id", "管辖范围", lambda: household_changes.move_member(
        clerk, p["张小五"], far, "子"))
    assert "县级" in message
    village = user(session, "cun", "村级经办", VILLAGE)  # a village's caseworker moves within the village only
    refused(village, "person_id", "管辖范围", lambda: household_changes.move_member(village, stranger, hid, "子"))


@pytest.mark.parametrize("given, fragment", [("", "请选择与户主关系"), ("户主", "已有户主"), ("表亲", "应为")])
def test_the_relation_in_the_new_household_is_checked_as_add_member_does(clerk, home, other, given, fragment):
    refused(clerk, "relation_to_head", fragment, lambda: household_changes.move_member(
        clerk, home[1]["张小五"], other[0], given))


def test_an_application_in_progress_keeps_the_member_where_it_was_made(clerk, home, other, session):
    hid, p = home
    case = apps.create_application(clerk, p["张小五"], 2025, "18000", "9600", True)
    message = refused(clerk, "person_id", "2025 年依申请救助", lambda: household_changes.move_member(
        clerk, p["张小五"], other[0], "女婿"))
    from app.domain.refs import short_ref
    assert short_ref(case) in message and "草稿" in message and "撤回" in message
    village = user(session, "cun", "村级经办", VILLAGE)
    apps.act(village, case, "draft", apps.Decision("withdraw", "本人要求撤回申请"))
    household_changes.move_member(clerk, p["张小五"], other[0], "女婿")
    assert relation(clerk, p["张小五"]) == (other[0], "女婿")
    assert check_database(clerk.store.path) == []


def test_other_members_applications_in_progress_are_named(clerk, home, other):
    hid, p = home
    apps.create_application(clerk, p["李四"], 2025, "18000", "9600", True)
    done = household_changes.move_member(clerk, p["张小五"], other[0], "女婿")
    assert len(done.to_check) == 1 and "李四（2025 年）" in done.to_check[0] and "家庭年度总收入" in done.to_check[0]


def test_a_person_of_another_site_is_moved_where_they_were_registered(clerk, home, other):
    hid, p = home
    from_another_site(clerk, "persons", p["张小五"])
    refused(clerk, "person_id", "其他站点", lambda: household_changes.move_member(clerk, p["张小五"], other[0], "子"))


def test_households_are_found_by_a_members_name_except_ones_own(clerk, home, other):
    hid, p = home
    found = household_changes.households_matching(clerk, "王", exclude=hid)
    assert [(h["id"], h["head_name"], h["matched"]) for h in found] == [(other[0], "王大", ["王大"])]
    assert household_changes.households_matching(clerk, "zx", exclude=hid) == []  # 张小五, 张小六 are at home
    assert household_changes.households_matching(clerk, "  ") == []


def test_a_move_is_offered_only_households_of_the_same_village(clerk, home, other):
    hid, p = home
    registry.register_household(clerk, OTHER_VILLAGE, "籍山镇另一村 9 号", registry.PersonInput("王二", valid_id("34022319790101004")))
    assert sorted(h["head_name"] for h in household_changes.households_matching(clerk, "王", exclude=hid)) == ["王二", "王大"]
    assert [h["head_name"] for h in household_changes.households_matching(clerk, "王", exclude=hid, village=VILLAGE)] == [
        "王大"]

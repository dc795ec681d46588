"""The registry's own rules: who is told what about a number already registered, categories and their periods."""

from __future__ import annotations

import pytest

from app.domain.errors import FieldError
from app.services import registry, users
from app.services.session import SYSTEM, Session

from .conftest import HEAD_ID, valid_id
from .test_validation import refused


def township_clerk(session, town: str) -> Session:
    user = users.find_user(session.conn, f"clerk{town}") or users.create_user(
        Session(session.store, SYSTEM), f"clerk{town}", "乡镇经办", "乡镇经办", town, "correct-horse")
    return Session(session.store, user)


def test_a_number_held_in_another_township_names_the_place_not_the_person(session, family):
    """The family lives in 籍山镇 (340223100); a caseworker of 许镇镇 (340223101) may not learn who they are."""
    clerk = township_clerk(session, "340223101")
    message = refused(session, "head.id_number", "籍山镇", lambda: registry.register_household(
        clerk, "340223101001", "许镇某村 2 号", registry.PersonInput("某人", HEAD_ID)))
    assert "张三" not in message and "籍山镇某村 1 号" not in message
    assert "不在您的管辖范围" in message and "县级" in message


def test_a_number_held_inside_the_jurisdiction_still_names_the_person(session, family):
    clerk = township_clerk(session, "340223100")
    message = refused(session, "head.id_number", "已登记为 张三", lambda: registry.register_household(
        clerk, "340223100201", "籍山镇某村 2 号", registry.PersonInput("某人", HEAD_ID)))
    assert "籍山镇某村 1 号" in message


def test_a_policy_alias_is_stored_by_the_policy_name_and_checked_for_overlap(session, family):
    """wuhu-2022 names 特困人员 with the alias 特困供养人员: one category, one period at a time."""
    period = registry.set_category(session, family[1], "特困供养人员", "2025-01-01", None, "民政")
    stored = session.conn.execute("SELECT category FROM category_periods WHERE id = ?", (period,)).fetchone()[0]
    assert stored == "特困人员"
    refused(session, "valid_from", "重叠", lambda: registry.set_category(
        session, family[1], "特困人员", "2025-01-01", None, "民政"))
    refused(session, "valid_from", "重叠", lambda: registry.set_category(
        session, family[1], "特困供养人员", "2025-06-01", "2025-12-31", "民政"))


def test_a_period_stored_under_an_alias_before_still_blocks_an_overlap(session, family):
    """Rows written before categories were stored by the policy's name may hold the alias."""
    from app.store import records
    from app.store.db import transaction

    with transaction(session.conn):
        records.insert(session.conn, session.user, "category_periods",
                       {"person_id": family[1], "category": "特困供养人员", "valid_from": "2025-01-01",
                        "valid_to": None, "certified_by": "民政"}, "登记身份类别")
    message = refused(session, "valid_from", "重叠", lambda: registry.set_category(
        session, family[1], "特困人员", "2025-03-01", None, "民政"))
    assert "特困供养人员" in message


@pytest.mark.parametrize("start,end,field", [
    ("0001-01-01", None, "valid_from"), ("1949-12-31", None, "valid_from"), ("2999-01-01", None, "valid_from"),
    ("2024-01-01", "2100-01-01", "valid_to"),
])
def test_a_period_date_outside_the_plausible_years_is_refused(session, family, start, end, field):
    """The range the identity import takes (1950–2099): a form may not put a category over a century of bills."""
    message = refused(session, field, "1950 至 2099", lambda: registry.set_category(
        session, family[1], "低保对象", start, end, "民政"))
    assert "年份" in message


def test_a_period_may_run_ahead_of_today_within_the_years(session, family):
    registry.set_category(session, family[1], "低保对象", "1950-01-01", "2099-12-31", "民政")


def test_a_mistaken_period_is_removed_with_its_reason_and_paid_money_is_recovered_not_rewritten(session, family,
                                                                                                clerk):
    """低保 entered for the wrong person after the year was paid: removal re-settles, a paid amount stays paid and
    the difference is a 追回 naming the removal, exactly as changing a period would."""
    from decimal import Decimal

    from app.services import bills, disbursement
    from app.store import audit

    from .test_money import _invariant, _reviewer
    from .test_validation import bill

    _, head, _ = family
    period = registry.set_category(session, head, "低保对象", "2023-01-01", None, "民政")
    bills.record_bill(clerk, head, bill(invoice_number="R1"))
    batch = disbursement.create_batch(clerk, 2023)
    disbursement.confirm_batch(_reviewer(session), batch["id"])
    assert Decimal(batch["total"]) == Decimal("3000.00")
    paid = [dict(r) for r in session.conn.execute("SELECT * FROM payment_lines ORDER BY id")]

    refused(session, "reason", "删除原因", lambda: registry.remove_category(session, period, "  "))
    registry.remove_category(session, period, "误录为户主，应为配偶")

    assert session.conn.execute("SELECT count(*) FROM category_periods WHERE id = ?", (period,)).fetchone()[0] == 0
    assert session.conn.execute("SELECT applied_category, assistance_paid FROM settlements").fetchone()[:] == (
        "普通参保居民", "0.00")
    for before in paid:  # what was paid is as it was …
        assert dict(session.conn.execute("SELECT * FROM payment_lines WHERE id = ?", (before["id"],)).fetchone()) \
            == before
    lines = disbursement.adjustments(clerk, 2023)  # … and the difference is to be recovered
    assert [(r["line_type"], r["amount"], r["reason"]) for r in lines] == [
        ("追回", "-3000.00", "身份类别删除（录入错误）")]
    _invariant(session)
    entry = session.conn.execute("SELECT action, before, after FROM audit_log WHERE entity = 'category_periods' "
                                 "AND entity_id = ? ORDER BY seq DESC LIMIT 1", (period,)).fetchone()
    assert entry["action"] == "删除身份类别（录入错误）：误录为户主，应为配偶" and "低保对象" in entry["before"]
    assert entry["after"] is None
    assert audit.verify(session.conn) == []


def test_removing_a_period_asks_the_same_permission_and_jurisdiction_as_editing_it(session, family):
    period = registry.set_category(session, family[1], "低保对象", "2023-01-01", None, "民政")
    other = township_clerk(session, "340223101")
    refused(session, "person_id", "管辖范围", lambda: registry.remove_category(other, period, "录错"))
    reviewer = Session(session.store, users.create_user(Session(session.store, SYSTEM), "shenhe", "审核员", "乡镇审核",
                                                        "340223100", "correct-horse"))
    before = session.conn.execute("SELECT count(*) FROM category_periods").fetchone()[0]
    with pytest.raises(FieldError):
        registry.remove_category(reviewer, period, "录错")
    assert session.conn.execute("SELECT count(*) FROM category_periods").fetchone()[0] == before
    village = township_clerk(session, "340223100")  # 乡镇经办 edits categories in its township
    registry.remove_category(village, period, "录错")


def test_a_period_already_sent_to_the_county_is_not_removed_here(session, family):
    """The exchange carries records, not removals: removed here, it would stay (and be settled) at the county."""
    from app.services import sync
    from app.store import audit, records
    from app.store.db import transaction

    period = registry.set_category(session, family[1], "低保对象", "2023-01-01", None, "民政")
    with transaction(session.conn):
        records.put_setting(session.conn, session.user, sync.KEY,
                            {**sync.state(session), "pushed_audit": audit.next_seq(session.conn) - 1}, "同步位置")
    refused(session, "period_id", "县", lambda: registry.remove_category(session, period, "录错"))
    later = registry.set_category(session, family[1], "孤儿", "2023-01-01", None, "民政")
    registry.remove_category(session, later, "录错")  # made since: it never left, so it goes


def _x_number() -> str:
    """A valid resident ID number ending in X."""
    from app.domain.idnumber import check_digit

    return next(f"34022319800101{i:03d}X" for i in range(100, 999) if check_digit(f"34022319800101{i:03d}") == "X")


def test_a_resident_id_number_is_refused_again_under_another_document_type(session, family):
    message = refused(session, "head.id_number", "已登记为 张三", lambda: registry.register_household(
        session, "340223100201", "某村 2 号", registry.PersonInput("张三", HEAD_ID, id_type="户口簿",
                                                                   birth_date="1949-12-31", sex="女")))
    assert "居民身份证" in message  # the document it is held under


@pytest.mark.parametrize("spelling", ["lower", "spaced", "full-width"])
def test_a_resident_id_number_is_one_number_however_it_is_written(session, family, spelling):
    number = _x_number()
    registry.add_member(session, family[0], registry.PersonInput("王小", number, "子"))
    typed = {"lower": number.lower(), "spaced": f" {number[:6]} {number[6:]}",
             "full-width": "".join(chr(ord(c) + 0xFEE0) for c in number)}[spelling]
    refused(session, "member.id_number", "已登记为 王小", lambda: registry.add_member(
        session, family[0], registry.PersonInput("王小", typed, "子", id_type="户口簿")))


def test_a_number_shaped_like_a_resident_id_is_stored_plain_under_any_document_type(session, family):
    number = _x_number()
    pid = registry.add_member(session, family[0], registry.PersonInput("王小", f"{number[:6]} {number[6:].lower()}",
                                                                       "子", id_type="户口簿"))
    assert registry.person(session, pid)["id_number"] == number
    refused(session, "member.id_number", "户口簿", lambda: registry.add_member(
        session, family[0], registry.PersonInput("王小", number, "子")))


def test_a_row_stored_with_a_lower_case_x_before_still_blocks_the_number(session, family):
    from app.store import records
    from app.store.db import transaction

    number = _x_number()
    with transaction(session.conn):
        records.insert(session.conn, session.user, "persons",
                       {"household_id": family[0], "name": "王小", "id_type": "户口簿", "id_number": number.lower(),
                        "relation_to_head": "子", "name_initials": "wx"}, "登记人员")
    refused(session, "member.id_number", "已登记为 王小", lambda: registry.add_member(
        session, family[0], registry.PersonInput("王小", number, "子")))


def test_other_documents_keep_their_numbers_as_typed(session, family):
    pid = registry.add_member(session, family[0], registry.PersonInput("王小小", "O340012345", "子",
                                                                       id_type="出生医学证明"))
    assert registry.person(session, pid)["id_number"] == "O340012345"
    registry.add_member(session, family[0], registry.PersonInput("王二", "O340012345", "子", id_type="其他"))

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

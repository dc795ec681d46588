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

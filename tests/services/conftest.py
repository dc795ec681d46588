"""A fresh store per test: admin, the demo county's policy, one household of two."""

from __future__ import annotations

import pytest

from app.services import county, registry, users
from app.services.demo import DEMO_LOCAL
from app.services.session import SYSTEM, Session
from app.store.store import open_store

HEAD_ID = "11010519491231002X"


def valid_id(body17: str) -> str:
    from app.domain.idnumber import check_digit
    return body17 + check_digit(body17)


@pytest.fixture
def session(tmp_path):
    store = open_store(tmp_path / "t.sqlite3", daily_backup=False)
    admin = users.create_user(Session(store, SYSTEM), "admin", "管理员", "管理员", "340223", "correct-horse")
    s = Session(store, admin)
    county.configure_county(s, "340223", "南陵县", "wuhu-2022", DEMO_LOCAL)
    yield s
    store.close()


@pytest.fixture
def family(session):
    hid, head = registry.register_household(session, "340223100201", "籍山镇某村 1 号",
                                            registry.PersonInput("张三", HEAD_ID))
    spouse = registry.add_member(session, hid, registry.PersonInput("李四", valid_id("34022319520304002"), "配偶"))
    return hid, head, spouse

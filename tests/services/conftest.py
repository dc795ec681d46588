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


def clerk_for(session, person_id: str) -> Session:
    """The township caseworker who enters the person's bills: no county role or administrator records bills."""
    town = registry.person(session, person_id)["region_code"][:9]
    user = users.find_user(session.conn, f"clerk{town}") or users.create_user(
        Session(session.store, SYSTEM), f"clerk{town}", "乡镇经办", "乡镇经办", town, "correct-horse")
    return Session(session.store, user)


@pytest.fixture
def clerk(session, family):
    """The caseworker of the family's township (made before a test counts rows, so that its audit entry is not one)."""
    return clerk_for(session, family[1])


@pytest.fixture
def family(session):
    hid, head = registry.register_household(session, "340223100201", "籍山镇某村 1 号",
                                            registry.PersonInput("张三", HEAD_ID))
    spouse = registry.add_member(session, hid, registry.PersonInput("李四", valid_id("34022319520304002"), "配偶"))
    return hid, head, spouse


def demo_county(path, households: int, year: int, seed: int, mean_visits: float = 3.0):
    """Build a demo county at `path` (for a module-scoped fixture) and return the path."""
    from app.services import demo

    session = Session(open_store(path, daily_backup=False), SYSTEM)
    demo.start_demo(session)
    for _ in demo.build_demo(session, households, year, seed=seed, mean_visits=mean_visits):
        pass
    session.store.close()
    return path


def copied_county(built, tmp_path, user: str | None = "admin") -> Session:
    """A session on a fresh copy of a built county, as the named user (None: the system)."""
    copy = tmp_path / "county.sqlite3"
    copy.write_bytes(built.read_bytes())
    store = open_store(copy, daily_backup=False)
    return Session(store, users.find_user(store.conn, user) if user else SYSTEM)

"""Exchange fixtures: a real PostgreSQL server started by the suite, and demo sites to exchange between."""

from __future__ import annotations

import contextlib
import json
import shutil
import socket
import threading
import uuid
import zipfile

import pytest

from app.exchange import envelope, keys, package, trust
from app.services import county, demo, site_keys, users
from app.services.session import SYSTEM, Session
from app.store.db import transaction
from app.store import records
from app.store.store import open_store


@pytest.fixture
def county_url(pg, county_site, township):
    """The county database, its keys claimed by the county's installation, the township registered there."""
    from app.exchange.county_db import init_db

    url = pg.database(f"county_{uuid.uuid4().hex[:12]}")
    init_db(url)
    site_keys.claim_county(county_site, url)
    register(county_site, url, township)
    return url


def register(county: Session, url: str, site: Session, jurisdiction: str = demo.COUNTY_CODE) -> None:
    """A county admin registers a site's key card (read off the site), as `county register-site` does, and hands
    the site the county's card in return. The demo's sites hold households all over the county: by default the
    county registers them for the whole of it."""
    site_keys.register_site(county, url, site_keys.card(site), jurisdiction)
    with transaction(site.conn):  # as the site's first sync takes it in, whoever is signed in
        trust.with_county(site.store, site.conn, site.user, site_keys.card(county), "取得县级公钥")


@pytest.fixture(scope="session")
def demo_db(tmp_path_factory):
    """A small demo county (a few hundred households, applications at every step), built once."""
    path = tmp_path_factory.mktemp("demo") / "demo.sqlite3"
    session = Session(open_store(path, daily_backup=False), SYSTEM)
    demo.start_demo(session)
    demo.demo_users(session)
    for _ in demo.build_demo(session, 120, 2025, seed=7):
        pass
    demo.demo_applications(session, 2025, county_steps=False)  # a township's laptop takes no county step
    session.store.close()
    return path


def new_site_id(session: Session) -> None:
    """A copied database is a new site: give it its own id, as a fresh installation has."""
    with transaction(session.conn):
        records.put_setting(session.conn, session.user, "site_id", str(uuid.uuid4()), "新站点编号")


@pytest.fixture
def township(demo_db, tmp_path):
    """The township's laptop: a copy of the demo county, with its own site id."""
    path = tmp_path / "township.sqlite3"
    shutil.copy(demo_db, path)
    session = Session(open_store(path, daily_backup=False), SYSTEM)
    new_site_id(session)
    yield session
    session.store.close()


@pytest.fixture
def county_site(township, tmp_path):
    """The county office's installation: an empty database with the same county and policy."""
    session = Session(open_store(tmp_path / "county.sqlite3", daily_backup=False), SYSTEM)
    users.create_user(session, "admin", "管理员", "管理员", demo.COUNTY_CODE, demo.DEMO_PASSWORD)
    county.configure_county(session, demo.COUNTY_CODE, "南陵县（演示）", township.store.setting("policy_id"),
                            township.store.setting("local"))
    # The county's installation holds the county's keys; the township took in its key card, and the county's
    # installation registered the township's (its own register; the county database's comes with county_url).
    site_keys.trust_county(session, site_keys.card(session))
    site_keys.trust_county(township, site_keys.card(session))
    with transaction(session.conn):
        trust.with_site(session.store, session.conn, session.user, site_keys.card(township), None, "登记站点公钥")
    yield session
    session.store.close()


class CutProxy:
    """A TCP relay to the database that drops every connection after `limit` bytes: a cut line.

    Counts what the client sends (a push) or, with down=True, what the server sends back (a pull)."""

    def __init__(self, port: int, limit: int, down: bool = False):
        self.target, self.limit, self.sent, self.down = port, limit, 0, down
        self.server = socket.create_server(("127.0.0.1", 0))
        self.port = self.server.getsockname()[1]
        self.cut = threading.Event()
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self.server.accept()
            except OSError:
                return
            upstream = socket.create_connection(("127.0.0.1", self.target))
            threading.Thread(target=self._pipe, args=(client, upstream, not self.down), daemon=True).start()
            threading.Thread(target=self._pipe, args=(upstream, client, self.down), daemon=True).start()

    def _pipe(self, src: socket.socket, dst: socket.socket, counted: bool) -> None:
        try:
            while data := src.recv(65536):
                if counted:
                    self.sent += len(data)
                    if self.sent > self.limit:
                        self.cut.set()
                        break
                dst.sendall(data)
        except OSError:
            pass
        for s in (src, dst):
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            s.close()

    def close(self) -> None:
        self.server.close()


@contextlib.contextmanager
def unsealed(path, reader: Session):
    """The package inside a sealed file, opened with `reader`'s keys (the county's installation, usually)."""
    with envelope.opened(path, keys.mine(reader.store), trust.senders(reader.store), package.MAX_PACKAGE) as (plain, _):
        yield plain


def reseal(plain, out, sender: Session, to: Session) -> None:
    """A package file sealed again by `sender` (a registered site gone bad, or a test's edit) to `to`, for the
    county its manifest names (when it can be read)."""
    try:
        with zipfile.ZipFile(plain) as zf:
            code = json.loads(zf.read(package.MANIFEST)).get("county_code", "")
    except (zipfile.BadZipFile, KeyError, ValueError, AttributeError):
        code = demo.COUNTY_CODE
    envelope.seal(plain, out, keys.mine(sender.store), [site_keys.card(to)], code)

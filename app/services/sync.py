"""Synchronising this site with the county's PostgreSQL database: push what changed here, pull what others decided.

Conflict rule: a record belongs to the site that made it. Only that site's copy is written at the county and
taken by other sites; a copy edited elsewhere is refused and reported, never merged silently. Workflow steps are
appended by whoever takes them, and an application follows its last step wherever it is held.

Nothing is lost or doubled when the line is cut: the county writes by UUID (writing a record twice leaves one
copy), every batch is one county transaction, and the site notes each batch as delivered only after the county
committed it, so a retry goes on from the last delivered batch and at worst sends one batch again."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from app.exchange import county_db, county_keys, county_steps, keys, trust
from app.exchange.compare import Comparison, compare
from app.exchange.merge import RETAKE, Applied
from app.exchange.prefetch import read_ahead
from app.exchange.records import (
    NAMES,
    audit_entries,
    changed,
    entities,
    last_audit,
    last_change,
    site_id,
)
from app.services.receive import receive
from app.services.session import Session
from app.store import records
from app.store.anchors import Head, findings, hash_at
from app.store.clock import now
from app.store.db import connect, transaction
from app.store.errors import StoreError
from app.store.schema import SYNCED

if TYPE_CHECKING:  # imported where used: the driver costs the app's start ~90 ms
    import psycopg

KEY = "sync"
Progress = Callable[[str, int, int], None]  # (what, done, of)


def state(session: Session) -> dict:
    """Where this site's exchange with the county stands."""
    return {"pushed_change": 0, "pushed_audit": 0, "pulled_by_region": {}, "last_at": None, "last_result": None,
            **session.store.setting(KEY, {})}


def _save(session: Session, st: dict) -> None:
    with transaction(session.conn):
        records.put_setting(session.conn, session.user, KEY, st, "同步位置")


def pending(session: Session) -> dict[str, int]:
    """How many records made here wait to reach the county, per kind (only kinds with some)."""
    st = state(session)
    rows = session.conn.execute("SELECT entity, count(*) FROM changes WHERE seq > ? GROUP BY entity",
                                (st["pushed_change"],)).fetchall()
    out = {NAMES[r[0]]: r[1] for r in rows}
    audit_waiting = last_audit(session.conn) - st["pushed_audit"]
    if audit_waiting:
        out[NAMES["audit_log"]] = audit_waiting
    return out


@dataclass
class SyncReport:
    """What one synchronisation sent and received."""

    pushed: dict[str, county_db.Merged] = field(default_factory=dict)
    audit: county_db.Merged = field(default_factory=county_db.Merged)
    pulled: dict[str, Applied] = field(default_factory=dict)
    anchor: list[str] = field(default_factory=list)  # the local chain lacks what the county saw: nothing was pushed
    retaken: dict[str, Applied] = field(default_factory=dict)  # records taken again by id (see repair)
    comparison: Comparison | None = None  # this site against the county after the sync

    def lines(self) -> list[str]:
        out = [f"未送出本站的记录：{line}。送出会用本机较旧或不同的记录覆盖县里已收到的，请停止录入，联系县信息员核对"
               for line in self.anchor]
        sent = {NAMES[t]: m.received for t, m in self.pushed.items() if m.received}
        t = county_db.Merged()  # every kind's merge counted together
        for m in self.pushed.values():
            t.add(m)
        if sent:
            out.append(f"送出 {sum(sent.values())} 条（{'、'.join(f'{k} {n}' for k, n in sent.items())}），"
                       f"县里新写入或更新 {t.written} 条" + (f"，{t.refused} 条属于其他站点未覆盖" if t.refused else "")
                       + (f"，{t.older} 条{county_db.OLDER}" if t.older else "")
                       + county_db.aside_said(t.aside, t.aside_reasons))
        if t.outside:
            out.append(f"{t.outside} 条不在县里为本站登记的辖区内，或不是本站的记录，县里未采用（原因记在县级数据库的未采用记录中）。"
                       f"请与县信息员核对本站登记的辖区")
        if self.audit.received:
            out.append(f"送出审计日志 {self.audit.received} 条" +
                       (f"，其中 {self.audit.audit_mismatch} 条与县里已有的同号记录不同（本机可能恢复过备份），"
                        f"请县信息员核对" if self.audit.audit_mismatch else ""))
        got = {NAMES[t]: a.added + a.updated for t, a in self.pulled.items() if a.added or a.updated}
        if got:
            out.append(f"收到 {sum(got.values())} 条（{'、'.join(f'{k} {n}' for k, n in got.items())}）")
        since = sorted(set().union(*(a.locals_changed for a in self.pulled.values())))
        if since:
            out.append(f"收到自 {since[0]} 起修改的地方参数：此后结算的账单按新值；已结算的请在“政策”页查看后重新结算相应年度")
        again = {NAMES[t]: a.added + a.updated for t, a in self.retaken.items() if a.added or a.updated}
        if again:
            out.append(f"补收此前未收全的记录 {sum(again.values())} 条（{'、'.join(f'{k} {n}' for k, n in again.items())}）")
        conflicts = sum(a.conflicts for a in (*self.pulled.values(), *self.retaken.values()))
        if conflicts:
            out.append(f"{conflicts} 条未能合并，见“同步冲突”")
        waiting = sum(a.held for a in self.pulled.values())
        if waiting:
            out.append(f"{waiting} 条的上级记录还没到（其所属站点可能还在送出），已暂存，下次同步自动补上")
        if self.comparison and not self.comparison.agrees:
            out.append(f"与县里核对不一致：{'；'.join(self.comparison.lines(ids=False)[1:])}")
        return out or ["两边已一致，没有要交换的记录"]


def sync(session: Session, url: str, progress: Progress | None = None,
         cancelled: Callable[[], bool] = lambda: False, batch: int = 20000) -> SyncReport:
    """Push this site's changes, then pull the records of others in the user's jurisdiction."""
    session.require("exchange")
    import psycopg

    report = SyncReport()
    try:
        with county_db.connect(url) as pg:
            county_db.check_schema(pg)
            # Pushing from a chain cut or rewritten since the county saw it would overwrite the county's newer copies
            # of this site's records with older ones. Pulling takes only other sites' records, so it goes on.
            report.anchor = anchor_findings(session.conn, pg)
            if not report.anchor:
                push(session, pg, report, progress, cancelled, batch)
            pull(session, pg, report, progress)
            report.comparison = compare(session.conn, pg, regions(session))
            if repair(session, pg, report):
                report.comparison = compare(session.conn, pg, regions(session))
    except psycopg.Error as exc:
        why = county_db.reason(exc)
        raise StoreError({
            "busy": f"县级数据库正忙，等候写入超时（{why}）。已送达的记录都已记下，请稍后再同步一次，会从中断处接着做",
            "cut": f"与县级数据库的连接中断（{why}）。已送达的记录都已记下，再同步一次会从中断处接着做，不会重复",
            "refused": f"县级数据库拒绝了这批记录（{why}）。已送达的记录都已记下；再试也会被拒绝，请把这条信息告诉县信息员"
                       f"（县级库可能需要先用新版本运行 county init-db）",
        }[county_db.failure(exc)]) from exc
    st = state(session)
    st.update(last_at=now(), last_result=report.lines())
    _save(session, st)
    return report


def push(session: Session, pg: psycopg.Connection, report: SyncReport, progress: Progress | None,
         cancelled: Callable[[], bool], batch: int) -> None:
    """Send every record changed here since the last push, batch by batch, noting each delivered batch."""
    conn = session.conn
    me = site_id(conn)
    mine = registered(session, pg)
    held = county_keys.county(pg)
    if held and held[0].site_id == me:
        # The county's own installation: its permission decisions (duties, single-caseworker offices) become the
        # county database's before any step is judged there, so both judge steps by the same rules.
        with pg.transaction():
            county_steps.publish_rules(pg, session.store)
    st = state(session)
    # The plan fixes what this push covers, so a retry after a cut finishes the same range.
    plan = st.get("push") or {"upto": last_change(conn), "audit_upto": last_audit(conn), "done": {}}
    st["push"] = plan
    _save(session, st)
    total = sum(session.conn.execute("SELECT count(*) FROM changes WHERE seq > ? AND seq <= ?",
                                     (st["pushed_change"], plan["upto"])).fetchone())
    sent = 0
    for e, last_seq, rows in read_ahead(lambda: _changes(session.store.path, plan, st["pushed_change"], me, batch)):
        merged = report.pushed.setdefault(e.table, county_db.Merged())
        if cancelled():
            raise StoreError(f"同步已取消：已送达 {sent} 条，下次同步从这里接着做")
        with pg.transaction():
            county_keys.record_push(pg, me, e, rows, mine, me, "sync")  # the county records who sent these rows
            m = county_db.merge(pg, e, rows)  # takes the write lock once the rows are at the county
        plan["done"][e.table] = last_seq
        _save(session, st)
        merged.add(m)
        sent += len(rows)
        if progress:
            progress(f"送出{e.name}", sent, total)
    for rows in audit_entries(conn, plan["done"].get("audit_log", st["pushed_audit"]), plan["audit_upto"], batch):
        with pg.transaction():
            m = county_db.merge_audit(pg, me, rows)
        plan["done"]["audit_log"] = rows[-1][0]
        _save(session, st)
        report.audit.add(m)
    with pg.transaction():
        county_db.note_site(pg, me, site_name(session), pushed=True)
        if plan["audit_upto"]:
            county_db.record_head(pg, me, Head(plan["audit_upto"], hash_at(conn, plan["audit_upto"])), "sync")
    st.update(pushed_change=plan["upto"], pushed_audit=plan["audit_upto"], push=None)
    _save(session, st)


def _changes(path, plan: dict, pushed: int, me: str, batch: int):
    """The plan's batches not yet delivered, read on the read-ahead thread through its own connection."""
    conn = connect(path)
    try:
        for e in entities(conn):
            for last_seq, rows in changed(conn, e, plan["done"].get(e.table, pushed), plan["upto"], me, batch):
                yield e, last_seq, rows
    finally:
        conn.close()


def registered(session: Session, pg: psycopg.Connection) -> keys.SiteKeys:
    """This site's keys, once the county's register holds them unrevoked; the county's keys taken in on first
    contact if this site has none yet (the database password vouches for the server then)."""
    mine = keys.mine(session.store)
    held = county_keys.county(pg)
    if held and trust.county(session.store) is None:
        with transaction(session.conn):
            trust.with_county(session.store, session.conn, session.user, held[0],
                              f"同步时取得县级公钥（指纹 {held[0].fingerprint}）")
    try:
        known = county_keys.sender(pg, site_id(session.conn))
    except StoreError:
        known = None
    if known is None or known.signing != mine.public().signing:
        fingerprint = mine.public().fingerprint
        raise StoreError(("本站的公钥还没有在县里登记，或已被吊销" if known is None else
                          "本站的密钥与县里登记的不同（可能换过电脑或重装过）")
                         + f"，县里不接受本站送出的记录。请把本站公钥卡交县管理员登记（jiuzhu keys show --card 文件），"
                           f"并核对指纹 {fingerprint}")
    return mine


def pull(session: Session, pg: psycopg.Connection, report: SyncReport, progress: Progress | None) -> None:
    """Take what other sites wrote for this user's jurisdiction since the last pull, in one local transaction."""
    conn = session.conn
    me = site_id(conn)
    st = state(session)
    horizon = county_db.pull_horizon(pg)
    region = session.user.jurisdiction
    # Where pulling stands depends on whose records were pulled: users of one laptop may hold a village, a
    # township or the county. A region is covered as far as it or any region containing it was pulled.
    pulled = st.setdefault("pulled_by_region", {})
    start = max((n for r, n in pulled.items() if region.startswith(r)), default=0)

    def batches(e):
        return county_db.pull(pg, e, start, horizon, me, region)

    def step(what: str, n: int) -> None:
        if progress:
            progress(f"收到{what}", n, 0)

    with transaction(conn):
        report.pulled = receive(session, batches, "与县级同步", step, sites=county_keys.bounds(pg))
        pulled[region] = horizon
        records.put_setting(conn, session.user, KEY, st, "同步位置")
    with pg.transaction():
        county_db.note_site(pg, me, site_name(session), pushed=False)


def regions(session: Session) -> list[str]:
    """The regions whose records from other sites this site has taken (by any of its users)."""
    return list(state(session)["pulled_by_region"])


def repair(session: Session, pg: psycopg.Connection, report: SyncReport) -> bool:
    """Take again, by id, what the county has for this site's jurisdiction and the site lacks with no reason on
    record, and what older versions refused for a parent not there yet; True if anything was asked for.

    A pull takes only what is new since the last one, so a record lost to an older version's mistake would never
    come back by itself. It comes from the county's current copy, through the same merge as a pull; a refused
    record the county does not hold (it came in a package) is taken from the copy kept with its conflict, when that
    copy is whole."""
    conn = session.conn
    wanted: dict[str, set[str]] = {k.table: set(k.missing) for k in report.comparison.kinds if k.missing} \
        if report.comparison else {}
    old = conn.execute(f"SELECT id, entity, entity_id, record FROM sync_conflicts WHERE resolved_at IS NULL AND "
                       f"reason IN ({', '.join('?' * len(RETAKE))})", RETAKE).fetchall()
    kept = {}
    old = [row for row in old if row["entity"] in SYNCED]
    for row in old:
        wanted.setdefault(row["entity"], set()).add(row["entity_id"])
        kept[row["entity"], row["entity_id"]] = json.loads(row["record"])
    if not wanted:
        return False

    def batches(e):
        ids = sorted(wanted.get(e.table, ()))
        found = set()
        for rows in county_db.fetch(pg, e, ids):
            found.update(r[0] for r in rows)
            yield rows
        whole = [tuple(kept[e.table, i][c] for c in e.wire) for i in ids
                 if i not in found and set(e.wire) <= set(kept.get((e.table, i), ()))]
        if whole:
            yield whole

    with transaction(conn):
        report.retaken = receive(session, batches, "与县级同步（补收）", sites=county_keys.bounds(pg))
        # Settled once taken again: it is here now, waits for its parent, or was refused anew with today's reason.
        settled = [(now(), r["id"]) for r in old if _taken_again(conn, r["entity"], r["entity_id"], r["id"])]
        conn.executemany("UPDATE sync_conflicts SET resolved_at = ? WHERE id = ?", settled)
    return True


def _taken_again(conn: sqlite3.Connection, table: str, rid: str, conflict: int) -> bool:
    return bool(conn.execute(f"SELECT 1 FROM {table} WHERE id = ?", (rid,)).fetchone()
                or conn.execute("SELECT 1 FROM sync_held WHERE entity = ? AND entity_id = ?", (table, rid)).fetchone()
                or conn.execute("SELECT 1 FROM sync_conflicts WHERE entity_id = ? AND id > ?", (rid, conflict)).fetchone())


def compare_with_county(conn: sqlite3.Connection, url: str) -> Comparison:
    """This site against the county, for the regions it has pulled (check --county-url)."""
    import psycopg

    st = conn.execute("SELECT value FROM settings WHERE key = ?", (KEY,)).fetchone()
    pulled = list(json.loads(st[0]).get("pulled_by_region", {})) if st else []
    try:
        with county_db.connect(url) as pg:
            county_db.check_schema(pg)
            return compare(conn, pg, pulled)
    except psycopg.Error as exc:
        raise StoreError(f"读取县级数据库出错（{county_db.reason(exc)}），未能核对") from exc


def anchor_findings(conn: sqlite3.Connection, pg: psycopg.Connection) -> list[str]:
    """Where this site's audit chain no longer holds a head the county has seen (empty: it holds them all)."""
    return findings(conn, county_db.seen_heads(pg, site_id(conn)))


def check_with_county(conn: sqlite3.Connection, url: str) -> tuple[list[str], Head | None]:
    """The findings against the county, and the longest head it has seen of this site (None: it has seen none)."""
    import psycopg

    try:
        with county_db.connect(url) as pg:
            county_db.check_schema(pg)
            heads = county_db.seen_heads(pg, site_id(conn))
    except psycopg.Error as exc:
        raise StoreError(f"读取县级数据库出错（{county_db.reason(exc)}），未能核对") from exc
    return findings(conn, heads), max(heads, key=lambda h: h.count, default=None)


def site_name(session: Session) -> str:
    """The site as the county sees it: the county's and the township's names (not the computer's name, which says
    nothing to the county and tells a stranger whose laptop it is)."""
    county = session.store.setting("county") or {}
    code, township = county.get("code", ""), site_township(session)
    town = ""
    if township and code:
        from app.domain.regions import regions

        try:
            town = regions(code)[0].get(township, "")
        except OSError:
            town = ""
    return (county.get("name", "") + town) or "未命名站点"


def site_township(session: Session) -> str:
    """The one township (9 digits) every active user below the county works in, "" if none or several: what the
    site's name says, and what its key card claims as its jurisdiction (the county states the one that counts)."""
    towns = {r[0] for r in session.conn.execute(
        "SELECT DISTINCT substr(jurisdiction, 1, 9) FROM users WHERE active = 1 AND length(jurisdiction) >= 9")}
    return towns.pop() if len(towns) == 1 else ""


def remember_url(session: Session, url: str) -> None:
    """Keep the county database's address for the next sync, without its password.

    The database and its backups travel on laptops and sticks; a password kept there would travel with them. It
    is typed on the sync page once per session (or found by libpq in PGPASSWORD / pgpass.conf)."""
    st = state(session)
    st["url"] = without_password(url.strip())
    _save(session, st)


def without_password(url: str) -> str:
    """The address with any password taken out (URL or key=value form)."""
    from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

    import psycopg

    if "://" in url:
        parts = urlsplit(url)
        query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if k != "password"]
        netloc = parts.netloc
        if parts.password is not None:
            host = netloc.rsplit("@", 1)[1]
            netloc = f"{parts.username}@{host}" if parts.username else host
        return urlunsplit(parts._replace(netloc=netloc, query=urlencode(query)))
    try:
        info = psycopg.conninfo.conninfo_to_dict(url)
    except psycopg.Error:
        return url
    info.pop("password", None)
    return psycopg.conninfo.make_conninfo(**info)


def with_password(url: str, password: str) -> str:
    """The address to connect with: the typed password added (it replaces one written in the address)."""
    import psycopg

    if not password:
        return url
    return psycopg.conninfo.make_conninfo(url, password=password)


def conflicts(session: Session, limit: int = 200) -> list[dict]:
    """The latest records that could not be merged, newest first, with the reason."""
    rows = session.conn.execute("SELECT at, source, entity, entity_id, site_id, reason, record FROM sync_conflicts "
                                "ORDER BY id DESC LIMIT ?", (limit,)).fetchall()
    return [{**dict(r), "entity_name": NAMES.get(r["entity"], r["entity"]), "what": _what(r["entity"], r["record"])}
            for r in rows]


def _what(entity: str, record: str) -> str:
    """A record as a caseworker recognises it (a name and masked ID, an address, a bill), not its UUID."""
    from app.services.applications import mask_id

    r = json.loads(record)
    if entity == "persons":
        return f"{r.get('name', '')} {mask_id(r.get('id_number') or '')}".strip()
    if entity == "households":
        return r.get("address", "")
    if entity == "visits":
        return f"{r.get('hospital', '')} 票据号 {r.get('invoice_number', '')}（{r.get('discharged_on', '')}）"
    if entity == "category_periods":
        return f"{r.get('category', '')} {r.get('valid_from', '')} 起"
    return r.get("id", "")

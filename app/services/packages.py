"""Exchange packages: export what changed here since the last export; import a package here or at the county."""

from __future__ import annotations

import json
import tempfile
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path

from app import __version__
from app.exchange import county_db, county_keys, county_steps, envelope, keys, package, territory, trust
from app.exchange.merge import Applied
from app.exchange.prefetch import read_ahead
from app.exchange.ready import ready
from app.exchange.records import (
    AUDIT_COLUMNS,
    HEADINGS,
    NAMES,
    Entity,
    audit_entries,
    changed,
    entities,
    last_audit,
    last_change,
    site_id,
)
from app.services.receive import receive
from app.services.session import Session
from app.services.sync import site_name
from app.store import anchors, audit, clock, records
from app.store.clock import new_id, now
from app.store.db import transaction
from app.store.errors import StoreError

KEY = "export"


def export_state(session: Session) -> dict:
    """Up to which change and audit entry this site has exported, and when."""
    return {"change": 0, "audit": 0, "last_at": None, "last_file": None, **session.store.setting(KEY, {})}


def export_package(session: Session, out: Path, everything: bool = False) -> dict:
    """Write one package with every record changed here since the last export (or all, to redo a lost one)."""
    session.require("exchange")
    conn = session.conn
    me = site_id(conn)
    st = export_state(session)
    start = {"change": 0, "audit": 0} if everything else {"change": st["change"], "audit": st["audit"]}
    upto = {"change": last_change(conn), "audit": last_audit(conn)}
    county = session.store.setting("county") or {}
    header = {"package_id": new_id(), "site_id": me, "site_name": site_name(session), "county": county.get("name", ""),
              "county_code": county.get("code", ""), "created_at": now(), "created_by": session.user.display_name,
              "app_version": __version__,
              "range": {"changes": [start["change"] + 1, upto["change"]], "audit": [start["audit"] + 1, upto["audit"]]},
              "audit_head": {"count": upto["audit"], "hash": anchors.hash_at(conn, upto["audit"])}}
    ents = entities(conn)

    def rows(e: Entity):
        for _, batch in changed(conn, e, start["change"], upto["change"], me):
            yield from batch

    def audit_rows():
        for batch in audit_entries(conn, start["audit"], upto["audit"]):
            yield from batch

    sheets = [(NAMES[e.table], [HEADINGS.get(c, c) for c in e.wire]) for e in ents]
    sheets.append((NAMES["audit_log"], [HEADINGS.get(c, c) for c in AUDIT_COLUMNS]))
    mine = keys.mine(session.store)
    to = trust.recipients(session.store, mine)
    # The readable copy is streamed to a scratch file (not held in memory) from the same rows as the JSON lines
    # (each table read once), then stored into the package, which is sealed (signed, and encrypted to the county)
    # as a whole file: on the stick there is nothing readable.
    with tempfile.TemporaryDirectory(prefix="jiuzhu-package-") as scratch:
        readable = package.Readable(Path(scratch) / package.WORKBOOK, header, sheets)
        parts = [package.Part(f"records/{e.table}.jsonl", e.table, e.wire, readable.tee(i, rows(e)))
                 for i, e in enumerate(ents)]
        parts.append(package.Part("records/audit_log.jsonl", "audit_log", AUDIT_COLUMNS,
                                  readable.tee(len(ents), audit_rows())))
        try:
            manifest = package.write(Path(scratch) / "package.zip", header, parts, readable.close)
        except BaseException:
            readable.discard()
            raise
        envelope.seal(Path(scratch) / "package.zip", out, mine, to, header["county_code"])
    with transaction(conn):
        records.put_setting(conn, session.user, KEY, {"change": upto["change"], "audit": upto["audit"],
                                                      "last_at": header["created_at"], "last_file": str(out)}, "导出位置")
        audit.append(conn, session.user, "导出交换包", "package", header["package_id"], None,
                     {"file": str(out), "range": header["range"], "counts": manifest["counts"]})
    return manifest


def pending_export(session: Session) -> int:
    """How many records changed here since the last export."""
    return session.conn.execute("SELECT count(*) FROM changes WHERE seq > ?",
                                (export_state(session)["change"],)).fetchone()[0]


@dataclass
class Imported:
    """What importing one package did."""

    manifest: dict
    applied: dict[str, Applied] = field(default_factory=dict)
    county: dict[str, county_db.Merged] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    @property
    def nothing_new(self) -> bool:
        """Whether importing here added, changed and refused nothing (the package was already taken in)."""
        return not any(a.added or a.updated or a.conflicts or a.held for a in self.applied.values())

    def lines(self) -> list[str]:
        m = self.manifest
        made = clock.local_time(m["created_at"]).strftime("%Y-%m-%d %H:%M")
        out = [f"交换包：{m['site_name']}（{m['county']}）{m['created_by']}于 {made} 导出"]
        if self.applied and self.nothing_new:
            held = sum(a.same for a in self.applied.values())
            out.insert(0, f"没有新内容：包内 {held} 条记录本站都已有（这个交换包以前已导入过，或其内容已同步到本站），"
                          f"没有改动任何记录")
        for table, a in self.applied.items():
            if a.added or a.updated or a.same or a.conflicts:
                out.append(f"{NAMES[table]}：新增 {a.added}，更新 {a.updated}，已有 {a.same}"
                           + (f"，冲突 {a.conflicts}（见“同步冲突”）" if a.conflicts else ""))
        for table, c in self.county.items():
            if c.received:
                out.append(f"{NAMES[table]}：包内 {c.received} 条，写入县级数据库 {c.written} 条"
                           + (f"，{c.refused} 条属于其他站点未覆盖" if c.refused else "")
                           + (f"，{c.older} 条{county_db.OLDER}" if c.older else "")
                           + county_db.aside_said(c.aside, c.aside_reasons)
                           + (f"，{c.outside} 条不在该站点登记的辖区内未采用（见县级数据库的未采用记录）"
                              if c.outside else ""))
        return out + self.notes


def _open(plain: Path, header: dict, ents: list[Entity], county_code: str, upfront: bool = True) -> package.Package:
    """The package inside an opened envelope, which must be the signer's own and for this county (`upfront`: as
    package.open_package)."""
    pkg = package.open_package(plain, ents, upfront)
    if pkg.manifest["site_id"] != header["sender"]:
        raise envelope.refused("包内记录属于另一个站点，不是签名的站点导出的")
    stated = pkg.manifest.get("county_code")
    if stated != header["county_code"]:
        raise envelope.refused("包头与清单写的县不一致，交换包被改动过")
    if county_code and stated != county_code:
        raise envelope.refused(f"这个交换包是区划 {str(stated)[:12]} 的县的，不是本县（{county_code}）的")
    return pkg


def import_here(session: Session, path: Path) -> Imported:
    """Take a package from another site into this database, all of it in one transaction; idempotent by UUID.

    Only a package sealed to this site and signed by a site it trusts (the county; at the county's installation,
    a registered site) is opened (envelope.opened)."""
    session.require("exchange")
    store = session.store
    code = (store.setting("county") or {}).get("code", "")
    with envelope.opened(path, keys.mine(store), trust.senders(store), package.MAX_PACKAGE) as (plain, header):
        pkg = _open(plain, header, entities(session.conn), code)
        result = Imported(pkg.manifest)
        sites = trust.bounds(store)
        with transaction(session.conn):
            result.applied = receive(session, lambda e: pkg.batches(e.table), f"交换包 {path.name}", sites=sites)
    result.notes += _unstated(pkg.manifest, sites, (trust.county(store) or keys.mine(store).public()).site_id)
    return result


def _unstated(manifest: dict, sites: territory.Bounds, county_site: str) -> list[str]:
    """The warning for a package from a site registered without a jurisdiction (its records were not checked by it)."""
    site = manifest["site_id"]
    if site in sites or site == county_site:
        return []
    return [territory.unstated_note(manifest["site_name"], site)]


def import_to_county(session: Session, path: Path, url: str) -> Imported:
    """Write a package into the county database in one county transaction; importing it again changes nothing.

    Run at the county's installation (`session`), whose keys open packages sealed to the county; the sender must be
    registered in the county database and not revoked. Each kind of record is kept as a batch signed by the county
    (county_keys.record_push), which vouches that it came in a package its site signed."""
    import psycopg

    ents = county_db.local_entities()
    mine = keys.mine(session.store)
    with county_db.connect(url) as pg:
        county_db.check_schema(pg)
        held = county_keys.county(pg)
        if held is None or held[0].signing != mine.public().signing:
            raise StoreError("本机不是县级数据库登记的县级站点，无法打开加密给县里的交换包。请在县里的电脑上导入"
                             "（县里首次使用时先运行 jiuzhu county claim）")
        with pg.transaction():
            county_steps.publish_rules(pg, session.store)  # steps in the package are judged by the county's rules
        with envelope.opened(path, mine, lambda s: county_keys.sender(pg, s), package.MAX_PACKAGE, "本县") as (
                plain, header):
            # One county transaction: a records file found changed as it is read undoes the whole import.
            try:
                return _into_county(pg, _open(plain, header, ents, held[1], upfront=False), ents, mine)
            except psycopg.Error as exc:
                raise _refused_by_county(exc, lambda: _open(plain, header, ents, held[1])) from exc


def _refused_by_county(exc, verify) -> StoreError:
    """What to tell the county officer when the county database refused part of a package (the transaction is
    undone, so nothing of it is kept).

    Files are checked as they are read, so the refusal may come from a line changed after the export, before its
    file's checksum was reached: `verify` (the package checked whole) then raises that, the plainer message."""
    kind = county_db.failure(exc)
    if kind == "busy":
        return StoreError(f"交换包未导入：县级数据库正忙，等候写入超时（{county_db.reason(exc)}）。县级数据库没有"
                          f"任何改动，请稍后再导入一次")
    if kind == "cut":
        return StoreError(f"交换包未导入：与县级数据库的连接中断（{county_db.reason(exc)}）。县级数据库没有任何改动，"
                          f"请再导入一次")
    verify()
    return StoreError(f"交换包未导入：县级数据库拒绝了包内的记录（{county_db.reason(exc)}）。县级数据库没有任何改动。"
                      f"包的签名和校验值无误，是导出站点写出了本程序不会写的记录（站点的数据库可能在程序之外被改过）"
                      f"或县级数据库需要先用新版本运行 jiuzhu county init-db；请把这条信息告诉县信息员")


def _into_county(pg, pkg: package.Package, ents: list[Entity], county: keys.SiteKeys) -> Imported:
    m = pkg.manifest
    result = Imported(m)
    with pg.transaction():
        county_db.lock_for_writing(pg)
        before = pg.execute("SELECT imported_at FROM packages WHERE package_id = %s", (m["package_id"],)).fetchone()
        if before:
            # Its records were all written then (an import is one transaction); written again now they would put
            # back the older copies of records the site has changed since (a member moved, a bill corrected).
            result.notes.append(f"此包已于 {before[0]:%Y-%m-%d %H:%M} 导入过，本次没有再写入任何记录（再写会用包里较旧"
                                f"的记录覆盖该站点此后送来的新版本）")
            result.county.update({t: county_db.Merged() for t in [e.table for e in ents] + ["audit_log"]})
            return result
        last = pg.execute("SELECT max(change_to) FROM packages WHERE site_id = %s AND package_id <> %s",
                          (m["site_id"], m["package_id"])).fetchone()[0]
        if last is not None and m["range"]["changes"][0] > last + 1:
            result.notes.append(f"注意：该站点上一个已导入的包到变更序号 {last}，本包从 {m['range']['changes'][0]} "
                                f"开始，中间的包尚未导入，请向该站点索取")
        # Each kind's next batch is decoded, signed and put in COPY's format on a second thread while the server
        # writes the one before (prefetch, ready).
        for e in ents:
            merged = result.county[e.table] = county_db.Merged()

            def batches(e=e):
                return ready(pkg.batches(e.table), sign=partial(county_keys.sign_push, county, m["site_id"], e))

            for batch in read_ahead(batches):
                rows = batch.rows
                county_keys.record_push(pg, m["site_id"], e, rows, county, county.site_id, "package", batch.signed)
                got = county_db.merge(pg, e, rows, batch.text)
                merged.add(got)
        head = _head(m)
        merged = result.county["audit_log"] = county_db.Merged()
        for batch in read_ahead(lambda: ready(pkg.batches("audit_log"), lead=(m["site_id"],))):
            rows = batch.rows
            if head and rows[0][0] <= head.count <= rows[-1][0]:
                last = next(r for r in rows if r[0] == head.count)
                if last[AUDIT_COLUMNS.index("hash")] != head.hash:
                    raise package.damaged(f"清单中的审计链头与包内第 {head.count} 条审计日志不符")
            got = county_db.merge_audit(pg, m["site_id"], rows, batch.text)
            merged.add(got)
        if merged.audit_mismatch:
            # The site's chain differs from what it sent before: its records here may be older copies of what
            # the county holds. Raised inside the transaction, so nothing of the package is kept.
            raise StoreError(f"交换包未导入：包内 {merged.audit_mismatch} 条审计日志与县里已收到的该站点同号日志不同。"
                             f"该站点的数据库可能被换成了较早的副本后又录入，或日志被改写过；导入会用较旧的记录覆盖"
                             f"县里已有的。请县信息员到该站点运行 jiuzhu audit verify --county-url 核对")
        if head and head.count:
            county_db.record_head(pg, m["site_id"], head, "package", m["package_id"])
        pg.execute("INSERT INTO packages (package_id, site_id, created_at, change_from, change_to, audit_from, "
                   "audit_to, counts) VALUES (%s, %s, %s, %s, %s, %s, %s, %s) ON CONFLICT (package_id) DO NOTHING",
                   (m["package_id"], m["site_id"], m["created_at"], *m["range"]["changes"], *m["range"]["audit"],
                    json.dumps(m["counts"], ensure_ascii=False)))
        # The packages table is the county's record of what arrived, from whom and when.
        county_db.note_site(pg, m["site_id"], m["site_name"], pushed=True)
        result.notes += _unstated(m, county_keys.bounds(pg), county.site_id)
    return result


def _head(manifest: dict) -> anchors.Head | None:
    """The exporting site's audit head from the manifest (None in a package from before heads travelled)."""
    head = manifest.get("audit_head")
    if head is None:
        return None
    count, digest = (head.get("count"), head.get("hash")) if isinstance(head, dict) else (None, None)
    if not isinstance(count, int) or count < 0 or not isinstance(digest, str) or len(digest) != 64:
        raise package.damaged("清单中的审计链头格式不对")
    return anchors.Head(count, digest)


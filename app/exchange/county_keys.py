"""The county database's register of site keys (registered and revoked by a county admin), the county's own public
keys, and the signed record of who sent each row (pushes).

Sync authentication: every batch a site pushes is signed with the site's key: the signature covers the site, the
kind of record and the digest of each row in the batch (row_digest). The county keeps the batch (pushes) with its
signature and row digests, and each row written carries the number of the batch that last wrote it (push_id). A
package imported at the county is recorded the same way, signed by the county's key after it checked the site's
signature on the package. Why signatures over batches rather than a signed challenge: the county database is a
PostgreSQL server with no program of ours in front of it, so nothing there could check a challenge as the rows
arrive; a signature stays with the rows, and `jiuzhu county verify` (or anyone holding the registered public keys)
can show later, row by row, which site sent it, and find a row that no registered site signed or that changed
after it was signed, whoever wrote it with the database password.
"""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Iterable
from typing import TYPE_CHECKING

import orjson

from app.exchange import territory
from app.exchange.envelope import refused
from app.exchange.keys import PublicKeys
from app.store.errors import StoreError

if TYPE_CHECKING:
    import psycopg

    from app.exchange.records import Entity

DDL = [
    """CREATE TABLE IF NOT EXISTS site_keys (site_id TEXT PRIMARY KEY, name TEXT NOT NULL, signing_key TEXT NOT NULL,
        encryption_key TEXT NOT NULL, registered_at TIMESTAMPTZ NOT NULL DEFAULT now(), registered_by TEXT NOT NULL,
        revoked_at TIMESTAMPTZ, revoked_by TEXT, revoked_reason TEXT)""",
    # The region-code prefix whose records the site may send (territory.py), stated by the county admin at
    # registration; NULL for a site registered before sites had one (未登记辖区: not bound, listed with a warning).
    "ALTER TABLE site_keys ADD COLUMN IF NOT EXISTS jurisdiction TEXT",
    """CREATE TABLE IF NOT EXISTS pushes (id BIGSERIAL PRIMARY KEY, site_id TEXT NOT NULL, entity TEXT NOT NULL,
        rows INTEGER NOT NULL, digests BYTEA NOT NULL, signed_by TEXT NOT NULL, signature BYTEA NOT NULL,
        via TEXT NOT NULL CHECK (via IN ('sync', 'package')), received_at TIMESTAMPTZ NOT NULL DEFAULT now())""",
]
_PUSH = b"jiuzhu push/1\0"


def push_column(table: str) -> str:
    """The column that names the batch which last wrote a row: set from the transaction's jiuzhu.push."""
    return (f"ALTER TABLE {table} ADD COLUMN IF NOT EXISTS push_id BIGINT "
            f"DEFAULT nullif(current_setting('jiuzhu.push', true), '')::bigint")


def _b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode("ascii")


def _keys(row, jurisdiction: str | None = None) -> PublicKeys:
    site, name, signing, encryption = row[:4]
    return PublicKeys(site, base64.b64decode(signing), base64.b64decode(encryption), name, jurisdiction or "")


def county(pg: psycopg.Connection) -> tuple[PublicKeys, str] | None:
    """The county's public keys and its code, once its installation claimed them."""
    row = pg.execute("SELECT value FROM county_meta WHERE key = 'county_keys'").fetchone()
    if not row:
        return None
    data = json.loads(row[0])
    return PublicKeys.from_card(data["card"]), data["county_code"]


def claim(pg: psycopg.Connection, keys: PublicKeys, county_code: str, replace: bool = False) -> None:
    """Record `keys` as the county's (its installation's); another installation's keys are replaced only on purpose."""
    held = county(pg)
    if held and held[0].signing != keys.signing and not replace:
        raise StoreError(f"县级数据库已登记了另一台电脑的县级公钥（指纹 {held[0].fingerprint}）。换用本机须加 --replace，"
                         f"之后各站点须重新导入县级公钥卡")
    pg.execute("INSERT INTO county_meta (key, value) VALUES ('county_keys', %s) ON CONFLICT (key) DO UPDATE "
               "SET value = excluded.value",
               (json.dumps({"card": keys.card(), "county_code": county_code}, ensure_ascii=False),))


def register(pg: psycopg.Connection, keys: PublicKeys, by: str, jurisdiction: str) -> tuple[bool, str | None]:
    """Register (or register anew, after a lost key or a revocation, or to change its jurisdiction) a site's public
    keys with the jurisdiction the county states; whether it was registered before, and its jurisdiction then."""
    before = pg.execute("SELECT jurisdiction FROM site_keys WHERE site_id = %s", (keys.site_id,)).fetchone()
    pg.execute("INSERT INTO site_keys (site_id, name, signing_key, encryption_key, registered_by, jurisdiction) "
               "VALUES (%s, %s, %s, %s, %s, %s) ON CONFLICT (site_id) DO UPDATE SET name = excluded.name, "
               "signing_key = excluded.signing_key, encryption_key = excluded.encryption_key, registered_at = now(), "
               "registered_by = excluded.registered_by, jurisdiction = excluded.jurisdiction, revoked_at = NULL, "
               "revoked_by = NULL, revoked_reason = NULL",
               (keys.site_id, keys.name, _b64(keys.signing), _b64(keys.encryption), by, jurisdiction))
    return before is not None, before[0] if before else None


def revoke(pg: psycopg.Connection, site: str, by: str, reason: str) -> PublicKeys:
    row = pg.execute("UPDATE site_keys SET revoked_at = now(), revoked_by = %s, revoked_reason = %s "
                     "WHERE site_id = %s AND revoked_at IS NULL "
                     "RETURNING site_id, name, signing_key, encryption_key, jurisdiction",
                     (by, reason, site)).fetchone()
    if row is None:
        raise StoreError(f"县里没有站点 {site} 的有效登记（没有登记过，或已吊销）")
    return _keys(row, row[4])


def sites(pg: psycopg.Connection) -> list[dict]:
    """Every registered site, with its fingerprint, its jurisdiction (None: registered before sites had one) and
    whether and why it was revoked."""
    rows = pg.execute("SELECT site_id, name, signing_key, encryption_key, registered_at, registered_by, revoked_at, "
                      "revoked_by, revoked_reason, jurisdiction FROM site_keys ORDER BY registered_at").fetchall()
    return [{"site_id": r[0], "name": r[1], "fingerprint": _keys(r).fingerprint, "registered_at": r[4],
             "registered_by": r[5], "revoked_at": r[6], "revoked_by": r[7], "revoked_reason": r[8],
             "jurisdiction": r[9]} for r in rows]


def bounds(pg: psycopg.Connection) -> territory.Bounds:
    """The registered sites bound to a jurisdiction (revoked ones too: what they sent before is still theirs to
    answer for); the county's own site is not."""
    held = county(pg)
    return territory.bounds(pg.execute("SELECT site_id, name, jurisdiction FROM site_keys"),
                            held[0].site_id if held else None)


def push_site(pg: psycopg.Connection) -> str | None:
    """The site whose signed batch the caller's transaction is writing (record_push), None if none is recorded."""
    row = pg.execute("SELECT site_id FROM pushes WHERE id = nullif(current_setting('jiuzhu.push', true), '')::bigint"
                     ).fetchone()
    return row[0] if row else None


def outside(pg: psycopg.Connection, site: str, jurisdiction: str, tables: Iterable[str]) -> dict[str, int]:
    """How many of a site's records the county holds, per kind, whose region lies outside `jurisdiction` (accepted
    before the site had it, or before this rule): for the county admin to look at when registering it."""
    out = {}
    for table in tables:
        n = pg.execute(f"SELECT count(*) FROM {table} WHERE site_id = %s AND left(coalesce(region_code, ''), %s) <> %s",
                       (site, len(jurisdiction), jurisdiction)).fetchone()[0]
        if n:
            out[table] = n
    return out


def sender(pg: psycopg.Connection, site: str) -> PublicKeys:
    """The registered, unrevoked keys of a site (or the county's own); the refusal otherwise."""
    held = county(pg)
    if held and held[0].site_id == site:
        return held[0]
    row = pg.execute("SELECT site_id, name, signing_key, encryption_key, revoked_at, revoked_reason, jurisdiction "
                     "FROM site_keys WHERE site_id = %s", (site,)).fetchone()
    if row is None:
        raise refused(f"发送站点 {site[:64]} 没有在县里登记公钥，不能确认是谁导出的。请县管理员先登记该站点的公钥卡")
    if row[4] is not None:
        raise refused(f"发送站点 {row[1] or site} 的公钥已于 {row[4]:%Y-%m-%d} 被吊销（{row[5] or ''}），不再接受它的记录")
    return _keys(row, row[6])


def row_digest(e: Entity, row: tuple) -> bytes:
    """A row's digest as the site sent it (wire order; local forms: ISO dates, money as text, bytes as base64).

    An application's state, dates and amounts are left out: the county folds them from the steps it holds."""
    kept = _kept(e)
    values = row if kept is None else [row[i] for i in kept]
    # A tuple encodes as the list would. Looking for bytes by type in C first spares most rows (none hold any) a
    # Python-level pass over every value. Rows come from sqlite3 or from a package's JSON: bytes, never a subclass.
    if bytes in map(type, values):
        values = [_b64(v) if isinstance(v, bytes) else v for v in values]
    if float in map(type, values):  # never from the program (amounts are text); kept as json writes it
        return hashlib.sha256(_ENCODER.encode(values).encode("utf-8")).digest()
    return hashlib.sha256(orjson.dumps(values)).digest()


def _kept(e: Entity) -> tuple[int, ...] | None:
    """Positions of the wire columns a row's digest covers (None: all of them); worked out once per kind."""
    if e.table not in _KEPT:
        from app.workflow.replay import DERIVED

        _KEPT[e.table] = tuple(i for i, c in enumerate(e.wire) if c not in DERIVED) \
            if e.table == "applications" else None
    return _KEPT[e.table]


_KEPT: dict[str, tuple[int, ...] | None] = {}
# The text digested is json.dumps(values, ensure_ascii=False, separators=(",", ":")), which every digest already
# made was built from: orjson writes the same bytes for text, whole numbers, null and true/false
# (tests/exchange/test_json_lines.py), a float in the program's own json (made once: json.dumps with options builds
# an encoder per call).
_ENCODER = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"))


def _message(site: str, table: str, digests: bytes) -> bytes:
    return _PUSH + site.encode() + b"\0" + table.encode() + b"\0" + hashlib.sha256(digests).digest()


def sign_push(keys, site: str, e: Entity, rows: Iterable[tuple]) -> tuple[bytes, bytes]:
    """The row digests of a batch and the signature over them (by `keys`: the site's, or the county's for a package)."""
    digests = b"".join(row_digest(e, r) for r in rows)
    return digests, keys.sign(_message(site, e.table, digests))


def record_push(pg: psycopg.Connection, site: str, e: Entity, rows: list[tuple], keys, signer: str,
                via: str, signed: tuple[bytes, bytes] | None = None) -> int:
    """Keep the signed batch and mark the transaction so that rows it writes carry its number (push_id). `signed`:
    sign_push(keys, site, e, rows) made beforehand (on the thread reading ahead)."""
    digests, signature = signed or sign_push(keys, site, e, rows)
    push = pg.execute("INSERT INTO pushes (site_id, entity, rows, digests, signed_by, signature, via) "
                      "VALUES (%s, %s, %s, %s, %s, %s, %s) RETURNING id",
                      (site, e.table, len(rows), digests, signer, signature, via)).fetchone()[0]
    pg.execute("SELECT set_config('jiuzhu.push', %s, true)", (str(push),))
    return push


def verify(pg: psycopg.Connection, ents: list[Entity]) -> list[str]:
    """Rows at the county that no registered site's signature covers, as lines for a person (empty: all covered)."""
    from app.exchange.county_db import _local_value

    held = county(pg)
    keys = {r[0]: _keys(r) for r in pg.execute("SELECT site_id, name, signing_key, encryption_key FROM site_keys")}
    if held:
        keys[held[0].site_id] = held[0]
    pushes: dict[int, tuple[str, set[bytes]] | None] = {}
    for pid, site, table, digests, signer, signature, via in pg.execute(
            "SELECT id, site_id, entity, digests, signed_by, signature, via FROM pushes"):
        signer_keys = keys.get(signer)
        good = (signer_keys is not None and (signer == site or (via == "package" and held and signer == held[0].site_id))
                and signer_keys.verify(bytes(signature), _message(site, table, bytes(digests))))
        digests = bytes(digests)
        pushes[pid] = (site, {digests[i:i + 32] for i in range(0, len(digests), 32)}) if good else None
    out = []
    for e in ents:
        unsigned = changed = bad = 0
        with pg.transaction(), pg.cursor(name=f"verify_{e.table}") as cur:
            cur.execute(f"SELECT push_id, {', '.join(e.wire)} FROM {e.table}")
            for push_id, *row in cur:
                row = tuple(_local_value(v) for v in row)
                push = pushes.get(push_id) if push_id is not None else None
                if push_id is None or push_id not in pushes:
                    unsigned += 1
                elif push is None or push[0] != row[e.wire.index("site_id")]:
                    bad += 1
                elif row_digest(e, row) not in push[1]:
                    changed += 1
        from app.exchange.records import NAMES

        for n, what in ((unsigned, "没有任何站点签名（不是经同步或交换包写入的）"),
                        (bad, "签名不成立或不是所属站点签的"), (changed, "内容与所属站点签名时不同（在县级库中被改过）")):
            if n:
                out.append(f"{NAMES.get(e.table, e.table)} {n} 条{what}")
    return out

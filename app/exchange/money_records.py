"""Money records arriving from elsewhere (payment lines, 发放 batches, dated local values), judged as if an adversary
made them: each must be whole and consistent with the bill it pays, and money once paid is never rewritten.

The rules are pure functions of the record, the copy already held and the bill or batch it names, so the site
(merge.py, SQLite) and the county (county_db.py, PostgreSQL) judge alike and only fetch differently. A refused record
is kept aside with the reason; nothing of it is written.
"""

from __future__ import annotations

import json
import re
import sqlite3
from datetime import date
from decimal import Decimal
from typing import TYPE_CHECKING

from app.domain.money import MAX_AMOUNT
from app.store import reads

if TYPE_CHECKING:
    import psycopg

    from app.exchange.records import Entity

CHECKED = ("disbursement_batches", "payment_lines", "local_values")
WHAT = {"disbursement_batches": "发放批次", "payment_lines": "支付记录", "local_values": "地方参数"}

_TIERS = {"basic_paid": "医院", "serious_illness_paid": "医院", "assistance_paid": "经办机构",
          "tilt_assistance_paid": "经办机构"}
ORIGINAL, TOP_UP, RECOVERY = "原始", "补付", "追回"
_MONEY = re.compile(r"-?\d{1,13}(\.\d{1,2})?")
# What a payment line is: once written, none of it changes (only its batch and payment are recorded later).
_LINE_FIXED = ("person_id", "visit_id", "year", "tier", "line_type", "payer", "old_amount", "new_amount", "amount")
_BATCH_FIXED = ("jurisdiction", "year", "line_count", "total", "created_by")
_BATCH_STATES = ("printed", "paid", "cancelled")
_KEY = re.compile(r"[a-z][a-z0-9_]{0,99}")


def amount(value: object) -> Decimal | None:
    """An amount as it travels (text, or a number from the county's NUMERIC column), or None if it is not one."""
    if isinstance(value, Decimal):
        value = f"{value:.2f}" if value.is_finite() else ""
    if not isinstance(value, str) or not _MONEY.fullmatch(value):
        return None
    found = Decimal(value)
    return found if abs(found) < MAX_AMOUNT else None


def _same(a: object, b: object) -> bool:
    if isinstance(a, Decimal) or isinstance(b, Decimal):
        return amount(a) == amount(b)
    return a == b


def line_refusal(line: dict, held: dict | None, visit: dict | None, batch: dict | None) -> str | None:
    """Why a payment line may not be kept (None: it may). `visit` and `batch` are what it names, as held here."""
    if held is not None:
        if not all(_same(held[c], line.get(c)) for c in _LINE_FIXED):
            return "支付记录的人员、账单、项目和金额一经记下不能改写（应另记补付或追回）"
        if held["paid_at"] is not None and any(held[c] != line.get(c) for c in ("paid_at", "paid_by", "batch_id")):
            return "已支付的记录不能改写"
    tier, kind = line.get("tier"), line.get("line_type")
    if tier not in _TIERS:
        return f"项目“{str(tier)[:20]}”不是 基本医保、大病保险、医疗救助、倾斜救助 之一"
    if kind not in (ORIGINAL, TOP_UP, RECOVERY):
        return f"类型“{str(kind)[:20]}”不是 原始、补付、追回 之一"
    if line.get("payer") != _TIERS[tier]:
        return f"{tier} 的支付方应为 {_TIERS[tier]}"
    value, old, new = amount(line.get("amount")), line.get("old_amount"), line.get("new_amount")
    if value is None:
        return "金额不是到分的数字"
    if kind == ORIGINAL:
        if old is not None or new is not None or value <= 0:
            return "原始支付只有一个正的金额"
    else:
        old, new = amount(old), amount(new)
        if old is None or new is None or new - old != value:
            return "补付追回的金额不等于新金额减原金额"
        if (value > 0) != (kind == TOP_UP) or value == 0:
            return f"{kind}的金额方向不对（补付为正、追回为负）"
    if (line.get("paid_at") is None) != (line.get("paid_by") is None):
        return "支付时间和支付人应同时有或同时没有"
    if visit is not None:
        if visit["person_id"] != line.get("person_id"):
            return "支付记录的人员与它所属账单的人员不符"
        if str(visit["discharged_on"])[:4] != str(line.get("year")):
            return "支付记录的年度与它所属账单的结算年度不符"
        # The hospital's own amount is the slip's, entered with the bill: a different one was not paid.
        if kind == ORIGINAL and _TIERS[tier] == "医院" and amount(visit.get(tier)) != value:
            return f"医院支付的金额 {value} 与账单结算单上的 {visit.get(tier)} 不符"
    if batch is not None:
        if batch["state"] == "paid" and line.get("paid_at") is None:
            return "所属发放批次已确认发放，这条却未支付"
        if batch["state"] == "cancelled" and line.get("paid_at") is not None:
            return "所属发放批次已撤销，这条却记为已支付"
    return None


def batch_refusal(batch: dict, held: dict | None) -> str | None:
    """Why a 发放 batch may not be kept (None: it may)."""
    state = batch.get("state")
    if state not in _BATCH_STATES:
        return f"状态“{str(state)[:20]}”不是 已打印、已发放、已撤销 之一"
    # A batch of 追回 lines only (a paid bill voided or corrected down) has a negative total: it is the app's own.
    if amount(batch.get("total")) is None:
        return "合计不是到分的金额"
    count = batch.get("line_count")
    if type(count) is not int or count < 0:
        return "笔数不是非负整数"
    if state == "paid" and not (batch.get("confirmed_by") and batch.get("confirmed_at")):
        return "已发放的批次须有确认人和确认时间"
    if state == "cancelled" and not (batch.get("cancelled_by") and batch.get("cancelled_at")
                                     and batch.get("cancel_reason")):
        return "已撤销的批次须有撤销人、撤销时间和原因"
    if held is not None:
        if held["state"] != "printed" and held["state"] != state:
            return "已发放或已撤销的批次不能再改变状态"
        if held["state"] != "printed" and any(held[c] != batch.get(c) for c in ("confirmed_by", "confirmed_at",
                                                                                "cancelled_by", "cancelled_at")):
            return "已发放或已撤销的批次不能改写"
        if not all(_same(held[c], batch.get(c)) for c in _BATCH_FIXED):
            return "批次的辖区、年度、笔数和合计一经生成不能改写"
    return None


def local_refusal(value: dict, county_code: str | None) -> str | None:
    """Why a dated local value may not be kept, on its form alone (None: it may). `county_code`: this site's county
    (None at the county database, which holds every county's own)."""
    if not isinstance(value.get("key"), str) or not _KEY.fullmatch(value["key"]):
        return "参数名不对"
    try:
        date.fromisoformat(str(value.get("valid_from")))
    except ValueError:
        return "生效日期不是有效的日期"
    if not isinstance(value.get("value"), str) or not 0 < len(value["value"]) <= 50:
        return "值应为 1 到 50 个字"
    code = value.get("region_code")
    if not isinstance(code, str) or not re.fullmatch(r"\d{6}", code):
        return "区划代码应为 6 位县级代码"
    if county_code is not None and code != county_code:
        return f"这是县 {code} 的地方参数，不是本县（{county_code or '未设置'}）的"
    return None


def site_refusal(conn: sqlite3.Connection, table: str, record: dict) -> str | None:
    """At a site: why a money record from elsewhere may not be kept (None: it may).

    A line whose bill or batch has not arrived is not refused here: the foreign key holds it until they come, and it
    is judged again then. A local value must also be one the county's policy accepts."""
    row = conn.execute(f"SELECT * FROM {table} WHERE id = ?", (record["id"],)).fetchone()
    held = dict(row) if row else None
    if table == "payment_lines":
        visit = conn.execute("SELECT person_id, discharged_on, basic_paid, serious_illness_paid FROM visits "
                             "WHERE id = ?", (record["visit_id"],)).fetchone()
        batch = conn.execute("SELECT state FROM disbursement_batches WHERE id = ?", (record["batch_id"],)).fetchone()
        return line_refusal(record, held, dict(visit) if visit else None, dict(batch) if batch else None)
    if table == "disbursement_batches":
        return batch_refusal(record, held)
    return _local_site_refusal(conn, record)


def _local_site_refusal(conn: sqlite3.Connection, record: dict) -> str | None:
    from app.policy.engine import Engine
    from app.policy.loader import PolicyError, load_policy

    settings = {k: json.loads(v) for k, v in conn.execute(
        "SELECT key, value FROM settings WHERE key IN ('county', 'policy_id', 'local')")}
    reason = local_refusal(record, (settings.get("county") or {}).get("code", ""))
    if reason or not settings.get("policy_id"):
        return reason or "本站尚未设置适用的政策"
    dated = reads.dated_locals(conn)
    entries = [e for e in dated.get(record["key"], []) if e["from"] != record["valid_from"]]
    dated[record["key"]] = sorted([*entries, {"from": record["valid_from"], "value": record["value"]}],
                                  key=lambda e: e["from"])
    try:
        Engine(load_policy(settings["policy_id"]), settings.get("local") or {}, dated)
    except PolicyError as exc:
        return str(exc)[:200]
    return None


def county_admit(pg: psycopg.Connection, e: Entity, rows: list[tuple]) -> tuple[list[tuple], list[tuple[dict, str]]]:
    """At the county database: the rows that may be kept, and the refused ones with the reason.

    The county has no foreign keys, so a line naming a bill or batch it does not hold is refused here (a site sends
    bills and batches before their lines)."""
    records = [dict(zip(e.wire, row)) for row in rows]
    ids = [r["id"] for r in records]
    held = _fetch(pg, e.table, "id", ids)
    visits: dict[str, dict] = {}
    batches: dict[str, dict] = {}
    if e.table == "payment_lines":
        visits = _fetch(pg, "visits", "id", [r["visit_id"] for r in records], "id, person_id, discharged_on, "
                                                                              "basic_paid, serious_illness_paid")
        batches = _fetch(pg, "disbursement_batches", "id", [r["batch_id"] for r in records if r["batch_id"]],
                         "id, state")
    kept, refused = [], []
    for row, r in zip(rows, records):
        if _older(r, held.get(r["id"])):
            kept.append(row)  # county_db._merge keeps the newer copy held and counts this one as older
            continue
        if e.table == "payment_lines":
            reason = ("它所属的账单县里没有" if r["visit_id"] not in visits
                      else "它所属的发放批次县里没有" if r["batch_id"] and r["batch_id"] not in batches
                      else line_refusal(r, held.get(r["id"]), visits[r["visit_id"]], batches.get(r["batch_id"])))
        elif e.table == "disbursement_batches":
            reason = batch_refusal(r, held.get(r["id"]))
        else:
            reason = local_refusal(r, None)
        if reason:
            refused.append((r, reason))
        else:
            kept.append(row)
    return kept, refused


def _older(record: dict, held: dict | None) -> bool:
    """Whether the county holds a newer copy of this record from the same site (a package imported after a later
    one), compared as county_db._newer compares stamps (text by code point, which is the order of UTF-8's bytes).

    Such a copy is not judged: it will not be written, and judged against the newer copy (a line paid since, a batch
    confirmed since) it would be refused as money rewritten, an error where there is none."""
    stamp = record.get("updated_at")
    return (held is not None and held["site_id"] == record.get("site_id") and isinstance(stamp, str)
            and isinstance(held["updated_at"], str) and held["updated_at"] > stamp)


def _fetch(pg: psycopg.Connection, table: str, key: str, ids: list[str], columns: str = "*") -> dict[str, dict]:
    cur = pg.execute(f"SELECT {columns} FROM {table} WHERE {key} = ANY(%s)", (sorted(set(ids)),))
    names = [d.name for d in cur.description]
    return {row[0]: dict(zip(names, row)) for row in cur.fetchall()}

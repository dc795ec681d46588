"""`check`'s look at the seals: every audited row against the audit entry that last wrote it, named in Chinese.

The comparison runs inside SQLite (the row's sealed values as json_object against the entry's `after`); only the
rows that differ come back to Python to be described."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator

from app.store.seal import DELETED, KEYS, LABELS, POSITIONS, SEALED, register, sealed_json

# At most this many rows are named per table; the count says how many more there are.
NAMED = 20

FIELD_LABELS = {
    "region_code": "区划代码", "address": "住址", "head_person_id": "户主", "site_id": "来源站点",
    "household_id": "所属家庭", "name": "姓名", "id_type": "证件类型", "id_number": "证件号码", "birth_date": "出生日期",
    "sex": "性别", "relation_to_head": "与户主关系", "person_id": "人员", "category": "身份类别",
    "valid_from": "起始日期", "valid_to": "终止日期", "certified_by": "认定部门", "year": "年度", "insurance": "险种",
    "hospital": "医院", "hospital_level": "医院级别", "admitted_on": "入院日期", "discharged_on": "出院日期",
    "kind": "就诊类别", "total_cost": "医疗费用总额", "policy_covered": "政策范围内费用", "basic_paid": "基本医保支付",
    "serious_illness_paid": "大病保险支付", "invoice_number": "发票号", "referred": "规范转诊", "in_province": "省内就医",
    "major_disease": "重特大疾病", "visit_id": "就诊", "policy_id": "政策", "policy_version": "政策版本",
    "applied_category": "适用类别", "assistance_paid": "医疗救助", "tilt_assistance_paid": "倾斜救助",
    "personal_pay": "个人自付", "steps": "计算说明", "totals": "年度合计", "warnings": "提示", "state": "办理状态",
    "state_since": "状态起始时间", "annual_income": "家庭年收入", "low_income_standard": "低收入标准",
    "passes_asset_check": "财产核查", "computed_amount": "测算金额", "approved_amount": "核定金额",
    "amount_reason": "核定理由", "notice_start": "公示开始", "notice_end": "公示结束", "created_by": "登记人",
    "application_id": "申请", "seq": "序号", "action": "操作", "to_state": "办理后状态", "user_id": "用户",
    "username": "用户名", "display_name": "姓名", "role": "角色", "at": "时间", "opinion": "意见", "details": "详情",
    "filename": "文件名", "sha256": "文件校验值", "size": "大小", "added_by": "添加人", "jurisdiction": "管辖范围",
    "password_hash": "密码", "active": "启用", "value": "值",
}


def _describe(conn: sqlite3.Connection, table: str, row: sqlite3.Row) -> str:
    """Which record, as a person would find it: a name, a bill's hospital and invoice, a user's login."""
    key = row[KEYS[table]]
    person = None
    if "person_id" in row.keys():
        person = conn.execute("SELECT name FROM persons WHERE id = ?", (row["person_id"],)).fetchone()
    if table == "visits":
        return f"{person['name'] if person else ''} 的就诊（{row['hospital']} 发票号 {row['invoice_number']}，{key}）"
    if table == "settlements":
        visit = conn.execute("SELECT hospital, invoice_number FROM visits WHERE id = ?", (row["visit_id"],)).fetchone()
        bill = f"{visit['hospital']} 发票号 {visit['invoice_number']}，" if visit else ""
        return f"{person['name'] if person else ''} 的结算（{bill}{key}）"
    if table == "persons":
        return f"人员 {row['name']}（{row['id_number']}）"
    if table == "users":
        return f"用户 {row['username']}"
    if table == "settings":
        return f"设置 {key}"
    if person is not None:
        return f"{person['name']} 的{LABELS[table]}（{key}）"
    return f"{LABELS[table]} {key}"


def _show(value) -> str:
    return "空" if value is None else str(value)


def _difference(conn: sqlite3.Connection, table: str, row: sqlite3.Row, seq: int) -> str:
    entry = conn.execute("SELECT after FROM audit_log WHERE seq = ?", (seq,)).fetchone()
    try:
        logged = json.loads(entry["after"]) if entry and entry["after"] else {}
    except ValueError:
        return f"审计日志第 {seq} 条记载的内容已无法读取（被改动）"
    if not isinstance(logged, dict):
        return f"审计日志第 {seq} 条记载的内容已无法读取（被改动）"
    now = json.loads(row["_now"])
    fields = [f"{FIELD_LABELS.get(c, c)}：审计日志第 {seq} 条记为 {_show(logged.get(c))}，数据库中为 {_show(now.get(c))}"
              for c in SEALED[table] if logged.get(c) != now.get(c)]
    return "；".join(fields) or "内容与审计日志记载的不符"


def _unmatched(conn: sqlite3.Connection, table: str) -> Iterator[sqlite3.Row]:
    """Rows whose sealed values are not what their last sealing entry recorded (or that have no such entry)."""
    key = KEYS[table]
    now = sealed_json(table)
    skip = (f" AND (t.key IS NULL OR t.key NOT IN ({', '.join(repr(k) for k in sorted(POSITIONS))}))"
            if table == "settings" else "")
    query = (f"SELECT t.*, {now} AS _now, a.row_hash AS _seal, a.seq AS _seq FROM {table} t LEFT JOIN audit_log a "
             f"ON a.seq = (SELECT max(seq) FROM audit_log WHERE entity = ? AND entity_id = t.{key} "
             f"AND row_hash IS NOT NULL) WHERE (a.seq IS NULL OR a.row_hash = ? OR a.after IS NOT {now}){skip}")
    yield from conn.execute(query, (table, DELETED))


def broken_seals(conn: sqlite3.Connection) -> list[str]:
    """Every audited row whose content no longer matches its last audited write, and every row that vanished."""
    register(conn)
    if "row_hash" not in {r[1] for r in conn.execute("PRAGMA table_info(audit_log)")}:
        return []  # a database older than seals: check is run on it only to upgrade it
    problems: list[str] = []
    for table in SEALED:
        found: list[str] = []
        for row in _unmatched(conn, table):
            seal, seq = row["_seal"], row["_seq"]
            what = _describe(conn, table, row)
            if seal is None:
                found.append(f"{what}：审计日志中没有写入它的记录（在程序之外添加，或审计日志被截去）")
            elif seal == DELETED:
                found.append(f"{what}：审计日志第 {seq} 条记载它已删除，数据库中却仍有")
            else:
                found.append(f"{what}：{_difference(conn, table, row, seq)}（在程序之外被改动）")
        # NOT EXISTS, not NOT IN: one row with a NULL key would make NOT IN match nothing and hide every deletion.
        gone = conn.execute(
            f"SELECT entity_id, seq FROM (SELECT entity_id, row_hash, max(seq) AS seq FROM audit_log WHERE entity = ? "
            f"AND row_hash IS NOT NULL GROUP BY entity_id) g WHERE row_hash != ? AND NOT EXISTS "
            f"(SELECT 1 FROM {table} t WHERE t.{KEYS[table]} = g.entity_id)"
            + (f" AND entity_id NOT IN ({', '.join(repr(k) for k in sorted(POSITIONS))})" if table == "settings" else ""),
            (table, DELETED)).fetchall()
        found.extend(f"{LABELS[table]} {g['entity_id']}：审计日志第 {g['seq']} 条写入过它，数据库中却没有了（在程序之外被删除）"
                     for g in gone)
        problems.extend(found[:NAMED])
        if len(found) > NAMED:
            problems.append(f"……{LABELS[table]}另有 {len(found) - NAMED} 条同样的问题")
    return problems

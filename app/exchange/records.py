"""The records that travel between a site and the county: which tables, their columns, and reading what changed."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass

from app.store.clock import newer
from app.store.schema import SYNCED
from app.store.seal import POINTER

# How each record finds the region it belongs to, so that the county can hand a township only its own records.
_REGION = {
    "households": ("t.region_code", ""),
    "persons": ("h.region_code", "JOIN households h ON h.id = t.household_id"),
    "category_periods": ("h.region_code", "JOIN persons p ON p.id = t.person_id JOIN households h ON h.id = p.household_id"),
    "enrollments": ("h.region_code", "JOIN persons p ON p.id = t.person_id JOIN households h ON h.id = p.household_id"),
    "visits": ("h.region_code", "JOIN persons p ON p.id = t.person_id JOIN households h ON h.id = p.household_id"),
    "settlements": ("h.region_code", "JOIN persons p ON p.id = t.person_id JOIN households h ON h.id = p.household_id"),
    "annual_settlements": ("h.region_code",
                           "JOIN persons p ON p.id = t.person_id JOIN households h ON h.id = p.household_id"),
    "applications": ("t.region_code", ""),
    "application_steps": ("a.region_code", "JOIN applications a ON a.id = t.application_id"),
    "attachments": ("a.region_code", "JOIN applications a ON a.id = t.application_id"),
    # A batch belongs to the jurisdiction it pays (a township, or the whole county); a dated local value to the county.
    "disbursement_batches": ("t.jurisdiction", ""),
    "payment_lines": ("h.region_code", "JOIN persons p ON p.id = t.person_id JOIN households h ON h.id = p.household_id"),
    "local_values": ("t.region_code", ""),
}

NAMES = {"households": "家庭", "persons": "人员", "category_periods": "身份类别", "enrollments": "参保",
         "visits": "就诊账单", "settlements": "结算", "annual_settlements": "年度结算", "applications": "依申请救助",
         "application_steps": "办理环节", "attachments": "附件", "disbursement_batches": "发放批次",
         "payment_lines": "支付与补付追回", "local_values": "自某日起的地方参数", "audit_log": "审计日志"}

# Column headings in the readable copy of a package.
HEADINGS = {
    "id": "记录编号", "region_code": "区划代码", "address": "地址", "head_person_id": "户主编号", "household_id": "家庭编号",
    "name": "姓名", "id_type": "证件类型", "id_number": "证件号码", "birth_date": "出生日期", "sex": "性别",
    "relation_to_head": "与户主关系", "name_initials": "拼音首字母", "person_id": "人员编号", "category": "身份类别",
    "valid_from": "起始日期", "valid_to": "终止日期", "certified_by": "认定部门", "year": "年度", "insurance": "参保险种",
    "hospital": "医院", "hospital_level": "医院级别", "admitted_on": "入院日期", "discharged_on": "出院日期",
    "kind": "就诊类型", "total_cost": "总费用", "policy_covered": "政策范围内费用", "basic_paid": "基本医保支付",
    "serious_illness_paid": "大病保险支付", "invoice_number": "票据号", "referred": "是否转诊", "in_province": "是否省内",
    "major_disease": "是否重特大疾病", "emergency": "是否急诊抢救", "in_insured_area": "是否参保地就医",
    "filed_remote": "是否异地备案", "visit_id": "就诊编号", "policy_id": "政策", "policy_version": "政策版本",
    "applied_category": "适用类别", "assistance_paid": "医疗救助支付", "tilt_assistance_paid": "倾斜救助支付",
    "personal_pay": "个人负担", "steps": "计算说明", "totals": "年度合计", "warnings": "提示", "state": "环节",
    "state_since": "进入环节时间", "annual_income": "家庭年收入", "low_income_standard": "低收入标准",
    "passes_asset_check": "财产核查通过", "computed_amount": "测算金额", "approved_amount": "批准金额",
    "amount_reason": "金额调整理由", "notice_start": "公示开始", "notice_end": "公示结束", "created_by": "经办人",
    "application_id": "申请编号", "seq": "序号", "action": "办理", "to_state": "办理后环节", "user_id": "用户编号",
    "username": "用户名", "display_name": "经办人姓名", "role": "角色", "at": "时间", "opinion": "意见",
    "details": "详情", "filename": "文件名", "sha256": "SHA-256", "size": "大小（字节）", "added_by": "添加人",
    "created_at": "创建时间", "updated_at": "修改时间", "site_id": "来源站点", "entity": "对象", "entity_id": "对象编号",
    "before": "修改前", "after": "修改后", "prev_hash": "前一条哈希", "hash": "哈希", "digest_version": "摘要版本",
    "os_user": "操作系统用户", "host": "计算机",
    "status": "状态", "void_reason": "作废原因", "voided_at": "作废时间", "voided_by": "作废人", "corrects_id": "更正的账单",
    "jurisdiction": "辖区", "title": "标题", "line_count": "笔数", "total": "合计", "confirmed_by": "确认发放人",
    "confirmed_at": "确认发放时间", "cancelled_by": "撤销人", "cancelled_at": "撤销时间", "cancel_reason": "撤销原因",
    "tier": "项目", "line_type": "类型", "payer": "支付方", "old_amount": "原金额", "new_amount": "新金额",
    "amount": "金额", "reason": "原因", "batch_id": "发放批次", "paid_at": "支付时间", "paid_by": "支付人",
    "key": "参数", "value": "值", "set_by": "设置人",
}

MONEY = {"total_cost", "policy_covered", "basic_paid", "serious_illness_paid", "assistance_paid", "tilt_assistance_paid",
         "personal_pay", "annual_income", "low_income_standard", "computed_amount", "approved_amount", "total",
         "old_amount", "new_amount", "amount"}
DATES = {"valid_from", "valid_to", "birth_date", "admitted_on", "discharged_on", "notice_start", "notice_end"}
BINARY = {"steps"}
INTEGERS = {"year", "seq", "referred", "in_province", "major_disease", "passes_asset_check", "size", "emergency",
            "in_insured_area", "filed_remote", "line_count"}
# Appended, never changed: a copy already there is the same record.
APPEND_ONLY = {"application_steps", "attachments"}

# Kinds whose copy here carries a stamp of this site's, not the owner's: an application received is stamped here
# when it follows the steps held here (steps.follow) or when this site takes a step on it (applications.act, the
# county's approval). Its owner's copies cannot be ordered against that stamp, so any copy with another stamp than
# the one held replaces it, as before. An older one coming late puts back only the owner's own fields: the state,
# dates and amounts are folded from the steps held here whatever the copy says (steps.summary_from_here).
STAMPED_HERE = frozenset({"applications"})


def replaces(table: str, stamp: object, held: object) -> bool:
    """Whether an owner's copy stamped `stamp` should replace the copy held here (in the table, or waiting in
    sync_held) stamped `held`: only a newer one, so that a package imported after a later one of the same site (a bill
    voided in the later one) does not put the older copy back. A change made here to a received record (a 发放 batch,
    a re-settlement) is stamped after the copy it changed (store.records._stamp), so an older copy of the owner's
    does not undo it either; a newer one still does."""
    if table in STAMPED_HERE:
        return stamp != held
    return newer(stamp, held)

AUDIT_COLUMNS = ("seq", "at", "user_id", "username", "action", "entity", "entity_id", "before", "after", "prev_hash",
                 "hash", "digest_version", "os_user", "host")


@dataclass(frozen=True)
class Entity:
    """One kind of record: its table and its columns in a fixed order (site_id and region_code last)."""

    table: str
    columns: tuple[str, ...]

    @property
    def name(self) -> str:
        return NAMES[self.table]

    @property
    def wire(self) -> tuple[str, ...]:
        """The columns as they travel: the record's own, then where it came from and where it belongs."""
        return (*self.columns, "site_id") + (() if "region_code" in self.columns else ("region_code",))


def entities(conn: sqlite3.Connection) -> list[Entity]:
    """Every travelling kind of record, parents first, with the columns this database has."""
    out = []
    for table in SYNCED:
        # The pointer to this site's own sealing entry stays here (each log numbers its own entries).
        cols = tuple(r[1] for r in conn.execute(f"PRAGMA table_info({table})") if r[1] not in ("site_id", POINTER))
        out.append(Entity(table, cols))
    return out


def site_id(conn: sqlite3.Connection) -> str:
    return json.loads(conn.execute("SELECT value FROM settings WHERE key = 'site_id'").fetchone()[0])


def last_change(conn: sqlite3.Connection) -> int:
    return conn.execute("SELECT coalesce(max(seq), 0) FROM changes").fetchone()[0]


def last_audit(conn: sqlite3.Connection) -> int:
    return conn.execute("SELECT coalesce(max(seq), 0) FROM audit_log").fetchone()[0]


def changed(conn: sqlite3.Connection, entity: Entity, after: int, upto: int, me: str,
            batch: int = 20000) -> Iterator[tuple[int, list[tuple]]]:
    """Batches of (last change number, rows) for records made here that changed in (after, upto], in change order."""
    region, join = _REGION[entity.table]
    cols = ", ".join(f"t.{c}" for c in entity.columns)
    extra = "" if "region_code" in entity.columns else f", {region}"
    sql = (f"SELECT c.seq, {cols}, coalesce(t.site_id, ?){extra} FROM changes c "
           f"JOIN {entity.table} t ON t.id = c.entity_id {join} "
           f"WHERE c.entity = ? AND c.seq > ? AND c.seq <= ? ORDER BY c.seq LIMIT ?")
    while True:
        rows = conn.execute(sql, (me, entity.table, after, upto, batch)).fetchall()
        if not rows:
            return
        after = rows[-1][0]
        yield after, [tuple(r)[1:] for r in rows]
        if len(rows) < batch:
            return


def audit_entries(conn: sqlite3.Connection, after: int, upto: int, batch: int = 20000) -> Iterator[list[tuple]]:
    """Batches of this site's audit entries numbered in (after, upto]."""
    while after < upto:
        rows = conn.execute(f"SELECT {', '.join(AUDIT_COLUMNS)} FROM audit_log WHERE seq > ? AND seq <= ? "
                            f"ORDER BY seq LIMIT ?", (after, upto, batch)).fetchall()
        if not rows:
            return
        after = rows[-1][0]
        yield [tuple(r) for r in rows]


def held_region(table: str) -> str:
    """SQL reading the region records of a kind lie in (a person's by its household, a step's by its application) as
    (id, region) rows, up to the condition on the id that the caller completes ("= ?", "= ANY(%s)"); the same text
    serves a site's SQLite and the county's PostgreSQL, whose tables share names and columns."""
    region, join = _REGION[table]
    return f"SELECT t.id, {region} FROM {table} t {join} WHERE t.id"


def jurisdiction_ids(conn: sqlite3.Connection, table: str, regions: list[str]) -> dict[str, bool]:
    """The ids this site holds of one kind: its own anywhere (True), others' in these regions (False)."""
    region, join = _REGION[table]
    where = " OR ".join([f"{region} LIKE ?"] * len(regions)) or "0"
    rows = conn.execute(f"SELECT t.id, t.site_id IS NULL FROM {table} t {join} WHERE t.site_id IS NULL OR ({where})",
                        [r + "%" for r in regions])
    return {r[0]: bool(r[1]) for r in rows}

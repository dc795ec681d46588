"""The Chinese label of every field key an error can name: one table, and how dotted and indexed keys are read."""

from __future__ import annotations

import re

# Keys as services, the engine (settle-json) and forms use them → what a caseworker reads. A dotted key
# ("household.annual_income") is listed when its reading is not "<parent>的<leaf>"; otherwise its parts are.
LABELS: dict[str, str] = {
    "revoke_reason": "吊销原因",
    # settle-json and the engine
    "case": "案例",
    "policy": "政策",
    "local": "地方参数",
    "local.per_capita_disposable_income": "上年度居民人均可支配收入",
    "person": "人员",
    "person.categories": "身份类别",
    "person.insurance": "险种",
    "household": "家庭",
    "household.annual_income": "家庭年度总收入",
    "household.low_income_standard": "低收入家庭标准",
    "household.passes_asset_check": "财产核查结果",
    "application": "依申请救助",
    "visits": "就诊记录",
    "visits.date": "就诊日期",
    "id": "编号",
    "date": "日期",
    "kind": "就诊类别",
    "total_cost": "医疗费用总额",
    "policy_covered": "政策范围内费用",
    "out_of_catalog": "目录外费用",
    "basic_paid": "基本医保统筹支付",
    "serious_illness_paid": "大病保险支付",
    "referred": "规范转诊",
    "in_province": "省内就医",
    "hospital_level": "医院级别",
    "major_disease": "重特大疾病",
    "emergency": "急诊、抢救",
    "in_insured_area": "在参保地就医",
    "filed_remote": "已办异地就医备案",
    # bills
    "hospital": "医院名称",
    "admitted_on": "入院（就诊）日期",
    "discharged_on": "出院（结算）日期",
    "invoice_number": "发票号",
    "visit_id": "就诊记录",
    # households and persons
    "head": "户主",
    "member": "家庭成员",
    "member.relation_to_head": "与户主关系",
    "head.relation_to_head": "与户主关系",
    "household_id": "家庭",
    "households": "家庭",
    "new_head_person_id": "新户主",
    "former_head_relation": "原户主与新户主的关系",
    "target_household_id": "迁入的家庭",
    "person_id": "人员",
    "name": "姓名",
    "id_type": "证件类型",
    "id_number": "证件号码",
    "relation_to_head": "与户主关系",
    "sex": "性别",
    "birth_date": "出生日期",
    "address": "住址",
    "region_code": "所在村（社区）",
    "category": "身份类别",
    "categories": "身份类别",
    "valid_from": "起始日期",
    "valid_to": "终止日期",
    "certified_by": "认定部门",
    "period_id": "身份类别期间",
    "insurance": "险种",
    "year": "年度",
    # 依申请救助
    "application_id": "申请",
    "annual_income": "家庭年度总收入",
    "low_income_standard": "低收入家庭标准",
    "passes_asset_check": "财产核查结果",
    "state": "办理环节",
    "action": "办理操作",
    "user": "办理人",
    "opinion": "意见",
    "meeting_date": "评议会议日期",
    "attendees": "到会人数",
    "votes_for": "同意票",
    "votes_against": "反对票",
    "amount": "金额",
    "amount_reason": "金额理由",
    "notice_after": "公示安排",
    "notice_days": "公示天数",
    "contact_phone": "公示联系电话",
    "one_person_offices": "仅一名经办人的乡镇或村",
    "asset_check": "财产核查结果",
    "limits": "办理时限",
    "file": "附件文件",
    "notice": "公示名单",
    "roster": "花名册",
    # users and the county
    "username": "用户名",
    "cli_user": "登录用户",
    "database": "数据库",
    "display_name": "姓名",
    "role": "角色",
    "jurisdiction": "管辖范围",
    "site_jurisdiction": "站点辖区",
    "password": "密码",
    "password2": "确认密码",
    "old_password": "原密码",
    "new_password": "新密码",
    "new_password2": "确认新密码",
    "county_code": "县级统计用区划代码",
    "county_name": "县名称",
    # lists, statistics, monitoring, files
    "contribution": "个人缴费标准",
    "month": "月份",
    "months": "月份范围",
    "path": "保存位置",
    "OUT.xlsx": "输出文件",
    # Fields of sealed records that check names (app/store/seal_check.py).
    "head_person_id": "户主", "site_id": "来源站点", "policy_id": "政策", "policy_version": "政策版本",
    "applied_category": "适用类别", "assistance_paid": "医疗救助", "tilt_assistance_paid": "倾斜救助", "personal_pay": "个人自付",
    "steps": "计算说明", "totals": "年度合计", "warnings": "提示", "state_since": "状态起始时间", "computed_amount": "测算金额",
    "approved_amount": "核定金额", "notice_start": "公示开始", "notice_end": "公示结束", "created_by": "登记人", "seq": "序号",
    "to_state": "办理后状态", "user_id": "用户", "at": "时间", "details": "详情", "filename": "文件名", "sha256": "文件校验值",
    "size": "大小", "added_by": "添加人", "password_hash": "密码", "active": "启用", "value": "值",
    "status": "账单状态", "void_reason": "作废原因", "voided_by": "作废人", "corrects_id": "更正的原账单", "tier": "支付项目", "line_type": "支付类型",
    "payer": "支付方", "old_amount": "原金额", "new_amount": "新金额", "reason": "原因", "batch_id": "发放批次",
    "paid_at": "支付时间", "paid_by": "支付确认人", "title": "名称", "line_count": "笔数", "total": "合计",
    "confirmed_by": "确认发放人", "confirmed_at": "确认发放时间", "bill": "账单", "list_file": "清单文件",
    "cancelled_by": "撤销人", "cancelled_at": "撤销时间", "cancel_reason": "撤销原因", "set_by": "设置人",
}

# A list item in a key: visits[0] is read 第1次就诊 (no spaces: the CLI line keeps its label in one token).
ITEMS: dict[str, str] = {"visits": "第{n}次就诊"}

# A column whose name means something else in its own table ("state" is a case's 办理环节, but a batch's 状态), and
# the Chinese of the values such columns hold, as `check` and the screens show them.
COLUMN_LABELS: dict[tuple[str, str], str] = {("disbursement_batches", "state"): "状态", ("visits", "status"): "状态"}
VALUE_NAMES: dict[tuple[str, str], dict[str, str]] = {
    ("disbursement_batches", "state"): {"printed": "花名册已打印，待确认发放", "paid": "已发放", "cancelled": "已撤销"},
    ("visits", "status"): {"live": "有效", "void": "已作废"},
}

# Shown when a key has no label: never the key itself. tests/domain/test_errors.py keeps this from happening.
FALLBACK = "填写的内容"

_ITEM = re.compile(r"^(?P<name>[A-Za-z_]\w*)\[(?P<index>\d+)\]$")


def lookup(field: str) -> str | None:
    """The label of a key, reading dotted and indexed keys part by part; None if some part has no label."""
    if field in LABELS:
        return LABELS[field]
    item = _ITEM.match(field)
    if item:
        name = item["name"]
        return ITEMS[name].format(n=int(item["index"]) + 1) if name in ITEMS else None
    parent, dot, leaf = field.rpartition(".")
    if not dot or not parent:
        return None
    head = lookup(parent)
    tail = LABELS.get(leaf)
    if head is None or tail is None:
        return None
    return f"{head}的{tail}"


def label_for(field: str) -> str:
    """The label a person reads for a key (see LABELS); a key without one reads as a neutral word, not the key."""
    return lookup(field) or FALLBACK

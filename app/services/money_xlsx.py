"""Excel copies of a bill list (the rows a caseworker selected) and of a year's 补付/追回 lines."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

from app.store import clock

BILL_COLUMNS = (("name", "姓名"), ("id_number", "身份证号"), ("year", "年度"), ("hospital", "医院"), ("kind", "就诊类别"),
                ("admitted_on", "入院日期"), ("discharged_on", "出院（结算）日期"), ("invoice_number", "发票号"),
                ("status_name", "状态"), ("total_cost", "医疗费用总额"), ("policy_covered", "政策范围内费用"),
                ("basic_paid", "基本医保"), ("serious_illness_paid", "大病保险"), ("assistance_paid", "医疗救助"),
                ("tilt_assistance_paid", "倾斜救助"), ("personal_pay", "个人自付"), ("void_reason", "作废原因"))
ADJUSTMENT_COLUMNS = (("name", "姓名"), ("id_number", "身份证号"), ("hospital", "医院"), ("invoice_number", "发票号"),
                      ("discharged_on", "出院（结算）日期"), ("tier_name", "项目"), ("line_type", "类型"),
                      ("old_amount", "原金额"), ("new_amount", "新金额"), ("amount", "差额"), ("reason", "原因"),
                      ("state_name", "状态"), ("payer", "支付方"))
_MONEY = {"total_cost", "policy_covered", "basic_paid", "serious_illness_paid", "assistance_paid",
          "tilt_assistance_paid", "personal_pay", "old_amount", "new_amount", "amount"}


def _sheet(path: Path, title: str, lines: list[str], columns: tuple, rows: list[dict], sheet: str) -> Path:
    from app.documents import xlsx

    with xlsx.Book(path) as book:
        out = book.sheet(sheet, [h for _, h in columns], title=title, first_number=1, frozen_columns=1, lines=[
            *lines, f"共 {len(rows)} 行　生成时间：{clock.local_now():%Y-%m-%d %H:%M}　金额单位：元"])
        for r in rows:
            out.row([Decimal(r[k]) if k in _MONEY and r[k] not in (None, "") else (r[k] if r[k] is not None else "")
                     for k, _ in columns])
    return Path(path)


def export_bills(rows: list[dict], path: Path | str, place: str) -> Path:
    """The bills given (as bill_changes lists them), every tier as it is due now."""
    return _sheet(Path(path), f"{place}就诊账单", ["各项为当前结算金额；已作废的账单不再结算"], BILL_COLUMNS, rows,
                  "账单")


def export_adjustments(rows: list[dict], path: Path | str, place: str, year: int) -> Path:
    """A year's 补付/追回 lines: person, bill, tier, old, new, difference, reason and whether paid."""
    return _sheet(Path(path), f"{place}{year}年医疗救助补付追回明细",
                  ["已支付的金额不改动；重新结算、账单作废或更正、身份类别变化产生的差额逐笔列出"],
                  ADJUSTMENT_COLUMNS, rows, "补付追回")

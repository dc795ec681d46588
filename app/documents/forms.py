"""The documents themselves: 一站式结算单, 公示名单, 不予救助通知书, 发放花名册 and the 依申请救助审批表."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from decimal import Decimal
from pathlib import Path

from reportlab.graphics.barcode.qr import QrCodeWidget
from reportlab.graphics.shapes import Drawing
from reportlab.lib import colors
from reportlab.lib.units import mm
from reportlab.platypus import (
    KeepTogether,
    PageBreak,
    Paragraph,
    Spacer,
    Table,
    TableStyle,
)

from app.documents.amount_words import amount_in_words
from app.documents.layout import Header, build, grid, styles, usable_width
from app.documents.plain import plain_explanation
from app.domain.money import shown
from app.store import clock

TIERS = (("basic_paid", "基本医保"), ("serious_illness_paid", "大病保险"), ("assistance_paid", "医疗救助"),
         ("tilt_assistance_paid", "倾斜救助"))


def _title(text: str, sub: str = "") -> list:
    s = styles()
    return [Paragraph(text, s["title"])] + ([Paragraph(sub, s["subtitle"])] if sub else [])


def settlement_slip(path: Path, place: str, person: dict, visits: list[dict], totals: dict | None = None,
                    voided: list[dict] = ()) -> Path:
    """一站式结算单 for one visit or a year: every tier, deductibles and limits in the small-print explanation;
    `voided`: paid bills voided since, whose 补付/追回 lines are listed with the others."""
    story, title = _slip_story(place, person, visits, totals, voided)
    return build(path, story, f"{place} · 一站式结算单", title, wide=True)


def settlement_slips(path: Path, place: str, slips: Iterable[dict], title: str, left_out: list[str] = ()) -> Path:
    """Several 一站式结算单 in one file to print (a disbursement batch's), each starting on a new page; `slips` are
    settlement_slip's arguments (person, visits, totals, voided) as dicts; `left_out`: people named on a last page,
    with why they have no slip. One file, so the font's subset and the compression are made once, not once a
    slip (a batch prints two to three times as many pages a second as slips printed one by one)."""
    story: list = []
    for slip in slips:
        if story:
            story.append(PageBreak())
        person = slip["person"]
        story.append(Header(f"{place} · 一站式结算单 · {title} · {person['name']} {person['id_number']}"))
        story.extend(_slip_story(place, person, slip["visits"], slip["totals"], slip["voided"])[0])
    if left_out:
        if story:
            story.append(PageBreak())
        story.append(Paragraph("以下人员本年度的账单都已作废，没有结算单；发给他们的补付、追回见本批次花名册："
                               + "、".join(_esc(n) for n in left_out), styles()["base"]))
    return build(path, story, f"{place} · 一站式结算单 · {title}", f"一站式结算单 {title}", wide=True)


def _slip_story(place: str, person: dict, visits: list[dict], totals: dict | None, voided) -> tuple[list, str]:
    """The flowables of one 一站式结算单, and its title."""
    s = styles()
    wide = usable_width(True)
    title = "医疗费用一站式结算单" + ("（年度汇总）" if len(visits) > 1 else "")
    story = _title(title, f"{place}　{person['name']}　{person['id_number']}　{person.get('address', '')}")
    head = ["结算日期", "医院", "类别", "医疗费用总额", "政策范围内", "目录外", *(label for _, label in TIERS), "个人自付"]
    rows = [head]
    for v in visits:
        rows.append([v["discharged_on"], v["hospital"], v["kind"], shown(v["total_cost"]),
                     shown(v["policy_covered"]), shown(Decimal(v["total_cost"]) - Decimal(v["policy_covered"])),
                     *(shown(v[k]) for k, _ in TIERS), _own_cell(v["personal_pay"])])
    if totals:
        rows.append(["合计", "", "", *(shown(totals[k]) for k in ("total_cost", "policy_covered", "out_of_catalog")),
                     *(shown(totals[k]) for k, _ in TIERS), _own_cell(totals["personal_pay"])])
    widths = [22 * mm, 40 * mm, 18 * mm] + [(wide - 80 * mm) / 8] * 8
    story.append(grid(rows, widths, numeric_columns=range(3, 11)))
    carried = [(v, -Decimal(v["personal_pay"])) for v in visits if Decimal(v["personal_pay"]) < 0]
    if carried:
        story.append(Paragraph("注：个人自付标 * 的，该次个人自付为 0，同行所列报销与救助含补给本年此前就诊的费用差额（"
                               + "；".join(f"{v['discharged_on']} {_esc(v['hospital'])} {shown(back)} 元"
                                          for v, back in carried) + "）", s["small"]))
    source = totals or visits[0]
    relief = Decimal(source["assistance_paid"]) + Decimal(source["tilt_assistance_paid"])
    own = Decimal(source["personal_pay"])
    # After a change of category a bill also carries the 补差 of the year's earlier bills (bills.due_by_visit), which
    # can be more than its own cost: the family then pays nothing and receives the rest.
    back = max(-own, Decimal(0))
    story.append(Spacer(1, 2 * mm))
    story.append(Paragraph(f"医疗救助（含倾斜救助）合计 {shown(relief)} 元，大写：{amount_in_words(relief)}；"
                           f"个人自付 {shown(own + back)} 元，大写：{amount_in_words(own + back)}"
                           + (f"；另补给本年此前就诊的费用差额 {shown(back)} 元，大写：{amount_in_words(back)}"
                              if back else ""), s["base"]))
    story.append(Spacer(1, 3 * mm))
    # Two layers: first in plain words for the family, then the caseworker's formulas with their clauses.
    story.append(Paragraph("费用说明：" + _esc(plain_explanation(source, len(visits), visits[0]["kind"])), s["base"]))
    story.append(Spacer(1, 3 * mm))
    story.append(Paragraph("计算说明（每一项都写明所用数字和文件条款）", s["base"]))
    for v in visits:
        invoice = f"发票号 {_esc(v['invoice_number'])}；" if v.get("invoice_number") else ""
        lines = [f"{v['discharged_on']} {_esc(v['hospital'])}（{invoice}适用类别：{_esc(v['applied_category'])}）"]
        lines += [_esc(f"{st['tier']} {shown(st['amount'])} 元：{st['explain']}〔{st['reference']}〕") for st in v["steps"]]
        # 9 pt: read by the family at the counter, not fine print. A paragraph a line, without markup: reportlab
        # breaks a paragraph of one run of text by its widths at once, but one with <br/> or <b> glyph by glyph
        # (two thirds of a batch of slips' time went there; <b> changed nothing, the font has no bold face).
        story.extend(Paragraph(line, s["cell"]) for line in lines)
        story.append(Spacer(1, 2 * mm))
    adjusted = [*(v for v in visits if v.get("adjustments")), *({**v, "hospital": f"{v['hospital']}（已作废）"}
                                                                 for v in voided)]
    if adjusted:
        story.append(Paragraph("补付与追回（已支付的金额不改动，差额另行补付或追回；上表为调整后的净额）", s["base"]))
        rows = [["结算日期", "医院", "项目", "原支付", "调整", "调整后", "原因", "状态"]]
        for v in adjusted:
            for a in v["adjustments"]:
                rows.append([v["discharged_on"], v["hospital"], a["tier_name"], shown(a["old"]),
                             f"{a['kind']} {shown(a['amount'])}", shown(a["new"]),
                             Paragraph(_esc(a["reason"]), s["small"]), "已办" if a["paid"] else "待发放"])
        story.append(grid(rows, [22 * mm, 36 * mm, 18 * mm, 24 * mm, 30 * mm, 24 * mm, wide - 188 * mm, 34 * mm],
                          numeric_columns=(3, 5)))
        story.append(Spacer(1, 3 * mm))
    story.append(Paragraph(f"经办人：____________　　患者或家属签字：____________　　打印日期：{clock.today()}", s["base"]))
    return story, title


def _own_cell(personal_pay) -> str:
    """个人自付 as the family pays it: a bill that also carries the year's earlier 补差 shows 0.00*, never below zero
    (the note under the table gives the difference)."""
    return "0.00*" if Decimal(personal_pay) < 0 else shown(personal_pay)


def _esc(text: str) -> str:
    from xml.sax.saxutils import escape

    return escape(text)


def notice_list(path: Path, place: str, rows: list[dict], phone: str = "") -> Path:
    """公示名单: township, names, villages, amounts (or why none yet) and each row's own notice period, ID numbers
    masked; where to object, the office's phone and a box for its seal."""
    s = styles()
    towns = "、".join(dict.fromkeys(r["township"] for r in rows if r.get("township")))
    story = _title("医疗救助（依申请）公示名单", f"{place}{towns}　公布日期：{clock.today()}")
    table = [["序号", "姓名", "身份证号", "村（居）", "拟救助金额（元）", "公示期"]]
    table += [[i, r["name"], r["id_number"], r["village"], shown(r["amount"]) if r["amount"] is not None
               else r.get("amount_note") or "—", f"{r['notice_start']}\n至 {r['notice_end']}"]
              for i, r in enumerate(rows, start=1)]
    w = usable_width()
    story.append(grid(table, [12 * mm, 20 * mm, 38 * mm, w - 126 * mm, 28 * mm, 28 * mm], numeric_columns=(4,)))
    story.append(Spacer(1, 6 * mm))
    contact = phone.strip() or "＿＿＿＿＿＿＿＿＿＿"
    story.append(Paragraph(f"公示期内如有异议，请向{_esc(towns) or '乡镇（街道）'}医疗保障经办机构反映。"
                           f"联系电话：{_esc(contact)}", s["base"]))
    story.append(Spacer(1, 8 * mm))
    seal = Table([[Paragraph(f"{_esc(place + towns)}（盖章）<br/><br/><br/><br/>年　　月　　日", s["base"])]],
                 colWidths=[70 * mm], rowHeights=[36 * mm], hAlign="RIGHT")
    seal.setStyle(TableStyle([("BOX", (0, 0), (-1, -1), 0.5, colors.black), ("VALIGN", (0, 0), (-1, -1), "TOP")]))
    story.append(KeepTogether([seal]))
    return build(path, story, f"{place} · 公示名单", "公示名单")


def rejection_notice(path: Path, place: str, name: str, year: int, reason: str, decided: str, number: str,
                     stage: str) -> Path:
    """不予救助通知书 with the step that decided and the reason it gave."""
    s = styles()
    story = _title("不予救助通知书", f"编号：{number}")
    body = (f"{_esc(name)}：<br/><br/>　　您（户）申请的 {year} 年度医疗救助（依申请），经{_esc(stage)}，"
            f"决定不予救助。<br/><br/>　　理由：{_esc(reason)}<br/><br/>　　如对本决定有异议，可自收到本通知之日起"
            f"向县级医疗保障部门申请复核。<br/><br/>")
    story.append(Paragraph(body, s["base"]))
    story.append(Spacer(1, 20 * mm))
    story.append(Paragraph(f"{_esc(place)}医疗保障局（盖章）<br/>{decided}", styles()["num"]))
    return build(path, story, f"{place} · 不予救助通知书", "不予救助通知书")


def roster(path: Path, place: str, title: str, rows: list[dict]) -> Path:
    """发放花名册: approved amounts with bank columns and a signature column; headers repeat on every page."""
    story = _title("医疗救助发放花名册", f"{place}　{title}")
    # A batch of the office's assistance says what each line pays (原始、补付、追回) and for which bill, where the
    # 依申请 roster has the bank columns; a 追回 line is negative: money to recover, signed for the same way.
    lines = any("what" in r for r in rows)
    extra = ("项目", "账单（医院、发票号）") if lines else ("开户银行", "银行账号")
    table = [["序号", "姓名", "身份证号", "村（居）", "金额（元）" if lines else "救助金额（元）", *extra, "领款人签名"]]
    total = Decimal(0)
    for i, r in enumerate(rows, start=1):
        total += Decimal(r["amount"])
        cells = (r["what"], r["bill"]) if lines else (r.get("bank", ""), r.get("account", ""))
        table.append([i, r["name"], r["id_number"], r["village"], shown(Decimal(r["amount"])), *cells, ""])
    table.append(["合计", f"{len(rows)} 笔" if lines else f"{len(rows)} 人", "", "", shown(total), "", "", ""])
    w = usable_width(True)
    widths = [12 * mm, 24 * mm, 42 * mm, w - 232 * mm, 28 * mm, 36 * mm, 52 * mm, 38 * mm]
    ruled = grid(table, widths, numeric_columns=(4,))
    # Rows tall enough to sign in by hand (about 11 mm).
    ruled.setStyle(TableStyle([("TOPPADDING", (0, 1), (-1, -1), 9), ("BOTTOMPADDING", (0, 1), (-1, -1), 9)]))
    story.append(ruled)
    story.append(Spacer(1, 5 * mm))
    pay = sum((Decimal(r["amount"]) for r in rows if Decimal(r["amount"]) > 0), Decimal(0))
    recover = -sum((Decimal(r["amount"]) for r in rows if Decimal(r["amount"]) < 0), Decimal(0))
    words = f"合计金额（大写）：{amount_in_words(total)}" if not recover else (
        f"应发金额 {shown(pay)} 元（大写：{amount_in_words(pay)}），应追回金额 {shown(recover)} 元"
        f"（大写：{amount_in_words(recover)}）")
    story.append(Paragraph(f"{words}　　制表人：________　审核人：________　日期：{clock.today()}", styles()["base"]))
    return build(path, story, f"{place} · 发放花名册", "发放花名册", wide=True)


def form_digest(content: dict) -> str:
    """The fingerprint a printed form carries: the hash of its content, so a changed record no longer matches.
    Levels after the decision (the payment) are left out: paying does not change what was decided."""
    # A level's 公示 period is printed, not hashed: it is read off the same step the level's date comes from, and a
    # form printed before the period was printed must still check.
    content = {**content, "levels": [{k: v for k, v in lv.items() if k != "notice"} for lv in content["levels"]
                                     if not lv.get("after_decision")]}
    text = json.dumps(content, ensure_ascii=False, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


def verification_code(application_id: str, content: dict) -> str:
    """What the QR code holds: JZ1:<application id>:<content hash>."""
    return f"JZ1:{application_id}:{form_digest(content)}"


def approval_form(path: Path, place: str, number: str, form: dict) -> Path:
    """医疗救助（依申请）审批表: household, income, categories, bills, tiers, the assistance, each level's opinion and
    signature box, and a QR code to check a printed copy against the record."""
    return build(path, _approval_story(place, number, form), f"{place} · 审批表 {number}", "医疗救助（依申请）审批表")


def approval_forms(path: Path, place: str, numbered_forms: list[tuple[str, dict]]) -> Path:
    """Several 审批表 in one file for batch printing, each starting on a new page."""
    story: list = []
    for i, (number, form) in enumerate(numbered_forms):
        if i:
            story.append(PageBreak())
        story.extend(_approval_story(place, number, form))
    return build(path, story, f"{place} · 审批表（共 {len(numbered_forms)} 份）", "医疗救助（依申请）审批表")


def _approval_story(place: str, number: str, form: dict) -> list:
    s = styles()
    w = usable_width()
    story = _title("医疗救助（依申请）审批表", f"{place}　编号：{number}")
    a = form["application"]
    story.append(grid([["申请人", a["name"], "身份证号", a["id_number"]],
                       ["家庭住址", a["address"], "申请年度", str(a["year"])],
                       ["家庭年度总收入（元）", a["annual_income"], "低收入家庭标准（元）", a["low_income_standard"]],
                       ["财产核查", a["asset_check"], "身份类别", a["categories"] or "无"]],
                      [32 * mm, w / 2 - 32 * mm, 36 * mm, w / 2 - 36 * mm], header_rows=0))
    story.append(Spacer(1, 3 * mm))
    members = [["家庭成员", "与户主关系", "身份证号", "性别", "出生日期"]]
    members += [[m["name"], m["relation_to_head"], m["id_number"], m["sex"] or "", m["birth_date"] or ""]
                for m in form["members"]]
    story.append(grid(members, [30 * mm, 26 * mm, w - 112 * mm, 16 * mm, 40 * mm]))
    story.append(Spacer(1, 3 * mm))
    t = form["totals"]
    story.append(grid([["就诊次数", "医疗费用总额", "政策范围内", *(label for _, label in TIERS), "个人自付"],
                       [str(t["visits"]), shown(t["total_cost"]), shown(t["policy_covered"]),
                        *(shown(t[k]) for k, _ in TIERS), shown(t["personal_pay"])]],
                      [w / 8] * 8, numeric_columns=range(8)))
    story.append(Spacer(1, 3 * mm))
    figure = a["approved_amount"] or a["computed_amount"]
    if figure is None:
        amount_text = a.get("amount_note") or "未测算"
    else:
        amount = Decimal(figure)
        amount_text = f"{shown(amount)} 元　（大写）{amount_in_words(amount)}"
    rows = [["依申请救助金额", amount_text]]
    if "amount_reason" in a:  # approved other than computed: both amounts and why, for every signer to see
        rows = [["批准金额", amount_text],
                ["测算金额", f"{shown(a['computed_amount'])} 元（按政策测算；批准金额与之不同）"],
                ["金额调整理由", a["amount_reason"]]]
    story.append(grid(rows + [["测算依据", form["computation"]]], [32 * mm, w - 32 * mm], header_rows=0))
    story.append(Spacer(1, 3 * mm))
    levels = [["环节", "意见", "经办人", "日期", "签字（盖章）"]]
    for level in form["levels"]:
        opinion = level["opinion"] + (f"（{level['notice']}）" if level.get("notice") else "")
        levels.append([level["step"], opinion, level["who"], level["date"], ""])
    table = grid(levels, [24 * mm, w - 124 * mm, 28 * mm, 26 * mm, 46 * mm])
    table.setStyle(TableStyle([("ROWBACKGROUNDS", (0, 1), (-1, -1), [None]), ("TOPPADDING", (0, 1), (-1, -1), 9),
                               ("BOTTOMPADDING", (0, 1), (-1, -1), 9)]))
    story.append(table)
    story.append(Spacer(1, 4 * mm))
    code = verification_code(a["id"], form)
    qr = QrCodeWidget(code)
    x0, y0, x1, y1 = qr.getBounds()
    drawing = Drawing(28 * mm, 28 * mm, transform=[28 * mm / (x1 - x0), 0, 0, 28 * mm / (y1 - y0), 0, 0])
    drawing.add(qr)
    check = Table([[drawing, Paragraph(f"扫码或输入校验码核对本表是否与系统记录一致：<br/>{code}<br/>"
                                       "（在救助通“工具 → 核对打印的审批表”中扫码或输入）", s["small"])]],
                  colWidths=[32 * mm, w - 32 * mm])
    check.setStyle(TableStyle([("VALIGN", (0, 0), (-1, -1), "MIDDLE")]))
    story.append(KeepTogether([check]))
    return story



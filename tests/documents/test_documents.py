"""Printed documents: the right names and numbers in the text, repeated headers, the embedded font, verification."""

from __future__ import annotations

import os
from decimal import Decimal
from pathlib import Path

import pytest
from pypdf import PdfReader

from app.documents import forms
from app.services import paperwork
from app.services.demo import build_demo, demo_applications, demo_users, start_demo
from app.services.session import SYSTEM, Session
from app.store.store import open_store

SHOTS = os.environ.get("JIUZHU_SCREENSHOTS")


def text(path: Path) -> list[str]:
    return [page.extract_text() for page in PdfReader(str(path)).pages]


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    db = tmp_path_factory.mktemp("docs") / "demo.sqlite3"
    store = open_store(db, daily_backup=False)
    session = Session(store, SYSTEM)
    start_demo(session)
    demo_users(session)
    list(build_demo(session, 60, 2025))
    demo_applications(session, 2025)
    return session


def test_sample_makes_one_of_each_with_the_right_text(demo, tmp_path):
    made = {p.name: p for p in paperwork.sample(demo, tmp_path)}
    assert set(made) == {"结算单-单次.pdf", "结算单-年度.pdf", "公示名单.pdf", "发放花名册.pdf", "不予救助通知书.pdf",
                         "审批表.pdf"}
    form = "".join(text(made["审批表.pdf"]))
    app = demo.conn.execute("SELECT a.*, p.name FROM applications a JOIN persons p ON p.id = a.person_id "
                            "WHERE a.state = 'disbursed'").fetchone()
    assert app["name"] in form and app["approved_amount"] in form
    from app.documents.amount_words import amount_in_words
    assert amount_in_words(Decimal(app["approved_amount"])) in form
    assert "第 1 页 共 1 页" in form
    notice = "".join(text(made["公示名单.pdf"]))
    assert "**********" in notice and "公示期" in notice
    rejected = "".join(text(made["不予救助通知书.pdf"]))
    assert "不予救助" in rejected and "家庭财产超过" in rejected
    fonts = {str(f) for page in PdfReader(str(made["审批表.pdf"])).pages
             for f in page["/Resources"]["/Font"].values()}
    assert fonts, "a font is embedded"
    _render(made, tmp_path)


def _render(made: dict[str, Path], tmp_path: Path) -> None:
    """Every document type rendered to PNG (QtPdf), as a reviewer would look at them."""
    pytest.importorskip("PySide6")
    from PySide6.QtCore import QSize
    from PySide6.QtPdf import QPdfDocument
    from PySide6.QtWidgets import QApplication

    app = QApplication.instance() or QApplication([])
    out = Path(SHOTS) if SHOTS else tmp_path / "png"
    out.mkdir(parents=True, exist_ok=True)
    for name, path in made.items():
        doc = QPdfDocument(app)
        doc.load(str(path))
        assert doc.pageCount() >= 1, name
        for page in range(doc.pageCount()):
            size = doc.pagePointSize(page).toSize()
            image = doc.render(page, QSize(size.width() * 2, size.height() * 2))
            assert not image.isNull()
            image.save(str(out / f"{path.stem}-{page + 1}.png"))


def test_a_200_row_roster_paginates_with_repeated_headers(tmp_path):
    rows = [{"name": f"测试人员{i:03d}" + ("（姓名特别长需要换行的少数民族姓名示例）" if i % 50 == 0 else ""),
             "id_number": "340223199001010038", "village": "籍山镇茶丰村委会" * (2 if i % 40 == 0 else 1),
             "amount": "1234.56"} for i in range(200)]
    path = forms.roster(tmp_path / "roster.pdf", "南陵县", "测试", rows)
    pages = text(path)
    assert len(pages) > 3
    for n, page in enumerate(pages, start=1):
        assert "领款人签名" in page, f"header repeated on page {n}"
        assert f"第 {n} 页 共 {len(pages)} 页" in page
    assert "246,912.00" in pages[-1]  # 200 × 1234.56, with thousands separators as everywhere


def test_verify_form_matches_then_detects_a_change(demo, tmp_path):
    app_id = demo.conn.execute("SELECT id FROM applications WHERE state = 'disbursed'").fetchone()[0]
    content = paperwork.approval_form_content(demo, app_id)
    code = forms.verification_code(app_id, content)
    assert paperwork.verify_form(demo, code)[0]
    assert not paperwork.verify_form(demo, code[:-1] + ("0" if code[-1] != "0" else "1"))[0]
    assert not paperwork.verify_form(demo, "nonsense")[0]


def test_batch_of_approval_forms_one_per_page(demo, tmp_path):
    path = paperwork.approval_forms_batch(demo, tmp_path / "batch.pdf")
    pages = text(path)
    approved = demo.conn.execute("SELECT count(*) FROM applications WHERE state = 'approved'").fetchone()[0]
    assert approved >= 2 and len(pages) == approved
    assert all("审批表" in page and "签字" in page for page in pages)


def test_the_slip_gives_the_invoice_the_amount_in_words_and_a_readable_explanation(demo, tmp_path):
    from pypdf import PdfReader

    from app.documents.layout import styles

    visit = demo.conn.execute("SELECT v.id, v.invoice_number FROM visits v JOIN settlements s ON s.visit_id = v.id "
                              "LIMIT 1").fetchone()
    slip = paperwork.settlement_slip(demo, tmp_path / "slip.pdf", visit_id=visit["id"])
    text = "".join(page.extract_text() for page in PdfReader(str(slip)).pages)
    assert visit["invoice_number"] in text and "大写" in text
    assert styles()["cell"].fontSize >= 8


def test_the_plain_explanation_tells_the_family_where_the_money_went():
    from app.documents.plain import plain_explanation

    text = plain_explanation({"total_cost": "56000", "policy_covered": "48000", "basic_paid": "33110",
                              "serious_illness_paid": "4000", "assistance_paid": "8368.38", "tilt_assistance_paid": "0",
                              "personal_pay": "10521.62"})
    assert text.startswith("您这次住院花了 56,000.00 元；其中 8,000.00 元是医保目录外")
    assert "基本医保报了 33,110.00 元" in text and "您自己付 10,521.62 元" in text
    assert "目录内各项报销之后剩下的 2,521.62 元" in text


def test_the_plain_explanation_splits_what_the_family_pays_as_the_engine_did():
    from app.documents.plain import plain_explanation

    text = plain_explanation({"total_cost": "32000", "policy_covered": "30000", "basic_paid": "18000",
                              "serious_illness_paid": "2000", "assistance_paid": "4200", "tilt_assistance_paid": "0",
                              "personal_pay": "7800",
                              "personal_pay_parts": {"out_of_catalog": Decimal("2000"),
                                                     "under_deductible": Decimal(3000), "above_limit": Decimal(0),
                                                     "co_payment": Decimal("2800"), "unsplit": Decimal(0),
                                                     "tier": "医疗救助"}})
    assert "您自己付 7,800.00 元，其中目录外 2,000.00 元，医疗救助起付线以下" in text
    assert "医疗救助起付线以下的 3,000.00 元" in text and "医疗救助按比例支付后个人负担的 2,800.00 元" in text
    assert "封顶线" not in text  # a part that is zero is not told


def test_the_slip_prints_the_parts_of_the_family_share_and_they_add_up(demo, tmp_path):
    from app.policy.result import OWN_PARTS

    rows = demo.conn.execute("SELECT v.person_id, substr(v.discharged_on, 1, 4) AS year FROM visits v "
                             "JOIN settlements s ON s.visit_id = v.id WHERE s.assistance_paid > 0 "
                             "AND v.total_cost > v.policy_covered AND v.status = 'live' LIMIT 5").fetchall()
    assert rows
    for row in rows:
        content = paperwork.slip_content(demo, person_id=row["person_id"], year=int(row["year"]))
        for v in content["visits"]:
            parts = v["personal_pay_parts"]
            assert sum(parts[k] for k in OWN_PARTS) == Decimal(v["personal_pay"])
            assert parts["out_of_catalog"] == Decimal(v["total_cost"]) - Decimal(v["policy_covered"])
    slip = paperwork.settlement_slip(demo, tmp_path / "slip.pdf", person_id=rows[0]["person_id"],
                                     year=int(rows[0]["year"]))
    printed = "".join(text(slip)).replace("\n", "")
    assert "您自己付" in printed and "医保目录外的药品和项目" in printed


def test_a_bill_carrying_the_years_earlier_difference_prints_what_the_family_receives(demo, tmp_path):
    """After a change of category a bill can be due more than it cost (bills.due_by_visit): 个人自付 is negative.
    The slip must still print, with nothing to pay and the difference named as what the family receives."""
    from app.documents.plain import plain_explanation

    visit = demo.conn.execute("SELECT v.id FROM visits v JOIN settlements s ON s.visit_id = v.id "
                              "WHERE v.status = 'live' LIMIT 1").fetchone()
    content = paperwork.slip_content(demo, visit_id=visit["id"])
    shown = dict(content["visits"][0], personal_pay="-1234.56")
    shown.pop("personal_pay_parts", None)
    slip = forms.settlement_slip(tmp_path / "slip.pdf", "某县", content["person"], [shown])
    printed = "".join(text(slip)).replace("\n", "")
    assert "个人自付 0.00 元，大写：零元整" in printed
    assert "另补给本年此前就诊的费用差额 1,234.56 元，大写：壹仟贰佰叁拾肆元伍角陆分" in printed
    # The table's 个人自付 column never shows a negative amount either; the note under it names the difference.
    assert "-1,234.56" not in printed and "0.00*" in printed
    assert f"{shown['discharged_on']} {shown['hospital']} 1,234.56 元" in printed
    said = plain_explanation(shown)
    assert "这次您不用自己付钱" in said and "多出的 1,234.56 元" in said and "您自己付" not in said


def test_the_running_header_follows_the_slip_a_page_belongs_to(tmp_path):
    """In a batch of slips, a slip running onto a second page names its person at the top of that page too."""
    from pypdf import PdfReader
    from reportlab.platypus import PageBreak, Paragraph

    from app.documents.layout import Header, build, styles

    long = [Paragraph(f"第 {i} 行说明", styles()["base"]) for i in range(60)]
    story = [Header("张三的结算单"), *long, PageBreak(), Header("李四的结算单"), Paragraph("一行", styles()["base"])]
    pages = [p.extract_text() for p in PdfReader(str(build(tmp_path / "b.pdf", story, "总标题", "t"))).pages]
    assert [("张三的结算单" in p, "李四的结算单" in p) for p in pages] == [(True, False), (True, False), (False, True)]

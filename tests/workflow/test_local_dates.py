"""At 00:30 and 23:30 in the county, deadlines, 公示, worklists and printed dates are the county's date."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest
from pypdf import PdfReader

from app.services import applications as apps
from app.services import paperwork
from app.services.applications import Decision
from app.store import clock
from app.workflow import rules
from app.workflow.deadlines import add_workdays
from tests.workflow.test_applications import MEETING, world  # noqa: F401  (the fixture)

DAY = date(2025, 6, 10)  # a Tuesday with no holiday near it


@pytest.mark.parametrize("hour, minute", [(0, 30), (23, 30)])
def test_a_case_handled_at_either_end_of_the_day_carries_that_days_date(world, tmp_path, hour, minute):  # noqa: F811
    people, app_id = world
    with clock.freeze(datetime.combine(DAY, datetime.min.time()).replace(hour=hour, minute=minute)):
        a = apps.act(people["cun1"], app_id, "draft", Decision("submit", ""))
        if hour == 0:
            assert a["state_since"][:10] == "2025-06-09"  # the stamp is UTC: its own date is the day before

        # Deadline and worklist: 村评议 has 5 working days from the local day the case arrived.
        work = apps.worklist(people["cun2"])
        assert [w["id"] for w in work] == [app_id]
        assert work[0]["due"] == add_workdays(DAY, 5) == date(2025, 6, 17) and not work[0]["overdue"]
        assert apps.overdue(people["xiang"]) == []

        # 乡镇审核 is due 10 working days from the local day; 公示 then starts on that day and runs the
        # configured days, and cannot be closed the same day.
        a = apps.act(people["cun2"], app_id, "village_review", Decision("pass", "同意", **MEETING))
        assert apps.application(people["xiangshen"], app_id)["due"] == add_workdays(DAY, 10)
        a = apps.act(people["xiangshen"], app_id, "township_review", Decision("pass", "同意"))
        days = int(apps.settings(people["admin"])["notice_days"])
        last = DAY + timedelta(days=days - 1)  # the notice's last day
        assert (a["notice_start"], a["notice_end"]) == (DAY.isoformat(), last.isoformat())
        assert apps.application(people["xiang"], app_id)["due"] == add_workdays(last, rules.NOTICE_CLOSE_WORKDAYS)
        with pytest.raises(Exception, match="期满后才能结束公示"):
            apps.act(people["xiang"], app_id, "public_notice", Decision("close_notice", ""))

        # Printed: the 审批表's dates of each level and the 结算单's print date.
        levels = paperwork.approval_form_content(people["admin"], app_id)["levels"]
        assert [lv["date"] for lv in levels] == [DAY.isoformat()] * 2
        visit = people["admin"].conn.execute("SELECT id FROM visits").fetchone()[0]
        slip = paperwork.settlement_slip(people["admin"], tmp_path / "slip.pdf", visit_id=visit)
        printed = "".join(page.extract_text() for page in PdfReader(str(slip)).pages)
        assert f"打印日期：{DAY.isoformat()}" in printed.replace(" ", "")


def test_the_step_a_rejection_notice_prints_is_dated_in_the_county(world, tmp_path):  # noqa: F811
    people, app_id = world
    with clock.freeze(datetime(2025, 6, 10, 0, 30)):
        apps.act(people["cun1"], app_id, "draft", Decision("withdraw", "不再申请"))
    step = apps.timeline(people["admin"], app_id)[-1]
    assert clock.local_date(step["at"]) == DAY and step["at"][:10] == "2025-06-09"

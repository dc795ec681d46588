"""A site's own record the county's checks did not take is reported as such, with the reason, by the sync and by
the comparison with the county, not as "another site's" or as "not sent yet" (sending it again changes nothing)."""

from __future__ import annotations

from app.services import applications as apps
from app.services import login, sync
from app.services.session import Session


def test_a_county_step_taken_at_a_township_is_reported_as_not_taken_with_its_reason(township, county_url):
    app_id = township.conn.execute("SELECT id FROM applications WHERE state = 'county_approval'").fetchone()[0]
    yibao = Session(township.store, login.sign_in(township.conn, "yibao", "jiuzhu-demo"))
    apps.act(yibao, app_id, "county_approval", apps.Decision("medical_opinion", "同意"))  # at the township's laptop
    step = township.conn.execute("SELECT id FROM application_steps WHERE application_id = ? AND action = "
                                 "'medical_opinion'", (app_id,)).fetchone()[0]

    report = sync.sync(township, county_url)
    said = "；".join(report.lines())
    assert "1 条县里核对后未采用" in said and "县级医保审核的环节只能在县里的站点办理，这一步却是在乡镇站点" in said, said
    assert "属于其他站点" not in said
    assert report.pushed["application_steps"].aside == 1

    comparison = sync.compare_with_county(township.conn, county_url)
    steps = next(k for k in comparison.kinds if k.table == "application_steps")
    assert steps.aside == [step] and step not in steps.unsent
    assert not comparison.agrees
    lines = "\n".join(comparison.lines())
    assert "办理环节：本站的记录县里核对后未采用 1 条" in lines and "只能在县里的站点办理" in lines, lines
    assert "尚未送到县里" not in lines

    sync.sync(township, county_url)  # again: the step is not sent anew, and still not taken
    steps = next(k for k in sync.compare_with_county(township.conn, county_url).kinds if k.table == "application_steps")
    assert steps.aside == [step] and steps.unsent == []

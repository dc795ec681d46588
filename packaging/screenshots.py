"""Screenshots for the README: a demo county, the real main window at 1280×800, each main screen filled in.

Run from the checkout: `QT_QPA_PLATFORM=offscreen python packaging/screenshots.py [OUTDIR]`. Writes PNGs into
resources/screenshots/ (not bundled: jiuzhu.spec leaves that folder out). The 同步与交换 picture shows a real sync
when PostgreSQL's initdb/pg_ctl are installed (the test suite's throwaway server); without them it shows packages only.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))  # pgserver: the suite's throwaway PostgreSQL server

OUT = ROOT / "resources" / "screenshots"
SIZE = (1280, 800)
HOUSEHOLDS = 300
SURNAME = "王"


def build_county(folder: Path):
    """The demo county exactly as `jiuzhu demo` makes it: admin, one user per role, households, applications."""
    from app.services import demo
    from app.services.session import SYSTEM, Session
    from app.store.store import open_store

    session = Session(open_store(folder / "jiuzhu.sqlite3", daily_backup=False), SYSTEM)
    demo.start_demo(session)
    demo.demo_users(session)
    for _ in demo.build_demo(session, HOUSEHOLDS):
        pass
    demo.demo_applications(session)
    return session


def signed_in(session, username: str):
    from app.services import users
    from app.services.session import Session

    return Session(session.store, users.find_user(session.conn, username))


def messy_roster(session, path: Path) -> Path:
    """A 民政 roster as they come: a title row, a blank row, a repeated row, a mistyped check digit, a category
    written the department's way (低保, 特困) and one the county's policy does not know (五保)."""
    from openpyxl import Workbook

    from app.domain.idnumber import check_digit

    rows = session.conn.execute(
        "SELECT p.name, p.id_number, c.category, c.valid_from FROM persons p LEFT JOIN category_periods c "
        "ON c.person_id = p.id WHERE p.relation_to_head = '户主' ORDER BY p.id_number LIMIT 200").fetchall()
    without = [r for r in rows if r["category"] is None]
    dibao = [r for r in rows if r["category"] == "低保对象"]
    book = Workbook()
    ws = book.active
    ws.append([f"南陵县 {date.today().year} 年城乡低保、特困人员花名册"])
    ws.merge_cells("A1:F1")
    ws.append([])
    ws.append(["序号", "户主姓名", "成员姓名", "身份证号码", "救助类别", "起始保障年月"])
    n = 0

    def add(name, number, category, start):
        nonlocal n
        n += 1
        ws.append([n, name, name, number, category, start])

    for r in without[:4]:
        add(r["name"], r["id_number"], "低保", f"{date.today().year}-03")
    add(without[4]["name"], " ".join(without[4]["id_number"][:6]) + without[4]["id_number"][6:], "特困", 45292)
    for r in dibao[:2]:
        add(r["name"], r["id_number"], "低保", r["valid_from"][:7])  # already held: 无变化
    if dibao[2:3]:
        r = dibao[2]
        add(r["name"], r["id_number"], "低保", f"{int(r['valid_from'][:4]) - 1}-01")  # the department's earlier start
    ws.append([None] * 6)
    add(without[0]["name"], without[0]["id_number"], "低保", f"{date.today().year}-03")  # the same row again
    bad = without[5]["id_number"]
    add(without[5]["name"], bad[:-1] + ("0" if bad[-1] != "0" else "1"), "低保", "2024-01")
    body = "34022319790611042"
    add("陈秀英", body + check_digit(body), "低保", "2024-01")  # not registered in this county
    add(without[6]["name"], without[6]["id_number"], "五保", "2024-01")
    book.save(path)
    return path


def other_site_package(folder: Path, id_number: str) -> Path:
    """Another township's laptop that registered, on its own, a person this site already holds; its USB package."""
    from app.services import county, demo, packages, registry, users
    from app.services.session import SYSTEM, Session
    from app.store.store import open_store

    session = Session(open_store(folder / "other.sqlite3", daily_backup=False), SYSTEM)
    admin = users.create_user(session, "admin", "管理员", "管理员", demo.COUNTY_CODE, demo.DEMO_PASSWORD)
    session = Session(session.store, admin)
    county.configure_county(session, demo.COUNTY_CODE, "南陵县（演示）", demo.DEMO_POLICY, demo.DEMO_LOCAL)
    _, villages = demo.regions()
    registry.register_household(session, villages[40][0], "三里镇某村 12 号", registry.PersonInput("王桂兰", id_number))
    out = folder / "三里镇-交换包.jzpkg"
    packages.export_package(session, out)
    session.store.close()
    return out


class Shooter:
    """Drives the real window and saves what it shows."""

    def __init__(self, app, out: Path):
        self.app = app
        self.out = out
        self.saved: list[Path] = []

    def settle(self, wait_ms: int = 400) -> None:
        """Let debounce timers fire, then wait until no background work is left, then paint."""
        from app.gui.ops import Op, pool

        end = time.monotonic() + wait_ms / 1000
        while time.monotonic() < end:
            self.app.processEvents()
            time.sleep(0.01)
        give_up = time.monotonic() + 300
        while Op.running:
            if time.monotonic() > give_up:
                raise RuntimeError(f"background work did not finish in 5 minutes: {[op.fn for op in Op.running]}")
            self.app.processEvents()
            pool().waitForDone(25)
            self.app.processEvents()
        for _ in range(5):
            self.app.processEvents()

    def save(self, widget, name: str) -> Path:
        path = self.out / f"{name}.png"
        widget.grab().save(str(path), "PNG")
        small(path)
        self.saved.append(path)
        return path


def small(path: Path) -> None:
    """256 colours: a screen of flat colours and text looks the same and weighs a third (README pictures ≤ 150 KB)."""
    from PIL import Image

    with Image.open(path) as image:
        quantized = image.convert("RGB").quantize(256, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE)
    quantized.save(path, optimize=True)


def open_window(session):
    from app.gui.app import _reader
    from app.gui.main_window import MainWindow
    from app.services.session import Session

    window = MainWindow(session, Session(_reader(session.store), session.user))
    window.resize(*SIZE)
    window.show()
    return window


def household_to_show(session) -> str:
    """The head of a household of four or more on 低保: the timeline then has a bar for everyone.

    The demo certifies a household's category from a random date, which can fall before a baby's birth; such a
    household would show a caseworker something impossible, so it is passed over."""
    row = session.conn.execute(
        "SELECT h.head_person_id FROM households h JOIN persons p ON p.household_id = h.id "
        "JOIN category_periods c ON c.person_id = p.id AND c.category = '低保对象' GROUP BY h.id "
        "HAVING count(DISTINCT p.id) >= 4 AND max(p.birth_date >= c.valid_from) = 0 "
        "ORDER BY count(DISTINCT p.id) DESC, h.id LIMIT 1").fetchone()
    return row[0]


def earlier_category(session, head: str) -> None:
    """The spouse's earlier category, ended the day before the household's present one began: a history for the
    timeline to show, entered through the same service as the 登记身份类别 dialog."""
    from datetime import timedelta

    from app.services import registry

    detail = registry.household_detail(session, registry.person(session, head)["household_id"])
    spouse = next(m for m in detail["members"] if m["relation_to_head"] == "配偶")
    began = date.fromisoformat(spouse["periods"][0]["valid_from"])
    registry.set_category(session, spouse["id"], "返贫致贫人口", began.replace(year=began.year - 2),
                          began - timedelta(days=1), "乡村振兴")


def shoot_admin(shooter: Shooter, session, folder: Path, pg_url: str | None) -> None:
    from PySide6.QtCore import QDate

    from app.gui.lists_dialogs import RiskListDialog

    window = open_window(session)
    shooter.settle()

    window.registry.query.setText(SURNAME)
    shooter.settle()
    shooter.save(window, "registry")

    head = household_to_show(session)
    earlier_category(session, head)
    window.open_person(head)
    shooter.settle()
    spouse = next(i for i, m in enumerate(window.household.household["members"]) if m["relation_to_head"] == "配偶")
    window.household.members.selectRow(spouse)  # the member with a history: both periods in the table
    shooter.settle()
    shooter.save(window, "household")

    window.household.members.selectRow(0)
    window.open_bill(window.household.selected()["id"])
    shooter.settle()
    bill = window.bill
    bill.hospital.setCurrentText("芜湖市第一人民医院")
    bill.level.setCurrentText("市级")
    bill.kind.setCurrentText("住院")
    last_year = date.today().year - 1
    bill.admitted.setDate(QDate(last_year, 10, 8))
    bill.discharged.setDate(QDate(last_year, 10, 21))
    for widget, text in ((bill.total, "38600.00"), (bill.covered, "31250.00"), (bill.invoice, "3402-2025-0081736")):
        widget.setText(text)
    shooter.settle()
    shooter.save(window, "bill")

    roster = messy_roster(session, folder / "南陵县低保特困花名册.xlsx")
    window.go(window.imports)
    window.imports.load(roster)
    shooter.settle()
    shooter.save(window, "import")

    window.go(window.exchange)
    shooter.settle()
    view = window.exchange
    if pg_url:
        view.url.setText(pg_url)
        view.start_sync()
        shooter.settle()
    stick = folder / "U盘"
    stick.mkdir()
    view.export_to(stick / f"交换包-{date.today():%Y%m%d}.jzpkg")
    shooter.settle()
    taken = session.conn.execute("SELECT id_number FROM persons ORDER BY id_number LIMIT 1 OFFSET 7").fetchone()[0]
    view.import_from(other_site_package(folder, taken))
    shooter.settle()
    shooter.save(window, "exchange")

    window.go(window.statistics)
    shooter.settle()
    shooter.save(window, "statistics")

    window.go(window.policy)
    shooter.settle()
    shooter.save(window, "policy")

    dialog = RiskListDialog(window)
    dialog.show()
    shooter.settle()
    shooter.save(dialog, "monitoring")
    dialog.close()
    window.close()
    shooter.settle()


def shoot_township(shooter: Shooter, session) -> str:
    """The 乡镇经办's day: the worklist, one approved case's page, the public notice. Returns that case's id."""
    from app.gui.workflow_view import ApplicationDialog

    window = open_window(session)
    shooter.settle()
    window.go(window.worklist)
    shooter.settle()
    shooter.save(window, "worklist")
    rows = window.worklist.rows
    case = next(r for r in rows if r["state"] == "approved")
    dialog = ApplicationDialog(window, case["id"])
    dialog.resize(1100, 680)  # wide enough for the 村评议 record (the dialog opens at 900 and can be widened)
    dialog.show()
    shooter.settle()
    shooter.save(dialog, "application")
    dialog.close()
    window.go(window.notices)
    shooter.settle()
    shooter.save(window, "notices")
    window.close()
    shooter.settle()
    return case["id"]


def printed_form(shooter: Shooter, session, app_id: str, folder: Path) -> None:
    """Page 1 of the printed 审批表, at 60 dpi: enough to see the layout, small enough for the README."""
    from app.services import paperwork

    pdf = paperwork.approval_form(session, app_id, folder / "审批表.pdf")
    subprocess.run(["pdftoppm", "-r", "60", "-f", "1", "-l", "1", "-png", "-singlefile", str(pdf),
                    str(shooter.out / "approval-form")], check=True)
    small(shooter.out / "approval-form.png")
    shooter.saved.append(shooter.out / "approval-form.png")


def main() -> int:
    out = Path(sys.argv[1]) if len(sys.argv) > 1 else OUT
    out.mkdir(parents=True, exist_ok=True)
    folder = Path(tempfile.mkdtemp(prefix="jiuzhu-shots-"))
    # The window remembers its geometry in the user's settings; keep this run's (and the user's) apart.
    os.environ["XDG_CONFIG_HOME"] = str(folder / "config")
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    import pgserver
    from PySide6.QtWidgets import QApplication

    from app.gui import theme

    server = None
    try:
        app = QApplication.instance() or QApplication(sys.argv)
        app.setApplicationName("救助通")
        theme.apply(app)
        print("正在生成演示县…", file=sys.stderr)
        admin = signed_in(build_county(folder), "admin")
        pg_url = None
        problem = pgserver.available()
        if problem:
            print(f"不截同步：{problem}", file=sys.stderr)
        else:
            from app.exchange.county_db import init_db

            server = pgserver.PgServer()
            pg_url = server.database("nanling")
            init_db(pg_url)
        shooter = Shooter(app, out)
        shoot_admin(shooter, admin, folder, pg_url)
        app_id = shoot_township(shooter, signed_in(admin, "xiang"))
        printed_form(shooter, admin, app_id, folder)
        for path in shooter.saved:
            print(f"{path}  {path.stat().st_size // 1024} KB")
    finally:
        if server is not None:
            server.close()
        shutil.rmtree(folder, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())

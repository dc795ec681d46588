"""The caseworker's day in a real window: each demo role signs in under Xvfb and does whole tasks with the real
pointer and keyboard (xdotool), and every step is photographed. Look at every picture afterwards.

    packaging/walk.sh [DISPLAY_NUMBER] [OUTDIR]        (starts Xvfb if needed, then runs this)
    DISPLAY=:97 .venv/bin/python packaging/walk.py OUTDIR

The GUI is started with JIUZHU_WALK_PROBE (app/gui/walk_probe.py), which only writes down where buttons, fields,
tabs and table rows are on screen; the walk aims there. A step that cannot find what it aims at is photographed as
NN-…-未找到.png and the walk goes on with the next task, so one dead end shows every later one too.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

PY = str(Path(sys.executable))
PASSWORD = "jiuzhu-demo"
# Timeouts are generous: on a shared, loaded machine the GUI may take half a minute to open a county.
# Runs the GUI on the county's clock moved on by some days (ticking): the 公示 must have run its course before the
# township closes it, and the walk does not wait a week.
LAUNCH = """
import sys
from datetime import datetime, timedelta
from pathlib import Path
from app.store import clock
from app.gui.app import run_gui
with clock.freeze(datetime.fromisoformat(clock.now()) + timedelta(days=int(sys.argv[2])), ticking=True):
    sys.exit(run_gui(Path(sys.argv[1])))
"""


class NotFound(Exception):
    """What the walk aimed at never appeared."""


class Walk:
    """One walk: a demo database, a folder of numbered screenshots, and the GUI currently running."""

    def __init__(self, out: Path):
        self.out = out
        self.db = out / "demo.sqlite3"
        self.probe = out / "probe.json"
        self.n = 0
        self.app: subprocess.Popen | None = None
        self.role = ""
        self.problems: list[str] = []

    # --- the screen -------------------------------------------------------------------------------------------
    def state(self) -> dict:
        try:
            return json.loads(self.probe.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return {"active": "", "windows": [], "targets": {}}

    def find(self, name: str, timeout: float = 40) -> tuple[int, int]:
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            where = self.state()["targets"].get(name)
            if where:
                return where[0], where[1]
            time.sleep(0.25)
        raise NotFound(name)

    def wait_window(self, title_part: str, timeout: float = 90) -> str:
        """Until a window whose title holds `title_part` is shown; its whole title."""
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            state = self.state()
            found = [t for t in [state["active"], *state["windows"]] if title_part in t]
            if found:
                time.sleep(0.4)  # the probe saw the window; let it paint before anyone looks
                return found[0]
            time.sleep(0.25)
        raise NotFound(f"窗口“{title_part}”")

    def wait_closed(self, title_part: str, timeout: float = 90) -> None:
        """Until no window's title holds `title_part` (a dialog saved and closed)."""
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            if not any(title_part in t for t in self.state()["windows"]):
                time.sleep(0.6)
                return
            time.sleep(0.25)
        raise NotFound(f"窗口“{title_part}”没有关闭（保存被拒绝？）")

    def xdo(self, *args: str) -> None:
        subprocess.run(["xdotool", *args], check=True)

    def click(self, name: str, double: bool = False, timeout: float = 40) -> None:
        x, y = self.find(name, timeout)
        self.xdo("mousemove", str(x), str(y), "click", *(["--repeat", "2"] if double else []), "1")
        time.sleep(0.5)

    def type(self, text: str) -> None:
        self.xdo("type", "--delay", "40", text)

    def key(self, *keys: str) -> None:
        self.xdo("key", "--delay", "80", *keys)
        time.sleep(0.3)

    def fill(self, label: str, text: str) -> None:
        """Click into the field a form labels so, select what is there and type over it, as a person does."""
        self.click(f"field:{label}")
        self.key("ctrl+a")
        self.type(text)

    def focus_active(self) -> None:
        """Click inside the window the GUI says is active: without a window manager, closing a dialog leaves the
        keyboard with nobody, and the next key would be lost."""
        x, y = self.state().get("origin", [0, 0])
        self.xdo("mousemove", str(x), str(y), "click", "1")
        time.sleep(0.4)

    def shot(self, what: str) -> Path:
        self.n += 1
        time.sleep(0.8)
        path = self.out / f"{self.n:02d}-{self.role}-{what}.png"
        subprocess.run(["import", "-window", "root", str(path)], check=True)
        print(path.name, flush=True)
        return path

    # --- sessions -----------------------------------------------------------------------------------------------
    def sign_in(self, role: str, days_on: int = 0) -> None:
        self.sign_out()
        self.role = role
        self.probe.unlink(missing_ok=True)
        env = {**os.environ, "JIUZHU_WALK_PROBE": str(self.probe)}
        log = open(self.out / f"gui-{self.n + 1:02d}-{role}.log", "w")  # noqa: SIM115 - closed with the process
        self.app = subprocess.Popen([PY, "-c", LAUNCH, str(self.db), str(days_on)], cwd=ROOT, env=env,
                                    stdout=log, stderr=subprocess.STDOUT)
        self.wait_window("登录")
        self.click("field:用户名")
        self.type(role)
        self.click("field:密码")
        self.type(PASSWORD)
        self.key("Return")
        self.wait_closed("登录")
        title = self.wait_window("救助通 ·")
        found = subprocess.run(["xdotool", "search", "--name", f"^{title}$"], capture_output=True, text=True)
        for window in found.stdout.split():
            self.xdo("windowmove", window, "0", "0")
            self.xdo("windowsize", window, "1500", "950")
        time.sleep(1.5)

    def sign_out(self) -> None:
        if self.app is not None:
            self.app.terminate()
            try:
                self.app.wait(20)
            except subprocess.TimeoutExpired:
                self.app.kill()
                self.app.wait()
            self.app = None

    def page(self, name: str) -> None:
        self.click(f"item:{name}")
        time.sleep(1.5)

    def task(self, title: str, steps) -> None:
        """Run one task; a dead end is photographed and noted, and the walk goes on."""
        print(f"== {title}", flush=True)
        try:
            steps()
        except (NotFound, subprocess.CalledProcessError) as exc:
            self.problems.append(f"{title}：未找到 {exc}")
            self.shot(f"未找到-{str(exc)[:20].replace('/', '_').replace(':', '_')}")
            self.key("Escape", "Escape")  # out of a message and the dialog under it


def valid_id(body: str) -> str:
    from app.domain.idnumber import check_digit

    return body + check_digit(body)


def identity_list(path: Path, db: Path, township: str) -> Path:
    """A 民政 list as it comes: a title row, the common header 纳入时间, the category written 低保."""
    import sqlite3

    from openpyxl import Workbook

    conn = sqlite3.connect(db)
    rows = conn.execute("SELECT p.name, p.id_number FROM persons p JOIN households h ON h.id = p.household_id "
                        "WHERE h.region_code LIKE ? AND p.relation_to_head = '户主' AND NOT EXISTS "
                        "(SELECT 1 FROM category_periods c WHERE c.person_id = p.id) ORDER BY p.id_number LIMIT 3",
                        (f"{township}%",))
    book = Workbook()
    ws = book.active
    ws.append(["南陵县城乡低保对象花名册"])
    ws.append(["序号", "姓名", "身份证号码", "救助类别", "纳入时间"])
    for i, (name, number) in enumerate(rows, 1):
        ws.append([i, name, number, "低保", "2025-03-01"])
    ws.append([9, "无此人", valid_id("34022319800101999"), "五保户", "2025-03-01"])
    book.save(path)
    return path


def main(out: Path) -> int:
    out.mkdir(parents=True, exist_ok=True)
    for old in out.glob("*.png"):
        old.unlink()
    walk = Walk(out)
    if not walk.db.exists():
        subprocess.run([PY, "-m", "app", "demo", "--db", str(walk.db), "--households", "200", "--quiet"],
                       cwd=ROOT, check=True)
        # The county's key card, as the county's IT staff hand it over: packages are sealed to the county, so a site
        # without it cannot export one. A second small demo database stands in for the county's installation.
        office = out / "county-office.sqlite3"
        subprocess.run([PY, "-m", "app", "demo", "--db", str(office), "--households", "3", "--quiet"], cwd=ROOT,
                       check=True)
        subprocess.run([PY, "-m", "app", "keys", "show", "--db", str(office), "--card", str(out / "county.card")],
                       cwd=ROOT, check=True)
        subprocess.run([PY, "-m", "app", "keys", "trust-county", str(out / "county.card"), "--db", str(walk.db),
                        "--user", "admin", "--password-stdin"], cwd=ROOT, check=True, input=PASSWORD + "\n",
                       text=True)
    head = "路遥"
    number = valid_id("34022319700305004")

    # 村级经办: a household registered, a bill entered and voided, a second bill entered, an application made.
    walk.sign_in("cun")
    walk.shot("登录后")

    def register():
        walk.page("人员查询")
        walk.click("button:登记新家庭")
        walk.wait_window("家庭")
        walk.fill("姓名", head)
        walk.fill("证件号码", number)
        walk.fill("住址", "籍山镇路口村 18 号")
        walk.shot("登记家庭-填写")
        walk.click("button:保存")
        walk.wait_closed("登记")
        walk.shot("登记家庭-保存后")

    def bills():
        walk.click("button:为选中成员录入账单")
        time.sleep(1)
        walk.fill("医疗费用总额（元）", "56,000")
        walk.fill("政策范围内费用（元）", "48000")
        walk.fill("发票号", "FP-2026-001")
        walk.shot("账单-填写")
        walk.key("Return")
        walk.shot("账单-保存与说明")
        walk.page("家庭")
        walk.click("row:BillsPanel:0")
        walk.click("button:作废所选账单…")
        walk.wait_window("作废")
        walk.type("发票号录错")
        walk.shot("账单-作废原因")
        walk.key("Return")
        walk.shot("账单-作废后")
        walk.click("button:为选中成员录入账单")
        # Large enough that the year's 个人自付合规医疗费用 passes the 依申请救助 起付线 (2 万): the case is owed money,
        # and is approved without the 0.00 元 confirmation.
        walk.fill("医疗费用总额（元）", "120000")
        walk.fill("政策范围内费用（元）", "100000")
        walk.fill("发票号", "FP-2026-002")
        walk.key("Return")
        walk.shot("账单-重新录入")

    def apply():
        walk.page("家庭")
        walk.page("待我处理")
        walk.click("button:为选中人员登记依申请救助…")
        walk.wait_window("登记依申请救助")
        walk.fill("家庭年度总收入（元）", "12000")
        walk.fill("农村低收入家庭标准（元）", "9600")
        walk.shot("依申请-登记")
        walk.click("button:保存")
        walk.wait_closed("登记依申请救助")
        walk.click(f"cell:{head}", double=True)
        walk.wait_window("依申请救助")
        walk.shot("依申请-草稿")
        walk.click("button:户申请（提交）")
        walk.wait_window("户申请")
        walk.shot("依申请-户申请")
        walk.click("button:确定")
        walk.wait_closed("户申请")
        walk.shot("依申请-已提交")
        walk.key("Escape")

    walk.task("登记家庭", register)
    walk.task("录入、作废和重新录入账单", bills)
    walk.task("登记依申请救助并提交户申请", apply)

    def take(role: str, action: str, fill=None, days_on: int = 0, who: str = head):
        walk.sign_in(role, days_on)
        walk.page("待我处理")
        walk.shot("待我处理")
        walk.click(f"cell:{who}", double=True)
        walk.wait_window("依申请救助")
        walk.click(f"button:{action}")
        walk.wait_window(action)
        if fill:
            fill()
        walk.shot(f"{action}-填写")
        walk.click("button:确定")
        walk.wait_closed(action)
        walk.shot(f"{action}-之后")
        walk.key("Escape")

    def village():
        walk.fill("意见", "经村民代表评议，同意上报")
        walk.fill("到会人数", "9")
        walk.fill("同意票", "8")
        walk.fill("反对票", "1")

    walk.task("村评议", lambda: take("cun2", "同意，报下一环节", village))
    walk.task("乡镇审核", lambda: take("xiangshen", "同意，报下一环节", lambda: walk.fill("意见", "入户调查属实")))

    def reject_one():
        walk.page("待我处理")
        walk.click("row:待我处理:0", double=True)
        walk.wait_window("依申请救助")
        walk.click("button:不予救助")
        walk.wait_window("不予救助")
        walk.fill("理由", "家庭收入高于低收入家庭标准")
        walk.click("button:确定")
        walk.wait_closed("不予救助 ·")
        walk.shot("不予救助-之后")
        walk.key("Escape")

    walk.task("乡镇审核不予救助一件", reject_one)

    def notice():
        walk.page("公示名单")
        walk.shot("公示名单")
        walk.click("button:打印公示名单…")
        walk.wait_window("预览")
        walk.shot("公示名单-预览")
        walk.click("button:关闭")

    walk.sign_in("xiang", 8)
    walk.task("打印公示名单", notice)
    walk.task("公示期满", lambda: take("xiang", "公示期满无异议", lambda: walk.fill("意见", "公示期满无异议"), 8))
    walk.task("医保审核费用", lambda: take("yibao", "医保审核费用", lambda: walk.fill("意见", "费用属实"), 8))

    def civil():
        walk.fill("意见", "收入低于标准，无大额财产")
        walk.click("field:财产核查结果")
        walk.key("Down")
        walk.key("Return")

    walk.task("民政认定收入财产", lambda: take("minzheng", "民政认定收入财产", civil, 8))
    walk.task("县级审批", lambda: take("shenpi", "批准", lambda: walk.fill("意见", "同意救助"), 8))
    walk.task("发放", lambda: take("xiang2", "发放", lambda: walk.fill("意见", "已发放至一卡通"), 8))

    def forms():
        walk.page("依申请查询")
        walk.click("edit:姓名、身份证号或拼音首字母（如 zs）")
        walk.type(head)
        walk.key("Return")
        walk.shot("依申请查询")
        walk.click(f"cell:{head}", double=True)
        walk.wait_window("依申请救助")
        walk.shot("依申请-全部经过")
        walk.click("button:打印审批表…")
        walk.wait_window("预览")
        walk.shot("审批表-预览")
        walk.click("button:关闭")
        walk.wait_closed("预览")
        walk.focus_active()
        walk.key("Escape")
        walk.wait_closed("依申请救助")
        walk.page("公示名单")
        walk.click("button:打印发放花名册…")
        time.sleep(1)
        walk.shot("花名册")
        walk.key("Return")
        time.sleep(2)
        walk.shot("花名册-预览")
        walk.key("Escape")

    walk.task("查询、审批表和花名册", forms)

    def lists():
        walk.page("名单导入")
        walk.click("button:选择名单文件（.xlsx 或 .csv）…")
        time.sleep(1.5)
        walk.shot("名单导入-选择文件")
        walk.type(str(identity_list(out / "dibao-list.xlsx", walk.db, "340223100")))
        walk.key("Return")
        time.sleep(3)
        walk.shot("名单导入-逐行结果")
        walk.click("button:应用勾选的变化")
        time.sleep(8)  # applied, then the list is compared again
        walk.shot("名单导入-应用后")

    def package():
        walk.page("同步与交换")
        walk.shot("同步与交换")
        walk.click("button:导出交换包…")
        time.sleep(1.5)
        walk.shot("交换包-保存对话框")
        walk.key("ctrl+a")
        walk.type(str(out / "package.jzpkg"))
        walk.key("Return")
        time.sleep(4)
        walk.shot("交换包-导出后")
        # Taking one's own package back in: it must say plainly that it was not imported, and why.
        walk.click("button:导入交换包…")
        time.sleep(1.5)
        walk.type(str(out / "package.jzpkg"))
        walk.key("Return")
        walk.wait_window("请检查")  # the refusal's dialog, once the package was opened and looked at
        walk.shot("交换包-导入本站自己的包")
        walk.key("Return")
        time.sleep(1)
        walk.shot("交换包-导入后")

    walk.sign_in("xiang", 8)
    walk.task("名单导入", lambda: lists())
    walk.task("交换包导出导入", package)
    print("同步：本次走查不连县级数据库（需要县里的 PostgreSQL 服务器），跳过；"
          "tests/exchange 的同步测试在装有 initdb 时会起一个临时服务器。", flush=True)

    def admin():
        for name in ("政策", "统计", "人员查询"):
            walk.page(name)
            time.sleep(2)
            walk.shot(name)

    walk.sign_in("admin", 8)
    walk.task("管理员看政策和统计", admin)
    walk.sign_out()
    print(f"截图在 {out}；未走通：{len(walk.problems)} 处", flush=True)
    for p in walk.problems:
        print("  " + p, flush=True)
    return 1 if walk.problems else 0


if __name__ == "__main__":
    sys.exit(main(Path(sys.argv[1] if len(sys.argv) > 1 else "/tmp/jiuzhu-walk")))

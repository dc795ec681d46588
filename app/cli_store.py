"""Command-line commands on the local database: init, users, demo, check, audit, backup, restore, lists, resettle."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from app.cli_auth import db_path as _db
from app.cli_auth import new_password, signed_in, with_credentials

EXIT_PROBLEM = 1
EXIT_BAD_INPUT = 2


def _say(text: str) -> None:
    sys.stdout.write(text + "\n")


def _err(text: str) -> None:
    sys.stderr.write(text + "\n")


def _progress(text: str) -> None:
    """How far a long command has come, on stderr: one line rewritten in place on a terminal; in a log file or a pipe
    one line per step, flushed, so the log of a cut or killed run shows where it stopped."""
    sys.stderr.write(f"\r{text}   " if sys.stderr.isatty() else text + "\n")
    sys.stderr.flush()


def _progress_end() -> None:
    if sys.stderr.isatty():
        sys.stderr.write("\n")


def _session(args: argparse.Namespace, daily_backup: bool = True):
    """A session for a command that changes nothing (or, for init and a new demo, the first change of an empty
    database); every other change signs in (app/cli_auth.py)."""
    from app.services.session import SYSTEM, Session
    from app.store.store import open_store

    return Session(open_store(_db(args), daily_backup=daily_backup), SYSTEM)


def cmd_init(args: argparse.Namespace) -> int:
    from app.services import county, users

    session = _session(args)
    if users.has_admin(session.conn):
        _err(f"{_db(args)} 已有管理员；新增用户请用 jiuzhu user add，或由管理员在程序中（工具 → 用户管理）操作")
        return EXIT_BAD_INPUT
    password = new_password(args, "管理员密码（至少 8 位）：")
    local = {}
    for item in args.local or []:
        key, sep, value = item.partition("=")
        if not sep:
            _err(f"--local {item}：请写成 键=值，例如 --local tilt_rate=60%")
            return EXIT_BAD_INPUT
        local[key] = value
    admin = users.create_user(session, args.admin, args.admin_name, "管理员", args.county, password)
    from app.services.session import Session

    county.configure_county(Session(session.store, admin), args.county, args.county_name, args.policy, local)
    _say(f"已建立数据库 {_db(args)}：管理员 {args.admin}，{args.county_name}（{args.county}），政策 {args.policy}")
    return 0


def cmd_user_add(args: argparse.Namespace) -> int:
    from app.services import users

    session = signed_in(args)
    password = new_password(args, f"{args.username} 的密码（至少 8 位）：")
    user = users.create_user(session, args.username, args.name, args.role, args.jurisdiction, password)
    _say(f"已新增用户 {user.username}：{user.display_name}，{user.role}，管辖 {user.jurisdiction}")
    return 0


def cmd_user_list(args: argparse.Namespace) -> int:
    from app.services import users
    from app.store import clock

    _say("用户名\t姓名\t角色\t管辖范围\t状态\t建立时间")
    for u in users.list_users(_session(args, daily_backup=False)):
        _say(f"{u.username}\t{u.display_name}\t{u.role}\t{u.jurisdiction}\t{'在用' if u.active else '已停用'}\t"
             f"{clock.local_date(u.created_at)}")
    return 0


def cmd_user_passwd(args: argparse.Namespace) -> int:
    from app.services import users

    session = signed_in(args)
    users.reset_password(session, args.username, new_password(args, f"{args.username} 的新密码（至少 8 位）："))
    _say(f"已重置 {args.username} 的密码")
    return 0


def _set_active(args: argparse.Namespace, active: bool) -> int:
    from app.services import users

    word = "启用" if active else "停用"
    if users.set_active(signed_in(args), args.username, active):
        _say(f"已{word}用户 {args.username}" + ("" if active else "：此后不能再登录"))
    else:
        _say(f"用户 {args.username} 本已{word}，未作修改")
    return 0


def cmd_unlock(args: argparse.Namespace) -> int:
    from app.services import login

    if login.unlock(signed_in(args), args.username):
        _say(f"已解除 {args.username} 的锁定，可以立即登录")
    else:
        _say(f"用户 {args.username} 没有被锁定，未作修改")
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    from app.services import demo

    session = _session(args)
    # An empty database becomes a demo (the command line acts, as for init); any other must already be one, and
    # then an administrator signs in to add to it.
    if not demo.start_demo(session):
        demo.require_demo(session)
        session.store.close()
        session = signed_in(args)
    made = demo.demo_users(session)
    seed = demo.new_seed() if args.seed is None else args.seed
    for done, total in demo.build_demo(session, args.households, args.year, seed, mean_visits=args.visits):
        if not args.quiet:
            sys.stderr.write(f"\r已生成 {done}/{total} 户")
    if not args.quiet:
        sys.stderr.write("\n")
    demo.demo_applications(session, args.year, seed, county_steps=not args.township)
    _say(f"演示县已写入 {_db(args)}：{demo.summary_json(session)}；随机种子 {seed}（--seed {seed} 可重现同样的人和账单）")
    if made:
        _say(f"演示用户 admin、{'、'.join(made)}，密码均为 {demo.DEMO_PASSWORD}（仅供演示）")
    return 0


def cmd_check(args: argparse.Namespace) -> int:
    from app.store.check import check_database

    problems = check_database(_db(args), full=args.full, workers=args.workers)
    for p in problems:
        _err(p)
    if args.county_url and not problems:
        return _check_with_county(args)
    if problems:
        _err(f"检查未通过：{_db(args)} 有 {len(problems)} 处问题")
        from app.store.backup import newest

        latest = newest(_db(args))
        if latest is not None:
            _err(f"如需恢复最近的备份：jiuzhu restore \"{latest}\" --db \"{_db(args)}\"（当前的数据库会先另存，损坏的则改名留存）")
        return EXIT_PROBLEM
    _say(f"检查通过：{_db(args)} 完整，审计日志链条完好")
    return 0


def _check_with_county(args: argparse.Namespace) -> int:
    import sqlite3

    from app.services.sync import compare_with_county
    from app.store.errors import StoreError

    conn = sqlite3.connect(f"file:{_db(args)}?mode=ro", uri=True)
    try:
        comparison = compare_with_county(conn, args.county_url)
    except StoreError as exc:
        _err(f"数据库完整，但未能与县级数据库核对：{exc}")
        return EXIT_BAD_INPUT
    finally:
        conn.close()
    lines = comparison.lines()
    if comparison.agrees:
        _say(f"检查通过：{_db(args)} 完整，审计日志链条完好；{lines[0]}")
        return 0
    for line in lines:
        _err(line)
    return EXIT_PROBLEM


def cmd_audit_verify(args: argparse.Namespace) -> int:
    import sqlite3

    from app.store import audit
    from app.store.errors import StoreError

    path = _db(args)
    if not path.is_file():
        _err(f"找不到数据库 {path}")
        return EXIT_PROBLEM
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    conn.row_factory = sqlite3.Row
    seen, unreachable = None, None
    try:
        problems = audit.verify(conn, full=True)
        count = conn.execute("SELECT count(*) FROM audit_log").fetchone()[0]
        if args.county_url:
            from app.services.sync import check_with_county

            try:
                found, seen = check_with_county(conn, args.county_url)
                problems += found
            except StoreError as exc:  # what the file itself says is still worth saying
                unreachable = f"未能与县级数据库核对：{exc}"
    except sqlite3.DatabaseError as exc:
        problems, count = [f"读取审计日志出错：{exc}"], 0
    finally:
        conn.close()
    for p in problems + ([unreachable] if unreachable else []):
        _err(p)
    if problems:
        return EXIT_PROBLEM
    _say(f"审计日志完好：共 {count} 条，链条逐条核对无误")
    if unreachable:
        return EXIT_BAD_INPUT
    if args.county_url:
        _say(f"与县级数据库核对无误：{seen.where}见到本站审计日志 {seen.count} 条，本机都有且一致"
             if seen else "县级数据库还没有本站的审计日志（尚未同步或报送交换包），无从核对")
    return 0


def cmd_backup(args: argparse.Namespace) -> int:
    from app.store import backup

    session = _session(args, daily_backup=False)
    path = backup.backup(session.conn, session.store.backups, keep=args.keep)
    _say(f"已备份到 {path}（保留最近 {args.keep} 份）")
    return 0


def cmd_restore(args: argparse.Namespace) -> int:
    from app.store import backup

    previous = backup.restore(Path(args.file), _db(args), site_move=args.site_move)
    if previous is None:
        kept = ""
    elif ".damaged-" in previous.name:
        kept = f"；损坏的数据库已改名留存为 {previous}"
    else:
        kept = f"；恢复前的数据库已另存为 {previous}"
    _say(f"已用 {args.file} 恢复 {_db(args)}{kept}")
    return 0


def cmd_compact(args: argparse.Namespace) -> int:
    from app.store.compact import compact

    _say(f"正在整理 {_db(args)}（整理期间不能打开它）……")
    done = compact(_db(args))
    _say(f"已整理 {_db(args)}：{done.bytes_before / 1e6:,.1f} MB → {done.bytes_after / 1e6:,.1f} MB，"
         f"每页 {done.page_before:,} → {done.page_after:,} 字节")
    return 0


def cmd_resettle(args: argparse.Namespace) -> int:
    from app.services import bills

    session = signed_in(args)
    last = bills.Progress(0, 0, 0)
    for last in bills.resettle_year(session, args.year):
        if not args.quiet and (last.done % max(1, last.total // 100) == 0 or last.done == last.total):
            _progress(f"已重新结算 {last.done}/{last.total} 人")
    if not args.quiet:
        _progress_end()
    _say(json.dumps({"year": args.year, "changed_settlements": last.changed, "unpaid_amounts_changed": last.unpaid,
                     "adjustment_lines": last.adjustments}, ensure_ascii=False))
    if not args.quiet:
        _say(f"{args.year} 年：{last.done} 人重新结算，{last.changed} 笔结算有变化；未支付的金额 {last.unpaid} 项直接更新，"
             f"已支付的生成补付/追回 {last.adjustments} 笔（jiuzhu adjustments --year {args.year} 查看）")
    return 0


def cmd_documents_sample(args: argparse.Namespace) -> int:
    from app.services import paperwork

    made = paperwork.sample(_session(args, daily_backup=False), Path(args.outdir))
    for path in made:
        _say(str(path))
    return 0 if made else EXIT_PROBLEM


def cmd_verify_form(args: argparse.Namespace) -> int:
    from app.services import paperwork

    ok, message = paperwork.verify_form(_session(args, daily_backup=False), args.code)
    (_say if ok else _err)(message)
    return 0 if ok else EXIT_PROBLEM


def cmd_import_list(args: argparse.Namespace) -> int:
    from app.exchange.identity_lists import ListError
    from app.services import identity_import

    # Comparing changes nothing; applying does, and signs in.
    session = signed_in(args, daily_backup=False) if args.apply else _session(args, daily_backup=False)
    try:
        parsed, changes = identity_import.import_list(session, Path(args.file))
    except ListError as exc:
        _err(str(exc))
        return EXIT_BAD_INPUT
    counts: dict[str, int] = {}
    for c in changes:
        counts[c.kind] = counts.get(c.kind, 0) + 1
        if c.kind != "unchanged":
            _say(c.describe())
    for r in parsed.rejected:
        _say(f"第 {r.line} 行 未导入：{r.reason}")
    summary = "，".join(f"{identity_import.KIND_NAMES[k]} {n}" for k, n in counts.items())
    left_out = identity_import.not_imported(parsed, changes)
    _say(f"{args.file}（{parsed.source}名单）：{summary or '没有可识别的行'}；未导入 {len(left_out)} 行")
    if args.report and left_out:
        _say(f"未导入的行（含未登记人员）已写入 {identity_import.rejected_report(parsed, Path(args.report), changes)}")
    if args.apply:
        applied = identity_import.apply(session, changes, args.certified_by or parsed.source, parsed.source)
        _say(f"已应用 {applied} 项变化（一次提交，均记入审计日志）")
    else:
        _say("以上为比对结果，未作任何修改；确认后加 --apply 应用")
    return 0


def with_db(p: argparse.ArgumentParser) -> argparse.ArgumentParser:
    p.add_argument("--db", metavar="PATH", help="数据库文件（默认在本用户的数据文件夹）")
    return p


def _xlsx_out(text: str) -> Path:
    from app.domain.errors import FieldError

    path = Path(text)
    if path.suffix.lower() != ".xlsx":
        raise FieldError("OUT.xlsx", f"输出文件 {text} 应以 .xlsx 结尾")
    return path


def cmd_monitoring_list(args: argparse.Namespace) -> int:
    from app.services import monitoring, monitoring_xlsx

    year, month = monitoring.parse_month(args.month)
    out = _xlsx_out(args.out)
    risk = monitoring.risk_list(_session(args, daily_backup=False), year, month)
    monitoring_xlsx.export_risk_list(risk, out)
    _say(f"{risk.place}{risk.period}因病返贫致贫风险监测预警名单：{len(risk.entries)} 人"
         f"（按政策核对了本年费用可能达到标准的 {risk.examined} 人），已写入 {out}")
    return 0


def cmd_subsidy_roster(args: argparse.Namespace) -> int:
    from app.services import subsidy_roster, subsidy_roster_xlsx
    from app.domain.errors import FieldError

    paid: dict[str, str] = {}
    for item in args.contribution or []:
        scheme, sep, amount = item.rpartition("=")
        if sep and not scheme:
            raise FieldError("contribution", f"--contribution {item}：请写成 金额 或 险种=金额，例如 400 或 新农合=220")
        for s in ([scheme] if sep else subsidy_roster.RESIDENT_SCHEMES):
            paid[s] = amount
    out = _xlsx_out(args.out)
    roster = subsidy_roster.subsidy_roster(_session(args, daily_backup=False), args.year, paid)
    subsidy_roster_xlsx.export_subsidy_roster(roster, out)
    _say(f"{roster.place}{roster.year}年度资助参保名单：{len(roster.entries)} 人，资助金额合计 {roster.total} 元；"
         f"持有身份类别但未列入 {len(roster.unlisted)} 人（见“未列入名单”），已写入 {out}")
    return 0


def _roles() -> tuple[str, ...]:
    from app.services.users import ROLES

    return ROLES


def add_commands(sub: argparse._SubParsersAction, run) -> None:
    """Register the store commands; every one takes --db after its name."""
    p = with_db(sub.add_parser("init", help="首次运行：建立数据库、管理员、本县及其政策"))
    p.add_argument("--admin", required=True, help="管理员用户名")
    p.add_argument("--admin-name", default="管理员", help="管理员姓名")
    p.add_argument("--county", required=True, help="县级统计用区划代码（6 位）")
    p.add_argument("--county-name", required=True)
    p.add_argument("--policy", required=True, help="政策编号，见 policy list")
    p.add_argument("--local", action="append", metavar="键=值", help="地方参数，可写多次")
    p.add_argument("--password-stdin", action="store_true", help="从标准输入读取管理员密码（否则提示输入两次）")
    p.set_defaults(func=run(cmd_init))
    user_p = sub.add_parser("user", help="用户：新增、列出、重置密码、停用、启用、解除锁定（须管理员登录，--user）")
    usub = user_p.add_subparsers(dest="user_command", required=True, metavar="子命令")
    p = with_credentials(with_db(usub.add_parser("add", help="新增用户")), sets_password=True)
    p.add_argument("username", metavar="USERNAME", help="登录用的用户名（2–32 位字母、数字或 _ . -）")
    p.add_argument("--name", required=True, help="姓名")
    p.add_argument("--role", required=True, help="角色：" + "、".join(_roles()))
    p.add_argument("--jurisdiction", required=True, metavar="代码",
                   help="管辖范围，统计用区划代码：县级角色和管理员 6 位、乡镇 9 位、村 12 位")
    p.set_defaults(func=run(cmd_user_add))
    p = with_db(usub.add_parser("list", help="列出全部用户（含已停用的）"))
    p.set_defaults(func=run(cmd_user_list))
    p = with_credentials(with_db(usub.add_parser("passwd", help="重置一个用户的密码")), sets_password=True)
    p.add_argument("username", metavar="USERNAME")
    p.set_defaults(func=run(cmd_user_passwd))
    p = with_credentials(with_db(usub.add_parser("disable", help="停用用户（不能再登录；记录和审计日志保留）")))
    p.add_argument("username", metavar="USERNAME")
    p.set_defaults(func=run(lambda args: _set_active(args, False)))
    p = with_credentials(with_db(usub.add_parser("enable", help="重新启用停用的用户")))
    p.add_argument("username", metavar="USERNAME")
    p.set_defaults(func=run(lambda args: _set_active(args, True)))
    p = with_credentials(with_db(usub.add_parser("unlock", help="解除因连续输错密码而锁定的账号")))
    p.add_argument("username", metavar="USERNAME")
    p.set_defaults(func=run(cmd_unlock))
    p = with_credentials(with_db(sub.add_parser(
        "demo", help="生成演示县（南陵县的真实村代码，虚构的人和账单）：只用于新的空数据库或演示数据库；"
                     "向已有的演示数据库添加须管理员登录（--user）")))
    p.add_argument("--households", type=int, required=True)
    p.add_argument("--year", type=int, default=None, help="账单年度（默认去年）")
    p.add_argument("--seed", type=int, default=None,
                   help="随机种子（默认每次新取一个并显示、记在数据库里，几个演示站点因此登记不同的人）")
    p.add_argument("--visits", type=float, default=1.2, help="每人每年平均就诊次数（默认 1.2）")
    p.add_argument("--township", action="store_true",
                   help="作为乡镇站点演练（几台电脑与县级数据库同步时用）：县里的审核、审批环节不在本机办理，"
                        "这些申请停在县级审批，由县里的站点办理")
    p.add_argument("--quiet", action="store_true")
    p.set_defaults(func=run(cmd_demo))
    p = with_db(sub.add_parser("check", help="检查数据库完整性和审计日志，有问题以非零退出"))
    p.add_argument("--full", action="store_true",
                   help="逐个核对索引与数据表（integrity_check）并逐条核对审计日志；县级数据库要数分钟")
    p.add_argument("--workers", type=int, default=None, metavar="N",
                   help="同时用几个进程检查（默认：大的数据库每个处理器一个，小的只用本进程）")
    p.add_argument("--county-url", metavar="URL",
                   help="县级 PostgreSQL 数据库地址：再逐类核对本站与县里（本站辖区）的记录，指出缺少或多出的记录")
    p.set_defaults(func=run(cmd_check))
    audit_p = sub.add_parser("audit", help="审计日志")
    asub = audit_p.add_subparsers(dest="audit_command", required=True, metavar="子命令")
    p = with_db(asub.add_parser("verify", help="逐条核对审计日志链条，被改动或删除则以非零退出"))
    p.add_argument("--county-url", metavar="URL",
                   help="县级 PostgreSQL 数据库地址：再核对本机是否仍有县里已见到的全部审计日志（被截短、回退或改写则以非零退出）")
    p.set_defaults(func=run(cmd_audit_verify))
    p = with_db(sub.add_parser("backup", help="在线备份数据库（带时间戳，保留最近 N 份）"))
    p.add_argument("--keep", type=int, default=30)
    p.set_defaults(func=run(cmd_backup))
    p = with_db(sub.add_parser("restore", help="用本站的备份文件恢复数据库（恢复前先另存当前数据库）"))
    p.add_argument("file")
    p.add_argument("--site-move", action="store_true",
                   help="确认把另一个站点的数据库搬到本机（不加时只接受本站自己的备份）")
    p.set_defaults(func=run(cmd_restore))
    p = with_db(sub.add_parser("compact", help="整理数据库文件：收回空闲空间，改用 16 KB 的页（县级数据库检查更快）；"
                                               "须先关闭所有打开它的救助通窗口，县级数据库约需几分钟"))
    p.set_defaults(func=run(cmd_compact))
    docs = sub.add_parser("documents", help="打印文书")
    dsub = docs.add_subparsers(dest="documents_command", required=True, metavar="子命令")
    p = with_db(dsub.add_parser("sample", help="从数据库各生成一份文书样张（审阅与打包检查用）"))
    p.add_argument("outdir")
    p.set_defaults(func=run(cmd_documents_sample))
    p = with_db(sub.add_parser("verify-form", help="核对打印的审批表（二维码或校验码）是否与系统记录一致"))
    p.add_argument("code")
    p.set_defaults(func=run(cmd_verify_form))
    p = with_credentials(with_db(sub.add_parser(
        "import-list", help="导入民政、乡村振兴的身份名单（.xlsx）：先比对，加 --apply 才修改（须登录，--user）")))
    p.add_argument("file")
    p.add_argument("--apply", action="store_true", help="应用新增、变化和终止")
    p.add_argument("--certified-by", help="认定部门（默认按名单来源：民政 或 乡村振兴）")
    p.add_argument("--report", metavar="OUT.xlsx", help="把未导入的行及原因写成 Excel")
    p.set_defaults(func=run(cmd_import_list))
    p = with_db(sub.add_parser("monitoring-list", help="因病返贫致贫风险监测预警名单（按月，Excel，报民政、乡村振兴）"))
    p.add_argument("--month", required=True, metavar="YYYY-MM",
                   help="名单月份，如 2025-06：本年 1 月 1 日起累计到该月末的自付费用")
    p.add_argument("out", metavar="OUT.xlsx", help="写出的 Excel 文件")
    p.set_defaults(func=run(cmd_monitoring_list))
    p = with_db(sub.add_parser("subsidy-roster", help="资助参保名单（下一年度，就高只资助一次，Excel）"))
    p.add_argument("--year", type=int, required=True, help="资助参保年度，如 2026（以该年 1 月 1 日有效的身份类别为准）")
    p.add_argument("--contribution", action="append", metavar="金额|险种=金额",
                   help="该年度城乡居民医保个人缴费标准（元/人·年，当年筹资文件确定），如 400；"
                        "不同险种标准不同时写 险种=金额，可写多次")
    p.add_argument("out", metavar="OUT.xlsx", help="写出的 Excel 文件")
    p.set_defaults(func=run(cmd_subsidy_roster))
    p = with_credentials(with_db(sub.add_parser("resettle", help="重新结算一个年度（按年度累计重算并扣减已付）")))
    p.add_argument("--year", type=int, required=True)
    p.add_argument("--quiet", action="store_true")
    p.set_defaults(func=run(cmd_resettle))

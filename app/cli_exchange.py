"""Command-line commands for exchange with the county: packages, the county database and sync."""

from __future__ import annotations

import argparse
from pathlib import Path

from app.cli_auth import signed_in, with_credentials
from app.cli_store import EXIT_PROBLEM, _progress, _progress_end, _say, with_db


def cmd_export_package(args: argparse.Namespace) -> int:
    from app.exchange.package import SUFFIX
    from app.services import packages

    out = Path(args.out)
    if out.is_dir():
        out = out / f"交换包-{Path(args.db or 'jiuzhu').stem}-{_stamp()}{SUFFIX}"
    manifest = packages.export_package(signed_in(args), out, everything=args.all)
    counts = "，".join(f"{packages.NAMES[t]} {n}" for t, n in manifest["counts"].items() if n)
    first, last = manifest["range"]["changes"]
    span = f"（变更序号 {first}–{last}）" if last >= first else "（上次导出以来没有记录变化）"
    _say(f"已导出 {out}：{counts or '没有记录'}{span}")
    return 0


def _stamp() -> str:
    from app.store import clock

    return clock.local_now().strftime("%Y%m%d-%H%M%S")


def cmd_import_package(args: argparse.Namespace) -> int:
    from app.services import packages

    session = signed_in(args)
    if args.county_url:
        result = packages.import_to_county(session, Path(args.file), args.county_url)
    else:
        result = packages.import_here(session, Path(args.file))
    for line in result.lines():
        _say(line)
    return 0


def cmd_county_init_db(args: argparse.Namespace) -> int:
    from app.exchange import county_db

    tables = county_db.init_db(args.url)
    _say(f"县级数据库已就绪（可重复运行）：{'、'.join(tables)}")
    return 0


def cmd_sync(args: argparse.Namespace) -> int:
    from app.services import sync

    session = signed_in(args)

    def show(what: str, done: int, of: int) -> None:
        _progress(f"{what} {done}/{of}" if of else f"{what} {done}")

    report = sync.sync(session, args.county_url, progress=show)
    _progress_end()
    for line in report.lines():
        _say(line)
    return EXIT_PROBLEM if report.anchor else 0


def add_commands(sub: argparse._SubParsersAction, run) -> None:
    """Register the exchange commands."""
    p = with_credentials(with_db(sub.add_parser("export-package",
                                                help="把上次导出以来本站变化的记录导出为交换包（U 盘报送县里；须登录，--user）")))
    p.add_argument("out", metavar="OUT", help="交换包文件（.jzpkg），或一个文件夹（自动命名）")
    p.add_argument("--all", action="store_true", help="导出本站全部记录（交换包丢失时重做）")
    p.set_defaults(func=run(cmd_export_package))
    p = with_credentials(with_db(sub.add_parser(
        "import-package", help="导入交换包（须登录，--user）；加 --county-url 则在县级站点上写入县级数据库")))
    p.add_argument("file", metavar="FILE")
    p.add_argument("--county-url", metavar="URL", help="县级 PostgreSQL 数据库地址，如 postgresql://用户@主机/库名")
    p.set_defaults(func=run(cmd_import_package))
    county = sub.add_parser("county", help="县级数据库")
    csub = county.add_subparsers(dest="county_command", metavar="子命令", required=True)
    p = csub.add_parser("init-db", help="在县级 PostgreSQL 中建立（或补齐）救助通的表，可重复运行")
    p.add_argument("url", metavar="URL")
    p.set_defaults(func=run(cmd_county_init_db))
    from app.cli_keys import add_commands as add_key_commands

    add_key_commands(sub, csub, run)
    p = with_credentials(with_db(sub.add_parser(
        "sync", help="与县级数据库同步：送出本站的变化，取回县里和其他站点的决定（须登录，--user）")))
    p.add_argument("--county-url", metavar="URL", required=True, help="县级 PostgreSQL 数据库地址")
    p.set_defaults(func=run(cmd_sync))

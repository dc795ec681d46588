"""Command-line commands for site keys: show this site's card, take in the county's, and at the county's
installation claim the county's keys, register, revoke and list sites, and verify who sent the county's rows."""

from __future__ import annotations

import argparse
from pathlib import Path

from app.cli_auth import db_path, signed_in, with_credentials
from app.cli_store import EXIT_PROBLEM, _say, with_db


def cmd_keys_show(args: argparse.Namespace) -> int:
    from app.exchange import keys
    from app.services import site_keys
    from app.services.session import SYSTEM, Session
    from app.store.store import open_store

    store = open_store(db_path(args), daily_backup=False, create=False)
    try:
        card = site_keys.card(Session(store, SYSTEM))
    finally:
        store.close()
    _say(f"站点：{card.name}（编号 {card.site_id}）\n公钥指纹：{card.fingerprint}")
    if card.jurisdiction:
        from app.domain.regions import label

        _say(f"公钥卡上写明本站的乡镇：{label(card.jurisdiction)}（县里登记的辖区须与之相符）")
    if args.card:
        keys.write_card(card, Path(args.card))
        _say(f"公钥卡已写到 {args.card}（只含公钥，可交县里登记；请电话核对指纹）")
    return 0


def cmd_keys_trust_county(args: argparse.Namespace) -> int:
    from app.exchange import keys
    from app.services import site_keys

    county = keys.read_card(Path(args.card))
    site_keys.trust_county(signed_in(args), county)
    _say(f"已设定县级公钥：{county.name}，指纹 {county.fingerprint}（请与县里核对）")
    return 0


def cmd_county_claim(args: argparse.Namespace) -> int:
    from app.services import site_keys

    card = site_keys.claim_county(signed_in(args), args.url, replace=args.replace)
    _say(f"本机已登记为县级站点，县级公钥指纹 {card.fingerprint}。各站点同步时会取得它；只用 U 盘的站点请导入本机的公钥卡"
         f"（jiuzhu keys show --card 文件）")
    return 0


def cmd_county_register_site(args: argparse.Namespace) -> int:
    from app.exchange import keys, territory
    from app.services import site_keys

    site = keys.read_card(Path(args.card))
    outside = site_keys.register_site(signed_in(args), args.url, site, args.jurisdiction)
    _say(f"已登记站点 {site.name or site.site_id}（编号 {site.site_id}），指纹 {site.fingerprint}，"
         f"辖区 {territory.describe(args.jurisdiction.strip())}：此后它送来的记录须在这个辖区内，之外的不采用")
    if outside:
        _say(f"注意：县级数据库中已有该站点在这个辖区之外的记录（此前收下的）："
             f"{'、'.join(f'{k} {n} 条' for k, n in outside.items())}。请核对：辖区填错了就重新登记；"
             f"记录确不属于该站点的，请与该站点核对")
    return 0


def cmd_county_revoke_site(args: argparse.Namespace) -> int:
    from app.services import site_keys

    site = site_keys.revoke_site(signed_in(args), args.url, args.site_id, args.reason)
    _say(f"已吊销站点 {site.name or site.site_id} 的公钥：此后它的交换包和同步都不再被接受")
    return 0


def cmd_county_sites(args: argparse.Namespace) -> int:
    from app.exchange import territory
    from app.services import site_keys

    sites = site_keys.registered(args.url)
    for s in sites:
        state = f"已吊销（{s['revoked_at']:%Y-%m-%d}，{s['revoked_reason']}）" if s["revoked_at"] else "有效"
        _say(f"{s['site_id']}  {s['name']}  指纹 {s['fingerprint']}  辖区 {territory.describe(s['jurisdiction'])}  {state}")
    warning = territory.unstated_warning(sites)
    if warning:
        _say(warning)
    return 0


def cmd_county_verify(args: argparse.Namespace) -> int:
    from app.services import site_keys

    problems = site_keys.verify(args.url)
    for line in problems:
        _say(line)
    if not problems:
        _say("县级数据库中的每条记录都有所属站点的有效签名，登记了辖区的站点的记录都在其辖区之内")
    return EXIT_PROBLEM if problems else 0


def add_commands(sub: argparse._SubParsersAction, county: argparse._SubParsersAction, run) -> None:
    """Register the key commands (`keys …`, and under `county`)."""
    k = sub.add_parser("keys", help="本站密钥：查看公钥卡，导入县级公钥卡")
    ksub = k.add_subparsers(dest="keys_command", metavar="子命令", required=True)
    p = with_db(ksub.add_parser("show", help="显示本站编号和公钥指纹；--card 写出公钥卡（交县里登记）"))
    p.add_argument("--card", metavar="FILE", help="把本站公钥卡写到这个文件")
    p.set_defaults(func=run(cmd_keys_show))
    p = with_credentials(with_db(ksub.add_parser("trust-county", help="导入县级公钥卡（管理员；须登录，--user）")))
    p.add_argument("card", metavar="CARD")
    p.set_defaults(func=run(cmd_keys_trust_county))
    p = with_credentials(with_db(county.add_parser(
        "claim", help="在县里的电脑上运行：把本机的公钥登记为县级公钥（管理员；须登录，--user）")))
    p.add_argument("url", metavar="URL")
    p.add_argument("--replace", action="store_true", help="县级数据库已登记另一台电脑时，改用本机")
    p.set_defaults(func=run(cmd_county_claim))
    p = with_credentials(with_db(county.add_parser(
        "register-site", help="登记站点的公钥卡和辖区；再次登记可改辖区（县级站点的管理员；须登录，--user）",
        description="登记站点的公钥卡，并写明站点的辖区：此后该站点送来的记录（家庭、人员、账单、依申请救助及其办理"
                    "环节等）须在辖区之内，之外的逐条不采用并记明原因。再次登记同一站点即可更改辖区。")))
    p.add_argument("url", metavar="URL")
    p.add_argument("card", metavar="CARD", help="站点的公钥卡（jiuzhu keys show --card 写出）")
    p.add_argument("--jurisdiction", required=True, metavar="区划代码",
                   help="站点的辖区：全县 6 位、乡镇 9 位、村 12 位统计用区划代码（如 340223100）；"
                        "公钥卡上写了站点自己的乡镇时，须与之相符")
    p.set_defaults(func=run(cmd_county_register_site))
    p = with_credentials(with_db(county.add_parser(
        "revoke-site", help="吊销站点的公钥（电脑丢失、站点撤并；县级站点的管理员；须登录，--user）")))
    p.add_argument("url", metavar="URL")
    p.add_argument("site_id", metavar="SITE_ID")
    p.add_argument("--reason", required=True, metavar="原因")
    p.set_defaults(func=run(cmd_county_revoke_site))
    p = county.add_parser("sites", help="列出县里登记的站点及其公钥指纹、辖区（未登记辖区的会注明）")
    p.add_argument("url", metavar="URL")
    p.set_defaults(func=run(cmd_county_sites))
    p = county.add_parser("verify", help="核对县级数据库中每条记录是否有所属站点的有效签名、是否在该站点登记的辖区之内")
    p.add_argument("url", metavar="URL")
    p.set_defaults(func=run(cmd_county_verify))

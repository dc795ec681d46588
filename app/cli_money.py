"""Command-line commands on bills and money: bill list, bill void, adjustments, disburse (发放 batches: create,
roster, slips, confirm, cancel)."""

from __future__ import annotations

import argparse
from pathlib import Path

from app.cli_auth import signed_in, with_credentials
from app.cli_store import _say, _session, _xlsx_out, with_db
from app.domain.refs import short_ref


def _person_id(session, id_number: str) -> str:
    from app.domain.errors import FieldError

    row = session.conn.execute("SELECT id FROM persons WHERE id_number = ?", (id_number.strip().upper(),)).fetchone()
    if row is None:
        raise FieldError("id_number", f"没有登记证件号码为 {id_number} 的人员，请核对")
    return row["id"]


def cmd_bill_list(args: argparse.Namespace) -> int:
    from app.services import bill_changes

    session = _session(args, daily_backup=False)
    rows = bill_changes.person_bills(session, _person_id(session, args.id_number), args.year)
    _say("年度\t出院日期\t医院\t发票号\t状态\t总额\t基本医保\t大病保险\t医疗救助\t倾斜救助\t个人自付")
    for b in rows:
        _say("\t".join(str(b[k] or "") for k in ("year", "discharged_on", "hospital", "invoice_number", "status_name",
                                                  "total_cost", "basic_paid", "serious_illness_paid", "assistance_paid",
                                                  "tilt_assistance_paid", "personal_pay"))
             + (f"\t作废原因：{b['void_reason']}" if b["void_reason"] else ""))
    _say(f"共 {len(rows)} 张账单")
    return 0


def cmd_bill_void(args: argparse.Namespace) -> int:
    from app.services import bill_changes

    session = signed_in(args)
    b = bill_changes.find_bill(session, args.hospital, args.invoice)
    changed = bill_changes.void_bill(session, b["id"], args.reason)
    _say(f"已作废 {b['name']} 的账单（{b['hospital']} 发票号 {b['invoice_number']}），{b['year']} 年已重新结算："
         f"未支付的金额 {changed.unpaid} 项直接更新，已支付的生成补付/追回 {changed.adjustments} 笔")
    return 0


def cmd_bill_import(args: argparse.Namespace) -> int:
    from app.domain.errors import FieldError
    from app.exchange.identity_lists import ListError
    from app.services import bill_import
    from app.services.identity_import import rejected_report

    report = _xlsx_out(args.report) if args.report else None
    session = signed_in(args) if args.apply else _session(args, daily_backup=False)
    try:
        result = bill_import.import_bills(session, Path(args.file))
    except ListError as exc:
        raise FieldError("list_file", str(exc)) from None
    _say(f"{Path(args.file).name}：可导入 {len(result.ready)} 张账单，已登记过（跳过）{result.already} 张，"
         f"不能导入 {len(result.rejected)} 行")
    for r in result.rejected[:20]:
        _say(f"  第 {r.line} 行：{r.reason}")
    if len(result.rejected) > 20:
        _say(f"  ……另有 {len(result.rejected) - 20} 行，见 --report 写出的 Excel")
    if report:
        _say(f"不能导入的行已写入 {rejected_report(result, report)}")
    if args.apply:
        _say(f"已导入 {bill_import.apply(session, result)} 张账单并结算（一次提交，均记入审计日志）")
    else:
        _say("以上为比对结果，未作任何修改；确认后加 --apply 导入")
    return 0


def cmd_adjustments(args: argparse.Namespace) -> int:
    from app.services import disbursement, money_xlsx
    from app.services.paperwork import place

    out = _xlsx_out(args.out) if args.out else None
    session = _session(args, daily_backup=False)
    rows = disbursement.adjustments(session, args.year)
    if out:
        money_xlsx.export_adjustments(rows, out, place(session), args.year)
        _say(f"{args.year} 年补付追回 {len(rows)} 笔，已写入 {out}")
        return 0
    _say("姓名\t医院\t发票号\t项目\t类型\t原金额\t新金额\t差额\t状态\t原因")
    for r in rows:
        _say("\t".join(str(r[k] or "") for k in ("name", "hospital", "invoice_number", "tier_name", "line_type",
                                                  "old_amount", "new_amount", "amount", "state_name", "reason")))
    _say(f"共 {len(rows)} 笔")
    return 0


def _writable(text: str, field: str, label: str) -> Path:
    """An output file's path, refused before anything is saved if its folder is not there or not writable."""
    import os

    from app.domain.errors import FieldError

    path = Path(text)
    folder = path.parent if str(path.parent) else Path(".")
    if path.is_dir():
        raise FieldError(field, f"{path} 是一个文件夹，请给出要写入的文件名", label)
    if not folder.is_dir():
        raise FieldError(field, f"文件夹 {folder} 不存在，请先建好它或换一个位置", label)
    if not os.access(folder, os.W_OK):
        raise FieldError(field, f"没有权限写入文件夹 {folder}，请换一个位置", label)
    return path


def cmd_disburse_create(args: argparse.Namespace) -> int:
    from app.domain.errors import FieldError
    from app.services import disbursement

    session = signed_in(args)
    # Checked before the batch is saved: a batch whose roster could not be written was left saved and unseen.
    roster = _writable(args.roster, "roster", "花名册文件")
    slips_to = _writable(args.slips, "slips", "结算单文件") if args.slips else None
    b = disbursement.create_batch(session, args.year)
    try:
        disbursement.roster_pdf(session, b["id"], roster)
        if slips_to:
            disbursement.slips_pdf(session, b["id"], slips_to)
    except (OSError, FieldError) as exc:
        ref = short_ref(b["id"])
        raise FieldError("roster", f"发放批次 {ref} 已生成（{b['line_count']} 笔，合计 {b['total']} 元），但文件没有全部写成"
                                   f"（{exc}）；花名册可用 jiuzhu disburse roster {ref} 花名册.pdf、结算单可用 jiuzhu "
                                   f"disburse slips {ref} 结算单.pdf 重新打印", "花名册文件") from None
    slips = f"每人的年度结算单已写入 {args.slips}。" if slips_to else ""
    _say(f"已生成发放批次 {short_ref(b['id'])}：{b['line_count']} 笔，合计 {b['total']} 元；花名册已写入 {args.roster}。"
         f"{slips}发放后由审核人确认：jiuzhu disburse confirm {short_ref(b['id'])}")
    return 0


def _batch_file(args: argparse.Namespace, write, field: str, label: str, what: str) -> int:
    """Print one of a batch's documents (`write(session, batch_id, path)`) to args.out."""
    from app.services import disbursement

    session = signed_in(args)
    b = disbursement.batch(session, args.batch.lower())
    write(session, b["id"], _writable(args.out, field, label))
    _say(f"发放批次 {short_ref(b['id'])} {what}已写入 {args.out}")
    return 0


def cmd_disburse_roster(args: argparse.Namespace) -> int:
    from app.services import disbursement

    return _batch_file(args, disbursement.roster_pdf, "roster", "花名册文件", "的花名册")


def cmd_disburse_slips(args: argparse.Namespace) -> int:
    from app.services import disbursement

    return _batch_file(args, disbursement.slips_pdf, "slips", "结算单文件", "每人的年度结算单")


def cmd_disburse_confirm(args: argparse.Namespace) -> int:
    from app.services import disbursement
    from app.store.clock import local_time

    b = disbursement.confirm_batch(signed_in(args), args.batch.lower())
    _say(f"发放批次 {short_ref(b['id'])} 已确认发放：{b['line_count']} 笔，合计 {b['total']} 元"
         f"（{local_time(b['confirmed_at']):%Y-%m-%d %H:%M}，{b['confirmed_by']}）")
    return 0


def cmd_disburse_cancel(args: argparse.Namespace) -> int:
    from app.services import disbursement

    b = disbursement.cancel_batch(signed_in(args), args.batch.lower(), args.reason)
    _say(f"发放批次 {short_ref(b['id'])} 已撤销（{b['cancelled_by']}：{b['cancel_reason']}）：{disbursement.CANCEL_MEANS}")
    return 0


def cmd_policy_set_local(args: argparse.Namespace) -> int:
    from app.domain.errors import FieldError
    from app.services import bills, county

    key, sep, value = args.assignment.partition("=")
    if not sep or not key.strip():
        raise FieldError("local", f"{args.assignment}：请写成 键=值，例如 basic_inpatient_rate=60%")
    session = signed_in(args)
    years = county.set_local_from(session, key.strip(), value, args.start)
    _say(f"已修改地方参数 {key.strip()} = {value.strip()}，自 {args.start} 起（已记入审计日志）")
    if not years:
        _say("该日期以后没有已录入的账单，无需重新结算")
    for year in years:
        p = bills.preview_resettle(session, year)
        _say(f"{year} 年若重新结算：{p.changed} 笔结算有变化，未支付的金额 {p.unpaid} 项直接更新，"
             f"已支付的生成补付/追回 {p.adjustments} 笔。执行：jiuzhu resettle --year {year}")
    return 0


def add_policy_commands(psub: argparse._SubParsersAction, run) -> None:
    """Commands added to `jiuzhu policy`."""
    p = with_credentials(with_db(psub.add_parser("set-local", help="自某日起修改一个地方参数（记入审计日志），并显示重新结算将产生的变化")))
    p.add_argument("assignment", metavar="KEY=VALUE")
    p.add_argument("--from", dest="start", required=True, metavar="DATE", help="生效日期，如 2025-01-01")
    p.set_defaults(func=run(cmd_policy_set_local))


def add_commands(sub: argparse._SubParsersAction, run) -> None:
    bill = sub.add_parser("bill", help="就诊账单：列出、作废")
    bsub = bill.add_subparsers(dest="bill_command", metavar="子命令", required=True)
    p = with_db(bsub.add_parser("list", help="列出一个人的账单（含已作废的）及各项当前结算金额"))
    p.add_argument("--id-number", required=True, help="身份证号")
    p.add_argument("--year", type=int, help="只列这一年度")
    p.set_defaults(func=run(cmd_bill_list))
    p = with_credentials(with_db(bsub.add_parser("void", help="作废一张账单（写明原因），并重新结算该年度")))
    p.add_argument("--hospital", required=True, help="医院名称（与录入时一致）")
    p.add_argument("--invoice", required=True, help="发票号")
    p.add_argument("--reason", required=True, help="作废原因")
    p.set_defaults(func=run(cmd_bill_void))
    p = with_credentials(with_db(bsub.add_parser("import", help="导入医院或医保系统的一站式结算清单（.xlsx/.csv）：先比对，加 --apply 才导入")))
    p.add_argument("file", metavar="FILE")
    p.add_argument("--apply", action="store_true", help="把可导入的账单全部导入并结算")
    p.add_argument("--report", metavar="OUT.xlsx", help="把不能导入的行及原因写成 Excel")
    p.set_defaults(func=run(cmd_bill_import))
    p = with_db(sub.add_parser("adjustments", help="一个年度的补付追回明细；给出 OUT.xlsx 时写成 Excel"))
    p.add_argument("--year", type=int, required=True)
    p.add_argument("out", nargs="?", metavar="OUT.xlsx")
    p.set_defaults(func=run(cmd_adjustments))
    dis = sub.add_parser("disburse", help="医疗救助发放批次：生成并打印花名册、确认已发放、撤销未发放的")
    dsub = dis.add_subparsers(dest="disburse_command", metavar="子命令", required=True)
    p = with_credentials(with_db(dsub.add_parser("create", help="把本年度未发放的金额和待办的补付追回生成一个批次，打印花名册（PDF）")))
    p.add_argument("--year", type=int, required=True)
    p.add_argument("--roster", required=True, metavar="ROSTER.pdf", help="花名册写到这里")
    p.add_argument("--slips", metavar="SLIPS.pdf", help="另把批次中每人的年度结算单写成一个文件（发放时交给各户签字）")
    p.set_defaults(func=run(cmd_disburse_create))
    p = with_credentials(with_db(dsub.add_parser("roster", help="重新打印一个批次的发放花名册（PDF）")))
    p.add_argument("batch", metavar="批次编号")
    p.add_argument("out", metavar="ROSTER.pdf")
    p.set_defaults(func=run(cmd_disburse_roster))
    p = with_credentials(with_db(dsub.add_parser("slips", help="把一个批次中每人的年度结算单写成一个 PDF，一人一页起")))
    p.add_argument("batch", metavar="批次编号")
    p.add_argument("out", metavar="SLIPS.pdf")
    p.set_defaults(func=run(cmd_disburse_slips))
    p = with_credentials(with_db(dsub.add_parser("confirm", help="确认一个批次已发放（批次编号前 8 位即可）")))
    p.add_argument("batch", metavar="批次编号")
    p.set_defaults(func=run(cmd_disburse_confirm))
    p = with_credentials(with_db(dsub.add_parser("cancel", help="撤销一个尚未发放的批次（写明原因）；其中的金额恢复为未发放")))
    p.add_argument("batch", metavar="批次编号")
    p.add_argument("--reason", required=True, help="撤销原因")
    p.set_defaults(func=run(cmd_disburse_cancel))

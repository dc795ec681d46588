"""`jiuzhu simulate`: the county's year settled under proposed local values or another policy file, beside the current
ones; reads only (no sign-in, nothing written), prints the fund by tier, and writes the workbook and the PDF if asked."""

from __future__ import annotations

import argparse
from pathlib import Path

from app.cli_store import _progress, _progress_end, _say, _session, _xlsx_out, with_db


def cmd_simulate(args: argparse.Namespace) -> int:
    from app.domain.errors import FieldError
    from app.services import simulation

    out = _xlsx_out(args.out) if args.out else None
    pdf = Path(args.pdf) if args.pdf else None
    if pdf is not None and pdf.suffix.lower() != ".pdf":
        raise FieldError("pdf", f"输出文件 {args.pdf} 应以 .pdf 结尾", "PDF 文件")
    if args.start and not args.local:
        raise FieldError("valid_from", "--from 是所改地方参数的生效日期，须与 --local 一起使用；政策文件的生效日期写在文件里",
                         "生效日期")
    session = _session(args, daily_backup=False)
    proposals = simulation.proposals_from(args.local or [], Path(args.policy) if args.policy else None)
    sim = None
    for done, total, sim in simulation.simulate(session, args.year, proposals, args.start, args.full_year):
        _progress(f"测算 {done}/{total} 人·方案")
    _progress_end()
    for line in sim.heading():
        _say(line)
    for row in (sim.tables.tiers.headers, *sim.tables.tiers.rows):
        _say("\t".join(str(v) for v in row))
    changes = {row[0]: row[1:] for row in sim.tables.changes.rows}
    for k, (name, _) in enumerate(sim.scenarios[1:]):
        _say(f"{name}：受益 {changes['受益人数'][k]} 人（合计 {changes['受益金额合计'][k]} 元），"
             f"减少 {changes['减少人数'][k]} 人（合计 {changes['减少金额合计'][k]} 元），不变 {changes['不变人数'][k]} 人")
    if out is not None:
        from app.services.simulation_xlsx import export_simulation

        export_simulation(sim, out)
        _say(f"已写入 {out}")
    if pdf is not None:
        from app.documents.simulation_pdf import simulation_summary

        simulation_summary(pdf, sim)
        _say(f"已写入 {pdf}")
    return 0


def add_commands(sub: argparse._SubParsersAction, run) -> None:
    p = with_db(sub.add_parser("simulate", help="政策测算：按拟调整的地方参数或政策文件重算一个年度，与现行并列比较（只读，不改变任何记录）"))
    p.add_argument("--year", type=int, required=True, help="年度（本年则按至今已录入的账单）")
    p.add_argument("--policy", metavar="FILE", help="拟采用的政策文件（先按 jiuzhu policy check 的规则检查）")
    p.add_argument("--local", metavar="KEY=VALUE", action="append",
                   help="拟调整的地方参数，可写多次；几个值并列比较用 / 分隔，如 tilt_rate=50%%/60%%/70%%")
    p.add_argument("--from", dest="start", metavar="DATE", help="所调整地方参数的生效日期（默认全年）")
    p.add_argument("--full-year", action="store_true", help="本年度未过完时，金额按已过天数线性折算为全年")
    p.add_argument("--pdf", metavar="OUT.pdf", help="另写一页 PDF 摘要（供研究决定的会议）")
    p.add_argument("out", nargs="?", metavar="OUT.xlsx", help="写成 Excel 工作簿")
    p.set_defaults(func=run(cmd_simulate))

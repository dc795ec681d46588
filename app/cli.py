"""The command line: settle cases, inspect and check policy files (no arguments: the GUI)."""

from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path

from app import __version__

EXIT_BAD_INPUT = 2


def _print_json(obj: object) -> None:
    sys.stdout.write(json.dumps(obj, ensure_ascii=False, indent=2) + "\n")


def _fail(message: str) -> int:
    sys.stderr.write(message.replace("\n", " ") + "\n")
    return EXIT_BAD_INPUT


class _DuplicateKey(ValueError):
    def __init__(self, key: str):
        super().__init__(key)
        self.key = key


def _no_duplicate_keys(pairs: list[tuple[str, object]]) -> dict:
    seen: dict = {}
    for key, value in pairs:
        if key in seen:
            raise _DuplicateKey(key)
        seen[key] = value
    return seen


# settle-json nests three deep at most (the case → visits → one visit; the case → person → categories); a case file is
# a few KB. Beyond these the input is not a case, and json would recurse or convert without bound.
CASE_DEPTH = 3
CASE_DIGITS = 20
CASE_BYTES = 10 * 1024 * 1024
_STRING = re.compile(r'"(?:[^"\\]|\\.)*"')
_BRACKET = re.compile(r"[\[\]{}]")


class _Unbounded(ValueError):
    """A case beyond the limits above; the message names the limit."""


def _depth_check(text: str) -> None:
    depth = 0
    for bracket in _BRACKET.findall(_STRING.sub("", text)):
        depth += 1 if bracket in "[{" else -1
        if depth > CASE_DEPTH:
            raise _Unbounded(f"嵌套超过 {CASE_DEPTH} 层（settle-json 最多三层：案例 → visits → 每次就诊），请检查文件")


def _number(kind):
    def parse(text: str):
        if sum(ch.isdigit() for ch in text) > CASE_DIGITS:
            raise _Unbounded(f"数字 {text[:24]}… 超过 {CASE_DIGITS} 位，请检查（金额写成“1234.56”即可）")
        return kind(text)
    return parse


def _json_problem(exc: json.JSONDecodeError) -> str:
    if exc.doc.strip() == "":
        return "文件是空的"
    known = {"Expecting value": "缺少值", "Unterminated string": "字符串缺少结尾的引号",
             "Expecting ',' delimiter": "缺少逗号", "Expecting property name": "键名须用双引号括起来",
             "Expecting ':' delimiter": "键后缺少冒号", "Extra data": "JSON 结束后还有多余内容",
             "Invalid control character": "字符串中有换行或控制字符"}
    return next((zh for en, zh in known.items() if exc.msg.startswith(en)), "格式错误")


def _read_capped(path: Path) -> bytes:
    with path.open("rb") as f:
        return f.read(CASE_BYTES + 1)


def cmd_settle(args: argparse.Namespace) -> int:
    from app.domain.case import CaseError
    from app.policy.loader import PolicyError
    from app.policy.settle import error_line, settle_json

    try:
        # utf-8-sig: Windows Notepad may save UTF-8 with a byte-order mark.
        raw = sys.stdin.buffer.read(CASE_BYTES + 1) if args.case == "-" else _read_capped(Path(args.case))
        if len(raw) > CASE_BYTES:
            return _fail(f"CASE：文件超过 {CASE_BYTES // (1024 * 1024)} MB，不是一个案例，请检查")
        text = raw.decode("utf-8-sig")
    except FileNotFoundError:
        return _fail(f"CASE：找不到文件 {args.case}，请检查路径")
    except IsADirectoryError:
        return _fail(f"CASE：{args.case} 是文件夹，请给出案例文件（.json）")
    except PermissionError:
        return _fail(f"CASE：没有读取 {args.case} 的权限")
    except OSError as exc:
        return _fail(f"CASE：无法读取文件 {args.case}（{exc.strerror}）")
    except UnicodeDecodeError:
        return _fail(f"CASE：文件 {args.case} 不是 UTF-8 编码，请用 UTF-8 保存")
    try:
        _depth_check(text)
        data = json.loads(text.lstrip("\ufeff"), object_pairs_hook=_no_duplicate_keys,
                          parse_int=_number(int), parse_float=_number(float))
    except json.JSONDecodeError as exc:
        return _fail(f"CASE：不是有效的 JSON（第 {exc.lineno} 行第 {exc.colno} 列附近：{_json_problem(exc)}）")
    except _DuplicateKey as exc:
        return _fail(f"{exc.key}：同一个对象里写了两次，请只保留一个")
    except _Unbounded as exc:
        return _fail(f"CASE：{exc}")
    try:
        result = settle_json(data)
    except (CaseError, PolicyError) as exc:
        return _fail(error_line(exc))
    _print_json(result.to_json())
    return 0


def cmd_policy_list(args: argparse.Namespace) -> int:
    from app.policy.loader import PolicyError, load_source, policy_sources

    for pid, source in policy_sources().items():
        try:
            p = load_source(source).policy
        except PolicyError as exc:  # one broken file must not hide the others
            sys.stdout.write(f"{pid}\t（文件有误：{exc}）\n")
            continue
        sys.stdout.write(f"{p.id}\t{p.region}\t{p.document}\t施行 {p.effective}\t{p.title}\t{source.describe()}\n")
    return 0


def cmd_policy_show(args: argparse.Namespace) -> int:
    from app.policy.describe import describe
    from app.policy.loader import PolicyError, load_source, policy_source

    try:
        source = policy_source(args.id)
        loaded = load_source(source)
    except PolicyError as exc:
        return _fail(str(exc))
    sys.stdout.write(f"来源：{source.describe()}　版本 {loaded.version}\n")
    sys.stdout.write(describe(loaded.policy))
    return 0


def cmd_policy_check(args: argparse.Namespace) -> int:
    from app.policy.loader import PolicyError, load_file

    try:
        loaded = load_file(Path(args.file))
    except PolicyError as exc:
        return _fail(str(exc))
    p = loaded.policy
    sys.stdout.write(f"{args.file}：格式正确（{p.id}，{p.document}，版本 {loaded.version}，"
                     f"地方参数 {len(p.locals)} 项）\n")
    return 0


def cmd_policy_install(args: argparse.Namespace) -> int:
    from app.policy.install import install_policy
    from app.policy.loader import BUNDLED, PolicyError, policy_sources

    before = policy_sources().get(Path(args.file).stem)
    try:
        loaded = install_policy(Path(args.file))
    except PolicyError as exc:
        return _fail(str(exc))
    p = loaded.policy
    if before is None:
        what = "新增政策"
    elif before.origin == BUNDLED:
        what = "今后代替内置的同编号政策"
    else:
        what = "替换了本县原先安装的同编号文件"
    sys.stdout.write(f"已安装到 {loaded.path}（{p.id}，{p.document}，版本 {loaded.version}，{what}）。"
                     "重新打开程序后生效；已录入的账单要按新标准重算请用 jiuzhu resettle --year 年度\n")
    return 0


def cmd_policy_new(args: argparse.Namespace) -> int:
    from datetime import date

    from app.policy.loader import valid_id
    from app.policy.skeleton import skeleton
    from app.store import clock

    if not valid_id(args.id):
        return _fail(f"ID：“{args.id}”只能由小写字母、数字和连字符组成，如 wuhu-2022（地区拼音-年份）")
    try:
        day = date.fromisoformat(args.date) if args.date else date(clock.today().year, 1, 1)
    except ValueError:
        return _fail(f"--date：“{args.date}”不是日期，请写成 2024-01-01 的形式")
    target = Path(args.out or ".") / f"{args.id}.yaml"
    try:
        with target.open("x", encoding="utf-8") as f:  # never over an officer's work
            f.write(skeleton(args.id, day))
    except FileExistsError:
        return _fail(f"{target}：文件已存在，不会覆盖；请换一个编号或先移走它")
    except OSError as exc:
        return _fail(f"{target}：无法写入：{exc.strerror or exc}")
    sys.stdout.write(f"已写出 {target}：把其中的“待填”换成文件的内容，不需要的可选节整节删去；"
                     f"然后 jiuzhu policy check {target}\n")
    return 0


def cmd_policy_test(args: argparse.Namespace) -> int:
    from app.policy.cases import CasesError, run_cases
    from app.policy.loader import PolicyError, load_file

    try:
        loaded = load_file(Path(args.file))
        outcomes = run_cases(loaded, Path(args.cases))
    except (PolicyError, CasesError) as exc:
        return _fail(str(exc))
    for o in outcomes:
        sys.stdout.write(f"{'一致' if o.agrees else '不一致'}　{o.name}\n")
        for d in o.differences:
            sys.stdout.write(f"　　{d}\n")
    agreed = sum(o.agrees for o in outcomes)
    sys.stdout.write(f"{len(outcomes)} 个案例中 {agreed} 个一致"
                     + (f"，{len(outcomes) - agreed} 个不一致\n" if agreed < len(outcomes) else "\n"))
    return 0 if agreed == len(outcomes) else 1


def cmd_policy_path(args: argparse.Namespace) -> int:
    from app.store.paths import county_policies_dir

    sys.stdout.write(f"{county_policies_dir()}\n")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="jiuzhu", description="救助通：医疗救助三重制度测算与经办")
    parser.add_argument("--version", action="version", version=f"救助通 {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="命令")
    p = sub.add_parser("settle", help="按政策结算一个案例（settle-json 格式），输出 JSON")
    p.add_argument("case", metavar="CASE.json", help="案例文件；写 - 表示从标准输入读取")
    p.set_defaults(func=cmd_settle)
    pol = sub.add_parser("policy", help="查看、检查、安装政策文件")
    psub = pol.add_subparsers(dest="policy_command", metavar="子命令", required=True)
    p = psub.add_parser("list", help="列出所有政策及其来源（内置或本县修改）")
    p.set_defaults(func=cmd_policy_list)
    p = psub.add_parser("show", help="显示一项政策的规则、取值、依据和地方参数")
    p.add_argument("id")
    p.set_defaults(func=cmd_policy_show)
    p = psub.add_parser("check", help="检查县里修改过的政策文件，有错时以 2 退出并指出第一处问题")
    p.add_argument("file")
    p.set_defaults(func=cmd_policy_check)
    p = psub.add_parser("install", help="检查政策文件，通过后装入本县政策文件夹（优先于内置的同编号政策）；有错以 2 退出")
    p.add_argument("file")
    p.set_defaults(func=cmd_policy_install)
    p = psub.add_parser("new", help="写出一份带说明的空白政策文件（各节齐全，“待填”处按文件填写）")
    p.add_argument("id", metavar="ID", help="新政策的编号，如 shili-2024（也是文件名）")
    p.add_argument("--date", metavar="YYYY-MM-DD", help="施行日期，各条规则的生效日期先都写成它（默认今年 1 月 1 日）")
    p.add_argument("--out", metavar="DIR", help="写到哪个文件夹（默认当前文件夹）")
    p.set_defaults(func=cmd_policy_new)
    p = psub.add_parser("test", help="用自己手算的案例核对政策文件：逐个显示一致或不一致；全部一致退出码 0，否则 1")
    p.add_argument("file", help="政策文件路径")
    p.add_argument("cases", metavar="CASES.yaml", help="案例文件（每个案例写 name、case、expect 或 error）")
    p.set_defaults(func=cmd_policy_test)
    p = psub.add_parser("path", help="显示本县政策文件夹的位置（升级不会改动它）")
    p.set_defaults(func=cmd_policy_path)
    from app.cli_money import add_policy_commands

    add_policy_commands(psub, _guarded)
    p = sub.add_parser("gui", help="打开桌面程序（不带命令时默认如此）")
    p.add_argument("--db", metavar="PATH", help="数据库文件（默认在本用户的数据文件夹）")
    p.add_argument("--smoke", action="store_true", help="离屏打开每个主要页面一次后退出（打包与 CI 用）")
    p.add_argument("--screenshots", metavar="DIR", help="把每个页面的截图存到此文件夹")
    p.set_defaults(func=cmd_gui)
    from app.cli_store import add_commands

    add_commands(sub, _guarded)
    from app.cli_exchange import add_commands as add_exchange_commands

    add_exchange_commands(sub, _guarded)
    from app.cli_money import add_commands as add_money_commands

    add_money_commands(sub, _guarded)
    from app.cli_simulate import add_commands as add_simulate_commands

    add_simulate_commands(sub, _guarded)
    return parser


def _guarded(func):
    """Turn the store's and the use cases' errors into one Chinese line on stderr and exit 2."""

    def run(args: argparse.Namespace) -> int:
        from app.domain.errors import FieldError
        from app.store.errors import DatabaseDamaged, StoreError

        try:
            return func(args)
        except DatabaseDamaged as exc:
            how = f" 恢复最近的备份请运行：jiuzhu restore \"{exc.backup}\" --db \"{exc.path}\"" if exc.backup else ""
            return _fail(str(exc) + how)
        except (FieldError, StoreError) as exc:
            return _fail(str(exc))

    return run


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "command", None):
        return cmd_gui(argparse.Namespace(db=None, smoke=False, screenshots=None))
    return args.func(args)


def cmd_gui(args: argparse.Namespace) -> int:
    from app.gui.app import run_gui
    from app.store.paths import default_db_path

    return run_gui(Path(args.db) if args.db else default_db_path(), smoke=args.smoke,
                   screenshots=Path(args.screenshots) if args.screenshots else None)

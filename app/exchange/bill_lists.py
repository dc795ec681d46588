"""One-stop settlement lists (.xlsx or .csv) as hospitals and the 医保 system export them: read, understood or refused.

Forgiving about layout (title rows, header variants, empty rows, full-width digits, Excel dates and serial numbers,
a GBK-encoded CSV), strict about content: each row becomes a bill or is refused with its reason. Bounded: a file
larger than MAX_BYTES or with more than MAX_ROWS rows is refused whole.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from functools import partial
from operator import itemgetter
from pathlib import Path

from app.domain.idnumber import IdNumberError, parse_id_number
from app.domain.invoice import invoice_key
from app.exchange import cell_errors
from app.exchange.cell_errors import CellError
from app.exchange.identity_lists import ListError, Rejected, csv_rows, first_sheet, match_header, parse_date

MAX_BYTES = 64 * 2**20
MAX_ROWS = 500_000
# Header texts seen in hospitals' and the 医保 system's exports, and the field each means.
HEADERS: dict[str, tuple[str, ...]] = {
    "name": ("姓名", "患者姓名", "参保人姓名", "病人姓名"),
    "id_number": ("身份证号", "身份证号码", "公民身份号码", "证件号码", "参保人身份证号", "身份证件号码"),
    "hospital": ("医院", "医院名称", "医疗机构", "医疗机构名称", "定点医疗机构名称", "就诊医院"),
    "hospital_level": ("医院级别", "医院等级", "医疗机构级别", "医疗机构等级", "机构级别"),
    "kind": ("就诊类别", "就诊类型", "医疗类别", "结算类别"),
    "admitted_on": ("入院日期", "入院时间", "就诊日期", "入院（就诊）日期"),
    "discharged_on": ("出院日期", "出院时间", "结算日期", "出院（结算）日期"),
    "total_cost": ("医疗费用总额", "总费用", "医疗总费用", "费用总额", "医疗费总额"),
    "policy_covered": ("政策范围内费用", "合规费用", "政策范围内金额", "符合政策范围费用"),
    "basic_paid": ("统筹支付", "基本医保统筹支付", "统筹基金支付", "基本医疗保险统筹基金支付", "基本医保支付"),
    "serious_illness_paid": ("大病支付", "大病保险支付", "大病保险", "大病保险基金支付"),
    "invoice_number": ("发票号", "发票号码", "票据号", "票据号码", "结算单号", "单据号"),
    # Optional yes/no columns: where the patient was treated decides 救助 (芜医保〔2021〕76号 二(二)5). A list without
    # them gives bills read as 参保地, not 急诊, not 备案 — as bills were read before the columns existed.
    "emergency": ("急诊抢救", "是否急诊抢救", "急诊、抢救", "是否急诊", "急诊标志"),
    "in_insured_area": ("参保地就医", "是否参保地就医", "本地就医", "是否本地就医"),
    "out_of_area": ("异地就医", "是否异地就医", "异地就医标志"),
    "filed_remote": ("异地备案", "是否异地备案", "异地就医备案", "是否异地就医备案"),
}
REQUIRED = ("name", "id_number", "hospital", "kind", "discharged_on", "total_cost", "policy_covered", "invoice_number")
YES_NO = {"是": True, "否": False, "Y": True, "N": False, "y": True, "n": False, "1": True, "0": False, "√": True,
          "TRUE": True, "FALSE": False, "True": True, "False": False}
KIND_WORDS = {"住院": "住院", "普通住院": "住院", "门诊慢特病": "门诊慢特病", "门诊慢性病": "门诊慢特病", "门诊特殊病": "门诊慢特病",
              "慢特病": "门诊慢特病", "门诊特殊慢性病": "门诊慢特病", "普通门诊": "普通门诊", "门诊": "普通门诊"}
_NORMAL = str.maketrans("０１２３４５６７８９．，Ｘｘ", "0123456789.,Xx")


@dataclass
class BillRow:
    """One understood row: whose bill (name and ID number as the list gives them) and the slip's figures."""

    line: int
    name: str
    id_number: str
    fields: dict
    # Fields whose cell was empty though the list has their column: the hospital did not state them (an outpatient
    # visit's 入院日期, a 统筹 figure left to the engine), so they say nothing about a bill already recorded.
    unstated: frozenset[str] = frozenset()


@dataclass
class ParsedBills:
    """What a file holds: understood rows and refused rows with their reasons."""

    path: Path
    rows: list[BillRow] = field(default_factory=list)
    rejected: list[Rejected] = field(default_factory=list)
    columns: frozenset[str] = frozenset()  # the fields the list has a column for (HEADERS' keys)


def _text(value) -> str:
    return "" if value is None else str(value).strip().translate(_NORMAL)


def _header(rows: list[list]) -> tuple[int, dict[str, int]]:
    for i, row in enumerate(rows[:15]):
        found = match_header([_text(v) for v in row], HEADERS)
        if all(k in found for k in REQUIRED):
            return i, found
    names = "、".join(HEADERS[k][0] for k in REQUIRED)
    raise ListError(f"前 15 行中找不到结算清单的表头（须有 {names} 各列）")


def read_bills(path: Path) -> ParsedBills:
    """Read a settlement list; refuse a file that is not one, or too large, with a message."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in (".xlsx", ".csv"):
        raise ListError(f"{path.name}：只能导入 .xlsx 或 .csv；.xls 请先在 Excel 或 WPS 中另存为 .xlsx")
    try:
        size = path.stat().st_size
    except OSError as exc:
        raise ListError(f"{path.name}：无法读取（{exc.strerror}）") from None
    if size > MAX_BYTES:
        raise ListError(f"{path.name}：文件有 {size // 2**20} MB，超过 {MAX_BYTES // 2**20} MB，请分成几个文件导入")
    rows = csv_rows(path) if suffix == ".csv" else first_sheet(path)
    if len(rows) > MAX_ROWS:
        raise ListError(f"{path.name}：超过 {MAX_ROWS:,} 行，请分成几个文件导入")
    try:
        at, columns = _header(rows)
    except ListError as exc:
        raise ListError(f"{path.name}：{exc}") from None
    parsed = ParsedBills(path, columns=frozenset(columns))
    # Each field's column, or one past the row's end for a column the list does not have (read as empty).
    width = max(columns.values()) + 1
    picked = [columns.get(k, width) for k in _FIELDS]
    pick = itemgetter(*picked)
    read = _Cells()
    for line, row in enumerate(rows[at + 1:], start=at + 2):
        if _blank(row):
            continue
        try:
            # Cut at `width` before the empty cell is put there: a cell in a column past the header (a note, a stray
            # value) was read as every field the list has no column for (an amount, 急诊抢救).
            cells = pick([*row[:width], *([None] * (width + 1 - min(len(row), width)))])
            if CellError in map(type, cells):
                _no_error(cells, picked, rows[at])
            parsed.rows.append(read.row(line, cells))
        except ValueError as exc:
            # The name and ID number as written, so that a refused row can be found.
            cells = [_text(v) for v in row]
            parsed.rejected.append(Rejected(line, cells, str(exc), *(cells[columns[k]] if columns.get(k, width) < len(
                cells) else "" for k in ("name", "id_number"))))
    return parsed


def _no_error(cells: tuple, columns: list[int], header: list) -> None:
    """Refuse a row one of whose read cells (from `columns`) held a formula's error (see cell_errors), naming the
    column by the list's own header."""
    for value, at in zip(cells, columns):
        if type(value) is CellError:
            raise ValueError(cell_errors.refusal(cell_errors.column_name(header, at), value))


def _blank(row: list) -> bool:
    """Whether every cell is empty or blank text (any other value, 0 included, is something)."""
    for v in row:
        if v is not None and (type(v) is not str or v.strip()):
            return False
    return True


_FLAGS = ("emergency", "in_insured_area", "filed_remote", "out_of_area")
_FIELDS = ("name", "id_number", "kind", "discharged_on", "admitted_on", "hospital", "hospital_level", "total_cost",
           "policy_covered", "basic_paid", "serious_illness_paid", "invoice_number", *_FLAGS)


class _Refused(str):
    """A cell's refusal as remembered: the message of the ValueError to raise again."""


class _Cells:
    """Reads one list's rows, remembering what each distinct cell of a column means: a month's list names the same
    people, hospitals, kinds and dates over and over, so each is read (and checked, or refused) once."""

    def __init__(self) -> None:
        self.memo: dict[str, dict] = {k: {} for k in _READERS}

    def cell(self, key: str, value):
        """The value read by _READERS[key], or its ValueError."""
        memo = self.memo[key]
        # Text is the usual cell; other values are told apart by type too, as 1, 1.0 and True are equal keys.
        known = value if type(value) is str else (type(value), value)
        try:
            found = memo[known]
        except KeyError:
            try:
                found = _READERS[key](value)
            except ValueError as exc:
                found = _Refused(str(exc))
            memo[known] = found
        except TypeError:  # not hashable: never from a reader, but nothing is assumed of a cell
            return _READERS[key](value)
        if type(found) is _Refused:
            raise ValueError(str(found))
        return found

    def row(self, line: int, cells: tuple) -> BillRow:
        """One row's cells, in _FIELDS order, as a bill or a ValueError saying why not."""
        (name, number, word, discharged, admitted, hospital, level, total, covered, basic, serious,
         invoice, *where_treated) = cells
        cell = self.cell
        name = cell("name", name)
        number = cell("id_number", number)
        kind = cell("kind", word)
        discharged = cell("discharged_on", discharged)
        admitted = cell("admitted_on", admitted)
        if discharged is None:
            raise ValueError("出院（结算）日期为空")
        fields = {"hospital": cell("text", hospital), "hospital_level": cell("text", level) or None,
                  "kind": kind, "admitted_on": admitted or discharged, "discharged_on": discharged,
                  "total_cost": _money(total), "policy_covered": _money(covered),
                  "basic_paid": _money(basic) or None, "serious_illness_paid": _money(serious) or None,
                  "invoice_number": _invoice(invoice)}
        unstated = frozenset(k for k, v in (("admitted_on", admitted), ("basic_paid", fields["basic_paid"]),
                                            ("serious_illness_paid", fields["serious_illness_paid"])) if v is None)
        if where_treated != _NO_FLAGS:
            self._where_treated(fields, where_treated)
        return BillRow(line, name, number, fields, unstated)

    def _where_treated(self, fields: dict, cells: list) -> None:
        flags = dict(zip(_FLAGS, cells))
        for key in ("emergency", "in_insured_area", "filed_remote"):
            flag = self.cell(key, flags[key])
            if flag is not None:
                fields[key] = flag
        away = self.cell("out_of_area", flags["out_of_area"])
        if away is not None:
            if fields.get("in_insured_area") is away:
                raise ValueError("“参保地就医”与“异地就医”两列相互矛盾，请核对")
            fields["in_insured_area"] = not away


_NO_FLAGS = [None] * len(_FLAGS)


def _name(value) -> str:
    name = "".join(_text(value).split())
    if not name:
        raise ValueError("姓名为空")
    return name


def _kind(value) -> str:
    word = "".join(_text(value).split())
    kind = KIND_WORDS.get(word)
    if kind is None:
        raise ValueError(f"就诊类别“{word}”无法识别（应为 住院、门诊慢特病 或 普通门诊）")
    return kind


def _yes_no(value, label: str) -> bool | None:
    """A yes/no cell (是/否, Y/N, 1/0); None when the column is absent or the cell empty."""
    if isinstance(value, bool):
        return value
    text = _text(value)
    if text == "":
        return None
    if text.endswith(".0"):  # Excel gives 1 and 0 as floats
        text = text[:-2]
    found = YES_NO.get(text)
    if found is None:
        raise ValueError(f"“{label}”一栏的“{text}”无法识别（应为 是 或 否）")
    return found


def _id_number(value) -> str:
    try:
        return parse_id_number(_text(value), "id_number").value
    except IdNumberError as exc:
        raise ValueError(exc.message) from None


def _day_cell(label: str):
    def read(value):
        try:
            return parse_date(value)
        except ValueError as exc:
            raise ValueError(f"{label}{exc}") from None
    return read


def _invoice(value) -> str:
    """An invoice number as the bill's own check writes it (invoice_key), so that the list's rows are compared with
    the bills recorded by the same key. Excel keeps a number of more than 15 digits only approximately: such a cell
    has lost its last digits, and is refused rather than read as another invoice."""
    if isinstance(value, float):
        raise ValueError(f"发票号“{value!r}”在 Excel 中存成了数字，末几位已经丢失；请把发票号一列设为文本，按原样填写后"
                         f"重新导出")
    return invoice_key(_text(value))


def _money(value) -> str:
    """An amount as text (the bill's own check reads it, parse_money: 1,234.50, ¥ and 元 as lists write them, and
    commas only in groups of three, so that a mistyped "1,20" is refused rather than read as 120)."""
    if isinstance(value, float):
        if not math.isfinite(value):
            return repr(value)  # "inf" or "nan": refused by the check as no amount, not an error of the import
        cents = value * 100
        return f"{value:.2f}" if abs(cents - round(cents)) < 1e-6 else repr(value)
    if type(value) is int:  # nothing to strip or translate (True is not an int here: it reads as text)
        return str(value)
    return _text(value)


# How each remembered column is read; a reader raises ValueError with the row's refusal.
_READERS = {"name": _name, "id_number": _id_number, "kind": _kind, "text": _text,
            "discharged_on": _day_cell("出院（结算）日期"), "admitted_on": _day_cell("入院日期"),
            "emergency": partial(_yes_no, label="急诊、抢救"), "in_insured_area": partial(_yes_no, label="参保地就医"),
            "filed_remote": partial(_yes_no, label="异地就医备案"), "out_of_area": partial(_yes_no, label="异地就医")}

"""Identity lists from other departments (.xlsx): 民政 rosters of 特困/低保, 乡村振兴 防返贫监测 exports.

Reading is forgiving about layout (title rows, merged header cells, header variants, empty rows, full-width
digits, Excel serial dates) and strict about content: every row is either understood or reported with the
reason. Nothing is written until the caseworker applies the confirmed changes, all in one transaction.
"""

from __future__ import annotations

import re
import zipfile
from collections.abc import Iterator
from contextlib import closing
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from functools import partial
from itertools import chain, islice
from pathlib import Path

from app.domain.idnumber import IdNumberError, normalise, parse_id_number
from app.exchange import bounds, cell_errors
from app.exchange.cell_errors import CellError

# Header texts seen in 民政 and 乡村振兴 exports, and the field each means.
HEADERS: dict[str, tuple[str, ...]] = {
    "name": ("姓名", "成员姓名", "人员姓名", "户主姓名/成员姓名"),
    "id_number": ("身份证号", "身份证号码", "公民身份号码", "证件号码", "成员身份证号", "身份证件号码"),
    "head_name": ("户主姓名",),
    "relation": ("与户主关系",),
    "dibao_no": ("低保证号", "低保证编号"),
    "category": ("救助类别", "人员类别", "保障类别", "类别", "对象类别"),
    "monitor_type": ("监测对象类别", "监测类型", "监测对象类型"),
    "start": ("起始保障年月", "保障起始年月", "享受低保时间", "识别监测时间", "纳入监测时间", "认定时间", "起始时间",
              "纳入时间", "纳入日期", "纳入保障时间", "认定日期", "起始日期", "享受时间"),
    "risk_cleared": ("风险是否已消除", "是否消除风险", "风险消除"),
    "end": ("消除监测时间", "风险消除时间", "终止时间", "停保时间", "终止保障年月"),
}
MONITOR_CATEGORIES = {"脱贫不稳定户": "脱贫不稳定人口", "边缘易致贫户": "边缘易致贫人口", "突发严重困难户": "突发严重困难户",
                      "脱贫不稳定": "脱贫不稳定人口", "边缘易致贫": "边缘易致贫人口", "突发严重困难": "突发严重困难户"}
# 五保户: 农村五保供养 became 特困人员供养 (《社会救助暂行办法》, 2014, 第三章); older township rosters keep the old word.
CATEGORY_WORDS = {"特困": "特困人员", "特困供养": "特困人员", "特困人员": "特困人员", "低保": "低保对象", "城市低保": "低保对象",
                  "农村低保": "低保对象", "低保对象": "低保对象", "低保边缘": "低保边缘家庭成员", "孤儿": "孤儿",
                  "事实无人抚养儿童": "事实无人抚养儿童", "五保户": "特困人员", "五保": "特困人员", "农村五保": "特困人员",
                  "五保对象": "特困人员"}
# A CSV list bigger than this is not a county roster (100,000 rows are about 10 MB): refused, not read into memory.
MAX_CSV_BYTES = 64 * 1024 * 1024
# The years a date in a list may fall in (parse_date).
FIRST_YEAR, LAST_YEAR = 1950, 2099
# Once every separator is "-": 2023-5-6, 2023-05 and 2023年5月 (day 1), 20230506, 202305.
_DATE_MARKS = str.maketrans({"－": "-", "．": "-", "／": "-", ".": "-", "/": "-", "年": "-", "月": "-", "日": None})
_DATE_FORMS = (re.compile(r"(\d{4})-(\d{1,2})(?:-(\d{1,2}))?"), re.compile(r"(\d{4})(\d{2})(\d{2})?"))
YES = {"是", "已消除", "Y", "y", "1", "true", "TRUE"}
NO = {"否", "未消除", "N", "n", "0", "false", "FALSE"}


class ListError(ValueError):
    """The file cannot be read as an identity list at all (wrong type, no header)."""


@dataclass
class ListRow:
    """One understood row: who, which category, from when (and until when)."""

    line: int
    name: str
    id_number: str
    category: str
    valid_from: date
    valid_to: date | None


@dataclass
class Rejected:
    """A row not imported: its line, cells and why; the name and ID number as written, so it can be found."""

    line: int
    values: list
    reason: str
    name: str = ""
    id_number: str = ""


@dataclass
class ParsedList:
    """What a file holds: understood rows, rejected rows with reasons, and which department it came from."""

    path: Path
    source: str
    rows: list[ListRow] = field(default_factory=list)
    rejected: list[Rejected] = field(default_factory=list)


def _text(value) -> str:
    return "" if value is None else str(value).strip()


def match_header(cells: list, headers: dict[str, tuple[str, ...]] = HEADERS) -> dict[str, int]:
    """Which column holds each field, by the header texts `headers` knows (spaces inside a header ignored)."""
    found: dict[str, int] = {}
    for i, value in enumerate(cells):
        text = re.sub(r"\s+", "", _text(value))
        for key, names in headers.items():
            if text in names and key not in found:
                found[key] = i
    return found


def parse_date(value) -> date | None:
    """Dates as lists carry them: datetime cells, Excel serial numbers, 2023-05-01, 2023-05, 202305, 2023年5月."""
    day = _date(value)
    # No certification, bill or end of one falls outside these years; a date that does is a slip of the keyboard (or
    # a cell that meant something else), and taken as written it would put a category over a century of bills.
    if day is not None and not FIRST_YEAR <= day.year <= LAST_YEAR:
        raise ValueError(f"“{_text(value)}”不在 {FIRST_YEAR} 至 {LAST_YEAR} 年之间，请核对")
    return day


def _date(value) -> date | None:
    if value is None or _text(value) == "":
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if type(value) is str and len(value) == 10 and value[4] == "-":
        try:  # the common 2023-05-06, without the normalising below (a list has tens of thousands)
            return date.fromisoformat(value)
        except ValueError:
            pass
    if isinstance(value, int | float) and 20000 < value < 80000:
        return date(1899, 12, 30) + timedelta(days=int(value))  # Excel's day 0 (with its 1900 leap-year quirk)
    if isinstance(value, float):
        # Typed into a number cell, 2025.10 is kept as 2025.1: read as text it would be January, not October.
        raise ValueError(f"“{_text(value)}”是一个数字，不是日期（Excel 会把 2025.10 存成 2025.1）；请把这一列设为文本格式后"
                         f"照原样填写，或写成 2025-10-01 的形式")
    text = normalise(_text(value)).translate(_DATE_MARKS).strip("-")
    for form in _DATE_FORMS:
        found = form.fullmatch(text)
        if found:
            year, month, day = found.groups()
            try:
                return date(int(year), int(month), int(day or 1))
            except ValueError:  # 2023-13, 2023-02-30: the shape of a date, not a date
                raise ValueError(f"“{_text(value)}”不是有效日期（年、月或日超出范围）") from None
    raise ValueError(f"“{_text(value)}”不是日期")


def _month_only(value) -> bool:
    """Whether a date cell gives a year and month but no day (2025-01, 202501, 2025年1月)."""
    if value is None or isinstance(value, date | float):
        return False
    text = normalise(_text(value)).translate(_DATE_MARKS).strip("-")
    return any((found := form.fullmatch(text)) is not None and found.group(3) is None for form in _DATE_FORMS)


def _dated(value, label: str) -> date | None:
    try:
        return parse_date(value)
    except ValueError as exc:
        raise ValueError(f"{label}{exc}") from None


def read_list(path: Path) -> ParsedList:
    """Read an .xlsx or .csv identity list; refuse other files, and files beyond the limits (bounds.py), with a
    message."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in (".xlsx", ".csv"):
        raise ListError(f"{path.name}：只能导入 Excel 工作簿（.xlsx）或 CSV 文件；.xls 请先在 Excel 或 WPS 中另存为 .xlsx")
    errors = _check(path) if suffix == ".xlsx" else []
    with closing(_first_sheet(path, errors) if suffix == ".xlsx" else (row for row in csv_rows(path))) as rows:
        head = list(islice(rows, 15))
        header_at, columns = None, {}
        for i, row in enumerate(head):
            found = match_header(row)
            if "id_number" in found and "name" in found:
                header_at, columns = i, found
                break
        if header_at is None:
            raise ListError(f"{path.name}：前 15 行中找不到同时含“姓名”和“身份证号”的表头")
        if "start" not in columns:
            raise ListError(f"{path.name}：表头中找不到起始时间列，应为 {'、'.join(HEADERS['start'])} 之一")
        source = "乡村振兴" if "monitor_type" in columns else "民政"
        if source == "民政" and "category" not in columns:
            # A 特困 roster read as 低保 would pay every person at the lower rate; the file's title is not read.
            raise ListError(f"{path.name}：表头中找不到类别列（应为 {'、'.join(HEADERS['category'])} 之一）；本程序不按"
                            f"名单的名称推断类别，请加一列写明每人的类别（如 低保、特困）再导入")
        parsed = ParsedList(path, source)
        seen: dict[tuple[str, str], ListRow] = {}
        for offset, row in enumerate(chain(head[header_at + 1:], rows), start=header_at + 2):
            if all(_text(v) == "" for v in row):
                continue  # empty rows between blocks are common in exported lists
            raw = lambda key: row[columns[key]] if key in columns and columns[key] < len(row) else None  # noqa: E731
            try:
                item = _row(offset, partial(_readable, raw, head[header_at], columns), source)
            except ValueError as exc:
                parsed.rejected.append(Rejected(offset, [_text(v) for v in row], str(exc), _text(raw("name")),
                                                _text(raw("id_number"))))
                continue
            key = (item.id_number, item.category)
            first = seen.get(key)
            if first is not None:
                # One row per person and category is compared; a second with another period is told apart from a
                # plain repeat, so the department sees which of its two periods was left out.
                same = (first.valid_from, first.valid_to) == (item.valid_from, item.valid_to)
                reason = ("重复行：同一人同一类别已在前面出现" if same else
                          f"同一人同一类别在第 {first.line} 行已有一段期间（{first.valid_from} 至 {first.valid_to or '今'}），"
                          f"本行的期间不同，未导入；请核对后在家庭页面登记")
                parsed.rejected.append(Rejected(offset, [_text(v) for v in row], reason, item.name, item.id_number))
                continue
            seen[key] = item
            parsed.rows.append(item)
    return parsed


def first_sheet(path: Path) -> list[list]:
    """The first worksheet of a workbook within the limits (bounds.py), whole, as `_first_sheet` reads it."""
    errors = _check(path)
    with closing(_first_sheet(path, errors)) as rows:
        return list(rows)


def _readable(raw, header: list, columns: dict[str, int], key: str):
    """The cell of column `key` (via `raw`); a formula's error there refuses the row, naming the column by the
    list's own header."""
    value = raw(key)
    if type(value) is CellError:
        raise ValueError(cell_errors.refusal(cell_errors.column_name(header, columns[key]), value))
    return value


def _check(path: Path) -> list[bounds.ErrorCell]:
    """Refuse, before any reader allocates for it, a workbook beyond the limits or not a zip at all; the cells of
    its first worksheet holding a formula's error."""
    try:
        return bounds.check_workbook(path, f"{path.name}：")
    except bounds.TooLarge as exc:
        raise ListError(f"{exc}。请只导出需要的行和列后再导入") from None
    except bounds.ErrorCells as exc:
        raise ListError(str(exc)) from None
    except bounds.Damaged as exc:
        raise ListError(f"{path.name}：无法作为 Excel 工作簿打开（{exc}），文件已损坏或不是 .xlsx") from None
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, EOFError) as exc:
        raise ListError(f"{path.name}：无法作为 Excel 工作簿打开（{type(exc).__name__}），文件可能已损坏或不是 .xlsx") from None


def _first_sheet(path: Path, errors: list[bounds.ErrorCell] = ()) -> Iterator[list]:
    """The first worksheet's cells, row by row from row 1 and from the first column holding a value, as openpyxl
    would give them (a generator: the rows are made one at a time, so only calamine's own copy of the sheet is held
    whole).

    Read with calamine (a compiled reader): a county roster of 100,000 rows takes well under a second, where
    openpyxl needs most of ten. The values are brought to openpyxl's (data_only) form, which the rest of this module
    was written for: an empty cell is None, a whole number below 10^15 an int (openpyxl reads "44927" as int; above
    that Excel writes the number in E-notation, which openpyxl reads as float, so an ID typed as a number stays a
    float and is refused as before), a date cell a datetime, and every cell of a merged range but the first None.
    A cell holding a formula's error (#N/A), which calamine reads as empty, is a CellError where `errors`
    (check_workbook's) places one, as is a cell of text spelling one (cell_errors.ERROR_TEXTS)."""
    from python_calamine import CalamineError, CalamineWorkbook, SheetTypeEnum, SheetVisibleEnum

    try:
        book = CalamineWorkbook.from_path(str(path))
    except (CalamineError, OSError, ValueError) as exc:
        raise ListError(f"{path.name}：无法作为 Excel 工作簿打开（{type(exc).__name__}），文件可能已损坏或不是 .xlsx") from None
    try:
        meta = next((m for m in book.sheets_metadata if m.typ == SheetTypeEnum.WorkSheet), None)
        if meta is None:
            raise ListError(f"{path.name}：工作簿中没有工作表")
        if meta.visible != SheetVisibleEnum.Visible:
            # The first sheet is the one read; a hidden old list there would be imported in place of the one shown.
            raise ListError(f"{path.name}：第一张工作表“{meta.name}”是隐藏的，本程序只读第一张工作表；请把要导入的名单"
                            f"放在第一张并取消隐藏（或删去隐藏的工作表）后再导入")
        first = meta.name
        marked = cell_errors.by_row(errors)
        sheet = book.get_sheet_by_name(first)
        # calamine's rows begin at row 1 but at the first column holding a value; merged ranges and error cells are
        # placed by the sheet's own columns.
        offset = sheet.start[1] if sheet.start else 0
        merges = sorted(sheet.merged_cell_ranges or ())
        active: list = []
        for r, raw in enumerate(_rows_of(sheet, path)):
            # Most cells are text: no call. An error's spelling begins with "#".
            row = [v if type(v) is str and v and v[0] != "#" else _openpyxl_value(v) for v in raw]
            while merges and merges[0][0][0] <= r:
                active.append(merges.pop(0))
            active = [m for m in active if m[1][0] >= r]
            for (top, left), (_, right) in active:
                for c in range(max(left - offset + (r == top), 0), min(right - offset + 1, len(row))):
                    row[c] = None
            if r in marked:
                cell_errors.mark(row, marked[r], offset)
            yield row
    except CalamineError as exc:
        why = cell_errors.unreadable(errors)
        if why:
            raise ListError(f"{path.name}：{why}") from None
        raise ListError(f"{path.name}：无法作为 Excel 工作簿打开（{type(exc).__name__}），文件可能已损坏或不是 .xlsx") from None
    finally:
        book.close()


def _rows_of(sheet, path: Path) -> Iterator[list]:
    """calamine's rows of a sheet; a value it makes into a date or duration Python cannot hold (a time format on a
    huge number) refuses the file in Chinese."""
    rows = sheet.iter_rows()
    while True:
        try:
            yield next(rows)
        except StopIteration:
            return
        except (OverflowError, ValueError):
            raise ListError(f"{path.name}：有单元格的日期或时长超出可以表示的范围（如设成时间格式的很大的数），文件可能已损坏；"
                            f"请在 Excel 或 WPS 中打开，把该格改为文本或常规格式，另存为 .xlsx 再导入") from None


def csv_rows(path: Path) -> list[list]:
    """A CSV list's rows as text cells (empty → None), in UTF-8 (with or without BOM) or GB18030 as Excel and WPS
    save them in China."""
    import csv
    import io

    try:
        if path.stat().st_size > MAX_CSV_BYTES:
            raise ListError(f"{path.name}：文件超过 {MAX_CSV_BYTES // 1024 // 1024} MB，请分成几个文件导入")
        data = path.read_bytes()
    except OSError as exc:
        raise ListError(f"{path.name}：无法读取（{exc.strerror or type(exc).__name__}）") from None
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            text = data.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    else:
        raise ListError(f"{path.name}：无法识别文字编码，请在 Excel 或 WPS 中另存为“CSV UTF-8”或 .xlsx")
    # A workbook is refused beyond bounds.MAX_COLUMNS columns before it is read; a CSV line is looked at the same way
    # before the reader makes a cell of each comma (a 64 MB line of commas would be tens of millions of cells).
    for n, line in enumerate(text.splitlines(), start=1):
        if line.count(",") >= bounds.MAX_COLUMNS * 4:  # quoted commas in text allowed for, generously
            raise ListError(f"{path.name}：第 {n:,} 行有 {line.count(','):,} 个逗号，远超 {bounds.MAX_COLUMNS} 列，"
                            f"不是名单；请检查文件")
    try:
        return [[cell_errors.of_text(c) if (c := cell.strip()) else None for cell in row]
                for row in csv.reader(io.StringIO(text, newline=""))]
    except csv.Error as exc:
        why = "有一格超过 128 KB" if "field larger" in str(exc) else str(exc)
        raise ListError(f"{path.name}：不是有效的 CSV 文件（{why}），请在 Excel 或 WPS 中另存为 .xlsx 再导入") from None


def _openpyxl_value(value):
    kind = type(value)
    if kind is str:
        return cell_errors.of_text(value) if value else None
    if kind is float:
        return int(value) if value.is_integer() and abs(value) < 1e15 else value
    if kind is date:
        return datetime(value.year, value.month, value.day)
    return value


def _row(line: int, cell, source: str) -> ListRow:
    name = "".join(_text(cell("name")).split())
    if not name:
        raise ValueError("姓名为空")
    try:
        number = parse_id_number(_text(cell("id_number")), "id_number").value
    except IdNumberError as exc:
        raise ValueError(exc.message) from None
    if source == "乡村振兴":
        kind = "".join(_text(cell("monitor_type")).split())
        category = MONITOR_CATEGORIES.get(kind)
        if category is None:
            raise ValueError(f"监测对象类别“{kind}”无法识别（应为 脱贫不稳定户、边缘易致贫户 或 突发严重困难户）")
    else:
        word = "".join(_text(cell("category")).split())
        if not word:
            raise ValueError("类别为空：请写明本行人员的类别（合并的单元格只有第一行有内容，请取消合并后逐行填写）")
        category = CATEGORY_WORDS.get(word)
        if category is None:
            raise ValueError(f"类别“{word}”无法识别")
    start = _dated(cell("start"), "起始时间")
    if start is None:
        raise ValueError("起始时间为空")
    if _month_only(cell("end")):
        # Which day of that month the period ends on, the list does not say; a guess would move money either way.
        raise ValueError(f"终止（消除）时间“{_text(cell('end'))}”只有年月，没有日：请写明到哪一天为止（如 2025-01-31）")
    end = _dated(cell("end"), "终止（消除）时间")
    cleared = _text(cell("risk_cleared"))
    if end is None and cleared in YES:
        raise ValueError("风险已消除但没有消除时间")
    if end is not None and cleared in NO:
        raise ValueError(f"风险是否已消除为“{cleared}”，却填了消除时间 {end}：请核对这两列")
    if end is not None and end < start:
        raise ValueError(f"终止（消除）时间 {end} 早于起始时间 {start}")
    return ListRow(line, name, number, category, start, end)

"""A county year's live bills read as columns (integer fen) for the batch path, with each bill's stored settlement when
asked: what 政策测算 and the county re-settlement read.

One pass over the year's visits in settling order (person, discharge date, entry). SQLite writes each visit's figures
as one line of integers, and numpy parses all the lines at once (np.fromstring): a Python object per visit instead of
one per figure, which is most of what reading two million bills cost. Amounts are stored as text with exactly two
places (money.fmt), so the digits without the point are the fen.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from app.domain.names import DEFAULT_INSURANCE, HOSPITAL_LEVELS, VISIT_KINDS
from app.policy.batch import LATER_FLAGS
from app.services.bills import TIERS
from app.store import check_parts, reads

KIND = {k: i for i, k in enumerate(VISIT_KINDS)}
LAST_ID = "\U0010ffff"


def _fen(column: str) -> str:
    """An amount as SQLite writes it out (-1 where none). Its point is dropped in _parse, once for the whole text:
    for 200,000 bills of the benchmark county, 0.01 s against 0.12 s for replace() value by value in SQL."""
    return f"coalesce({column}, -1)"


def _code(column: str, names: Sequence[str]) -> str:
    return f"CASE {column} " + " ".join(f"WHEN '{n}' THEN {i}" for i, n in enumerate(names)) + " ELSE -1 END"


# Each visit's integers: the discharge date as YYYYMMDD, the four amounts (-1 where the slip has no figure), and one
# integer packing the kind, the hospital level (+1; 0: none or not one the engine knows), the yes/no fields and
# whether the bill is voided (read only beside stored settlements, whose amounts a void must have given back).
_FLAGS = ("referred", "in_province", "major_disease", *LATER_FLAGS, "void")
_PACKED = (f"{_code('v.kind', VISIT_KINDS)} + 4 * ({_code('v.hospital_level', HOSPITAL_LEVELS)} + 1) + "
           + " + ".join(f"{32 << i} * {'(v.status = ' + repr('void') + ')' if f == 'void' else 'v.' + f}"
                        for i, f in enumerate(_FLAGS)))
_FIGURES = ["replace(v.discharged_on, '-', '')", *(_fen(f"v.{c}") for c in ("total_cost", "policy_covered",
                                                                            "basic_paid", "serious_illness_paid")),
            _PACKED]
# With the stored settlement: its four tiers and personal pay (-1 where none is stored), its category as an index in
# the names asked about (-1: another), and whether it was settled under the version asked about.
_STORED = [*(_fen(f"s.{t}") for t in (*TIERS, "personal_pay")), "{category}",
           "coalesce(s.policy_id || ' ' || s.policy_version = ?, 0)"]


@dataclass
class Stored:
    """Each visit's stored settlement, beside the columns."""

    amounts: np.ndarray          # shape (5, visits): TIERS then personal_pay, fen; -1 where nothing is stored
    category: np.ndarray         # index in the names asked about; -1 for another or none
    current: np.ndarray          # bool: settled under the policy version asked about
    stale: set[str]              # people with a voided bill of the year whose settlement still holds an amount


@dataclass
class YearData:
    """Person-years (sorted by person id) and their live visits in settling order, as columns; amounts in int64 fen,
    -1 in basic_paid / serious_illness_paid where the slip has no figure (the engine computes it). The visit columns
    are those of the batch path's YearColumns."""

    person_ids: list[str]
    regions: list[str]                     # the household's 12-digit code
    insurance: list[str]
    categories: list[tuple[str, ...]]      # held on the year's last visit (on every visit unless in `changing`)
    changing: dict[int, list[tuple[str, ...]]]   # person-years whose categories change: those held on each visit
    case: np.ndarray                       # per visit: index of its person-year
    date: np.ndarray                       # datetime64[D], the discharge date
    kind: np.ndarray                       # int8 index in VISIT_KINDS
    total_cost: np.ndarray
    policy_covered: np.ndarray
    basic_paid: np.ndarray
    serious_illness_paid: np.ndarray
    referred: np.ndarray
    in_province: np.ndarray
    major_disease: np.ndarray
    hospital_level: np.ndarray             # int8 index in HOSPITAL_LEVELS, -1 where the bill has none
    ids: list[str] | None = None           # per visit: the id an explanation names (default v1, v2 …)
    later: np.ndarray | None = None        # bool, one row per batch.LATER_FLAGS (急诊, 参保地, 备案); None: defaults
    stored: Stored | None = None           # when asked for

    @property
    def people(self) -> int:
        return len(self.person_ids)

    @property
    def visits(self) -> int:
        return len(self.case)

    @property
    def starts(self) -> np.ndarray:
        """Each person-year's first visit (every person-year has one)."""
        return np.searchsorted(self.case, np.arange(self.people))

    def part(self, lo: int, hi: int) -> YearData:
        """Person-years lo..hi (their visits are contiguous), renumbered from 0."""
        a, b = np.searchsorted(self.case, [lo, hi])
        cut = slice(int(a), int(b))
        stored = self.stored
        if stored is not None:
            stored = Stored(stored.amounts[:, cut], stored.category[cut], stored.current[cut], stored.stale)
        return YearData(self.person_ids[lo:hi], self.regions[lo:hi], self.insurance[lo:hi], self.categories[lo:hi],
                        {n - lo: c for n, c in self.changing.items() if lo <= n < hi}, self.case[cut] - lo,
                        self.date[cut], self.kind[cut], self.total_cost[cut], self.policy_covered[cut],
                        self.basic_paid[cut], self.serious_illness_paid[cut], self.referred[cut],
                        self.in_province[cut], self.major_disease[cut], self.hospital_level[cut],
                        self.ids[a:b] if self.ids is not None else None,
                        self.later[:, cut] if self.later is not None else None, stored)


def read_year(conn: sqlite3.Connection, jurisdiction: str, year: int, until: str | None = None, first: str = "",
              last: str = LAST_ID, stored: tuple[Sequence[str], str] | None = None) -> YearData:
    """The live visits of `year` discharged up to `until` of the people within a jurisdiction whose ids run from
    `first` to `last`, as columns. Given `stored` (category names, policy id + " " + version), each visit's stored
    settlement too, and in `stale` the people with a voided bill whose settlement still holds an amount."""
    where, param = reads.scope(jurisdiction)
    start, end = f"{year}-01-01", until or f"{year}-12-31"
    region = dict(conn.execute("SELECT p.id, h.region_code FROM persons p CROSS JOIN households h "
                               f"ON h.id = p.household_id WHERE p.id BETWEEN ? AND ? AND {where}",
                               (first, last, *param)).fetchall())
    figures, extra, join, live = _FIGURES, (), "", "AND v.status = 'live' "
    if stored is not None:
        names, version = stored
        category = "CASE s.applied_category " + " ".join(f"WHEN ? THEN {i}" for i in range(len(names))) + " ELSE -1 END"
        figures = [*_FIGURES, *(c.format(category=category) for c in _STORED)]
        extra, join, live = (*names, version), "LEFT JOIN settlements s ON s.visit_id = v.id ", ""
    query = (f"FROM visits v {join}WHERE v.person_id {{people}} AND v.discharged_on BETWEEN ? AND ? {live}",
             (*extra, start, end))
    pids, counts, table = _visits(conn, figures, query, (first, last))
    bits = {f: (table[5] & (32 << i)) > 0 for i, f in enumerate(_FLAGS)}
    stale: set[str] = set()
    if stored is not None and bits["void"].any():
        void = bits["void"]
        case = np.repeat(np.arange(len(pids)), counts)
        stale = {pids[i] for i in np.unique(case[void & (table[6:11] > 0).any(axis=0)]).tolist()}
        counts = np.bincount(case[~void], minlength=len(pids))
        table = table[:, ~void]
        bits = {f: b[~void] for f, b in bits.items()}
        pids, counts = [p for p, n in zip(pids, counts.tolist()) if n], counts[counts > 0]
    # Person-years: those outside the jurisdiction are left out with their visits.
    inside = np.array([p in region for p in pids], bool)
    people = [p for p, keep in zip(pids, inside.tolist()) if keep]
    if not inside.all():
        keep = np.repeat(inside, counts)
        table, bits = table[:, keep], {f: b[keep] for f, b in bits.items()}
        counts = counts[inside]
    day = table[0]
    months = ((day // 10000 - 1970) * 12 + day // 100 % 100 - 1).astype("datetime64[M]")
    data = YearData(
        people, [region[p] for p in people], [], [], {}, np.repeat(np.arange(len(people)), counts),
        months.astype("datetime64[D]") + (day % 100 - 1), (table[5] & 3).astype(np.int8), *table[1:5],
        bits["referred"], bits["in_province"], bits["major_disease"], ((table[5] >> 2) % 8 - 1).astype(np.int8),
        None, np.stack([bits[f] for f in LATER_FLAGS]))
    if stored is not None:
        data.stored = Stored(table[6:11], table[11], table[12].astype(bool), stale)
    _held(conn, data, where, param, start, end)
    enrolled = dict(conn.execute("SELECT person_id, insurance FROM enrollments WHERE year = ? AND person_id BETWEEN "
                                 "? AND ? AND insurance != ?", (year, first, last, DEFAULT_INSURANCE)).fetchall())
    data.insurance = [enrolled.get(p, DEFAULT_INSURANCE) for p in people]
    return data


def _visits(conn: sqlite3.Connection, figures: Sequence[str], query: tuple[str, tuple],
            span: tuple[str, str]) -> tuple[list[str], np.ndarray, np.ndarray]:
    """The visits `query` selects (its text with `{people}` where the person condition goes, its parameters before
    it, the last two the first and last discharge day) of the people whose ids run over `span`, as (person ids,
    visits per person, the figures: shape (len(figures), visits)), in settling order: by person, discharge date and
    entry.

    One text per person (group_concat over the visits index, which runs by person and discharge date), so SQLite
    builds a row per person rather than per visit and sorts nothing. The order inside a person's text is checked,
    not trusted: where a person's visits are not in strictly rising dates there (same-day bills, about one person in
    25, or whatever order SQLite chose), their entry order is read apart (row numbers only) and their visits put in
    it."""
    text, params = query
    width = len(figures) + 1
    line = f"printf('{','.join(['%s'] * width)}', {', '.join(figures)}, v.rowid)"
    rows = conn.execute(f"SELECT v.person_id, count(*), group_concat({line}, ',') "
                        f"{text.format(people='BETWEEN ? AND ?')}GROUP BY v.person_id ORDER BY v.person_id",
                        (*params[:-2], *span, *params[-2:])).fetchall()
    pids = [r[0] for r in rows]
    counts = np.array([r[1] for r in rows], np.int64)
    table = _parse([r[2] for r in rows], width)
    if table.shape[1] != counts.sum():
        raise ValueError("a visit's figures came back empty")
    case = np.repeat(np.arange(len(pids)), counts)
    unsure = np.unique(case[1:][(np.diff(case) == 0) & (np.diff(table[0]) <= 0)])
    if len(unsure):
        at = np.flatnonzero(np.isin(case, unsure))      # their visits' places, person after person
        rowid = table[-1, at]
        entered = np.array([r[0] for r in conn.execute(
            "SELECT v.rowid FROM visits v WHERE v.person_id IN (SELECT value FROM json_each(?)) AND v.discharged_on "
            "BETWEEN ? AND ? ORDER BY v.person_id, v.discharged_on, v.created_at",
            (json.dumps([pids[i] for i in unsure.tolist()]), *params[-2:]))], np.int64)
        entered = entered[np.isin(entered, rowid)]      # the rows the query left out (voided ones) stay out
        if len(entered) != len(at):
            raise ValueError("the visits changed while the year was read")
        by_rowid = np.argsort(rowid)
        table[:, at] = table[:, at[by_rowid[np.searchsorted(rowid, entered, sorter=by_rowid)]]]
    return pids, counts, table[:-1]


def _parse(lines: list[str], width: int) -> np.ndarray:
    """Comma-separated integers and amounts, `width` per visit, as an int64 table of shape (width, visits): an amount
    is read as its fen by dropping its point (no other figure has one)."""
    if not lines:
        return np.zeros((width, 0), np.int64)
    return np.fromstring(",".join(lines).replace(".", ""), np.int64, sep=",").reshape(-1, width).T


def _held(conn: sqlite3.Connection, data: YearData, where: str, param: tuple, first: str, last: str) -> None:
    """Each person-year's categories: those held on its last visit's date, and per visit where they change between
    its first visit and its last (as reads.categories_on gives them)."""
    periods: dict[str, list[tuple[str, str, str | None]]] = {}
    lo, hi = (data.person_ids[0], data.person_ids[-1]) if data.people else ("", "")
    for r in conn.execute(
            "SELECT c.person_id, c.category, c.valid_from, c.valid_to FROM category_periods c "
            "CROSS JOIN persons p ON p.id = c.person_id CROSS JOIN households h ON h.id = p.household_id "
            "WHERE c.person_id BETWEEN ? AND ? AND c.valid_from <= ? AND (c.valid_to IS NULL OR c.valid_to >= ?) "
            f"AND {where} ORDER BY c.category", (lo, hi, last, first, *param)):
        periods.setdefault(r[0], []).append((r[1], r[2], r[3]))
    # Most people hold no category: only those who do are looked at, and only their own visits' dates as text.
    starts = np.searchsorted(data.case, np.arange(data.people + 1))
    data.categories.extend([()] * data.people)
    index = {pid: n for n, pid in enumerate(data.person_ids)} if periods else {}
    found = [(n, held) for n, held in ((index.get(pid), held) for pid, held in periods.items()) if n is not None]
    at = np.array([n for n, _ in found], np.int64)
    firsts = data.date[starts[at]].astype("U10").tolist()
    lasts = data.date[starts[at + 1] - 1].astype("U10").tolist()
    for (n, held), first_day, on_last in zip(found, firsts, lasts):
        data.categories[n] = tuple(c for c, begin, end in held if begin <= on_last and (end is None or end >= on_last))
        if any(first_day < begin <= on_last or (end is not None and first_day <= end < on_last)
               for _, begin, end in held):
            each = [tuple(c for c, begin, end in held if begin <= day and (end is None or end >= day))
                    for day in data.date[starts[n]:starts[n + 1]].astype("U10").tolist()]
            if len(set(each)) > 1:
                data.changing[n] = each


def concat(parts: Sequence[YearData]) -> YearData:
    """Parts read by consecutive person ranges, in order, as one year (person-years numbered on)."""
    if len(parts) == 1:
        return parts[0]
    offsets = np.cumsum([0, *(p.people for p in parts)]).tolist()

    def cat(name: str, axis: int = 0) -> np.ndarray:
        return np.concatenate([getattr(p, name) for p in parts], axis=axis)

    data = YearData(
        [i for p in parts for i in p.person_ids], [r for p in parts for r in p.regions],
        [i for p in parts for i in p.insurance], [c for p in parts for c in p.categories],
        {at + n: c for p, at in zip(parts, offsets) for n, c in p.changing.items()},
        np.concatenate([p.case + at for p, at in zip(parts, offsets)]),
        *(cat(f) for f in ("date", "kind", "total_cost", "policy_covered", "basic_paid", "serious_illness_paid",
                           "referred", "in_province", "major_disease", "hospital_level")),
        None if any(p.ids is None for p in parts) else [i for p in parts for i in p.ids],
        None if any(p.later is None for p in parts) else cat("later", 1))
    if all(p.stored is not None for p in parts):
        data.stored = Stored(np.concatenate([p.stored.amounts for p in parts], axis=1),
                             np.concatenate([p.stored.category for p in parts]),
                             np.concatenate([p.stored.current for p in parts]),
                             set().union(*(p.stored.stale for p in parts)))
    return data


def workers(conn: sqlite3.Connection, path: Path | None) -> int:
    """How many worker processes to read the file at `path` with: as `check` uses (one per core for a big file),
    but one — this process, on `conn` — for a small file or while `conn` is inside a transaction (a worker would not
    see what it wrote and has not committed)."""
    if path is None or conn.in_transaction:
        return 1
    return check_parts.workers_for(path)


@contextmanager
def connection(where: Path | sqlite3.Connection) -> Iterator[sqlite3.Connection]:
    """A task's connection: the one given (in this process), or its own read-only one on the file (in a worker)."""
    if isinstance(where, sqlite3.Connection):
        yield where
        return
    conn = check_parts.connect(where)
    conn.row_factory = None
    try:
        yield conn
    finally:
        conn.close()


def read_piece(where: Path | sqlite3.Connection, piece: tuple) -> YearData:
    """A task for read_ranges: read_year's arguments after the connection (jurisdiction, year, until, first, last,
    stored)."""
    with connection(where) as conn:
        return read_year(conn, *piece)


def read_ranges(conn: sqlite3.Connection, path: Path | None, pieces: Sequence[tuple], task=read_piece,
                ahead: int = 1) -> Iterator:
    """`task(path, piece)` for each piece, in order: in `workers(conn, path)` processes side by side, keeping at most
    `ahead` more than the workers started and not taken (memory stays bounded), or else `task(conn, piece)` here.
    Stopping the iteration (a cancel) stops the workers."""
    count = workers(conn, path)
    if count == 1:
        yield from (task(conn, piece) for piece in pieces)
        return
    runner = check_parts.Runner(path, count, task)
    try:
        yield from runner.each(list(pieces), count + ahead)
    finally:
        runner.close()


def person_ranges(conn: sqlite3.Connection, count: int) -> list[tuple[str, str]]:
    """All person ids cut into `count` ranges of about as many persons: (first, last), both inclusive, together
    covering every id that is or could be."""
    persons = conn.execute("SELECT count(*) FROM persons").fetchone()[0]
    ranges, first = [], ""
    for k in range(1, count if persons >= 2 * count else 1):
        before, at = [r[0] for r in conn.execute("SELECT id FROM persons ORDER BY id LIMIT 2 OFFSET ?",
                                                 (k * persons // count - 1,))]
        ranges.append((first, before))
        first = at
    return [*ranges, (first, LAST_ID)]


def chunks(ids: list[str], size: int) -> list[tuple[str, str, int]]:
    """The sorted person ids cut into ranges of about `size` people: (first, last, count)."""
    return [(ids[i], ids[min(i + size, len(ids)) - 1], min(size, len(ids) - i)) for i in range(0, len(ids), size)]

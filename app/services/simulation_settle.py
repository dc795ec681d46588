"""The one seam of 政策测算: a county year's visits read as columns (integer fen), settled under one engine, per-visit
tier amounts back as columns.

`settle_part` is the only place the simulation settles anything: the batch path (app/policy/batch.py, settle_columns,
held to the per-visit engine's fen by its differential test) for person-years whose categories hold all year, and its
visit-by-visit form of the function the stored settlements come from (bills.due_by_visit; app/policy/batch_changing.py)
for those whose categories change within it, so a simulation of "no change" is the stored year to the fen.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from app.policy import batch
from app.policy.batch_changing import settle_changing
from app.policy.engine import Engine
from app.services.year_columns import TIERS, YearData, read_piece


@dataclass
class Settled:
    """What a part's person-years are due under one engine: each visit's four tiers (int64 fen, TIERS order), each
    person-year's applied category and its own 再救助 and 依申请救助."""

    tiers: np.ndarray            # shape (4, visits)
    category: list[str]
    re_assistance: np.ndarray
    application: np.ndarray
    # The visits of years whose categories change: the category each was settled under (any other visit: its year's).
    visit_category: dict[int, str] = field(default_factory=dict)
    # Asked for with `annual`: the person-years that have warnings, as annual_settlements stores them (JSON).
    warnings: dict[int, str] = field(default_factory=dict)


def settle_part(eng: Engine, data: YearData, annual: bool = False) -> Settled:
    """Settle every person-year of `data` under `eng` (the policy and the county's local values), writing nothing;
    with `annual`, each year's warnings too.

    The batch path settles the person-years whose categories hold all year; one whose categories change within the
    year is settled as its stored settlement is, visit by visit under the categories of each visit's date
    (bills.due_by_visit), in columns too (app/policy/batch_changing.py)."""
    out = Settled(np.zeros((len(TIERS), data.visits), np.int64), [""] * data.people, np.zeros(data.people, np.int64),
                  np.zeros(data.people, np.int64))
    changing = np.array(sorted(data.changing), np.int64)
    steady = np.setdiff1d(np.arange(data.people), changing)
    changing_visits = np.isin(data.case, changing)
    for people, visits, settle in ((steady, ~changing_visits, _steady), (changing, changing_visits, _changing)):
        if not len(people):
            continue
        tiers, category, re_assistance, application, visit_category, warnings = settle(eng, data, people, visits,
                                                                                       annual)
        out.tiers[:, visits] = tiers
        for k, n in enumerate(people.tolist()):
            out.category[n] = category[k]
        out.re_assistance[people] = re_assistance
        out.application[people] = application
        if visit_category is not None:
            out.visit_category.update(zip(np.flatnonzero(visits).tolist(), visit_category))
        out.warnings.update((int(people[k]), text) for k, text in warnings.items())
    return out


def read_and_settle(where, piece: tuple) -> tuple[YearData, list[Settled]]:
    """A task for year_columns.read_ranges (in a worker process when the file is big): a person range read — the
    piece is read_year's arguments after the connection, then the engines and `annual` — and settled under each
    engine."""
    *args, engines, annual = piece
    data = read_piece(where, tuple(args))
    settled = [settle_part(eng, data, annual) for eng in engines]
    for s in settled:
        s.visit_category = {}   # not sent back: the simulation counts a person-year under its year's category
    return data, settled


def _steady(eng: Engine, data: YearData, people: np.ndarray, visits: np.ndarray, annual: bool) -> tuple:
    result = batch.settle_columns(eng, _columns(data, people, visits))
    warnings = {k: result.warnings.as_json(k) for k in result.warnings} if annual else {}
    return (np.stack(result.tiers()), result.applied_category, result.re_assistance_paid,
            result.application_assistance_paid, None, warnings)


def _changing(eng: Engine, data: YearData, people: np.ndarray, visits: np.ndarray, annual: bool) -> tuple:
    held = [c for n in people.tolist() for c in data.changing[n]]
    result = settle_changing(eng, _columns(data, people, visits), held)
    warnings = {}
    if annual:
        warned = set(result.result.warnings)
        warnings = {k: result.warnings_json(k) for k, last in enumerate(result.last.tolist()) if last in warned}
    return result.tiers, result.category, result.re_assistance, result.application, result.visit_category, warnings


def _columns(data: YearData, people: np.ndarray, visits: np.ndarray) -> batch.YearColumns:
    """The batch path's columns for some person-years of `data` (their visits selected by `visits`)."""
    case = data.case[visits]
    return batch.YearColumns(
        categories=[data.categories[n] for n in people.tolist()], insurance=[data.insurance[n] for n in people.tolist()],
        application=np.zeros(len(people), bool), case=np.searchsorted(people, case), date=data.date[visits],
        kind=data.kind[visits], total_cost=data.total_cost[visits], policy_covered=data.policy_covered[visits],
        basic_paid=data.basic_paid[visits], serious_illness_paid=data.serious_illness_paid[visits],
        referred=data.referred[visits], in_province=data.in_province[visits],
        major_disease=data.major_disease[visits], hospital_level=data.hospital_level[visits],
        ids=[data.ids[i] for i in np.flatnonzero(visits).tolist()] if data.ids is not None else None,
        **({} if data.later is None else {f: data.later[j][visits] for j, f in enumerate(batch.LATER_FLAGS)}))


def join(parts: list[Settled]) -> Settled:
    """The parts of one column, in order, as one (without visit_category: the simulation's tables count a
    person-year under its year's category)."""
    out = Settled(np.concatenate([p.tiers for p in parts], axis=1), [c for p in parts for c in p.category],
                  np.concatenate([p.re_assistance for p in parts]), np.concatenate([p.application for p in parts]))
    people = 0
    for p in parts:
        out.warnings.update((people + n, w) for n, w in p.warnings.items())
        people += len(p.category)
    return out

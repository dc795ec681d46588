"""The one seam of 政策测算: a county year's visits read as columns (integer fen), settled under one engine, per-visit
tier amounts back as columns.

`settle_part` is the only place the simulation settles anything: the batch path (app/policy/batch.py, settle_columns,
held to the per-visit engine's fen by its differential test) for person-years whose categories hold all year, and its
visit-by-visit form of the function the stored settlements come from (bills.due_by_visit; app/policy/batch_changing.py)
for those whose categories change within it, so a simulation of "no change" is the stored year to the fen.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from app.policy import batch
from app.policy.batch_changing import settle_changing
from app.policy.engine import Engine
from app.services.year_columns import TIERS, YearData


@dataclass
class Settled:
    """What a part's person-years are due under one engine: each visit's four tiers (int64 fen, TIERS order), each
    person-year's applied category and its own 再救助 and 依申请救助."""

    tiers: np.ndarray            # shape (4, visits)
    category: list[str]
    re_assistance: np.ndarray
    application: np.ndarray


def settle_part(eng: Engine, data: YearData) -> Settled:
    """Settle every person-year of `data` under `eng` (the policy and the county's local values), writing nothing.

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
        tiers, category, re_assistance, application = settle(eng, data, people, visits)
        out.tiers[:, visits] = tiers
        for k, n in enumerate(people.tolist()):
            out.category[n] = category[k]
        out.re_assistance[people] = re_assistance
        out.application[people] = application
    return out


def _steady(eng: Engine, data: YearData, people: np.ndarray, visits: np.ndarray) -> tuple:
    result = batch.settle_columns(eng, _columns(data, people, visits))
    return (np.stack(result.tiers()), result.applied_category, result.re_assistance_paid,
            result.application_assistance_paid)


def _changing(eng: Engine, data: YearData, people: np.ndarray, visits: np.ndarray) -> tuple:
    held = [c for n in people.tolist() for c in data.changing[n]]
    result = settle_changing(eng, _columns(data, people, visits), held)
    return result.tiers, result.category, result.re_assistance, result.application


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
    """The parts of one column, in order, as one."""
    return Settled(np.concatenate([p.tiers for p in parts], axis=1), [c for p in parts for c in p.category],
                   np.concatenate([p.re_assistance for p in parts]), np.concatenate([p.application for p in parts]))

"""Person-years whose categories change within the year, settled from columns as bills.due_by_visit settles them.

A visit of such a year is due what the year so far (its visits up to this one) pays under the categories held on the
visit's date, less what the earlier visits were due, never less than nothing (六盘水民发〔2017〕84号 三(六): the
year's cumulative result under today's category, less what was paid). Per tier, what has been due after visit k is
therefore the running maximum of those cumulative results, and visit k is due its step.

Each visit becomes its own person-year for the batch path: the visits up to it, under the categories of its date —
exactly the case the per-visit engine settles for it — so the batch's differential test covers these too. A year of
n visits costs n(n+1)/2 rows; such years are a few percent of a county.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from app.policy.batch import LATER_FLAGS, BatchResult, YearColumns, settle_columns
from app.policy.engine import Engine

# The visit columns a prefix case copies from its year.
_VISIT_COLUMNS = ("date", "kind", "total_cost", "policy_covered", "basic_paid", "serious_illness_paid", "referred",
                  "in_province", "major_disease", "hospital_level", *LATER_FLAGS)


@dataclass
class Changing:
    """What each visit is due (int64 fen, shape (4, visits), the batch's tier order) and the categories it was settled
    under; per person-year, the result of its last visit's case (category, 再救助, 依申请, warnings) — what the year's
    annual settlement stores."""

    tiers: np.ndarray
    visit_category: list[str]
    last: np.ndarray            # per person-year: the index of its last visit's case in `result`
    result: BatchResult         # per visit's case (the visits up to it)

    @property
    def category(self) -> list[str]:
        return [self.result.applied_category[i] for i in self.last.tolist()]

    @property
    def re_assistance(self) -> np.ndarray:
        return self.result.re_assistance_paid[self.last]

    @property
    def application(self) -> np.ndarray:
        return self.result.application_assistance_paid[self.last]

    def warnings_json(self, n: int) -> str:
        return self.result.warnings.as_json(int(self.last[n]))


def settle_changing(engine: Engine, cols: YearColumns, held: Sequence[tuple[str, ...]]) -> Changing:
    """Settle the person-years of `cols` visit by visit, `held[i]` being the categories held on visit i's date (the
    person-year's own `categories` are not read)."""
    case = cols.case
    n = len(case)
    start = np.searchsorted(case, case)               # each visit's first visit of its year
    length = np.arange(n) - start + 1                  # the visits up to and including it
    prefix = np.repeat(np.arange(n), length)           # per row: the visit whose case it belongs to
    offset = np.arange(len(prefix)) - np.repeat(np.cumsum(length) - length, length)
    rows = start[prefix] + offset                      # per row: the visit it copies
    owner = case.tolist()
    prefixes = YearColumns(
        categories=list(held), insurance=[cols.insurance[c] for c in owner], application=cols.application[case],
        case=prefix, ids=[cols.ids[i] for i in rows.tolist()] if cols.ids is not None else None,
        households=[cols.households[c] for c in owner] if cols.households is not None else None,
        **{name: getattr(cols, name)[rows] for name in _VISIT_COLUMNS})
    result = settle_columns(engine, prefixes)
    firsts = np.cumsum(length) - length
    so_far = np.stack([np.add.reduceat(t, firsts) for t in result.tiers()]) if n else np.zeros((4, 0), np.int64)
    # Running maximum within each year, one visit position at a time (a year has a handful of visits).
    paid = so_far.copy()
    position = length - 1
    for k in range(1, int(position.max(initial=0)) + 1):
        at = np.flatnonzero(position == k)
        paid[:, at] = np.maximum(paid[:, at - 1], so_far[:, at])
    due = paid.copy()
    later = position > 0
    due[:, later] -= paid[:, np.flatnonzero(later) - 1]
    last = np.r_[np.flatnonzero(case[1:] != case[:-1]), n - 1] if n else np.zeros(0, np.int64)
    return Changing(due, list(result.applied_category), last, result)

"""Lookups derived once from a policy: category names and precedence, and which pool covers which visit."""

from __future__ import annotations

from dataclasses import dataclass, field

from app.domain.case import CaseError
from app.domain.names import CANONICAL_CATEGORIES, ORDINARY
from app.policy.schema import AssistancePool, Policy, Treatment


@dataclass(frozen=True)
class PolicyIndex:
    """Category names (with aliases), precedence, and the assistance terms by (pool, category)."""

    canonical: dict[str, str]
    rank: dict[str, int]
    pool_of_kind: dict[str, int]
    treatment: dict[tuple[int, str], Treatment]
    assisted: frozenset[str]
    # (kind, category) → the pool covering the kind, its index and the category's terms there, looked up per visit.
    assisting: dict[tuple[str, str], tuple[int, AssistancePool, Treatment]]
    # The candidates of each set of categories met so far, when no notes are asked for (a county has few such sets).
    _known: dict[tuple[str, ...], tuple[str, ...]] = field(default_factory=dict, compare=False, repr=False)

    @classmethod
    def of(cls, policy: Policy) -> "PolicyIndex":
        canonical: dict[str, str] = {}
        rank: dict[str, int] = {}
        for i, decl in enumerate(policy.categories):
            rank[decl.name] = i
            for name in (decl.name, *decl.aliases):
                canonical[name] = decl.name
        pool_of_kind: dict[str, int] = {}
        treatment: dict[tuple[int, str], Treatment] = {}
        for pi, pool in enumerate(policy.assistance):
            for kind in pool.kinds:
                if kind in pool_of_kind:
                    raise CaseError("policy", f"医疗救助：{kind}同时属于两个救助池，政策文件 {policy.id} 有误")
                pool_of_kind[kind] = pi
            for t in pool.treatments:
                for c in t.categories:
                    treatment[(pi, c)] = t
        assisting = {(kind, cat): (pi, policy.assistance[pi], t)
                     for kind, pi in pool_of_kind.items() for (p, cat), t in treatment.items() if p == pi}
        return cls(canonical, rank, pool_of_kind, treatment, frozenset(c for _, c in treatment), assisting)

    def candidates(self, categories: tuple[str, ...], notes: list[str] | None) -> list[str]:
        """The person's categories as the policy names them, in its order of precedence."""
        if notes is None and type(categories) is tuple:  # names outside the policy are refused, so this stays small
            known = self._known.get(categories)
            if known is None:
                known = self._known[categories] = tuple(self._candidates(categories, None))
            return list(known)
        return self._candidates(categories, notes)

    def _candidates(self, categories: tuple[str, ...], notes: list[str] | None) -> list[str]:
        found: list[str] = []
        for name in categories:
            if name in self.canonical:
                found.append(self.canonical[name])
            elif name in CANONICAL_CATEGORIES:
                if notes is not None:
                    notes.append(f"本政策未对“{name}”规定专门待遇，按{ORDINARY}计算。")
                found.append(ORDINARY)
            else:
                known = "、".join(self.canonical)
                raise CaseError("person.categories", f"“{name}”不是本政策认可的类别，可用的有：{known}")
        return sorted(set(found) or {ORDINARY}, key=lambda c: self.rank.get(c, len(self.rank)))

"""Who is acting on which store: every use case takes a Session, so every change is attributed."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from app.domain.errors import FieldError
from app.services import one_person_offices
from app.store.store import Store
from app.workflow import duties, permissions
from app.workflow.permissions import User  # noqa: F401  (the user the permission model judges)


# The command line's own changes (migrations, demo data, restores) are attributed to this user; what its role may
# do, and why, is in app/workflow/roles.py.
SYSTEM = User(None, "system", "系统", "系统", "")


@dataclass
class Session:
    """A store and the user acting on it; caches the settlement engine for the county's policy."""

    store: Store
    user: User
    _cache: dict[str, Any] = field(default_factory=dict)

    @property
    def conn(self):
        return self.store.conn

    def may(self, action: str, record=None, steps=None) -> permissions.Decision:
        """Whether the user may take `action` on `record` now (see app.workflow.permissions.decide); for a case's
        step, whether the county let one person take two local steps in the case's office."""
        one_person = duties.office_level(one_person_offices.offices(self.store), record.get("region_code")) \
            if steps is not None and record is not None else 0
        return permissions.decide(self.user, action, record, steps=steps, options=self.duties(),
                                  one_person=one_person)

    def duties(self) -> duties.Options:
        """What the county decided in its permission table (read each time: an administrator may change it)."""
        return duties.Options.of(self.store.setting(duties.SETTING))

    def require(self, action: str, record=None, steps=None) -> None:
        """Refuse, with the permission model's Chinese reason, an action the user may not take."""
        decision = self.may(action, record, steps)
        if not decision.allowed:
            raise FieldError(decision.field, decision.reason)

    def require_region(self, region_code: str, field: str) -> None:
        """Refuse work outside the user's jurisdiction, with a message that says whose it is."""
        if not self.user.covers(region_code):
            raise FieldError(field, f"{region_code} 不在您（{self.user.display_name}）的管辖范围 {self.user.jurisdiction} 内")

"""FieldError: a refused input as separate parts — the field's key, its Chinese label and the Chinese reason."""

from __future__ import annotations

from app.domain.labels import label_for


class FieldError(ValueError):
    """Bad input naming one field; nothing was saved.

    `field` is the key code and machine callers use ("total_cost", "household.passes_asset_check",
    "visits[0].date"); `label` is what a caseworker reads ("医疗费用总额"), from the table in
    app/domain/labels.py unless the raiser knows better; `message` says what is wrong and how to fix it.
    str() is the sentence a person sees — the label, never the key. Nothing should parse it back apart:
    read the parts.
    """

    def __init__(self, field: str, message: str, label: str | None = None):
        self.field = field
        self.label = label or label_for(field)
        self.message = message
        super().__init__(f"{self.label}：{message}")

    @property
    def reason(self) -> str:
        """The message alone, as the GUI shows it beside the field (the row already carries the label)."""
        return self.message

    def under(self, field: str, label: str | None = None, message: str | None = None) -> FieldError:
        """The same refusal reported under another field (a service re-raising an inner error as its own)."""
        return FieldError(field, self.message if message is None else message, label)

    def __reduce__(self):
        # Subclasses share this constructor; keeps errors picklable across process boundaries.
        return (type(self), (self.field, self.message, self.label))


def collect(*checks) -> list[FieldError]:
    """Run every check and return all their refusals, so that a form can mark each wrong field in one go."""
    found: list[FieldError] = []
    for check in checks:
        try:
            check()
        except FieldError as exc:
            found.append(exc)
    return found

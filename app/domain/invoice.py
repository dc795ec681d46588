"""Invoice numbers written one way, so that the duplicate-claim check (重复报销) sees one invoice as one."""

from __future__ import annotations

import unicodedata


def invoice_key(raw: str) -> str:
    """The invoice number written plainly: full-width letters and digits as ASCII (NFKC), and no spaces, control or
    invisible characters anywhere (a zero-width space or a full-width digit would otherwise make one invoice two)."""
    if raw.isascii() and raw.isprintable() and " " not in raw:
        return raw  # the usual case: nothing to change
    text = unicodedata.normalize("NFKC", raw)
    return "".join(c for c in text if not c.isspace() and unicodedata.category(c)[0] != "C")

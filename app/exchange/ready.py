"""Batches made ready for the county database on the thread that reads ahead: their COPY text and signed digests.

The county's import is one connection, so its server works on one statement at a time. Formatting rows for COPY
and digesting them for the push's signature cost this process as much CPU as the server spends writing them; done
on the read-ahead thread, they run while the connection's thread waits on the server for the batch before.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass


@dataclass(frozen=True)
class Ready:
    rows: list[tuple]
    text: bytes  # the rows as COPY text (each after `lead`, if given)
    signed: tuple[bytes, bytes] | None  # the row digests and their signature, if asked for


def copy_text(rows: Iterable[tuple], lead: tuple = ()) -> bytes:
    """Rows (each after `lead`) in COPY's text format, as psycopg's write_row writes them for a UTF-8 connection.

    Bytes go as bytea's hex form: without a connection psycopg would write its older escape form, which the server
    also reads, at twice the length."""
    # psycopg's own row formatter (its C one where installed), the one Copy.write_row calls: the bytes are those
    # write_row would send. It lives in a private module; the version is pinned, and tests/exchange/test_ready.py
    # stores lines through COPY and compares them with what write_row stores, so a change in psycopg shows there.
    # Imported here, as county_db imports the driver: when a county database is first used, not at the app's start.
    from psycopg._copy_base import TextFormatter
    from psycopg.adapt import Transformer

    formatter = TextFormatter(Transformer())  # no connection: nothing here touches the one the other thread uses
    out = bytearray()
    for row in rows:
        if bytes in map(type, row):
            row = tuple("\\x" + v.hex() if v.__class__ is bytes else v for v in row)
        out += formatter.write_row((*lead, *row) if lead else row)
    out += formatter.end()
    return bytes(out)


def ready(batches: Iterable[list[tuple]], lead: tuple = (),
          sign: Callable[[list[tuple]], tuple[bytes, bytes]] | None = None) -> Iterator[Ready]:
    """Each batch with its COPY text and (with `sign`) its signed digests."""
    for rows in batches:
        yield Ready(rows, copy_text(rows, lead), sign(rows) if sign else None)

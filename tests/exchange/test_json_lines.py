"""The exchange writes JSON with orjson where it wrote json.dumps(ensure_ascii=False, separators=(",", ":")): the
bytes must be the same, because a row's digest is the sha256 of that text and sites and the county running
different versions compare digests (app/exchange/county_keys.py), and a package line is read back by the same rules."""

from __future__ import annotations

import hashlib
import json

import orjson
from hypothesis import given, settings
from hypothesis import strategies as st

from app.exchange import county_db, county_keys, package

_JSON = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"))
# What a record's field holds, from SQLite or from a package line: text (any code point but a lone surrogate, which
# UTF-8 cannot carry), a 64-bit whole number, true or false, or null.
_VALUE = st.one_of(st.text(st.characters(blacklist_categories=("Cs",))), st.integers(-2 ** 63, 2 ** 63 - 1),
                   st.booleans(), st.none())


@settings(max_examples=500)
@given(st.lists(_VALUE, max_size=12))
def test_a_row_is_written_as_json_wrote_it(values):
    assert orjson.dumps(values) == _JSON.encode(values).encode("utf-8")
    assert orjson.dumps(tuple(values)) == _JSON.encode(values).encode("utf-8")


def test_every_character_below_the_astral_planes_is_escaped_alike():
    for low in range(0, 0x10000, 0x800):
        text = "".join(chr(c) for c in range(low, low + 0x800) if not 0xD800 <= c < 0xE000)
        assert orjson.dumps([text, {"k": text}]) == _JSON.encode([text, {"k": text}]).encode("utf-8")


@given(st.lists(_VALUE, min_size=3, max_size=3))
def test_a_package_line_is_the_json_line_it_was(values):
    columns = ("id", "name", "site_id")
    line = package._encode(columns, (), tuple(values))
    assert line == (_JSON.encode(dict(zip(columns, values))) + "\n").encode("utf-8")


def test_a_row_digest_is_the_one_json_made():
    e = next(e for e in county_db.local_entities() if e.table == "persons")
    row = tuple(f"值{i}\u0001\"\\" if i % 2 else i for i in range(len(e.wire)))
    assert county_keys.row_digest(e, row) == hashlib.sha256(_JSON.encode(list(row)).encode("utf-8")).digest()
    with_float = (1.5e20,) + row[1:]
    assert county_keys.row_digest(e, with_float) == hashlib.sha256(
        _JSON.encode(list(with_float)).encode("utf-8")).digest()

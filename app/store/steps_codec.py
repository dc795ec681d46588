"""A settlement's explanation as stored: its JSON deflated against a preset dictionary of the policies' wording.

The explanation is most of a settlement row. Each one repeats the policy's clauses and sentences with other
numbers, which plain zlib cannot exploit in a few hundred bytes; deflate given the same wording beforehand
(a preset dictionary) stores only the numbers and what differs: 56 bytes on average instead of 314 for the
demo county's settlements (bench/README.md). The text comes back exactly, byte for byte.

Three forms are read: text (JSON, written before schema 4's packing), a zlib stream (plain zlib, first byte 0x78,
written until schema 12), and a first byte naming the dictionary followed by raw deflate. Dictionaries are never
changed once released: a new one gets the next number, and every earlier one stays readable.
"""

from __future__ import annotations

import json
import zlib

from app.store.steps_dictionary import DICTIONARY_1

# The first byte of a packed explanation and its dictionary. A zlib stream starts with 0x78 (or 0x08–0x68 for
# smaller windows), never with a byte below 8, so the two forms cannot be mistaken for each other.
DICTIONARIES: dict[int, bytes] = {1: DICTIONARY_1.encode("utf-8")}
CURRENT = 1
# No explanation is near this long (a year's visits give a few KB): a stored one inflating past it, from a package
# or a sync, is refused instead of filling memory.
MAX_TEXT = 4 * 1024 * 1024


def pack(steps: list[dict]) -> bytes:
    """The stored form of an explanation (a list of steps as JSON objects)."""
    return _deflate(json.dumps(steps, ensure_ascii=False).encode("utf-8"))


def unpack(stored: bytes | str) -> list[dict]:
    """An explanation back from any stored form."""
    return json.loads(raw(stored))


def raw(stored: bytes | str) -> bytes:
    """The explanation's JSON, as UTF-8, exactly as it was packed."""
    if isinstance(stored, str):
        return stored.encode("utf-8")
    if stored[:1] and stored[0] in DICTIONARIES:
        inflate = zlib.decompressobj(-15, zdict=DICTIONARIES[stored[0]])
        data = stored[1:]
    else:
        inflate = zlib.decompressobj()
        data = stored
    text = inflate.decompress(data, MAX_TEXT)
    if inflate.unconsumed_tail or not inflate.eof:
        raise ValueError("结算说明的存储内容不完整或过长，无法读出")
    return text


def repack(stored: bytes | str) -> bytes:
    """An explanation stored in an earlier form, in the current one (the same JSON)."""
    return _deflate(raw(stored))


def _deflate(text: bytes) -> bytes:
    deflate = zlib.compressobj(9, zlib.DEFLATED, -15, 9, zlib.Z_DEFAULT_STRATEGY, zdict=DICTIONARIES[CURRENT])
    return bytes([CURRENT]) + deflate.compress(text) + deflate.flush()

"""Stored explanations: packed against the preset dictionary, read back exactly from every form ever written."""

from __future__ import annotations

import hashlib
import json
import shutil
import sqlite3
import zlib
from pathlib import Path

import pytest

from app.store import steps_codec
from app.store.check import check_database
from app.store.store import open_store

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
STEPS = [{"tier": "医疗救助", "amount": "9483.93", "reference": "芜医保〔2021〕76号 二(二)5",
          "explain": "本年累计政策范围内个人自付 18806.55 − 起付线 3000.00，计入 15806.55 × 60% = 9483.93"}]


def test_dictionary_one_is_never_changed():
    # Every explanation packed with dictionary 1 is read back with these bytes: a changed dictionary garbles them all.
    assert hashlib.sha256(steps_codec.DICTIONARIES[1]).hexdigest() == (
        "83db86b8b8142b557a1fc016bd09177027b2e35e770bc46486e9adf8239a57bf")


def test_packed_explanation_comes_back_exactly_and_small():
    packed = steps_codec.pack(STEPS)
    assert packed[0] == steps_codec.CURRENT
    assert steps_codec.unpack(packed) == STEPS
    assert steps_codec.raw(packed) == json.dumps(STEPS, ensure_ascii=False).encode("utf-8")
    assert len(packed) < len(zlib.compress(steps_codec.raw(packed), 9)) / 2


def test_every_earlier_form_is_read():
    text = json.dumps(STEPS, ensure_ascii=False)
    assert steps_codec.unpack(text) == STEPS  # text, before schema 4 packed it
    assert steps_codec.unpack(zlib.compress(text.encode("utf-8"), 6)) == STEPS  # plain zlib, until schema 12
    assert steps_codec.repack(zlib.compress(text.encode("utf-8"), 6)) == steps_codec.pack(STEPS)


@pytest.mark.parametrize("stored", [zlib.compress(b"[" + b"0," * 3_000_000 + b"0]"),
                                    steps_codec.pack(STEPS)[:-3], b"\x01not deflate", b""])
def test_a_stored_explanation_too_long_or_broken_is_refused(stored):
    with pytest.raises((ValueError, zlib.error)):
        steps_codec.unpack(stored)


def test_upgrade_repacks_every_explanation_without_sending_or_recounting_anything(tmp_path):
    db = tmp_path / "v11.sqlite3"
    shutil.copyfile(FIXTURES / "store-v11.sqlite3", db)
    old = sqlite3.connect(db)
    before = dict(old.execute("SELECT id, steps FROM settlements"))
    changes = old.execute("SELECT entity, entity_id, seq FROM changes ORDER BY seq").fetchall()
    cells = old.execute("SELECT * FROM stat_cells ORDER BY 1, 2, 3, 4").fetchall()
    triggers = old.execute("SELECT name, sql FROM sqlite_schema WHERE type = 'trigger' ORDER BY name").fetchall()
    old.close()
    assert before and all(zlib.decompress(s) for s in before.values())

    open_store(db, daily_backup=False).close()
    conn = sqlite3.connect(db)
    after = dict(conn.execute("SELECT id, steps FROM settlements"))
    assert after.keys() == before.keys()
    for key, stored in after.items():
        assert stored[0] == steps_codec.CURRENT and len(stored) < len(before[key])
        assert steps_codec.raw(stored) == zlib.decompress(before[key])
    # Later migrations start sending kinds of record that did not travel before (money, from version 14) and add
    # their triggers: what was there is what this one must leave alone.
    kinds = {entity for entity, _, _ in changes}
    assert [c for c in conn.execute("SELECT entity, entity_id, seq FROM changes ORDER BY seq") if c[0] in kinds] \
        == changes
    assert conn.execute("SELECT * FROM stat_cells ORDER BY 1, 2, 3, 4").fetchall() == cells
    assert set(triggers) <= set(conn.execute("SELECT name, sql FROM sqlite_schema WHERE type = 'trigger'"))
    conn.close()
    assert check_database(db, full=True) == []

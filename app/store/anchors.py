"""Anchors: whether the local audit chain still holds each head recorded outside the file (county, backups).

Heads are recorded at the county (by sync and packages) and beside each backup (a sidecar, written here). A head is
(count, hash of entry number count). The chain links each entry to the one before, so a local chain that verifies
and has the same hash at that number holds exactly the entries the head covered; a shorter chain lost its tail (a
deleted WAL file, an older copy of the file put back), a different hash means the chain was rewritten."""

from __future__ import annotations

import json
import os
import sqlite3
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from app.store import clock
from app.store.audit import GENESIS

SIDECAR = ".head.json"


@dataclass(frozen=True)
class Head:
    """What a witness outside this file saw of the chain: `count` entries, the last with `hash`; `where` names the
    witness and when it saw it, in Chinese (“县级数据库于 2026-03-01 10:20 同步时”)."""

    count: int
    hash: str
    where: str = ""


def local_head(conn: sqlite3.Connection) -> Head:
    """The chain as this file holds it now: its last entry, not audit_head (which a rewrite fixes up too)."""
    row = conn.execute("SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1").fetchone()
    return Head(row[0], row[1]) if row else Head(0, GENESIS)


def hash_at(conn: sqlite3.Connection, seq: int) -> str | None:
    """The hash of entry `seq` here (GENESIS for 0), or None if there is no such entry."""
    if seq == 0:
        return GENESIS
    row = conn.execute("SELECT hash FROM audit_log WHERE seq = ?", (seq,)).fetchone()
    return row[0] if row else None


def short(digest: str) -> str:
    return digest[:12]


def finding(conn: sqlite3.Connection, seen: Head, here: Head | None = None) -> str | None:
    """Whether this chain (whose last entry is `here`) still holds `seen`; if not, one line in Chinese saying what
    was seen and what is here."""
    if here is None:
        here = local_head(conn)
    if here.count < seen.count:
        return (f"本机审计日志比{seen.where}所见的短：当时本站审计日志已有 {seen.count} 条（末条校验值 "
                f"{short(seen.hash)}），本机现只有 {here.count} 条（末条 {short(here.hash)}）。第 {here.count + 1}–"
                f"{seen.count} 条及其间录入的记录已不在本机：数据库可能被换成了较早的副本或备份，或崩溃后 WAL 文件"
                f"（数据库文件名加 -wal）被删除")
    mine = hash_at(conn, seen.count)
    if mine != seen.hash:
        return (f"本机审计日志与{seen.where}所见的不一致：当时第 {seen.count} 条的校验值为 {short(seen.hash)}，"
                f"本机第 {seen.count} 条却是 {short(mine) if mine else '（缺失）'}（本机现有 {here.count} 条）。"
                f"该条及之前的日志被改写过，或数据库被换成了另一份副本")
    return None


def findings(conn: sqlite3.Connection, heads: list[Head]) -> list[str]:
    """The finding for the longest head this chain does not hold, noting how many others it fails too."""
    here = local_head(conn)
    failed = [(h, line) for h in heads if (line := finding(conn, h, here))]
    if not failed:
        return []
    line = max(failed, key=lambda f: f[0].count)[1]
    if len(failed) > 1:
        first = min(failed, key=lambda f: f[0].count)[0]
        line += f"（共 {len(failed)} 次记载与本机不符，最早的是{first.where}所见的第 {first.count} 条）"
    return [line]


# Backups ---------------------------------------------------------------------------------------------------------

def sidecar(backup_file: Path) -> Path:
    """Where a backup's head is kept: beside it, so that check reads it without opening the backup."""
    return backup_file.with_name(backup_file.name + SIDECAR)


def write_sidecar(backup_file: Path, final_name: str, taken: datetime, database: str | None = None) -> None:
    """Record the head of the (complete) backup at `backup_file`, before it takes `final_name`: a backup under its
    final name always has its head beside it; and the file name of the database it is of (`database`: a folder once
    held several databases' backups). Written to a temporary name and renamed, so it is whole or absent."""
    head, site = _read_head(backup_file), _read_site(backup_file)
    target = sidecar(backup_file.with_name(final_name))
    tmp = target.with_name(target.name + ".part")
    try:
        tmp.touch(mode=0o600)
        os.chmod(tmp, 0o600)  # beside a backup that only its owner may read
        tmp.write_text(json.dumps({"backup": final_name, "taken_at": clock.local_time(taken).isoformat(timespec="seconds"),
                                   "count": head.count, "hash": head.hash, "site_id": site, "database": database},
                                  ensure_ascii=False),
                       encoding="utf-8")
        os.replace(tmp, target)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def _read_head(backup_file: Path) -> Head:
    # immutable: nobody writes a backup, and a WAL-mode file opened read-only would otherwise leave -wal/-shm files
    conn = sqlite3.connect(f"file:{backup_file}?mode=ro&immutable=1", uri=True)
    try:
        return local_head(conn)
    finally:
        conn.close()


def _site(conn: sqlite3.Connection) -> str | None:
    try:
        row = conn.execute("SELECT value FROM settings WHERE key = 'site_id'").fetchone()
    except sqlite3.Error:
        return None
    return json.loads(row[0]) if row else None


def _read_site(backup_file: Path) -> str | None:
    conn = sqlite3.connect(f"file:{backup_file}?mode=ro&immutable=1", uri=True)
    try:
        return _site(conn)
    finally:
        conn.close()


def _recorded(backup_file: Path) -> dict:
    """What a backup's sidecar records, if it is this backup's: one that names another file (a backup replaced or
    renamed beside it) says nothing of this one. Raises KeyError when there is none to read."""
    try:
        data = json.loads(sidecar(backup_file).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        raise KeyError("sidecar") from None
    if not isinstance(data, dict) or data.get("backup") != backup_file.name:
        raise KeyError("sidecar")
    return data


def backup_database(backup_file: Path) -> str | None:
    """The file name of the database a backup is of, as its sidecar records it (None: made before sidecars said)."""
    try:
        name = _recorded(backup_file).get("database")
    except KeyError:
        return None
    return name if isinstance(name, str) else None


def replaced_by(backup_file: Path, site: str | None) -> None:
    """Record in a before-restore copy's sidecar the site of the database that replaced it: after a site move the
    newest backup naming the database is that copy, of the old site, and a damaged file's site is read there."""
    try:
        data = _recorded(backup_file)
    except KeyError:
        return
    target = sidecar(backup_file)
    tmp = target.with_name(target.name + ".part")
    try:
        tmp.touch(mode=0o600)
        tmp.write_text(json.dumps({**data, "replaced_by_site": site}, ensure_ascii=False), encoding="utf-8")
        os.replace(tmp, target)
    except OSError:
        tmp.unlink(missing_ok=True)  # the restore is done; without the note the site is read as before


def site_after(backup_file: Path) -> str | None:
    """The site of the database a backup stands for now: the site that replaced a before-restore copy, or the
    backup's own."""
    try:
        replaced = _recorded(backup_file).get("replaced_by_site")
    except KeyError:
        replaced = None
    return replaced if isinstance(replaced, str) else backup_site(backup_file)


def backup_site(backup_file: Path) -> str | None:
    """Which site's database a backup is of (its sidecar says; a backup without one is opened)."""
    try:
        return _recorded(backup_file)["site_id"]
    except (KeyError, TypeError):
        try:
            return _read_site(backup_file)
        except sqlite3.Error:
            return None


def backup_head(backup_file: Path) -> Head | None:
    """A backup's head from its sidecar; a backup made before sidecars existed is opened and read instead."""
    try:
        data = _recorded(backup_file)
        head = Head(int(data["count"]), str(data["hash"]))
        when: datetime | None = datetime.fromisoformat(data["taken_at"])
    except (OSError, ValueError, KeyError, TypeError):
        from app.store.backup import taken_at

        try:
            head = _read_head(backup_file)
        except sqlite3.Error:
            return None  # a backup that cannot be read says nothing about the chain; restore refuses it anyway
        when = taken_at(backup_file)
    return Head(head.count, head.hash, f"备份 {backup_file.name}" + (f"（{when:%Y-%m-%d %H:%M}）" if when else ""))


def site_backups(db_path: Path, site: str | None) -> list[tuple[Head, Path]]:
    """The heads of this database's backups of `site`, oldest first (one that cannot be read is left out): see
    backup.own_backups for which they are."""
    from app.store.backup import own_backups

    found = []
    for b in own_backups(db_path, site):
        if backup_site(b) == site:
            head = backup_head(b)
            if head is not None:
                found.append((head, b))
    return found


def newest_backup_count(conn: sqlite3.Connection, db_path: Path) -> int | None:
    """How many entries of the log the newest of this site's backups saw (None without a backup)."""
    return max((head.count for head, _ in site_backups(db_path, _site(conn))), default=None)


def given_up(conn: sqlite3.Connection) -> set[tuple[int, str]]:
    """Heads of backups that a restore recorded in this chain gave up on purpose (backup.restore)."""
    heads: set[tuple[int, str]] = set()
    for (after,) in conn.execute("SELECT after FROM audit_log WHERE entity = 'database'"):
        try:
            listed = json.loads(after or "").get("abandoned") or []
        except (ValueError, AttributeError):
            continue
        heads.update((h[0], h[1]) for h in listed
                     if isinstance(h, list) and len(h) == 2 and isinstance(h[0], int) and isinstance(h[1], str))
    return heads


def not_held(conn: sqlite3.Connection, db_path: Path, site: str | None) -> list[list]:
    """[count, hash] of every backup of `site` whose head this chain does not hold: what a restore gives up."""
    here = local_head(conn)
    return [[h.count, h.hash] for h, _ in site_backups(db_path, site) if finding(conn, h, here)]


def against_backups(conn: sqlite3.Connection, db_path: Path) -> list[str]:
    """A rollback past any of this site's backups: the local chain no longer holds a backup's head, and no restore
    recorded in the chain gave that backup up.

    Every backup counts, not only the newest: the day after a database was put back to an older copy, the day's
    first start backs up the older state, and that backup alone would hide what the earlier ones saw."""
    here = local_head(conn)
    kept = site_backups(db_path, _site(conn))
    if not any(finding(conn, h, here) for h, _ in kept):
        return []  # the usual case: given_up reads the whole log (no index finds a restore's entries), 1.4 s a county
    excused = given_up(conn)
    kept = [(h, b) for h, b in kept if (h.count, h.hash) not in excused]
    lines = findings(conn, [h for h, _ in kept])
    if not lines:
        return []
    holder = max(((h, b) for h, b in kept if finding(conn, h, here)), key=lambda hb: hb[0].count)[1]
    return [lines[0] + f"。缺少的内容仍在 {holder.name} 中。如属有意换用较早的数据库：核实后先做一次备份（jiuzhu "
                       f"backup），再用 jiuzhu restore 恢复这份新备份，恢复会在审计日志中记下放弃的备份，以后的检查"
                       f"不再就此提示"]

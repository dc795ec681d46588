"""Backups with SQLite's online backup API: timestamped files readable by their owner only, the last N kept (safety
copies never pruned), restore of this site's own database only (audited) with a safety copy, a damaged database set
aside (renamed, never deleted) when a backup replaces it, and what a killed backup left behind cleared at start."""

from __future__ import annotations

import errno
import os
import shutil
import sqlite3
import time
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

from app.store import anchors, audit, clock
from app.store.integrity import damage, describe, header_problem
from app.store.errors import DiskFull, StoreError

PREFIX = "jiuzhu-"
SUFFIX = ".sqlite3"
DEFAULT_KEEP = 30
# The files SQLite keeps beside a database: the WAL and its index, and a rollback journal (a VACUUM or a database not
# in WAL mode), which goes with the file it belongs to and never onto another.
COMPANIONS = ("-wal", "-shm", "-journal")
# Backups hold every ID number and amount of the site: readable by the account that runs the program only.
PRIVATE = 0o600
# Copies taken before a restore or an upgrade are the way back from a wrong one: never pruned automatically.
KEPT_FOREVER = "before-"
# The daily backup copies about this many bytes a step (in whole pages) and rests between steps, so that a 4 GB
# county file is copied in the background over a minute or so without taking the disk or the interpreter from a
# caseworker. In bytes, not pages: a file's pages are 4 or 16 KiB (db.PAGE_SIZE).
STEP_BYTES = 2 * 1024 * 1024
STEP_PAUSE = 0.002
Progress = Callable[[int, int], None]  # (pages copied, pages in all); may raise BackupCancelled to stop


class BackupCancelled(StoreError):
    """The backup was stopped before it finished (the program is closing); nothing of it was kept."""


# The program's own database (app/store/paths.py): its backups keep the folder they always had.
DEFAULT_NAME = "jiuzhu.sqlite3"
SHARED = "backups"


def backups_dir(db_path: Path) -> Path:
    """Backups live beside the database, in a folder of its own: `backups` for the program's own database,
    `NAME.backups` for any other (as its keys are in `NAME.keys`).

    One folder per database, because everything here reads the folder as that database's backups: the day's
    backup already made, the oldest pruned, the newest offered for a damaged file, the site a restore must match.
    Two databases sharing a folder (a demo beside the office's, a county officer's copies) once shared `backups`:
    one's daily backup stood for the other's, pruning deleted the other's, and a damaged file was offered the
    other's newest backup, which restore then took for this site's own."""
    db_path = Path(db_path)
    return shared_dir(db_path) if db_path.name == DEFAULT_NAME else db_path.parent / f"{db_path.name}.backups"


def shared_dir(db_path: Path) -> Path:
    """The `backups` folder beside a database: the program's own database's, and every database's before each had
    its own (see own_backups)."""
    return Path(db_path).parent / SHARED


def list_backups(folder: Path) -> list[Path]:
    """Backup files in a folder, oldest first (names sort by their timestamp)."""
    return sorted(folder.glob(f"{PREFIX}*{SUFFIX}")) if folder.is_dir() else []


_ASK = object()  # own_backups: read the database's site itself


def own_backups(db_path: Path, site: object = _ASK) -> list[Path]:
    """This database's backups, oldest first.

    Before each database had its own folder, every database in a folder backed up into `backups`, which is still
    the program's own database's. There a backup is this database's if its sidecar names this database, or (made
    before sidecars named one) if it is of this database's `site`; not knowing the site, every such one counts, as
    it always did. A database other than the program's own also counts its older backups found there that way."""
    db_path = Path(db_path)
    shared = shared_dir(db_path)
    own = [] if backups_dir(db_path) == shared else list_backups(backups_dir(db_path))
    if site is _ASK:
        site = site_of_database(db_path)
    from_shared = []
    for b in list_backups(shared):
        named = anchors.backup_database(b)
        if named == db_path.name or (named is None and (site is None or anchors.backup_site(b) == site)):
            from_shared.append(b)
    return sorted([*own, *from_shared], key=lambda p: p.name)


def newest(db_path: Path) -> Path | None:
    """This database's most recent backup, if any."""
    found = own_backups(db_path)
    return found[-1] if found else None


def taken_at(path: Path) -> datetime | None:
    """When a backup was made, in county time, from its name (jiuzhu-YYYYmmdd-HHMMSS-ffffff-label.sqlite3)."""
    try:
        return datetime.strptime(path.name[len(PREFIX):len(PREFIX) + 15], "%Y%m%d-%H%M%S")
    except ValueError:
        return None


def label_of(path: Path) -> str:
    """A backup's label (daily, manual, before-restore …) from its name."""
    return path.name[:-len(SUFFIX)].split("-", 4)[-1] if path.name.endswith(SUFFIX) else ""


def _copy(source: sqlite3.Connection, target: Path, what: str, progress: Progress | None = None) -> None:
    """Copy a database page by page into `target` (created private); on any failure leave no trace of `target`,
    and say why.

    With `progress`, the copy goes in steps of STEP_BYTES with a pause between them, reporting after each."""
    leftovers = (target, target.with_name(target.name + "-journal"))
    stepped = {} if progress is None else {
        "pages": max(1, STEP_BYTES // source.execute("PRAGMA page_size").fetchone()[0]), "sleep": STEP_PAUSE,
        "progress": lambda status, remaining, total: progress(total - remaining, total)}
    try:
        target.touch(mode=PRIVATE, exist_ok=False)  # SQLite gives its journal the file's mode too
        os.chmod(target, PRIVATE)  # whatever the umask
        dest = sqlite3.connect(str(target))
        try:
            source.backup(dest, **stepped)
        finally:
            dest.close()
    except BaseException as exc:
        for f in leftovers:
            f.unlink(missing_ok=True)
        if isinstance(exc, (sqlite3.Error, OSError)):
            raise _failed(exc, target.parent, what) from None
        raise


def _failed(exc: BaseException, folder: Path, what: str) -> StoreError:
    """The error to raise when writing `what` into `folder` failed (the partial files already removed)."""
    full = getattr(exc, "sqlite_errorname", "") == "SQLITE_FULL" or getattr(exc, "errno", None) == errno.ENOSPC \
        or "disk is full" in str(exc)
    if full:
        return DiskFull(f"磁盘已满：无法在 {folder} 写入{what}，未写完的文件已删除，数据库本身没有受影响。"
                        f"请删除不需要的文件、清空回收站后重试")
    return StoreError(f"{what}失败：{getattr(exc, 'strerror', None) or exc}。请检查 {folder} 是否可写、磁盘是否已满；"
                      f"数据库本身没有受影响")


def _file_of(conn: sqlite3.Connection, folder: Path) -> Path | None:
    """The database whose backups go to `folder`, by the name it is opened under (None in memory).

    SQLite gives the file a link points to; the backups folder is named after the link (backups_dir), so that
    name, when the link is to this very file, is the database's."""
    name = next((r[2] for r in conn.execute("PRAGMA database_list") if r[1] == "main"), "")
    if not name:
        return None
    named = folder.parent / (DEFAULT_NAME if folder.name == SHARED else folder.name.removesuffix(".backups"))
    try:
        return named if named != Path(name) and named.resolve() == Path(name).resolve() else Path(name)
    except OSError:
        return Path(name)


def backup(conn: sqlite3.Connection, folder: Path, label: str = "manual", keep: int = DEFAULT_KEEP,
           progress: Progress | None = None) -> Path:
    """Copy the live database consistently into a new timestamped file; delete the oldest of its backups beyond
    `keep`.

    With `progress` the copy is made in small steps (see _copy), and stops, keeping nothing, when it raises."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise StoreError(f"无法建立备份文件夹 {folder}：{exc.strerror}。请检查该位置是否可写") from None
    taken = clock.local_now()
    source = _file_of(conn, folder)
    target = folder / f"{PREFIX}{taken:%Y%m%d-%H%M%S-%f}-{label}{SUFFIX}"
    partial = target.with_suffix(".partial")
    _copy(conn, partial, "备份", progress)
    try:
        # The head is read from the copy itself, and recorded before the copy takes its name.
        anchors.write_sidecar(partial, target.name, taken, source.name if source else None)
        partial.replace(target)  # a backup file either is complete or does not exist
    except (OSError, sqlite3.Error) as exc:
        for f in (partial, anchors.sidecar(target)):
            f.unlink(missing_ok=True)
        raise _failed(exc, folder, "备份") from None
    # Only this database's: another's in the folder (from before each had its own) may be all it has.
    kept_for = source is not None and folder in (backups_dir(source), shared_dir(source))
    # In a folder of the caller's choosing (a USB stick), only the backups whose sidecar names this database.
    mine = own_backups(source, anchors._site(conn)) if kept_for else [
        p for p in list_backups(folder) if source is not None and anchors.backup_database(p) == source.name]
    prunable = [p for p in mine if p.parent == folder and not label_of(p).startswith(KEPT_FOREVER)]
    for old in prunable[:-keep] if keep > 0 else []:
        old.unlink(missing_ok=True)
        anchors.sidecar(old).unlink(missing_ok=True)
    return target


def daily_backup(db_path: Path, progress: Progress, keep: int = DEFAULT_KEEP) -> Path | None:
    """Today's backup of the database at `db_path`, made in steps on a connection of its own; None if one exists.

    For a background thread while the app is in use. The copy holds one read snapshot from start to end (WAL lets
    writers go on meanwhile, and SQLite's backup would start over at every commit without it), so caseworkers'
    saves are never blocked and the backup is the database as it was when the backup began. Files left by a
    backup that was killed part-way are removed first; `progress` raising BackupCancelled stops it cleanly."""
    folder = backups_dir(db_path)
    if backed_up_today(db_path):
        return None
    for stale in folder.glob(f"{PREFIX}*.partial*") if folder.is_dir() else []:  # with its -journal
        stale.unlink(missing_ok=True)
    try:
        source = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True, isolation_level=None)
    except sqlite3.Error as exc:
        raise _failed(exc, folder, "备份") from None
    try:
        source.execute("BEGIN")
        source.execute("SELECT count(*) FROM sqlite_master").fetchone()  # takes the snapshot now
        return backup(source, folder, label="daily", keep=keep, progress=progress)
    finally:
        source.close()


def backed_up_today(db_path: Path) -> bool:
    """Whether a daily or manual backup of this database was written today (by its file name's date). A `before-…`
    copy is of the database a restore replaced or an upgrade changed, not of the one in use, so the day's backup is
    still made."""
    today = clock.local_now().strftime("%Y%m%d")
    return any(p.name.startswith(f"{PREFIX}{today}") and not label_of(p).startswith(KEPT_FOREVER)
               for p in own_backups(db_path))


def check_file(path: Path) -> None:
    """Refuse a file that is not an intact SQLite database."""
    try:
        conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        try:
            result = conn.execute("PRAGMA integrity_check").fetchone()[0]
        finally:
            conn.close()
    except sqlite3.DatabaseError as exc:
        raise StoreError(f"{path} 不是可用的数据库文件：{describe(exc)}") from None
    if result != "ok":
        raise StoreError(f"{path} 已损坏（integrity_check：{result}），不能用于恢复")


def set_aside(db_path: Path) -> Path:
    """Keep a damaged database and its WAL files as `NAME.damaged-YYYYmmdd-HHMMSS…` beside it; never delete them.

    The file itself is linked (or copied) under the new name rather than moved, so that until the restored file
    replaces it there is always a database at `db_path`: a crash in between leaves the damaged one, found damaged
    again at the next start, never a missing one that a start would take for a first run. The WAL goes along: it
    may hold the last committed changes, and someone may yet rescue them."""
    aside = db_path.with_name(f"{db_path.name}.damaged-{clock.local_now():%Y%m%d-%H%M%S}")
    try:
        os.link(db_path, aside)
    except OSError:  # a file system without hard links (FAT, some shares)
        shutil.copy2(db_path, aside)
    for suffix in COMPANIONS:
        source = db_path.with_name(db_path.name + suffix)
        if source.exists():
            source.replace(aside.with_name(aside.name + suffix))
    return aside


def _is_whole(db_path: Path) -> bool:
    try:
        if header_problem(db_path):  # read before connecting (see header_problem)
            return False
        conn = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True)
        try:
            return damage(conn, db_path) is None
        finally:
            conn.close()
    except (sqlite3.Error, OSError):
        return False


def clear_leftovers(db_path: Path) -> list[Path]:
    """Remove what a backup or restore killed half-way left behind (never a finished backup); returns what went."""
    found = [db_path.with_name(db_path.name + ".restoring"), db_path.with_name(db_path.name + ".compacting")]
    folder = backups_dir(db_path)
    if folder.is_dir():
        found += [*folder.glob("*.partial"), *folder.glob("*.partial-journal"), *folder.glob("*.head.json.part")]
    gone = []
    for leftover in found:
        try:
            leftover.unlink()
            gone.append(leftover)
        except FileNotFoundError:
            pass
        except OSError:  # in use by another instance, or read-only: left for the next start
            pass
    return gone


def site_of(path: Path) -> str | None:
    """Refuse a file that is not a 救助通 database with an account to sign in with; its site id (None if it is
    from before sites had ids)."""
    from app.store.schema import LATEST, is_ours

    try:
        conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        try:
            if not is_ours(conn):
                raise StoreError(f"{path} 不是救助通的数据库，不能用于恢复")
            version = conn.execute("PRAGMA user_version").fetchone()[0]
            if version > LATEST:
                raise StoreError(f"{path} 由更新版本的救助通写入（数据库版本 {version}），请先升级本程序再恢复")
            if not conn.execute("SELECT 1 FROM users WHERE active = 1 LIMIT 1").fetchone():
                raise StoreError(f"{path} 中没有可以登录的账号：恢复后程序会当作新装，任何人都能重新设置，不能用于恢复")
            return anchors._site(conn)
        finally:
            conn.close()
    except sqlite3.DatabaseError as exc:
        raise StoreError(f"{path} 不是可用的数据库文件：{describe(exc)}") from None


def site_of_database(db_path: Path) -> str | None:
    """This database's site id: from the file if it can be read; else (a damaged file) from its newest backup whose
    sidecar names it, or from its keys folder when that holds one site's keys (after a site move it holds two).
    Never from a backup that does not name it: which backups are this database's is decided by its site."""
    if db_path.exists():
        try:
            conn = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True)
            try:
                site = anchors._site(conn)
            finally:
                conn.close()
            if site:
                return site
        except sqlite3.Error:
            pass
    for b in sorted({*list_backups(backups_dir(db_path)), *list_backups(shared_dir(db_path))},
                    key=lambda p: p.name, reverse=True):
        if anchors.backup_database(b) == db_path.name:
            return anchors.site_after(b)
    from app.exchange.keys import key_dir

    held = list(key_dir(db_path).glob("*.json")) if key_dir(db_path).is_dir() else []
    return held[0].stem if len(held) == 1 else None


def alone(db_path: Path, doing: str = "恢复") -> sqlite3.Connection:
    """A connection holding the database to itself, to be closed by the caller; refused if another connection holds
    it open (the program in a window, on this computer or through a shared folder; a sync; another restore): it would
    go on writing into the file replaced, its WAL deleted under it, and what it saved afterwards would be lost.
    `doing`: what is refused, as the message says it (恢复, 整理).

    A connection in WAL mode keeps a shared lock on the file while it is open, so an exclusive lock is refused while
    any other is; in exclusive locking mode the lock is kept until this connection closes. Only for a whole
    database: opening a damaged one for writing could change it."""
    try:
        conn = sqlite3.connect(str(db_path), timeout=0, isolation_level=None)
    except sqlite3.Error as exc:
        raise _failed(exc, db_path.parent, f"{doing}前检查数据库") from None
    try:
        conn.execute("PRAGMA locking_mode = EXCLUSIVE")
        conn.execute("BEGIN EXCLUSIVE")
        conn.execute("ROLLBACK")
        return conn
    except sqlite3.OperationalError as exc:
        conn.close()
        if not getattr(exc, "sqlite_errorname", "").startswith(("SQLITE_BUSY", "SQLITE_LOCKED")):
            raise _failed(exc, db_path.parent, f"{doing}前检查数据库") from None
        raise StoreError(f"数据库 {db_path} 正在使用中（救助通的窗口开着，或正在同步、导入），未{doing}，什么也没有改动。请"
                         f"先关闭所有打开这个数据库的救助通窗口（包括别的电脑通过共享文件夹打开的），再{doing}") from None
    except BaseException:
        conn.close()
        raise


def restore(source: Path, db_path: Path, site_move: bool = False, user: object = "system") -> Path | None:
    """Replace the database with a backup of this site's; returns where the database it replaced now is, if any.

    Only a 救助通 database with accounts is taken, and only this site's own unless `site_move` confirms that the
    site's work moves here from another. An intact current database is first backed up (a `before-restore` backup,
    never pruned); a damaged one is set aside under a new name instead, so that it is kept but never offered as a
    backup to restore. The restored database records the restore in its audit log."""
    if not source.is_file():
        raise StoreError(f"找不到备份文件 {source}")
    check_file(source)
    theirs, ours = site_of(source), site_of_database(db_path)
    if ours is not None and theirs != ours and not site_move:
        raise StoreError(f"{source.name} 是另一个站点（站点编号 {theirs or '未知'}）的数据库，不是本站（{ours}）的，未恢复。"
                         f"如确实要把那个站点的工作搬到本机，请加 --site-move 确认")
    whole = db_path.exists() and _is_whole(db_path)
    # Held from the check to the replacing of the file (a county's copy takes minutes): nothing opens it meanwhile.
    guard = alone(db_path) if whole else None
    real = db_path.resolve()  # a link to the database stays a link: the file it points to is replaced
    try:
        staged = real.with_name(real.name + ".restoring")
        staged.unlink(missing_ok=True)
        src = sqlite3.connect(f"file:{source}?mode=ro", uri=True)
        try:
            _copy(src, staged, "恢复用的副本")
        finally:
            src.close()
        previous = None
        if guard is not None:
            try:
                previous = backup(guard, backups_dir(db_path), label="before-restore", keep=0)
            except StoreError:
                staged.unlink(missing_ok=True)
                raise
        elif db_path.exists():
            previous = set_aside(real)  # with its WAL, which SQLite keeps beside the file a link points to
        # The backups whose content the restored chain does not hold (the before-restore copy among them) are given
        # up on purpose: recorded in the restore's entry, `check` does not report them as a rollback. Nothing here
        # may stop the restore now, so a copy whose heads cannot be read records none (check then reports those
        # backups, as before restores recorded them).
        abandoned = None
        try:
            restored = sqlite3.connect(f"file:{staged}?mode=ro&immutable=1", uri=True)
            try:
                abandoned = anchors.not_held(restored, db_path, theirs)
            finally:
                restored.close()
        except sqlite3.Error:
            pass
    finally:
        if guard is not None:
            guard.close()
    replace_file(staged, real)
    if previous is not None and guard is not None:
        anchors.replaced_by(previous, theirs)
    _record(db_path, user, {"from": str(source), "site_id": theirs, "previous_site_id": ours, "site_move": site_move,
                            "previous_kept_as": str(previous) if previous else None, "abandoned": abandoned})
    return previous


def replace_file(staged: Path, real: Path, doing: str = "恢复") -> None:
    """Put a new copy (restored, or rewritten by compact) in the database's place, its old WAL and journal removed
    first (what they held is in the file and in the copy kept, and must not be replayed onto the new one). On
    Windows a file that a program opened in the moment since the database was let go can be neither removed nor
    replaced (nor can one an antivirus is reading): tried a few times, then it stops with the database as it was."""
    for attempt in range(10):
        try:
            for suffix in COMPANIONS:
                real.with_name(real.name + suffix).unlink(missing_ok=True)
            staged.replace(real)
            return
        except PermissionError:
            if attempt == 9:
                staged.unlink(missing_ok=True)
                raise StoreError(f"{doing}没有完成：数据库 {real} 刚被别的程序打开（救助通的窗口、杀毒软件），文件没有被替换，原来"
                                 f"的数据库未变。请关闭所有打开它的救助通窗口后重新{doing}") from None
            time.sleep(0.2)


def _record(db_path: Path, user: object, what: dict) -> None:
    from app.store.db import transaction
    from app.store.store import open_store  # restore sits below the store; the entry is written through it

    store = open_store(db_path, daily_backup=False)
    try:
        with transaction(store.conn):
            audit.append(store.conn, user, "恢复数据库" + ("（站点搬迁）" if what["site_move"] else ""), "database",
                         what["site_id"] or "", None, what)
    finally:
        store.close()

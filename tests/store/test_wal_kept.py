"""Another program opening and closing the database must not delete the WAL under an open store.

Reading the file's header with a plain open()/close() after connecting dropped every POSIX lock this process held on
the file; a `sqlite3` query from another process then took the database for unused, checkpointed and deleted the
WAL, and every later change of the open store went into a deleted file."""

from __future__ import annotations

import sqlite3
import subprocess
import sys

from app.store.db import transaction
from app.store.store import open_store


def test_a_query_from_another_process_leaves_the_open_store_its_wal(tmp_path):
    db = tmp_path / "t.sqlite3"
    open_store(db, daily_backup=False).close()
    store = open_store(db, daily_backup=False)  # an existing file: the header is checked
    try:
        subprocess.run([sys.executable, "-c", f"import sqlite3; c = sqlite3.connect({str(db)!r}); "
                        "c.execute('SELECT count(*) FROM settings').fetchone(); c.close()"], check=True)
        assert db.with_name(db.name + "-wal").exists()
        with transaction(store.conn):
            store.conn.execute("INSERT INTO settings (key, value, updated_at) VALUES ('probe', '1', 'now')")
    finally:
        store.conn.close()  # the last connection checkpoints what its WAL holds into the file
    assert sqlite3.connect(db).execute("SELECT value FROM settings WHERE key = 'probe'").fetchone() == ("1",)

"""Write tests/fixtures/store-v1.sqlite3: a database as schema version 1 left it, with one household.

Run once when a schema version is released; the fixture is committed and tests upgrade from it.
"""

import sqlite3
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from app.store.db import connect  # noqa: E402
from app.store.store import migrate  # noqa: E402

target = Path(__file__).resolve().parents[1] / "fixtures" / "store-v1.sqlite3"
target.unlink(missing_ok=True)
conn = connect(target)
migrate(conn, None, target=1)
stamp = "2024-01-02T03:04:05.000+00:00"
conn.execute("INSERT INTO households VALUES ('h1', '340223100201', '籍山镇某村 1 号', 'p1', ?, ?)", (stamp, stamp))
conn.execute("INSERT INTO persons VALUES ('p1', 'h1', '张三', '居民身份证', '11010519491231002X', '1949-12-31', '女', "
             "'户主', ?, ?)", (stamp, stamp))
conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
conn.execute("PRAGMA journal_mode = DELETE")
conn.close()
print(target, sqlite3.connect(target).execute("PRAGMA user_version").fetchone()[0])

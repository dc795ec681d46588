"""Records N bills into a database, skipping those already there; the crash test kills it mid-way.

It prints one line per bill it records ("bill K00042"), flushed after the bill's transaction commits, so the test
can place its kills by the work done rather than by time."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from datetime import date, timedelta  # noqa: E402

from app.domain.idnumber import check_digit  # noqa: E402
from app.services import bills, county, registry, users  # noqa: E402
from app.services.demo import DEMO_LOCAL  # noqa: E402
from app.services.session import SYSTEM, Session  # noqa: E402
from app.store.store import open_store  # noqa: E402


def main(db: str, total: int, people: int) -> None:
    store = open_store(db, daily_backup=False)
    session = Session(store, SYSTEM)
    if not users.has_admin(store.conn):
        users.create_user(session, "admin", "管理员", "管理员", "340223", "correct-horse")
    if not store.setting("policy_id"):
        county.configure_county(session, "340223", "南陵县", "wuhu-2022", DEMO_LOCAL)
    person_ids = []
    for k in range(people):
        body = f"340223{1950 + k % 50}0101{k:03d}"
        number = body + check_digit(body)
        row = store.conn.execute("SELECT id FROM persons WHERE id_number = ?", (number,)).fetchone()
        if row is None:
            _, pid = registry.register_household(session, "340223100201", f"某村 {k} 号",
                                                 registry.PersonInput(f"测试{k}", number))
            if k % 3 == 0:
                registry.set_category(session, pid, "低保对象", "2020-01-01", None, "民政")
        else:
            pid = row[0]
        person_ids.append(pid)
    done = {r[0] for r in store.conn.execute("SELECT invoice_number FROM visits")}
    for i in range(total):
        invoice = f"K{i:05d}"
        if invoice in done:
            continue
        day = date(2023, 1, 1) + timedelta(days=i // people)
        bills.record_bill(session, person_ids[i % people], bills.BillInput(
            "南陵县医院", day.isoformat(), day.isoformat(), "住院", "12000.00", "10000.00", invoice, "县级",
            "6000.00", "0.00"), today=date(2024, 1, 1))
        print("bill", invoice, flush=True)
    print("done", flush=True)


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]), int(sys.argv[3]))

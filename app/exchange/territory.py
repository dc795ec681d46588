"""A registered site's jurisdiction, and whether a record it sends lies in it.

The rule: a registered site has a jurisdiction, a region-code prefix as users' jurisdictions are (a county's 6
digits, a township's 9, a village's 12). The county's admin states it when registering the site's key card; a card
may carry the site's own claim (the township its users work in), which must then agree. Every record a site sends
must lie in its jurisdiction, judged wherever records arrive from another site: at the county database (a push, an
imported package) and at a site (a pull, a package at the county's installation).

Where a record lies: every region it names and every region of a record above it that the receiver holds. A
household and an application name their region_code; a 发放 batch its jurisdiction; a dated local value its
region_code (the county's, so only a site whose jurisdiction is the whole county sends one); every record travels
with the region its sender derived from its household or application (region_code on the wire). Above a person is
its household; above a category period, enrollment, bill, annual settlement or payment line its person (so its
household), and its bill where it names one; above an application its household and person; above a step or an
attachment its application. The regions of those are read from the receiver's own copies, never from the record,
so a record that carries its own township's region but names another township's household is refused too.

The unit of refusal is the record, as for a forged workflow step (county_steps.admit, steps.refusal) and a money
record (money_records): it is kept aside with a reason naming the site, the record and the region (the county's
conflicts table, a site's sync_conflicts) and the rest of the push or package is applied. Not the whole push or
package, because a push is many county transactions, each batch committed as it arrives so that a cut line loses
nothing, so the records before a foreign one are already kept when it comes; and a package must be judged as the
sync of the same records is. Nothing of a refused record is half-applied: what lies under it lies in the same
foreign region (by the region it travels with or by the record above it held here), so it is refused with it. A
signature, a county or a checksum that does not hold still refuses a package whole (envelope, package).

Who is bound: the county's own site is not (it holds the whole county). A site registered before sites had a
jurisdiction (未登记辖区) is not bound either, as before this rule: `jiuzhu county sites` and the GUI list it with a
warning, a package imported from it says so, and once the county registers it again with a jurisdiction its records
are checked from then on, at the county as they arrive and at every site as they are pulled (what it sent before
included), and the registration counts those of its records the county already holds outside it.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from app.domain.regions import label
from app.exchange.records import NAMES, held_region

# As users' jurisdictions are: a county (6 digits), a township (9) or a village (12). ASCII digits only.
_CODE = re.compile(r"[0-9]{6}(?:[0-9]{3}){0,2}")

# The records above each kind whose region it lies in as well: (kind, the column naming it).
ABOVE: dict[str, tuple[tuple[str, str], ...]] = {
    "persons": (("households", "household_id"),),
    "category_periods": (("persons", "person_id"),),
    "enrollments": (("persons", "person_id"),),
    "visits": (("persons", "person_id"),),
    "settlements": (("persons", "person_id"), ("visits", "visit_id")),
    "annual_settlements": (("persons", "person_id"),),
    "applications": (("households", "household_id"), ("persons", "person_id")),
    "application_steps": (("applications", "application_id"),),
    "attachments": (("applications", "application_id"),),
    "payment_lines": (("persons", "person_id"), ("visits", "visit_id")),
}
# The regions a record names itself (every kind travels with region_code; a batch's is its jurisdiction).
_OWN = {"disbursement_batches": ("jurisdiction", "region_code")}

# (kind, id) -> the region of that record as the receiver holds it, None if it holds none.
Held = Callable[[str, object], object]


@dataclass(frozen=True)
class Bound:
    """A site whose records must lie in its jurisdiction."""

    site_id: str
    name: str
    jurisdiction: str


# By site id. A site not in it (the county's own, one registered without a jurisdiction, one not known) is not bound.
Bounds = dict[str, Bound]


def problem(code: object) -> str | None:
    """Why a stated or claimed jurisdiction is not one (None: it is)."""
    if isinstance(code, str) and _CODE.fullmatch(code):
        return None
    return f"应为 6 位县、9 位乡镇或 12 位村的统计用区划代码（如 340223100），现为“{str(code)[:20]}”"


def agree(stated: str, claim: str) -> bool:
    """Whether the county's statement and a card's claim name the same branch of the region tree (one holds the
    other): the county may bind a site more widely or more narrowly than its users' township, never elsewhere."""
    return stated.startswith(claim) or claim.startswith(stated)


def within(region: object, jurisdiction: str) -> bool:
    return isinstance(region, str) and region.startswith(jurisdiction)


def bounds(sites: Iterable[tuple[str, str, str | None]], county_site: str | None) -> Bounds:
    """The bound sites among (site id, name, jurisdiction) rows of a register."""
    return {site: Bound(site, name or site, code) for site, name, code in sites
            if code and site != county_site}


def describe(code: str | None) -> str:
    """A site's jurisdiction as `county sites` and the GUI show it."""
    return label(code) if code else "未登记辖区（本版本之前登记的，其记录不按辖区核对；请重新登记并写明辖区）"


def unstated_warning(sites: list[dict]) -> str | None:
    """The warning under a list of registered sites (county_keys.sites) when valid ones have no jurisdiction."""
    names = [s["name"] or s["site_id"] for s in sites if not s["jurisdiction"] and not s["revoked_at"]]
    if not names:
        return None
    return (f"注意：{len(names)} 个站点登记时没有写明辖区（{'、'.join(names[:5])}{' 等' if len(names) > 5 else ''}），"
            f"它们送来的记录不按辖区核对。请用各站点的公钥卡重新登记并写明辖区"
            f"（jiuzhu county register-site 地址 公钥卡 --jurisdiction 区划代码）")


def unstated_note(name: str, site: str) -> str:
    """What an import tells the county officer about records from a site registered without a jurisdiction."""
    return (f"注意：站点{name}（编号 {site}）登记时没有写明辖区（本版本之前登记的），其记录未按辖区核对。请县管理员"
            f"重新登记该站点并写明辖区（jiuzhu county register-site 地址 公钥卡 --jurisdiction 区划代码）")


def regions(table: str, record: dict, held: Held) -> list[tuple[str, object]]:
    """Every region the record lies in, each with what says so ("它", or the kind of record above it), as held."""
    out: list[tuple[str, object]] = [("它", record.get(c)) for c in _OWN.get(table, ("region_code",))]
    for kind, column in ABOVE.get(table, ()):
        if isinstance(record.get(column), str):
            region = held(kind, record[column])
            if region is not None:
                out.append((f"它所属的{NAMES[kind]}", region))
    return out


def refusal(table: str, record: dict, site: Bound, held: Held) -> str | None:
    """Why a record `site` sent may not be kept: a region it lies in is outside the site's jurisdiction."""
    for whose, region in regions(table, record, held):
        if not within(region, site.jurisdiction):
            where = (f"{whose}在区划 {label(region[:20])}" if isinstance(region, str) and region
                     else f"{whose}没有区划代码")
            return (f"{where}，不在送出它的站点{site.name}（编号 {site.site_id}）登记的辖区 {label(site.jurisdiction)} "
                    f"内。若确属该站点经办，请县管理员核对后重新登记该站点的辖区（county register-site --jurisdiction）")
    return None


def what(table: str) -> str:
    """How a refusal names the record, after 未采用."""
    return f"这条{NAMES[table]}记录"


def site_refusal(conn, table: str, record: dict, sites: Bounds) -> str | None:
    """At a site: why a record from another site may not be kept for its territory (None: it may), the records above
    it read from this site's copies."""
    owner = record.get("site_id")
    site = sites.get(owner) if isinstance(owner, str) else None
    if site is None:
        return None

    def held(kind: str, rid: object) -> object:
        row = conn.execute(f"{held_region(kind)} = ?", (rid,)).fetchone()
        return row[1] if row else None

    reason = refusal(table, record, site, held)
    return reason and f"未采用{what(table)}：{reason}"


def county_admit(pg, table: str, wire: tuple[str, ...], rows: list[tuple], sites: Bounds,
                 sender: str | None) -> list[tuple[int, str]]:
    """At the county: the positions of the rows (in `wire` order) refused, with the reason. `sender`: the site whose
    signed push brings them (None: not known), whose own records they must all be; each is judged by its site's
    jurisdiction, the records above it read from the county's copies, in one query per kind and only if any site is
    bound. Only the columns the rule reads are taken out of a row (a batch is up to 20,000 rows)."""
    owner_at = wire.index("site_id")
    needed = [(c, wire.index(c)) for c in {"site_id", *_OWN.get(table, ("region_code",)),
                                           *(column for _, column in ABOVE.get(table, ()))}]
    refused: list[tuple[int, str]] = []
    held: dict[tuple[str, object], object] | None = None
    for i, row in enumerate(rows):
        owner = row[owner_at]
        if sender is not None and owner != sender:
            refused.append((i, f"这条记录写明属于站点 {str(owner)[:64]}，却是站点 {sender} 送来的：站点只能送出自己的记录"))
            continue
        site = sites.get(owner) if isinstance(owner, str) else None
        if site is None:
            continue
        if held is None:
            held = _county_held(pg, table, wire, rows)
        reason = refusal(table, {c: row[at] for c, at in needed}, site, lambda kind, rid: held.get((kind, rid)))
        if reason:
            refused.append((i, reason))
    return refused


def _county_held(pg, table: str, wire: tuple[str, ...], rows: list[tuple]) -> dict[tuple[str, object], object]:
    out: dict[tuple[str, object], object] = {}
    for kind, column in ABOVE.get(table, ()):
        at = wire.index(column)
        ids = sorted({r[at] for r in rows if isinstance(r[at], str)})
        if ids:
            out.update(((kind, rid), region) for rid, region in pg.execute(f"{held_region(kind)} = ANY(%s)", (ids,)))
    return out

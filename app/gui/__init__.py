"""The desktop app (PySide6 only here): windows, views, table models, dialogs and background operations.

The core the views call is imported here, before any PySide6 module. Once QtCore is loaded, PySide6 reads the source
of every module imported after it, to learn whether the module opts into its `__feature__` switches: with the core
imported after Qt that was ~490 modules and 0.15–0.4 s of every start from a Python install (bench/README, stop 28).
A module missing from this list still works; it only costs its source read at start.
"""

from importlib import import_module

# By name, binding nothing: `import app.x` here would bind `app` in this package and hide its module app.gui.app.
_CORE = (
    "app.exchange.package",
    "app.services.application_statistics",
    "app.services.applications",
    "app.services.bill_changes",
    "app.services.bill_import",
    "app.services.case_search",
    "app.services.disbursement",
    "app.services.identity_import",
    "app.services.login",
    "app.services.money_xlsx",
    "app.services.monitoring",
    "app.services.one_person_offices",
    "app.services.packages",
    "app.services.paperwork",
    "app.services.registry",
    "app.services.search",
    "app.services.simulation",
    "app.services.site_keys",
    "app.services.statistics",
    "app.services.subsidy_roster",
    "app.services.sync",
    "app.services.table_export",
    "app.services.users",
    "app.store.store",
)
for _name in _CORE:
    import_module(_name)
del _name

"""Every command of the command line either changes nothing (a short list, reviewed here) or signs in with --user."""

from __future__ import annotations

import argparse

from app.cli import build_parser

# Commands that change no record and no user (or, for init, make the first admin of an empty database; restore is
# for a database that may be too damaged to sign in to, and is checked by what it restores). A new command is
# refused by this test until it is either added here, with its reason, or given credentials (app/cli_auth.py).
WITHOUT_SIGN_IN = {
    "settle", "policy list", "policy show", "policy check", "policy path", "policy install", "policy new",
    "policy test", "gui", "init", "check",
    "audit verify", "user list", "backup", "restore", "documents sample", "verify-form", "monitoring-list",
    "subsidy-roster", "county init-db", "bill list", "adjustments",
    # Public keys only: this site's fingerprint and card, the county's register as it stands, its signatures checked.
    "keys show", "county sites", "county verify",
    "simulate",   # reads only: settles the year in memory and writes no record (tests/services/test_simulation.py)
    # Rewrites the file's pages, not its records: what it holds is the same before and after (`check` passes), and
    # whoever can run it on this computer can already copy or replace the file. Its audit entry names the OS user.
    "compact",
}


def commands(parser: argparse.ArgumentParser, prefix: str = ""):
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                yield from commands(sub, f"{prefix} {name}".strip())
            return
    yield prefix, parser


def test_every_command_that_changes_records_or_users_signs_in():
    found = dict(commands(build_parser()))
    assert WITHOUT_SIGN_IN <= set(found), sorted(WITHOUT_SIGN_IN - set(found))
    signing = {name for name, p in found.items() if any("--user" in a.option_strings for a in p._actions)}
    assert signing == set(found) - WITHOUT_SIGN_IN
    assert {"user add", "user passwd", "user disable", "user enable", "user unlock", "demo", "resettle",
            "import-list", "export-package", "import-package", "sync"} <= signing

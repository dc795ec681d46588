"""Who runs a command that changes records or users: --user and a password make the one signed-in Session it uses.

The password is asked for without echo, or read as one line from standard input with --password-stdin (scripts). A
command that also sets a password (user add, user passwd) reads the new one after it: the next line of standard
input, or asked twice. The signed-in user's role is then checked by the services, exactly as in the program.
"""

from __future__ import annotations

import argparse
import getpass
import sys
from pathlib import Path

from app.domain.errors import FieldError

# What --user says when it is missing: which commands need it and how to give the password.
NEEDED = ("请用 --user 写明您的用户名：改动记录或用户的命令须以本人身份登录，按您的角色核对权限"
          "（密码随后提示输入，脚本中可加 --password-stdin 从标准输入读取）")


def db_path(args: argparse.Namespace) -> Path:
    """The database a command works on: --db, or the default in this user's data folder."""
    from app.store.paths import default_db_path

    return Path(args.db) if args.db else default_db_path()


def with_credentials(p: argparse.ArgumentParser, sets_password: bool = False) -> argparse.ArgumentParser:
    """Add --user and --password-stdin to a command that changes records or users."""
    p.add_argument("--user", metavar="用户名", help="您的用户名（须登录：按您的角色核对权限，并记入审计日志）")
    second = "；第二行为要设置的新密码" if sets_password else ""
    p.add_argument("--password-stdin", action="store_true",
                   help=f"从标准输入读取：第一行为您的密码{second}（否则提示输入）")
    return p


def _line(prompt: str) -> str:
    line = sys.stdin.readline()
    if not line:
        raise FieldError("password", f"标准输入中没有{prompt}（--password-stdin 每行一个密码）")
    return line.rstrip("\r\n")


def password(args: argparse.Namespace) -> str:
    """The signed-in user's own password: the first line of standard input, or asked once without echo."""
    if args.password_stdin:
        return _line("您的密码")
    return getpass.getpass(f"{args.user} 的密码：")


def new_password(args: argparse.Namespace, prompt: str) -> str:
    """A password being set: the next line of standard input, or asked twice without echo."""
    if args.password_stdin:
        return _line("要设置的新密码")
    first = getpass.getpass(prompt)
    if getpass.getpass("再输一次：") != first:
        raise FieldError("password", "两次输入的密码不一致，未作修改")
    return first


def signed_in(args: argparse.Namespace, daily_backup: bool = True):
    """The Session of the user named by --user, signed in with their password (audited; locks as in the program)."""
    from app.services import login
    from app.services.session import Session
    from app.store.store import open_store

    if not getattr(args, "user", None):
        raise FieldError("cli_user", NEEDED)
    secret = password(args)
    store = open_store(db_path(args), daily_backup=daily_backup)
    try:
        return Session(store, login.sign_in(store.conn, args.user, secret, "命令行"))
    except BaseException:
        store.close()
        raise

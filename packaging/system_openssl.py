"""psycopg's vendored OpenSSL swapped for two empty libraries that load the system's (Linux bundle).

psycopg-binary's wheel carries its own OpenSSL for libpq (psycopg_binary.libs/libcrypto-*.so.3 and libssl-*.so.3,
6.9 MB), under names auditwheel made unique. Python's ssl and hashlib in the bundle already use the system's
OpenSSL 3 (the spec's SYSTEM_LIBRARIES: the distribution's security fixes reach it). libpq and the LDAP client
beside it ask OpenSSL for nothing newer than OPENSSL_3.0.0, which every OpenSSL 3 provides, so each vendored file
is replaced by an empty library of the same name that lists the system's (libssl.so.3, libcrypto.so.3) as its
own dependency: the loader then finds libpq's OpenSSL functions there, with their versions checked as before.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

VENDORED = re.compile(r"lib(ssl|crypto)-[0-9a-f]+\.so\.3")
# The newest OpenSSL symbol version libpq and libldap may ask for: what the system's OpenSSL 3 surely has.
SYSTEM_HAS = "OPENSSL_3.0.0"


def needs(library: Path) -> set[str]:
    """The OpenSSL symbol versions a library asks for (`readelf -V`: its version needs)."""
    out = subprocess.run(["readelf", "-V", "-W", str(library)], capture_output=True, text=True, check=True).stdout
    return set(re.findall(r"Name: (OPENSSL_[0-9.]+)", out))


def stub(out: Path, soname: str, system: str) -> int:
    """An empty shared library named `soname` that depends on the system's library `system`; its size."""
    out.parent.mkdir(parents=True, exist_ok=True)
    empty = out.parent / "empty.c"
    empty.write_text("/* nothing: the library only names the system's OpenSSL as its dependency */\n")
    # It defines the symbol version libpq asks of it (with no symbol in it), so the loader's check of libpq's
    # version needs passes without "no version information available".
    versions = out.parent / "versions.map"
    versions.write_text(f"{SYSTEM_HAS} {{ local: *; }};\n")
    subprocess.run(["gcc", "-shared", "-fPIC", "-o", str(out), str(empty), f"-Wl,-soname,{soname}",
                    f"-Wl,--version-script={versions}", "-Wl,--no-as-needed", f"-l:{system}"], check=True)
    subprocess.run(["strip", str(out)], check=True)
    return out.stat().st_size


def swapped(binaries: list[tuple[str, str, str]], workdir: Path) -> list[tuple[str, str, str]]:
    """The TOC `binaries` with psycopg's OpenSSL replaced by stubs of the system's, when its users allow it."""
    users = [Path(src) for dest, src, kind in binaries if Path(dest).parent.name == "psycopg_binary.libs"
             and not VENDORED.fullmatch(Path(dest).name)]
    asked = set().union(*(needs(lib) for lib in users)) if users else set()
    if asked - {SYSTEM_HAS}:  # a newer psycopg-binary that needs a newer OpenSSL keeps its own copy
        print(f"system OpenSSL: psycopg's libraries ask for {sorted(asked)}; its OpenSSL stays", file=sys.stderr)
        return binaries
    out = []
    for dest, src, kind in binaries:
        name = Path(dest).name
        match = VENDORED.fullmatch(name)
        if match and Path(dest).parent.name == "psycopg_binary.libs":
            library = workdir / name
            size = stub(library, name, f"lib{match.group(1)}.so.3")
            print(f"system OpenSSL: {name} {Path(src).stat().st_size:,} bytes, {size:,} as a stub", file=sys.stderr)
            src = str(library)
        out.append((dest, src, kind))
    return out

#!/usr/bin/env bash
# Build the one-folder bundle dist/jiuzhu/ on Linux (or CI) from a venv.
#
#   packaging/build.sh [VENV]        VENV defaults to .venv at the checkout's root; it is created from
#                                    requirements.lock when it does not exist yet.
#
# The machine needs binutils (PyInstaller reads and strips the shared libraries with objdump/strip), gcc and
# libc6-dev (numpy_blas.py and system_openssl.py compile small libraries) and the system libraries Qt links to, so
# that PyInstaller can copy them into the bundle: packaging/ci-frozen.sh installs them on Debian, and
# packaging/README.md lists them.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
venv=${1:-$root/.venv}
cd "$root"
if [ ! -x "$venv/bin/python" ]; then
    python3 -m venv "$venv"
    "$venv/bin/pip" install -q -r requirements.lock -e .
fi
start=$(date +%s)
"$venv/bin/python" -m PyInstaller --noconfirm --clean --log-level WARN \
    --distpath "$root/dist" --workpath "$root/build/pyinstaller" packaging/jiuzhu.spec
echo "dist/jiuzhu: $(du -sh dist/jiuzhu | cut -f1) ($(du -sb dist/jiuzhu | cut -f1) bytes), built in $(( $(date +%s) - start )) s"

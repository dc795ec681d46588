#!/usr/bin/env bash
# The caseworker's walk in a real window (see packaging/walk.py): each demo role signs in under Xvfb and does whole
# tasks by pointer and keyboard, every step photographed; then one of each printed document is rendered to PNG.
# Look at every picture.
#
#   packaging/walk.sh [DISPLAY_NUMBER] [OUTDIR]        e.g. packaging/walk.sh 96 /tmp/walk
#
# Needs Xvfb, xdotool, ImageMagick's import and poppler's pdftoppm. Run from the checkout with its .venv.
set -euo pipefail
NUM="${1:-96}"
OUT="${2:-/tmp/jiuzhu-walk}"
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
PY="$ROOT/.venv/bin/python"
export DISPLAY=":$NUM"
mkdir -p "$OUT"
rm -f "$OUT"/demo.sqlite3*

XVFB_PID=""
if ! xdpyinfo >/dev/null 2>&1; then
  Xvfb "$DISPLAY" -screen 0 1600x1000x24 >"$OUT/xvfb.log" 2>&1 &
  XVFB_PID=$!
  for _ in $(seq 1 40); do xdpyinfo >/dev/null 2>&1 && break; sleep 0.25; done
fi
cleanup() { [ -n "$XVFB_PID" ] && kill "$XVFB_PID" 2>/dev/null || true; }
trap cleanup EXIT

STATUS=0
"$PY" "$ROOT/packaging/walk.py" "$OUT" || STATUS=$?

# One of each printed document from the walked county, rendered page by page.
"$PY" - "$OUT" <<'PYEOF'
import sys
from pathlib import Path
from app.services import paperwork
from app.services.session import SYSTEM, Session
from app.store.store import open_store

out = Path(sys.argv[1])
session = Session(open_store(out / "demo.sqlite3", daily_backup=False), SYSTEM)
for path in paperwork.sample(session, out / "documents"):
    print(path)
PYEOF
for PDF in "$OUT"/documents/*.pdf; do
  pdftoppm -r 60 -png "$PDF" "${PDF%.pdf}"
done
echo "截图和文书在 $OUT"
exit "$STATUS"

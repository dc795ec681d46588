#!/usr/bin/env bash
# The caseworker's walk in a real window: each demo role signs in under Xvfb, every page of the navigation is
# opened by mouse and photographed, and one of each printed document is rendered to PNG. Look at every picture.
#
#   packaging/walk.sh [DISPLAY_NUMBER] [OUTDIR]        e.g. packaging/walk.sh 96 /tmp/walk
#
# Needs Xvfb, xdotool, ImageMagick's import and poppler's pdftoppm. Run from the checkout with its .venv.
set -euo pipefail
NUM="${1:-96}"
OUT="${2:-/tmp/jiuzhu-walk}"
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
PY="$ROOT/.venv/bin/python"
JZ="$ROOT/.venv/bin/jiuzhu"
export DISPLAY=":$NUM"
mkdir -p "$OUT"
rm -f "$OUT"/demo.sqlite3*
"$JZ" demo --db "$OUT/demo.sqlite3" --households 200 --quiet

XVFB_PID=""
if ! xdpyinfo >/dev/null 2>&1; then
  Xvfb "$DISPLAY" -screen 0 1600x1000x24 >"$OUT/xvfb.log" 2>&1 &
  XVFB_PID=$!
  sleep 1
fi
cleanup() { [ -n "$XVFB_PID" ] && kill "$XVFB_PID" 2>/dev/null || true; }
trap cleanup EXIT

wait_for() {  # a window whose title matches, up to 20 s
  for _ in $(seq 1 40); do
    xdotool search --name "$1" 2>/dev/null | head -1 && return 0
    sleep 0.5
  done
  return 1
}

for ROLE in cun xiang xiangshen yibao minzheng shenpi admin; do
  "$JZ" gui --db "$OUT/demo.sqlite3" >"$OUT/gui-$ROLE.log" 2>&1 &
  APP=$!
  wait_for "登录" >/dev/null
  sleep 1
  xdotool type --delay 20 "$ROLE"; xdotool key Tab; xdotool type --delay 20 "jiuzhu-demo"; xdotool key Return
  WIN=$(wait_for "救助通 ·")
  xdotool windowmove "$WIN" 0 0; xdotool windowsize "$WIN" 1500 950
  sleep 2
  # The navigation list: one entry every 38 px from y=40 (pages a role may not use are hidden, the rest move up).
  for I in $(seq 0 10); do
    xdotool mousemove 60 $((40 + 38 * I)) click 1
    sleep 1.5
    import -window root "$OUT/$ROLE-$(printf %02d "$I").png"
  done
  kill "$APP"; wait "$APP" 2>/dev/null || true
done

# One of each printed document from the same demo county, rendered page by page.
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

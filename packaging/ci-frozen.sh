#!/usr/bin/env bash
# CI: build the frozen bundle, then run it the way a caseworker's PC would, offscreen, on a fresh data folder.
# Exits non-zero when the build or any command fails (or hangs: each has a time limit).
#
#   packaging/ci-frozen.sh           uses .venv at the checkout's root (created from requirements.lock if absent)
#   VENV=/path/to/venv packaging/ci-frozen.sh
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"

# Debian packages. binutils: PyInstaller reads and strips shared libraries with objdump and strip. gcc and
# libc6-dev: the build compiles numpy's reference BLAS in place of its OpenBLAS (numpy_blas.py) and links the stubs
# that hand psycopg's libpq the system's OpenSSL (system_openssl.py). openssl: the certificate of the PostgreSQL
# server the exchange check starts (tests/pgserver.py). The rest are
# the system libraries Qt and Python link to: the spec leaves them to the system (fontconfig, freetype, glib, dbus,
# xkbcommon, the xcb family for a desktop display, cups for printing, gssapi for QtNetwork, OpenSSL), as
# PyInstaller leaves libEGL and libGL (they go with the graphics driver), so the bundle needs them at run time.
PACKAGES=(binutils gcc libc6-dev openssl libegl1 libgl1 libfontconfig1 libfreetype6 libglib2.0-0 libdbus-1-3 libxkbcommon0
          libxkbcommon-x11-0 libx11-6 libx11-xcb1 libxcb1 libxcb-cursor0 libxcb-glx0 libxcb-icccm4 libxcb-image0
          libxcb-keysyms1 libxcb-randr0 libxcb-render0 libxcb-render-util0 libxcb-shape0 libxcb-shm0 libxcb-sync1
          libxcb-util1 libxcb-xfixes0 libxcb-xkb1 libcups2 libgssapi-krb5-2 libbrotli1 libzstd1 zlib1g libssl3)

installed() {
    # Debian 13 renamed some libraries for the 64-bit time_t transition (libglib2.0-0 is libglib2.0-0t64).
    local status
    status=$(dpkg-query -W -f='${Status}\n' "$1" "${1}t64" 2>/dev/null || true)
    [[ $status == *"ok installed"* ]]
}

missing=()
for p in "${PACKAGES[@]}"; do installed "$p" || missing+=("$p"); done
if [ ${#missing[@]} -gt 0 ]; then
    if [ "$(id -u)" -ne 0 ]; then
        echo "ci-frozen: these Debian packages are missing; install them as root: apt-get install -y ${missing[*]}" >&2
        exit 1
    fi
    apt-get update -qq
    names=()
    for p in "${missing[@]}"; do
        policy=$(apt-cache policy "$p")
        if [[ $policy == *"Candidate: "[0-9]* ]]; then names+=("$p"); else names+=("${p}t64"); fi
    done
    echo "ci-frozen: installing ${names[*]}"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${names[@]}" >/dev/null
fi

packaging/build.sh "${VENV:-$root/.venv}"

bin=$root/dist/jiuzhu/jiuzhu
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
# A fresh home: `check` and the first `gui --smoke` use the default data folder, which must start empty.
export HOME=$scratch/home XDG_DATA_HOME=$scratch/home/data XDG_CONFIG_HOME=$scratch/home/config
export QT_QPA_PLATFORM=offscreen
mkdir -p "$HOME"
run() {
    echo "+ jiuzhu $*" >&2
    timeout 300 "$bin" "$@" || { echo "ci-frozen: 'jiuzhu $*' failed (exit $?)" >&2; exit 1; }
}
# A file the bundle wrote must be there and be what it says: a PDF, or an Excel workbook (a zip holding a sheet).
wrote() {
    local kind=$1; shift
    for f in "$@"; do
        case $kind in
            pdf) [ "$(head -c 5 "$f" 2>/dev/null)" = "%PDF-" ] ;;
            xlsx) "${VENV:-$root/.venv}/bin/python" -c "import sys, zipfile; assert 'xl/workbook.xml' in \
                      zipfile.ZipFile(sys.argv[1]).namelist()" "$f" 2>/dev/null ;;
        esac || { echo "ci-frozen: $f is not the $kind the frozen build should have written" >&2; exit 1; }
    done
}
run --version
run gui --smoke       # first start: creates the database in the default data folder and shows the first-run page
run check             # that database: schema, integrity, audit chain
# The settlement engine on the contract's example (a policy file, Decimal arithmetic, the explanation).
cat > "$scratch/case.json" <<'JSON'
{"policy": "wuhu-2022", "local": {"per_capita_disposable_income": "30000"},
 "person": {"categories": ["低保对象"], "insurance": "城乡居民医保"},
 "household": {"annual_income": "18000", "low_income_standard": "9600", "passes_asset_check": true},
 "application": false,
 "visits": [{"id": "v1", "date": "2022-03-05", "kind": "住院", "total_cost": "60000.00", "policy_covered": "50000.00",
             "basic_paid": "30000.00", "serious_illness_paid": "8000.00", "referred": true, "in_province": true,
             "hospital_level": "县级"}]}
JSON
run settle "$scratch/case.json" > "$scratch/settled.json"
grep -q '"assistance_paid": "9000.00"' "$scratch/settled.json" \
    || { echo "ci-frozen: settle did not pay the example's 9000.00" >&2; exit 1; }
demo=$scratch/demo.sqlite3
run demo --households 100 --year 2025 --quiet --db "$demo"   # faker's zh_CN data, the regions list, the policies
run gui --smoke --db "$demo"                       # every page, with people, bills and applications
run documents sample "$scratch/documents" --db "$demo"   # reportlab, the bundled font, the QR code
wrote pdf "$scratch"/documents/*.pdf
# The Excel writer (XlsxWriter) on three exports, and the explanations read back from their stored form.
run monitoring-list --month 2025-12 "$scratch/monitoring.xlsx" --db "$demo"
run subsidy-roster --year 2026 --contribution 380 "$scratch/roster.xlsx" --db "$demo"
run adjustments --year 2025 "$scratch/adjustments.xlsx" --db "$demo"
wrote xlsx "$scratch/monitoring.xlsx" "$scratch/roster.xlsx" "$scratch/adjustments.xlsx"
# numpy's batch path, frozen: 政策测算 with two rates side by side, and the year re-settled (nothing changes).
run simulate --year 2025 --local basic_inpatient_rate=50%/60% "$scratch/simulation.xlsx" --db "$demo"
wrote xlsx "$scratch/simulation.xlsx"
echo jiuzhu-demo | run resettle --year 2025 --user admin --password-stdin --db "$demo"
run check --full --db "$demo"
run check --workers 2 --db "$demo"                 # the same, its pieces in worker processes (the frozen exe again)
# Exchange: psycopg's binary driver and the package writer, against a PostgreSQL server started for the check. The
# server takes TLS connections only, as a county's should: libpq's TLS runs on the system's OpenSSL in the bundle
# (system_openssl.py), and a libpq that could not speak it would be turned away.
# Commands that change records sign in (here as the demo's administrator, password on standard input).
pgurl=$scratch/pg.url
"${VENV:-$root/.venv}/bin/python" - "$pgurl" <<'PY' &
import sys, time, signal
sys.path.insert(0, "tests")
import pgserver
server = pgserver.PgServer(tls=True)
open(sys.argv[1], "w").write(server.database("county"))
signal.signal(signal.SIGTERM, lambda *_: (server.close(), sys.exit(0)))
while True:
    time.sleep(1)
PY
pg_pid=$!
trap 'kill $pg_pid 2>/dev/null; wait $pg_pid 2>/dev/null; rm -rf "$scratch"' EXIT
for _ in $(seq 60); do [ -s "$pgurl" ] && break; sleep 0.5; done
[ -s "$pgurl" ] || { echo "ci-frozen: the PostgreSQL server for the exchange check did not start" >&2; exit 1; }
run county init-db "$(cat "$pgurl")"
# Site keys: the county office's installation (a small demo of its own) claims the county database, the township
# takes in the county's key card and is registered there; its package is then sealed to the county.
office=$scratch/office.sqlite3
run demo --households 1 --year 2025 --quiet --db "$office"
echo jiuzhu-demo | run county claim "$(cat "$pgurl")" --user admin --password-stdin --db "$office"
run keys show --card "$scratch/county.card" --db "$office"
echo jiuzhu-demo | run keys trust-county "$scratch/county.card" --user admin --password-stdin --db "$demo"
run keys show --card "$scratch/site.card" --db "$demo"
# The demo's township holds households all over the county: it is registered for the whole county.
echo jiuzhu-demo | run county register-site "$(cat "$pgurl")" "$scratch/site.card" --jurisdiction 340223 --user admin \
    --password-stdin --db "$office"
echo jiuzhu-demo | run export-package "$scratch/p.jzpkg" --user admin --password-stdin --db "$demo"
echo jiuzhu-demo | run import-package "$scratch/p.jzpkg" --county-url "$(cat "$pgurl")" --user admin \
    --password-stdin --db "$office"
echo jiuzhu-demo | run sync --county-url "$(cat "$pgurl")" --user admin --password-stdin --db "$demo"
run audit verify --county-url "$(cat "$pgurl")" --db "$demo"   # the county's copy of this site's audit log
run check --db "$demo"
echo "ci-frozen: the frozen build passed"

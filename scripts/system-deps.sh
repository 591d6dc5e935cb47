#!/usr/bin/env bash
# Installs the Debian packages Hromada needs on a fresh Debian 12 machine, when run as root;
# otherwise names the one command to run. Quiet when everything is already there.
#   scripts/system-deps.sh run   - what `make run` needs (Python venv, PostgreSQL+PostGIS, npm,
#                                  redis-server, nginx-light)
#   scripts/system-deps.sh test  - plus Chromium for the portal tests, GDAL (ogrinfo) and etcd
#   scripts/system-deps.sh bench - plus wrk for the benchmarks
set -euo pipefail
want=()
python3 -c 'import venv, ensurepip' 2>/dev/null || want+=(python3-venv)
command -v npm >/dev/null || want+=(npm)
# redis-server: the shared rate-limit counters of several API processes (HROMADA_WEB_PROCESSES
# > 1; gis/redis_server.py starts a private one; the package's own service is not used)
[ -x /usr/bin/redis-server ] || command -v redis-server >/dev/null || want+=(redis-server)
# nginx: the caching reverse proxy HROMADA_PROXY_PORT puts in front (gis/proxy.py starts a private
# one; the package's own service is not used)
[ -x /usr/sbin/nginx ] || command -v nginx >/dev/null || want+=(nginx-light)
# DejaVu Sans: a TrueType font with Cyrillic for the ward report's PDF (gis/ward_report.py)
[ -f /usr/share/fonts/truetype/dejavu/DejaVuSans.ttf ] || want+=(fonts-dejavu-core)
if [ -z "${DATABASE_URL:-}" ]; then
  ls /usr/share/postgresql/*/extension/postgis.control >/dev/null 2>&1 \
    || want+=(postgresql-15 postgresql-15-postgis-3)
fi
if [ "${1:-run}" = bench ]; then
  command -v wrk >/dev/null || want+=(wrk)  # the benchmarks' HTTP load generator
fi
if [ "${1:-run}" = test ]; then
  command -v chromium >/dev/null || want+=(chromium)
  command -v ogrinfo >/dev/null || want+=(gdal-bin)  # GDAL's OAPIF driver reads /ogc in tests
  # etcd: the configuration store of the Patroni cluster tests/test_ha.py fails over (gis/ha.py
  # starts a private member; the package's own service is not used)
  [ -x /usr/bin/etcd ] || command -v etcd >/dev/null || want+=(etcd-server)
  ls /usr/share/postgresql/*/extension/postgis.control >/dev/null 2>&1 \
    || want+=(postgresql-15 postgresql-15-postgis-3)
fi
[ ${#want[@]} -eq 0 ] && exit 0
# shellcheck disable=SC2207
want=($(printf '%s\n' "${want[@]}" | sort -u))
if [ "$(id -u)" -ne 0 ]; then
  echo "Missing system packages. Run: sudo apt-get install -y ${want[*]}" >&2
  exit 1
fi
export DEBIAN_FRONTEND=noninteractive
log=$(mktemp)
if ! { apt-get update -qq && apt-get install -y -qq --no-install-recommends "${want[@]}"; } >"$log" 2>&1; then
  cat "$log" >&2
  echo "Could not install: ${want[*]}" >&2
  exit 1
fi
rm -f "$log"

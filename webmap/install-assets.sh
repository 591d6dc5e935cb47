#!/usr/bin/env bash
# Install the portal's third-party browser libraries from the npm registry (exact versions of
# package-lock.json) and copy their distributable files into webmap/static/vendor/, which the app
# serves under /static/vendor/. Both node_modules/ and static/vendor/ are gitignored.
# Idempotent; run by `make assets` (and so by `make run` and `make test`).
set -euo pipefail
cd "$(dirname "$0")"

npm ci --silent --no-audit --no-fund --ignore-scripts

rm -rf static/vendor
mkdir -p static/vendor
cp -R node_modules/leaflet/dist static/vendor/leaflet
# Vector tiles (MVT) for Leaflet; the bundle carries its protobuf decoder.
mkdir -p static/vendor/vectorgrid
cp node_modules/leaflet.vectorgrid/dist/Leaflet.VectorGrid.bundled.min.js static/vendor/vectorgrid/
# Drawing and editing shapes on a Leaflet map (the administrator's dispatch area; later the
# planners' structures): Leaflet-Geoman (free edition, MIT), its bundle and stylesheet only.
mkdir -p static/vendor/leaflet-geoman
cp node_modules/@geoman-io/leaflet-geoman-free/dist/{leaflet-geoman.min.js,leaflet-geoman.css} static/vendor/leaflet-geoman/
# Charts of the dashboard (/dashboard only): Chart.js, its UMD bundle (carries @kurkle/color).
mkdir -p static/vendor/chartjs
cp node_modules/chart.js/dist/chart.umd.min.js static/vendor/chartjs/
# The API's own documentation page (/docs), served by the app rather than from a CDN.
mkdir -p static/vendor/swagger-ui
cp node_modules/swagger-ui-dist/{swagger-ui-bundle.js,swagger-ui.css,favicon-32x32.png} static/vendor/swagger-ui/
echo "webmap: Leaflet $(node -p 'require("leaflet/package.json").version'), Leaflet.VectorGrid $(node -p 'require("leaflet.vectorgrid/package.json").version'), Leaflet-Geoman $(node -p 'require("./node_modules/@geoman-io/leaflet-geoman-free/package.json").version') in static/vendor/"

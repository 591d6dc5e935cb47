// The portal's map: Kyiv's districts, read from our OGC API – Features like any other client,
// and the appeals from our vector tiles (clusters far out, points coloured by status close
// in), drawn with Leaflet on a neutral background (no tile server is needed).
// The page passes its settings as JSON in #map-config; when the districts are drawn, the map
// element says so in data-state="ready" and data-districts="<count>"; data-appeal-tiles counts
// the appeal tiles drawn (the browser test reads them).
(function () {
  "use strict";

  const config = JSON.parse(document.getElementById("map-config").textContent);
  const mapEl = document.getElementById("map");
  const statusEl = document.getElementById("status");
  const KYIV = [50.45, 30.52];

  const map = L.map(mapEl, { zoomSnap: 0.25, preferCanvas: false }).setView(KYIV, 10);
  if (config.basemapUrl) {
    L.tileLayer(config.basemapUrl, { maxZoom: 19 }).addTo(map);
  }

  // Every page of a collection, following the `next` links.
  async function fetchAllFeatures(url) {
    const features = [];
    while (url) {
      const response = await fetch(url, { headers: { Accept: "application/geo+json" } });
      const body = await response.json().catch(() => ({}));
      if (!response.ok) {
        throw new Error(body.detail || `HTTP ${response.status}`);
      }
      features.push(...body.features);
      const next = (body.links || []).find((link) => link.rel === "next");
      url = next ? next.href : null;
    }
    return features;
  }

  function label(text) {
    const span = document.createElement("span");
    span.textContent = text; // names are data: never inserted as HTML
    return span;
  }

  function drawDistricts(features) {
    const layer = L.geoJSON({ type: "FeatureCollection", features }, {
      style: () => config.districtsStyle,
      attribution:
        `<a href="https://www.openstreetmap.org/copyright">${config.attribution}</a>`,
      onEachFeature(feature, path) {
        path.bindTooltip(label(feature.properties.name), {
          permanent: true, direction: "center", className: "district-label",
        });
        path.on({
          mouseover: () => path.setStyle({ fillOpacity: 0.45 }),
          mouseout: () => layer.resetStyle(path),
        });
      },
    }).addTo(map);
    map.fitBounds(layer.getBounds(), { padding: [10, 10], animate: false });
    return layer;
  }

  // 1551's statuses, each its colour (the legend in the page uses the same ones).
  const STATUS_COLOURS = {
    registered: "#1f77b4", in_work: "#ff7f0e", on_check: "#8e44ad",
    rework: "#c0392b", closed: "#2e8b57",
  };

  function dominantStatus(properties) {
    let best = "registered";
    for (const status of Object.keys(STATUS_COLOURS)) {
      if ((properties[status] || 0) > (properties[best] || 0)) best = status;
    }
    return best;
  }

  function appealStyle(properties) {
    if (properties.count !== undefined) { // a cluster: its size grows with the count
      const colour = STATUS_COLOURS[dominantStatus(properties)];
      return {
        radius: 5 + 4 * Math.log10(properties.count), weight: 1, color: "#fff",
        fill: true, fillColor: colour, fillOpacity: 0.75,
      };
    }
    return {
      radius: 4, weight: 1, color: "#fff", fill: true,
      fillColor: STATUS_COLOURS[properties.status] || "#555", fillOpacity: 0.9,
    };
  }

  function appealPopup(properties) {
    const box = document.createElement("div");
    const title = document.createElement("strong");
    const status = document.createElement("div");
    if (properties.count !== undefined) {
      title.textContent = `Звернень: ${properties.count}`;
      status.textContent = Object.keys(STATUS_COLOURS)
        .filter((s) => properties[s])
        .map((s) => `${config.statusNames[s]}: ${properties[s]}`).join(", ");
    } else {
      title.textContent = `№ ${properties.number}`;
      status.textContent = config.statusNames[properties.status] || properties.status;
    }
    box.append(title, status);
    return box;
  }

  // VectorGrid's point symbols are CircleMarkers that never learn their LatLng, while Leaflet
  // 1.9 asks every small marker for it on each mouse event: derive it from the symbol's place
  // in its tile (tile coordinates × tile size + the point's pixel offset in the tile).
  const circleLatLng = L.CircleMarker.prototype.getLatLng;
  L.CircleMarker.include({
    getLatLng() {
      const tile = this._renderer && this._renderer.getCoord && this._renderer.getCoord();
      if (this._latlng || !this._point || !tile) return circleLatLng.call(this);
      const size = L.point(256, 256);
      return map.unproject(L.point(tile.x, tile.y).scaleBy(size).add(this._point), tile.z);
    },
  });

  map.createPane("appeals").style.zIndex = 450; // above the districts' fill
  let appealTiles = 0;
  const appeals = L.vectorGrid.protobuf(config.appealsTiles, {
    rendererFactory: L.svg.tile, // SVG paths: clickable with Leaflet 1.9
    vectorTileLayerStyles: { appeals: appealStyle },
    interactive: true,
    maxNativeZoom: 18,
    pane: "appeals",
  });
  appeals.on("tileload", () => { appealTiles += 1; mapEl.dataset.appealTiles = String(appealTiles); });
  appeals.on("click", (event) => {
    const properties = event.layer.properties;
    const at = event.latlng;
    if (properties.count !== undefined && properties.count > 1) {
      map.setView(at, Math.min(map.getZoom() + 2, 18));
      return;
    }
    L.popup().setLatLng(at).setContent(appealPopup(properties)).openOn(map);
  });
  appeals.addTo(map);

  fetchAllFeatures(config.districtsUrl)
    .then((features) => {
      drawDistricts(features);
      mapEl.dataset.districts = String(features.length);
      mapEl.dataset.state = "ready";
      statusEl.textContent = "";
    })
    .catch((error) => {
      mapEl.dataset.state = "error";
      statusEl.textContent = `Не вдалося завантажити райони: ${error.message}`;
    });
})();

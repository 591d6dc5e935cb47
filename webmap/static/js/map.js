// The portal's map: Kyiv's districts, read from our OGC API – Features like any other client,
// drawn with Leaflet on a neutral background (no tile server is needed).
// The page passes its settings as JSON in #map-config; when the districts are drawn, the map
// element says so in data-state="ready" and data-districts="<count>" (the browser test reads them).
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

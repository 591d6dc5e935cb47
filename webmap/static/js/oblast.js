// The oblast's councils (issue 17): every council's current boundary from our OGC API
// (the 'hromadas' collection), coloured by the share of answers given on time (the reports'
// «councils»), the temporarily occupied hatched (a dashed outline and a grey fill, since the
// CSP allows no inline SVG pattern), and compared beside the map in a sortable table (received,
// overdue, on time) with links to /h/{slug}/; the boundaries' credit (© Мінрегіон) from /api/v1/councils. When drawn, #map says
// data-state="ready" and data-councils="<count>" (the browser test reads them).
(function () {
  "use strict";

  const { t, lang } = window.i18n;
  const { api, fetchAllFeatures, el } = window.portal;
  const config = JSON.parse(document.getElementById("oblast-config").textContent);
  const mapEl = document.getElementById("map");
  const statusEl = document.getElementById("status");
  const named = (o) => (o && ((lang === "en" && o.name_en) || o.name)) || "";

  const map = L.map(mapEl, { zoomSnap: 0.25 }).setView([47.5, 35.5], 7);
  window.portal.addBackground(map, config);
  const OPEN = { color: "#2f4b7c", weight: 1.5, fillColor: "#7a9cc6", fillOpacity: 0.3 };
  const OCCUPIED = { color: "#555555", weight: 1.5, dashArray: "4 4", fillColor: "#8c8c8c",
    fillOpacity: 0.55 };

  function listItem(council) {
    const li = el("li", council.occupied ? "council occupied" : "council");
    li.dataset.code = council.code;
    const link = el("a", "council-name", named(council));
    link.href = `/h/${encodeURIComponent(council.slug)}/`;
    li.append(link);
    if (council.occupied) {
      li.append(" ", el("span", "council-since",
        t("окупована з {date}", { date: council.occupied_since || "?" })));
    }
    return li;
  }

  // The councils compared (the reports' «councils»: received, overdue now, answered on time),
  // a row each with its link; a column's header button sorts by it (again: the other way).
  const rows = [];
  let sortKey = "name";
  let sortDown = false;
  function figure(value, percent) {
    if (value === null || value === undefined) return "—";
    return percent ? `${Math.round(value * 100)}%` : String(value);
  }
  function tableRow({ council, report }) {
    const tr = el("tr", null);
    tr.dataset.code = council.code;
    const name = el("th", null);
    name.scope = "row";
    const link = el("a", "council-name", named(council));
    link.href = `/h/${encodeURIComponent(council.slug)}/`;
    name.append(link);
    tr.append(name);
    for (const [key, percent] of [["received", false], ["overdue", false], ["on_time_share", true]]) {
      const td = el("td", "num", figure(report ? report[key] : null, percent));
      td.dataset.key = key;
      tr.append(td);
    }
    return tr;
  }
  function drawTable() {
    const value = (row) => (sortKey === "name" ? named(row.council)
      : (row.report && row.report[sortKey] !== null ? row.report[sortKey] : -1));
    const sorted = [...rows].sort((a, b) => {
      const x = value(a);
      const y = value(b);
      const order = typeof x === "string" ? x.localeCompare(y, lang) : x - y;
      return sortDown ? -order : order;
    });
    document.querySelector("#councils tbody").replaceChildren(...sorted.map(tableRow));
    document.querySelectorAll("#councils th[scope=col]").forEach((th) => {
      const key = th.querySelector("button").dataset.sort;
      if (key === sortKey) th.setAttribute("aria-sort", sortDown ? "descending" : "ascending");
      else th.removeAttribute("aria-sort");
    });
  }
  document.querySelectorAll("#councils button[data-sort]").forEach((button) => {
    button.addEventListener("click", () => {
      const key = button.dataset.sort;
      sortDown = key === sortKey ? !sortDown : key !== "name";
      sortKey = key;
      drawTable();
    });
  });

  // The choropleth: the share of answers given on time (reports' «councils», slice C), five
  // steps from red to green; a council with no answers yet keeps the plain colour.
  const STEPS = ["#d7301f", "#fc8d59", "#fee08b", "#91cf60", "#1a9850"];
  let reportRows = new Map();
  async function onTimeShares() {
    const r = await api(config.reportUrl);
    if (!r.ok) return new Map();
    reportRows = new Map((r.body.rows || []).map((row) => [row.council_code, row]));
    return new Map((r.body.rows || []).map((row) => [row.council_code, row.on_time_share]));
  }
  // Quantile classes among the councils (their shares are often close together, so fixed
  // fifths would paint them all alike): a council's class is its rank's fifth, ties alike.
  function classes(shares) {
    const sorted = [...shares.values()].filter((v) => v !== null && v !== undefined)
      .sort((a, b) => a - b);
    return (share) => Math.min(4, Math.floor((sorted.indexOf(share) / sorted.length) * 5));
  }
  function styleOf(council, shares, classOf) {
    if (council.occupied) return OCCUPIED;
    const share = shares.get(council.code);
    if (share === null || share === undefined) return OPEN;
    return { ...OPEN, fillColor: STEPS[classOf(share)], fillOpacity: 0.6 };
  }

  async function draw() {
    const { ok, status, body } = await api(config.councilsUrl);
    if (!ok) throw new Error(body.detail || `HTTP ${status}`);
    const byCode = new Map(body.items.map((c) => [c.code, c]));
    const shares = await onTimeShares().catch(() => new Map());
    const classOf = classes(shares);
    const features = (await fetchAllFeatures(config.hromadasUrl))
      .filter((f) => byCode.has(f.properties.code));
    const layer = L.geoJSON({ type: "FeatureCollection", features }, {
      attribution: body.attribution,
      style: (f) => styleOf(byCode.get(f.properties.code), shares, classOf),
      onEachFeature(feature, path) {
        const council = byCode.get(feature.properties.code);
        const occupiedText = t("тимчасово окупована");
        const share = shares.get(council.code);
        const onTimeText = t("вчасно: {share}%", { share: Math.round((share || 0) * 100) });
        const onTime = share === null || share === undefined ? "" : ` — ${onTimeText}`;
        const label = council.occupied ? `${named(council)} — ${occupiedText}` : named(council) + onTime;
        path.bindTooltip(el("span", null, label));
      },
    }).addTo(map);
    if (features.length) map.fitBounds(layer.getBounds(), { padding: [10, 10], animate: false });
    const occupied = document.getElementById("occupied");
    for (const c of body.items) {
      if (c.occupied) occupied.append(listItem(c));
      else rows.push({ council: c, report: reportRows.get(c.code) || null });
    }
    drawTable();
    statusEl.textContent = t("Громад на мапі: {n}", { n: features.length });
    mapEl.dataset.councils = String(features.length);
    mapEl.dataset.choropleth = shares.size ? "on-time" : "none";
    mapEl.dataset.state = "ready";
  }

  draw().catch((error) => {
    statusEl.textContent = t("Не вдалося завантажити громади: {error}", { error: error.message });
    mapEl.dataset.state = "error";
  });
})();

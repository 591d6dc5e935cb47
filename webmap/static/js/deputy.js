// The deputy cabinet (/cabinet/ward): the deputy's ward on the map with its appeals (vector
// tiles filtered by ward), its statistics, its latest appeals and links to the printable
// report. Everything is read from the API with the session cookie; a deputy's ward comes from
// /api/v1/me, an operator, curator or administrator picks one (?ward=N).
(function () {
  "use strict";

  const config = JSON.parse(document.getElementById("page-config").textContent);
  const { t, locale, lang: LANG } = window.i18n;
  const { api, csrf, text, STATUS_COLOURS, STATUS_NAMES } = window.portal;
  const CITY_WIDE = ["operator", "curator", "admin"];
  const $ = (id) => document.getElementById(id);
  const root = $("deputy");
  const statusEl = $("deputy-status");
  const errorEl = $("deputy-error");
  const mapEl = $("ward-map");

  function cell(row, value, tag = "td", cls = "") {
    const el = document.createElement(tag);
    if (tag === "th") el.scope = "row";
    if (cls) el.className = cls;
    text(el, value);
    row.appendChild(el);
    return el;
  }

  function day(iso) {
    if (!iso) return "—";
    return new Date(iso).toLocaleDateString(locale, { timeZone: "Europe/Kyiv" });
  }

  const wardUrl = (template, number) => template.replace("{number}", encodeURIComponent(number));
  // The printable report in the page's language (a link opened in a new tab sends no header
  // of ours, so the language goes in the address).
  const reportUrl = (template, number) =>
    `${wardUrl(template, number)}?lang=${encodeURIComponent(LANG)}`;

  function wardTitle(ward) {
    const head = t("Виборчий округ № {number}", { number: ward.number });
    // The name only when it says more than the number: the importers name a ward that has no
    // name of its own "Виборчий округ № N", which would repeat the title (the API tells).
    return ward.name_adds ? `${head} — ${ward.name}` : head;
  }

  // --- the map ------------------------------------------------------------------------------
  const map = L.map(mapEl, { zoomControl: true, keyboard: true, attributionControl: true });
  window.portal.homeView(map, config, 11);
  window.portal.addBackground(map, config, config.attribution);
  window.portal.fixVectorGridLatLng(map);
  map.createPane("appeals").style.zIndex = 450;

  const legend = $("legend");
  for (const [status, colour] of Object.entries(STATUS_COLOURS)) {
    const item = document.createElement("span");
    const dot = document.createElement("i");
    dot.style.background = colour;
    dot.setAttribute("aria-hidden", "true");
    item.appendChild(dot);
    item.appendChild(document.createTextNode(STATUS_NAMES[status] || status));
    legend.appendChild(item);
  }

  let wardLayer = null;
  let tilesLayer = null;
  let tileCount = 0;

  function drawWard(ward) {
    if (wardLayer) wardLayer.remove();
    if (tilesLayer) tilesLayer.remove();
    wardLayer = L.geoJSON({ type: "Feature", geometry: ward.geometry, properties: {} }, {
      style: () => ({ color: "#8a5a9e", weight: 2.5, fillColor: "#8a5a9e", fillOpacity: 0.08 }),
      interactive: false,
    }).addTo(map);
    const [minx, miny, maxx, maxy] = ward.bbox;
    map.fitBounds([[miny, minx], [maxy, maxx]], { padding: [12, 12] });
    // Tiles of the ward's appeals (the ward is one of the layer's queryables).
    tileCount = 0;
    tilesLayer = window.portal.appealTiles(`${config.appealsTiles}?ward=${encodeURIComponent(ward.number)}`);
    tilesLayer.on("tileload", () => { tileCount += 1; mapEl.dataset.appealTiles = String(tileCount); });
    tilesLayer.on("click", (event) => {
      const p = event.layer.properties || {};
      if (p.count !== undefined) {
        map.setView(event.latlng, Math.min(map.getZoom() + 2, 18));
        return;
      }
      const content = document.createElement("p");
      const link = document.createElement("a");
      link.href = `${config.homeUrl}?number=${encodeURIComponent(p.number)}`;
      text(link, t("№ {number}", { number: p.number }));
      content.append(link, ` — ${STATUS_NAMES[p.status] || p.status || ""}`);
      L.popup()
        .setLatLng(event.latlng)
        .setContent(content)
        .openOn(map);
    });
    tilesLayer.addTo(map);
    mapEl.dataset.ward = String(ward.number);
    mapEl.dataset.state = "ready";
  }

  // --- the statistics -----------------------------------------------------------------------
  function fillRows(tableId, rows, render) {
    const body = $(tableId).querySelector("tbody");
    body.replaceChildren();
    for (const item of rows) {
      const row = document.createElement("tr");
      render(row, item);
      body.appendChild(row);
    }
  }

  function renderStats(data) {
    const ward = data.ward;
    text($("ward-title"), wardTitle(ward));
    document.title = t("Округ № {number} — Кабінет депутата", { number: ward.number }) + " — Hromada GIS";
    text($("stat-total"), data.total);
    text($("stat-open"), data.open);
    text($("stat-overdue"), data.overdue);
    fillRows("by-status", data.by_status, (row, r) => {
      cell(row, r.name, "th");
      cell(row, r.count, "td", "num");
      cell(row, r.overdue, "td", "num");
    });
    fillRows("by-category", data.by_category, (row, r) => {
      cell(row, r.category, "th");
      cell(row, r.count, "td", "num");
      cell(row, r.overdue, "td", "num");
    });
    const peak = Math.max(1, ...data.by_month.map((r) => r.count));
    fillRows("by-month", data.by_month, (row, r) => {
      cell(row, r.label, "th");
      cell(row, r.count, "td", "num");
      const barCell = cell(row, "", "td", "bar-cell");
      const bar = document.createElement("span");
      bar.className = "month-bar";
      bar.style.width = `${Math.round((100 * r.count) / peak)}%`;
      bar.setAttribute("aria-hidden", "true");
      barCell.appendChild(bar);
      cell(row, r.closed, "td", "num");
    });
    fillRows("latest", data.latest, (row, r) => {
      const first = document.createElement("td");
      const link = document.createElement("a");
      link.href = `${config.homeUrl}?number=${encodeURIComponent(r.number)}`;
      text(link, r.number);
      first.appendChild(link);
      row.appendChild(first);
      cell(row, day(r.created_at));
      cell(row, r.category);
      const st = cell(row, r.status_name);
      st.dataset.status = r.status;
      cell(row, r.address);
      const deadline = day(r.deadline_at);
      const due = cell(row, r.overdue ? t("{date} (прострочено)", { date: deadline }) : deadline);
      if (r.overdue) due.className = "overdue";
    });
    $("report-html").href = reportUrl(config.reportHtmlUrl, ward.number);
    $("report-pdf").href = reportUrl(config.reportPdfUrl, ward.number);
  }

  async function showWard(number) {
    root.dataset.state = "loading";
    text(errorEl, "");
    text(statusEl, t("Завантаження статистики округу…"));
    const { ok, status, body } = await api(wardUrl(config.statisticsUrl, number));
    if (status === 401) { window.location.assign(config.loginUrl); return; }
    if (!ok) {
      root.dataset.state = "error";
      text(statusEl, "");
      text(errorEl, body.detail || t("Не вдалося завантажити статистику округу."));
      return;
    }
    renderStats(body);
    drawWard(body.ward);
    root.dataset.ward = String(body.ward.number);
    text(statusEl, t("Звернень в окрузі: {total}.", { total: body.total }));
    root.dataset.state = "ready";
  }

  async function load() {
    const me = await api(config.meUrl);
    if (me.status === 401) { window.location.assign(config.loginUrl); return; }
    if (!me.ok) throw new Error(me.body.detail || `HTTP ${me.status}`);
    csrf.keep(me.body.csrf_token);
    root.dataset.role = me.body.role;
    const name = me.body.full_name || me.body.email;
    if (me.body.role === "deputy") {
      text($("who"), t("{name}, депутат виборчого округу № {number}", { name, number: me.body.ward_number }));
      await showWard(me.body.ward_number);
      return;
    }
    if (CITY_WIDE.includes(me.body.role)) {
      text($("who"), t("{name}: звіт по будь-якому виборчому округу", { name }));
      $("latest-note").hidden = true;
      const picker = $("ward-picker");
      picker.hidden = false;
      picker.addEventListener("submit", (event) => {
        event.preventDefault();
        const n = picker.ward.value.trim();
        // Our own check (the form is novalidate): the message in the page's language.
        const valid = /^\d{1,6}$/.test(n);
        picker.ward.setAttribute("aria-invalid", String(!valid));
        if (!valid) { text(errorEl, t("Вкажіть номер округу (ціле число).")); return; }
        history.replaceState(null, "", `${location.pathname}?ward=${n}`);
        showWard(n);
      });
      const wanted = new URLSearchParams(location.search).get("ward");
      if (wanted && /^\d{1,6}$/.test(wanted)) {
        picker.ward.value = wanted;
        await showWard(wanted);
      } else {
        root.dataset.state = "ready";
        text(statusEl, t("Оберіть номер виборчого округу."));
      }
      return;
    }
    root.dataset.state = "error";
    text(statusEl, "");
    text(errorEl, t("Цей кабінет — для депутатів, операторів і кураторів."));
  }

  $("logout").addEventListener("click", () => window.portal.signOut(config, errorEl));

  load().catch((exc) => {
    root.dataset.state = "error";
    text(errorEl, t("Помилка: {message}", { message: exc.message }));
  });
})();

// The dashboard (/dashboard): the reports of /api/v1/reports (gis/reports.py) drawn for anyone —
// the public's city-wide figures for a visitor (or a citizen, a planner), their scope for staff
// (their organisations or the city) and for a deputy (their ward) — under the reports' filters,
// which live in the page's address (?date_from=…&district=…) with the view's own choices
// (?areas=wards&measure=open&hex=500) so that a view can be shared and printed:
// the weekly series of received and closed (`weekly`), the appeals by kind
// (`districts-by-category`'s totals), a choropleth of the districts or of the wards (`districts`,
// `wards` on /ogc/collections/{districts,wards}) by a chosen measure, a hexagon density map
// (`hexagons` as GeoJSON) and the executors' table (`executors`) with its XLSX and CSV.
// Charts: Chart.js (canvas; every chart has a visually hidden table of its figures and an
// aria-label that sums them up).
(function () {
  "use strict";

  const config = JSON.parse(document.getElementById("page-config").textContent);
  const { t, plural, locale, lang } = window.i18n;
  const { api, text, el } = window.portal;
  const $ = (id) => document.getElementById(id);
  const root = $("dashboard");
  const statusEl = $("dash-status");
  const errorEl = $("dash-error");
  const form = $("filters");
  const FILTERS = ["date_from", "date_to", "district", "ward", "category", "executor", "channel"];
  // The view's choices kept in the address beside the filters (absent when at their default).
  const VIEW = {
    areas: ["districts", "wards"],
    measure: ["received", "open", "overdue"],
    hex: ["1000", "500", "2000"],
  };
  const AREAS_PALETTE = ["#eff3ff", "#bdd7e7", "#6baed6", "#3182bd", "#08519c"];
  const HEX_PALETTE = ["#ffffb2", "#fecc5c", "#fd8d3c", "#f03b20", "#bd0026"];
  const ZERO = "#ffffff";
  const MEASURES = {
    received: { name: t("Надійшло"), legend: t("Надійшло звернень:") },
    open: { name: t("Незакриті"), legend: t("Незакритих звернень:") },
    overdue: { name: t("Прострочено зараз"), legend: t("Прострочених зараз:") },
  };
  const SCOPES = {
    public: () => t("Публічні показники по місту"),
    city: () => t("Усе місто"),
    council: () => t("Звернення вашої громади"),
    oblast: () => t("Усі громади області"),
    organisations: () => t("Ваша організація та її підрозділи"),
    ward: () => t("Ваш виборчий округ № {number}", { number: state.me.ward_number }),
  };
  const state = {
    me: null, mode: "public", districts: null, wards: null, charts: {}, reports: null,
    executors: new Map(), areasMap: null, areasLayer: null, hexMap: null, hexLayer: null,
    hexContext: null, hexFocus: null, hexMoved: false, view: {}, params: {},
  };

  const reportUrl = (name, params, format) => {
    const query = new URLSearchParams(params);
    if (format) query.set("format", format);
    const qs = query.toString();
    return config.reportUrl.replace("{name}", name) + (qs ? `?${qs}` : "");
  };
  const number = (v) => (v == null ? "—" : Number(v).toLocaleString(locale));
  const weekLabel = (iso) => new Date(`${iso}T12:00:00`).toLocaleDateString(locale, { day: "numeric", month: "short", year: "2-digit" });
  const districtName = (p) => (lang === "en" && p.name_en) || p.name;
  const wardName = (n) => t("Виборчий округ № {number}", { number: n });

  // --- the filters, the view and the address ------------------------------------------------

  // The filters of the address (the ones the form knows, non-empty).
  function fromAddress() {
    const query = new URLSearchParams(window.location.search);
    const params = {};
    for (const name of FILTERS) {
      const value = (query.get(name) || "").trim();
      if (value) params[name] = value;
    }
    if (state.mode === "deputy") delete params.ward; // their ward is their scope
    return params;
  }

  // The view's choices of the address; unknown values fall back to the defaults.
  function viewFromAddress() {
    const query = new URLSearchParams(window.location.search);
    const view = {};
    for (const [name, allowed] of Object.entries(VIEW)) {
      const value = query.get(name);
      view[name] = allowed.includes(value) ? value : viewDefault(name);
    }
    return view;
  }

  // A deputy's dashboard opens on the wards (their ward), anyone else's on the districts.
  function viewDefault(name) {
    if (name === "areas" && state.mode === "deputy") return "wards";
    return VIEW[name][0];
  }

  // The executor field takes a code, or an executor's name picked from the list.
  function executorCode(value) {
    if (!value || state.executors.has(value)) return value;
    const folded = value.toLocaleLowerCase(locale);
    for (const [code, name] of state.executors) {
      if (name.toLocaleLowerCase(locale) === folded || `${code} — ${name}`.toLocaleLowerCase(locale) === folded) return code;
    }
    return value;
  }

  function fromForm() {
    const params = {};
    for (const name of FILTERS) {
      const field = form.elements[name];
      let value = field && !field.closest("[hidden]") ? field.value.trim() : "";
      if (name === "executor") value = executorCode(value);
      if (value) params[name] = value;
    }
    return params;
  }

  function toForm(params) {
    for (const name of FILTERS) {
      const field = form.elements[name];
      if (field) field.value = params[name] || "";
    }
  }

  function toViewControls(view) {
    for (const radio of document.querySelectorAll('input[name="areas"]')) radio.checked = radio.value === view.areas;
    $("f-measure").value = view.measure;
    $("f-hex").value = view.hex;
  }

  // The address keeps the filters, then the view's choices that differ from their defaults.
  function toAddress(push) {
    const query = new URLSearchParams(state.params);
    for (const name of Object.keys(VIEW)) {
      if (state.view[name] !== viewDefault(name)) query.set(name, state.view[name]);
    }
    const qs = query.toString();
    const url = window.location.pathname + (qs ? `?${qs}` : "");
    if (url !== window.location.pathname + window.location.search) {
      window.history[push ? "pushState" : "replaceState"](null, "", url);
    }
    root.dataset.view = Object.keys(VIEW).map((n) => `${n}=${state.view[n]}`).join("&");
  }

  function describeFilters(params) {
    const parts = [];
    if (params.date_from || params.date_to) {
      parts.push(t("Зареєстровано: {from} — {to}", { from: params.date_from || "…", to: params.date_to || "…" }));
    }
    for (const name of ["district", "ward", "category", "executor", "channel"]) {
      if (!params[name]) continue;
      const field = form.elements[name];
      let shown = field.tagName === "SELECT" && field.selectedIndex >= 0
        ? field.options[field.selectedIndex].textContent.trim() : params[name];
      if (name === "executor" && state.executors.has(params.executor)) {
        shown = `${params.executor} — ${state.executors.get(params.executor)}`;
      }
      parts.push(`${form.querySelector(`label[for="${field.id}"]`).textContent.trim()}: ${shown}`);
    }
    if (parts.length) return parts.join("; ");
    return state.mode === "public" ? t("Усі звернення міста") : t("Усі звернення в межах ваших повноважень");
  }

  // --- the registers for the filters --------------------------------------------------------

  async function loadChoices() {
    const geojson = { headers: { Accept: "application/geo+json" } };
    const [categories, districts, wards] = await Promise.all([
      api(config.categoriesUrl), api(config.districtsUrl, geojson), api(config.wardsUrl, geojson),
    ]);
    for (const answer of [categories, districts, wards]) {
      if (!answer.ok) throw new Error(answer.body.detail || `HTTP ${answer.status}`);
    }
    const category = $("f-category");
    for (const kind of categories.body.kinds) {
      category.append(new Option((lang === "en" && kind.name_en) || kind.name, String(kind.id)));
      for (const sub of kind.subkinds) {
        category.append(new Option(`— ${(lang === "en" && sub.name_en) || sub.name}`, String(sub.id)));
      }
    }
    state.districts = districts.body;
    state.wards = wards.body;
    const district = $("f-district");
    const named = districts.body.features.map((f) => ({ code: f.properties.code, name: districtName(f.properties) }))
      .sort((a, b) => a.name.localeCompare(b.name, locale));
    for (const d of named) district.append(new Option(d.name, d.code));
    const channel = $("f-channel");
    for (const c of config.channels) channel.append(new Option(c.name, c.code));
  }

  // The executors' picker: every executor the executors' report has shown (code — name).
  function keepExecutors(report) {
    let added = false;
    for (const row of report.rows) {
      if (row.executor_code && !state.executors.has(row.executor_code)) {
        state.executors.set(row.executor_code, row.executor || "");
        added = true;
      }
    }
    if (!added) return;
    const sorted = [...state.executors].sort((a, b) => a[1].localeCompare(b[1], locale));
    $("executors-list").replaceChildren(...sorted.map(([code, name]) => {
      const option = document.createElement("option");
      option.value = code;
      option.label = name;
      option.textContent = name;
      return option;
    }));
  }

  // --- the charts ---------------------------------------------------------------------------

  function fillTable(table, rows) {
    const body = table.querySelector("tbody");
    body.replaceChildren();
    for (const cells of rows) {
      const tr = document.createElement("tr");
      cells.forEach((value, i) => {
        const cell = el(i ? "td" : "th", i ? "num" : "", i ? number(value) : value);
        if (!i) cell.scope = "row";
        tr.append(cell);
      });
      body.append(tr);
    }
    return body;
  }

  function chart(id, options) {
    if (state.charts[id]) state.charts[id].destroy();
    state.charts[id] = new Chart($(id), options);
    return state.charts[id];
  }

  const BASE = { responsive: true, maintainAspectRatio: false, animation: false };

  // Every week from the first to the last of the report, those without appeals as zeros.
  function everyWeek(rows) {
    if (!rows.length) return [];
    const byWeek = new Map(rows.map((r) => [r.week, r]));
    const out = [];
    const day = new Date(`${rows[0].week}T12:00:00Z`);
    const last = rows[rows.length - 1].week;
    for (let iso = rows[0].week; iso <= last; iso = day.toISOString().slice(0, 10)) {
      out.push(byWeek.get(iso) || { week: iso, received: 0, closed: 0 });
      day.setUTCDate(day.getUTCDate() + 7);
    }
    return out;
  }

  const short = (label) => (label.length > 22 ? `${label.slice(0, 21)}…` : label);

  function drawWeekly(report) {
    const rows = everyWeek(report.rows);
    const labels = rows.map((r) => weekLabel(r.week));
    chart("weekly-chart", {
      type: "line",
      data: {
        labels,
        datasets: [
          { label: t("Надійшло"), data: rows.map((r) => r.received), borderColor: "#1f5fa8", backgroundColor: "#1f5fa8", pointRadius: 2, tension: 0.2 },
          { label: t("Закрито"), data: rows.map((r) => r.closed), borderColor: "#2e7d32", backgroundColor: "#2e7d32", pointRadius: 2, borderDash: [6, 3], tension: 0.2 },
        ],
      },
      options: { ...BASE, interaction: { mode: "index", intersect: false }, scales: { y: { beginAtZero: true, ticks: { precision: 0 } } } },
    });
    const totals = report.totals || { received: 0, closed: 0 };
    $("weekly-chart").setAttribute("aria-label", t("Лінійний графік: за {weeks} тижнів надійшло {received}, закрито {closed}; цифри по тижнях — у таблиці нижче.",
      { weeks: rows.length, received: number(totals.received), closed: number(totals.closed) },
    ));
    fillTable($("weekly-table"), rows.map((r) => [weekLabel(r.week), r.received, r.closed]));
    $("weekly-table").dataset.received = String(totals.received || 0);
    $("weekly-table").dataset.closed = String(totals.closed || 0);
  }

  function drawKinds(report) {
    const title = (c) => (lang === "en" ? c.title_en : c.title_uk);
    const kinds = report.columns
      .filter((c) => /^c\d+$/.test(c.key))
      .map((c) => ({ name: title(c), value: report.totals ? report.totals[c.key] : 0 }))
      .filter((k) => k.value > 0)
      .sort((a, b) => b.value - a.value);
    chart("kinds-chart", {
      type: "bar",
      data: {
        labels: kinds.map((k) => k.name),
        datasets: [{ label: t("Звернень"), data: kinds.map((k) => k.value), backgroundColor: "#3182bd" }],
      },
      options: {
        ...BASE, indexAxis: "y", plugins: { legend: { display: false } },
        scales: {
          x: { beginAtZero: true, ticks: { precision: 0 } },
          y: { ticks: { callback(value) { return short(this.getLabelForValue(value)); } } },
        },
      },
    });
    const top = kinds.slice(0, 3).map((k) => `${k.name} — ${number(k.value)}`).join("; ");
    $("kinds-chart").setAttribute("aria-label", kinds.length
      ? t("Стовпчикова діаграма за видами ({count}); найбільше: {top}. Усі цифри — у таблиці нижче.", { count: kinds.length, top })
      : t("Немає звернень за цими умовами."));
    fillTable($("kinds-table"), kinds.map((k) => [k.name, k.value]));
  }

  // --- the maps -----------------------------------------------------------------------------

  // Up to five classes of a sequential scale over the values above zero, by quantiles (each
  // class about as many areas), as [{lo, hi, colour, swatch}] with whole bounds from the least
  // value above zero to the largest; fewer classes take the darker end of the palette (a lone
  // figure stands out). Zero is a class of its own (-1, white).
  function classBreaks(values, palette, prefix) {
    const sorted = values.filter((v) => v > 0).sort((a, b) => a - b);
    const classes = [];
    let lo = sorted.length ? sorted[0] : 1;
    for (let i = 1; i <= palette.length && sorted.length; i += 1) {
      const hi = sorted[Math.ceil((i * sorted.length) / palette.length) - 1];
      if (hi >= lo) {
        classes.push({ lo, hi });
        lo = hi + 1;
      }
    }
    const shift = palette.length - classes.length;
    classes.forEach((c, i) => {
      c.colour = palette[shift + i];
      c.swatch = `${prefix}${shift + i}`;
    });
    return classes;
  }

  const classOf = (classes, v) => (v > 0 ? classes.findIndex((c) => v <= c.hi) : -1);
  const colourOf = (classes, v) => (v > 0 ? classes[classOf(classes, v)].colour : ZERO);

  function drawLegend(legendEl, title, classes, withZero = true) {
    legendEl.replaceChildren(el("span", "legend-title", title));
    const item = (colour, swatch, label, index) => {
      const span = el("span", "legend-item");
      span.append(el("i", `q ${swatch}`), label);
      span.dataset.class = String(index);
      span.dataset.colour = colour;
      return span;
    };
    if (withZero) legendEl.append(item(ZERO, "q-zero", "0", -1));
    classes.forEach((c, i) => {
      const span = item(c.colour, c.swatch, c.lo === c.hi ? number(c.lo) : `${number(c.lo)}–${number(c.hi)}`, i);
      span.dataset.lo = String(c.lo);
      span.dataset.hi = String(c.hi);
      legendEl.append(span);
    });
  }

  // A tooltip's content as text (names come from the registers: never HTML).
  const tip = (line) => () => el("span", "", line);

  // Each path of a GeoJSON layer tells its area, its figure and its class (for the tests and
  // for whoever reads the page's structure).
  function markPaths(layer, data) {
    layer.eachLayer((shape) => {
      const path = shape.getElement && shape.getElement();
      if (!path) return;
      const d = data(shape.feature);
      for (const [key, value] of Object.entries(d)) path.dataset[key] = String(value);
    });
  }

  function staticMap(id) {
    return L.map($(id), {
      zoomControl: false, attributionControl: false, dragging: false, scrollWheelZoom: false,
      doubleClickZoom: false, boxZoom: false, keyboard: false, touchZoom: false, zoomSnap: 0.25,
    });
  }

  // The feature the view centres on: a deputy's ward, the ward or district of the filters.
  function focusFeature(kind) {
    const ward = state.mode === "deputy" ? state.me.ward_number : state.params.ward;
    if (kind === "wards" && ward) {
      return state.wards.features.find((f) => String(f.properties.number) === String(ward)) || null;
    }
    if (kind === "districts" && state.params.district) {
      return state.districts.features.find((f) => f.properties.code === state.params.district) || null;
    }
    return null;
  }

  // The choropleth: the districts or the wards coloured by the chosen measure, its legend, its
  // figures as a table; the rows of the `districts` or the `wards` report.
  function drawAreas() {
    const { areas, measure } = state.view;
    const report = state.reports[areas];
    const wards = areas === "wards";
    const collection = wards ? state.wards : state.districts;
    const keyOf = (f) => String(wards ? f.properties.number : f.properties.code);
    const nameOf = (f) => (wards ? wardName(f.properties.number) : districtName(f.properties));
    const byKey = new Map(report.rows
      .filter((r) => (wards ? r.ward != null : r.district_code))
      .map((r) => [String(wards ? r.ward : r.district_code), r]));
    const valueOf = (f, m = measure) => ((byKey.get(keyOf(f)) || {})[m] || 0);
    const classes = classBreaks(collection.features.map((f) => valueOf(f)), AREAS_PALETTE, "q");
    if (!state.areasMap) {
      state.areasMap = staticMap("areas-map");
      const link = el("a", "", config.attribution);
      link.href = "https://www.openstreetmap.org/copyright";
      $("areas-credit").append(t("Межі: "), link);
    }
    if (state.areasLayer) state.areasLayer.remove();
    const focus = focusFeature(areas);
    state.areasLayer = L.geoJSON(collection, {
      style: (f) => {
        const focused = focus && keyOf(f) === keyOf(focus);
        return {
          color: focused ? "#b3261e" : "#1d2a36", weight: focused ? 3 : (wards ? 0.6 : 1),
          fillOpacity: 0.85, fillColor: colourOf(classes, valueOf(f)),
        };
      },
      onEachFeature: (f, shape) => shape.bindTooltip(tip(`${nameOf(f)}: ${number(valueOf(f))}`), { sticky: true }),
    }).addTo(state.areasMap);
    fitAreas(); // (a map without a view draws no paths yet)
    markPaths(state.areasLayer, (f) => ({
      area: keyOf(f), value: valueOf(f), class: classOf(classes, valueOf(f)),
    }));
    const legend = $("areas-legend");
    drawLegend(legend, MEASURES[measure].legend, classes);
    const rows = collection.features
      .map((f) => ({ f, name: nameOf(f), key: keyOf(f), value: valueOf(f) }))
      .sort((a, b) => b.value - a.value || a.name.localeCompare(b.name, locale, { numeric: true }));
    const body = fillTable($("areas-table"), rows.map((r) => [r.name, valueOf(r.f, "received"), valueOf(r.f, "open"), valueOf(r.f, "overdue")]));
    [...body.rows].forEach((tr, i) => { tr.dataset.area = rows[i].key; });
    const what = wards ? t("виборчі округи") : t("райони");
    text($("areas-caption"), `${what} · ${MEASURES[measure].name.toLocaleLowerCase(locale)}`);
    text($("areas-table-caption"), wards ? t("Звернення за виборчими округами") : t("Звернення за районами"));
    text($("areas-table-area"), wards ? t("Округ") : t("Район"));
    const top = rows.length && rows[0].value ? `${rows[0].name} (${number(rows[0].value)})` : "—";
    const outside = report.rows.find((r) => (wards ? r.ward == null : !r.district_code));
    const label = (wards
      ? t("Картограма виборчих округів, показник «{measure}»; найбільше — {top}. Цифри округів — у таблиці нижче.", { measure: MEASURES[measure].name, top })
      : t("Картограма районів, показник «{measure}»; найбільше — {top}. Цифри районів — у таблиці нижче.", { measure: MEASURES[measure].name, top }))
      + (outside && outside[measure] ? " " + t("Поза ними: {n}.", { n: number(outside[measure]) }) : "");
    $("areas-map").setAttribute("aria-label", label);
    $("areas-map").dataset.areas = areas;
    $("areas-map").dataset.measure = measure;
    $("areas-map").dataset.state = "ready";
  }

  function fitAreas() {
    if (!state.areasLayer) return;
    const focus = focusFeature(state.view.areas);
    const bounds = focus ? L.geoJSON(focus).getBounds().pad(0.35) : state.areasLayer.getBounds();
    if (bounds.isValid()) state.areasMap.fitBounds(bounds, { padding: [6, 6], animate: false });
  }

  // The hexagon density map: the `hexagons` report (GeoJSON, hexagons of `hex` metres) over the
  // districts' outlines (and the online background, when there is one).
  async function loadHexagons() {
    const mine = ++loadingHex;
    const size = state.view.hex;
    const mapEl = $("hex-map");
    mapEl.dataset.state = "loading";
    const answer = await api(reportUrl("hexagons", { ...state.params, size }, "geojson"),
      { headers: { Accept: "application/geo+json" } });
    if (mine !== loadingHex) return;
    if (!answer.ok) throw new Error(answer.body.detail || `HTTP ${answer.status}`);
    drawHexagons(answer.body, size);
  }
  let loadingHex = 0;

  function drawHexagons(collection, size) {
    if (!state.hexMap) {
      state.hexMap = L.map($("hex-map"), { zoomSnap: 0.25, scrollWheelZoom: false, attributionControl: true });
      state.hexMap.attributionControl.setPrefix(false);
      state.hexMap.on("zoomstart movestart", () => { if (!fitting) state.hexMoved = true; });
      state.hexMap.on("zoomend", () => { $("hex-map").dataset.zoom = String(state.hexMap.getZoom()); });
      window.portal.addBackground(state.hexMap, config, window.portal.osmCredit(config));
      if (!config.basemapUrl) state.hexMap.attributionControl.addAttribution(window.portal.osmCredit(config));
      state.hexContext = L.geoJSON(state.districts, {
        interactive: false, style: { color: "#52606d", weight: 1, fill: false },
      }).addTo(state.hexMap);
    }
    if (state.hexLayer) state.hexLayer.remove();
    if (state.hexFocus) state.hexFocus.remove();
    // The ward (a deputy's, or the filters') or the district of the filters, outlined.
    const focus = focusFeature("wards") || focusFeature("districts");
    state.hexFocus = focus ? L.geoJSON(focus, {
      interactive: false, style: { color: "#1d2a36", weight: 2.5, dashArray: "6 4", fill: false },
    }) : null;
    const features = collection.features || [];
    const values = features.map((f) => f.properties.received || 0);
    const classes = classBreaks(values, HEX_PALETTE, "h");
    state.hexLayer = L.geoJSON(collection, {
      style: (f) => {
        return { color: "#ffffff", weight: 0.5, fillOpacity: 0.8, fillColor: colourOf(classes, f.properties.received || 0) };
      },
      onEachFeature: (f, shape) => shape.bindTooltip(tip(t("Надійшло {received}, незакриті {open}, прострочено {overdue}", {
        received: number(f.properties.received), open: number(f.properties.open), overdue: number(f.properties.overdue),
      })), { sticky: true }),
    }).addTo(state.hexMap);
    if (state.hexFocus) state.hexFocus.addTo(state.hexMap);
    fitHexagons();
    markPaths(state.hexLayer, (f) => ({ hex: f.properties.hex, value: f.properties.received || 0, class: classOf(classes, f.properties.received || 0) }));
    const legend = $("hex-legend");
    drawLegend(legend, t("Звернень у шестикутнику:"), classes, false); // (only hexagons with appeals)
    const total = values.reduce((a, b) => a + b, 0);
    const max = values.length ? Math.max(...values) : 0;
    text($("hex-caption"), t("шестикутники по {size} м", { size: number(size) }));
    text($("hex-summary"), features.length
      ? plural(features.length, "{n} шестикутник зі зверненнями|{n} шестикутники зі зверненнями|{n} шестикутників зі зверненнями")
        + " " + t("(сторона {size} м); звернень з місцем на мапі: {total}; найбільше в одному шестикутнику — {max}.",
          { size: number(size), total: number(total), max: number(max) })
      : t("Немає звернень з місцем на мапі за цими умовами."));
    const mapEl = $("hex-map");
    mapEl.dataset.size = String(size);
    mapEl.dataset.count = String(features.length);
    mapEl.dataset.total = String(total);
    mapEl.dataset.max = String(max);
    mapEl.dataset.state = "ready";
  }

  // The hexagons' extent, unless the reader has moved the map (then their view stays, in
  // print and for another size too; new filters fit again).
  let fitting = false;
  function fitHexagons() {
    if (!state.hexMap || state.hexMoved) return;
    fitting = true;
    let bounds = state.hexLayer && state.hexLayer.getBounds();
    if (!bounds || !bounds.isValid()) bounds = state.hexContext.getBounds();
    if (bounds.isValid()) state.hexMap.fitBounds(bounds, { padding: [6, 6], animate: false }); // at once: print waits for nothing
    fitting = false;
    state.hexMoved = false;
  }

  // --- the table of the executors -----------------------------------------------------------

  function drawExecutors(report) {
    const table = $("executors");
    const title = (c) => (lang === "en" ? c.title_en : c.title_uk);
    const head = table.querySelector("thead tr");
    head.replaceChildren(...report.columns.map((c) => {
      const th = el("th", c.type === "string" ? "" : "num", title(c));
      th.scope = "col";
      return th;
    }));
    const line = (row, tag) => {
      const tr = document.createElement("tr");
      report.columns.forEach((c, i) => {
        const v = row[c.key];
        const shown = c.type === "string" || v == null ? (v == null ? "—" : v)
          : c.key.endsWith("_share") ? `${(v * 100).toLocaleString(locale, { maximumFractionDigits: 1 })} %`
            : number(v);
        const cell = el(i === 1 ? "th" : tag, c.type === "string" ? "" : "num", shown);
        if (i === 1) cell.scope = "row";
        cell.dataset.key = c.key;
        if (v != null && c.type !== "string") cell.dataset.value = String(v);
        tr.append(cell);
      });
      return tr;
    };
    table.querySelector("tbody").replaceChildren(...report.rows.map((r) => line(r, "td")));
    table.querySelector("tfoot").replaceChildren(...(report.totals ? [line(report.totals, "td")] : []));
  }

  function drawTotals(weekly, executors) {
    const totals = executors.totals || {};
    text($("total-received"), number(totals.received || 0));
    text($("total-closed"), number((weekly.totals || {}).closed || 0));
    text($("total-in-work"), number(totals.in_work || 0));
    text($("total-overdue"), number(totals.overdue || 0));
  }

  function drawScope(report) {
    const scope = report.scope || (state.mode === "public" ? "public"
      : state.mode === "deputy" ? "ward"
        : ["operator", "curator", "admin"].includes(state.mode) ? "city" : "organisations");
    text($("scope-line"), (SCOPES[scope] || SCOPES.public)());
    root.dataset.scope = scope;
  }

  // --- loading ------------------------------------------------------------------------------

  let loading = 0;
  async function load(params) {
    const mine = ++loading;
    state.params = params;
    state.hexMoved = false; // other filters: the hexagons' own extent again
    root.dataset.state = "loading";
    text(statusEl, t("Завантаження…"));
    text(errorEl, "");
    const names = ["weekly", "executors", "districts-by-category", "districts", "wards"];
    const [answers] = await Promise.all([
      Promise.all(names.map((n) => api(reportUrl(n, params)))),
      loadHexagons().catch(hexFail),
    ]);
    if (mine !== loading) return; // a later choice overtook this one
    const failed = answers.find((a) => !a.ok);
    if (failed) {
      root.dataset.state = "error";
      text(statusEl, "");
      text(errorEl, failed.body.detail || `HTTP ${failed.status}`);
      return;
    }
    const [weekly, executors, kinds, districts, wards] = answers.map((a) => a.body);
    state.reports = { districts, wards };
    keepExecutors(executors);
    drawScope(weekly);
    drawTotals(weekly, executors);
    drawWeekly(weekly);
    drawKinds(kinds);
    drawAreas();
    drawExecutors(executors);
    $("executors-xlsx").href = reportUrl("executors", params, "xlsx");
    $("executors-csv").href = reportUrl("executors", params, "csv");
    text($("filters-line"), describeFilters(params));
    text(statusEl, t("Показано: {filters}", { filters: describeFilters(params) }));
    root.dataset.query = new URLSearchParams(params).toString();
    root.dataset.state = "ready";
  }

  form.addEventListener("submit", (event) => {
    event.preventDefault();
    state.params = fromForm();
    toForm(state.params); // a name picked for the executor shows as its code
    toAddress(true);
    load(state.params).catch(fail);
  });
  $("reset").addEventListener("click", () => {
    toForm({});
    state.params = {};
    toAddress(true);
    load({}).catch(fail);
  });
  window.addEventListener("popstate", () => {
    const params = fromAddress();
    state.view = viewFromAddress();
    toForm(params);
    toViewControls(state.view);
    load(params).catch(fail);
  });
  // The view's choices: redrawn at once, kept in the address.
  for (const radio of document.querySelectorAll('input[name="areas"]')) {
    radio.addEventListener("change", () => {
      if (!radio.checked) return;
      state.view.areas = radio.value;
      toAddress(false);
      if (state.reports) drawAreas();
    });
  }
  $("f-measure").addEventListener("change", () => {
    state.view.measure = $("f-measure").value;
    toAddress(false);
    if (state.reports) drawAreas();
  });
  $("f-hex").addEventListener("change", () => {
    state.view.hex = $("f-hex").value;
    toAddress(false);
    loadHexagons().catch(hexFail);
  });
  $("print").addEventListener("click", () => window.print());
  // Charts and maps follow the page's width in print (A4), then come back.
  const resize = () => {
    for (const c of Object.values(state.charts)) c.resize();
    for (const map of [state.areasMap, state.hexMap]) if (map) map.invalidateSize();
    fitAreas();
    fitHexagons();
  };
  window.addEventListener("beforeprint", resize);
  window.addEventListener("afterprint", resize);
  window.matchMedia("print").addEventListener("change", resize);
  $("logout").addEventListener("click", () => window.portal.signOut(config, errorEl));

  // The hexagons fail alone: the rest of the dashboard stands.
  function hexFail(exc) {
    $("hex-map").dataset.state = "error";
    text($("hex-summary"), t("Помилка: {message}", { message: exc.message }));
  }

  function fail(exc) {
    root.dataset.state = "error";
    text(statusEl, "");
    text(errorEl, t("Помилка: {message}", { message: exc.message }));
  }

  // Who is here: a visitor (401), someone signed in who reads the public figures (a citizen,
  // a planner), or a reader of the reports with a scope (staff, a deputy).
  async function whoIsHere() {
    if (!config.maybeSignedIn) return;
    const me = await api(config.meUrl);
    if (me.status === 401) return;
    if (!me.ok) throw new Error(me.body.detail || `HTTP ${me.status}`);
    window.portal.csrf.keep(me.body.csrf_token);
    state.me = me.body;
    root.dataset.role = me.body.role;
    $("who").hidden = false;
    text($("who"), me.body.full_name || me.body.email);
    $("logout").hidden = false;
    $("link-cabinet").hidden = false;
    if (config.readers.includes(me.body.role)) state.mode = me.body.role;
  }

  async function start() {
    await whoIsHere();
    root.dataset.mode = state.mode === "public" ? "public" : "scoped";
    if (state.mode === "deputy") $("ward-field").hidden = true;
    if (state.mode === "public") text($("scope-line"), SCOPES.public());
    await loadChoices();
    state.params = fromAddress();
    state.view = viewFromAddress();
    toForm(state.params);
    toViewControls(state.view);
    toAddress(false);
    await load(state.params);
  }

  start().catch(fail);
})();

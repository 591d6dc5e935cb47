// The dashboard (/dashboard): the reports of /api/v1/reports (gis/reports.py) drawn for staff
// (their scope) and deputies (their ward) under the reports' filters, which live in the page's
// address (?date_from=…&district=…) so that a view can be shared and printed: the weekly series
// of received and closed (`weekly`), the appeals by kind (`districts-by-category`'s totals), a
// choropleth of the districts (the same report's rows on /ogc/collections/districts) and the
// executors' table (`executors`) with its XLSX and CSV. Charts: Chart.js (canvas; every chart
// has a visually hidden table of its figures and an aria-label that sums them up).
(function () {
  "use strict";

  const config = JSON.parse(document.getElementById("page-config").textContent);
  const { t, locale, lang } = window.i18n;
  const { api, text, el } = window.portal;
  const $ = (id) => document.getElementById(id);
  const root = $("dashboard");
  const statusEl = $("dash-status");
  const errorEl = $("dash-error");
  const form = $("filters");
  const FILTERS = ["date_from", "date_to", "district", "ward", "category", "executor", "channel"];
  const PALETTE = ["#eff3ff", "#bdd7e7", "#6baed6", "#3182bd", "#08519c"];
  const state = { me: null, districts: null, charts: {}, map: null, layer: null };

  const reportUrl = (name, params, format) => {
    const query = new URLSearchParams(params);
    if (format) query.set("format", format);
    const qs = query.toString();
    return config.reportUrl.replace("{name}", name) + (qs ? `?${qs}` : "");
  };
  const number = (v) => (v == null ? "—" : Number(v).toLocaleString(locale));
  const weekLabel = (iso) => new Date(`${iso}T12:00:00`).toLocaleDateString(locale, { day: "numeric", month: "short", year: "2-digit" });

  // --- the filters and the address ----------------------------------------------------------

  // The filters of the address (the ones the form knows, non-empty).
  function fromAddress() {
    const query = new URLSearchParams(window.location.search);
    const params = {};
    for (const name of FILTERS) {
      const value = (query.get(name) || "").trim();
      if (value) params[name] = value;
    }
    if (state.me && state.me.role === "deputy") delete params.ward; // their ward is their scope
    return params;
  }

  function fromForm() {
    const params = {};
    for (const name of FILTERS) {
      const field = form.elements[name];
      const value = field && !field.closest("[hidden]") ? field.value.trim() : "";
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

  // The address keeps the filters (and the language switch its ?lang= when present).
  function toAddress(params, push) {
    const query = new URLSearchParams(params);
    const qs = query.toString();
    const url = window.location.pathname + (qs ? `?${qs}` : "");
    if (url !== window.location.pathname + window.location.search) {
      window.history[push ? "pushState" : "replaceState"](null, "", url);
    }
  }

  function describeFilters(params) {
    const parts = [];
    if (params.date_from || params.date_to) {
      parts.push(t("Зареєстровано: {from} — {to}", { from: params.date_from || "…", to: params.date_to || "…" }));
    }
    for (const name of ["district", "ward", "category", "executor", "channel"]) {
      if (!params[name]) continue;
      const field = form.elements[name];
      const shown = field.tagName === "SELECT" && field.selectedIndex >= 0
        ? field.options[field.selectedIndex].textContent.trim() : params[name];
      parts.push(`${form.querySelector(`label[for="${field.id}"]`).textContent.trim()}: ${shown}`);
    }
    return parts.length ? parts.join("; ") : t("Усі звернення в межах ваших повноважень");
  }

  // --- the registers for the filters --------------------------------------------------------

  async function loadChoices() {
    const [categories, districts] = await Promise.all([
      api(config.categoriesUrl),
      api(config.districtsUrl, { headers: { Accept: "application/geo+json" } }),
    ]);
    if (!categories.ok) throw new Error(categories.body.detail || `HTTP ${categories.status}`);
    if (!districts.ok) throw new Error(districts.body.detail || `HTTP ${districts.status}`);
    const category = $("f-category");
    for (const kind of categories.body.kinds) {
      category.append(new Option((lang === "en" && kind.name_en) || kind.name, String(kind.id)));
      for (const sub of kind.subkinds) {
        category.append(new Option(`— ${(lang === "en" && sub.name_en) || sub.name}`, String(sub.id)));
      }
    }
    state.districts = districts.body;
    const district = $("f-district");
    const named = districts.body.features.map((f) => ({
      code: f.properties.code, name: (lang === "en" && f.properties.name_en) || f.properties.name,
    })).sort((a, b) => a.name.localeCompare(b.name, locale));
    for (const d of named) district.append(new Option(d.name, d.code));
    const channel = $("f-channel");
    for (const c of config.channels) channel.append(new Option(c.name, c.code));
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

  // The districts coloured by the appeals received (five classes of equal width up to the
  // largest), a legend of the classes, and the same figures as a table.
  function drawDistricts(report) {
    const byCode = new Map(report.rows.filter((r) => r.district_code).map((r) => [r.district_code, r.total]));
    const max = Math.max(0, ...byCode.values());
    const step = Math.max(1, Math.ceil(max / PALETTE.length));
    const klass = (v) => (v > 0 ? Math.min(PALETTE.length - 1, Math.floor((v - 1) / step)) : 0);
    if (!state.map) {
      state.map = L.map($("districts-map"), {
        zoomControl: false, attributionControl: false, dragging: false, scrollWheelZoom: false,
        doubleClickZoom: false, boxZoom: false, keyboard: false, touchZoom: false, zoomSnap: 0.25,
      });
      const credit = $("districts-credit");
      const link = el("a", "", config.attribution);
      link.href = "https://www.openstreetmap.org/copyright";
      credit.append(t("Межі районів: "), link);
    }
    if (state.layer) state.layer.remove();
    const name = (p) => (lang === "en" && p.name_en) || p.name;
    state.layer = L.geoJSON(state.districts, {
      interactive: false,
      style: (f) => ({
        color: "#1d2a36", weight: 1, fillOpacity: 0.85,
        fillColor: PALETTE[klass(byCode.get(f.properties.code) || 0)],
      }),
    }).addTo(state.map);
    const bounds = state.layer.getBounds();
    if (bounds.isValid()) state.map.fitBounds(bounds, { padding: [6, 6] });
    const legend = $("districts-legend");
    legend.replaceChildren(el("span", "", t("Надійшло звернень:")));
    PALETTE.forEach((_, i) => {
      const lo = i === 0 ? 0 : i * step + 1;
      const hi = (i + 1) * step;
      const item = el("span");
      item.append(el("i", `q q${i}`), `${number(lo)}–${number(hi)}`);
      legend.append(item);
    });
    const rows = state.districts.features
      .map((f) => [name(f.properties), byCode.get(f.properties.code) || 0])
      .sort((a, b) => b[1] - a[1]);
    fillTable($("districts-table"), rows);
    const outside = report.rows.find((r) => !r.district_code);
    const top = rows.length ? `${rows[0][0]} (${number(rows[0][1])})` : "—";
    $("districts-map").setAttribute("aria-label", t("Картограма районів за кількістю звернень; найбільше — {top}. Цифри районів — у таблиці нижче.",
      { top },
    ) + (outside ? " " + t("Поза районами: {n}.", { n: number(outside.total) }) : ""));
    $("districts-map").dataset.state = "ready";
  }

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

  // --- loading ------------------------------------------------------------------------------

  let loading = 0;
  async function load(params) {
    const mine = ++loading;
    root.dataset.state = "loading";
    text(statusEl, t("Завантаження…"));
    text(errorEl, "");
    const names = ["weekly", "executors", "districts-by-category"];
    const answers = await Promise.all(names.map((n) => api(reportUrl(n, params))));
    if (mine !== loading) return; // a later choice overtook this one
    const failed = answers.find((a) => !a.ok);
    if (failed) {
      root.dataset.state = "error";
      text(statusEl, "");
      text(errorEl, failed.body.detail || `HTTP ${failed.status}`);
      return;
    }
    const [weekly, executors, districts] = answers.map((a) => a.body);
    drawTotals(weekly, executors);
    drawWeekly(weekly);
    drawKinds(districts);
    drawDistricts(districts);
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
    const params = fromForm();
    toAddress(params, true);
    load(params).catch(fail);
  });
  $("reset").addEventListener("click", () => {
    toForm({});
    toAddress({}, true);
    load({}).catch(fail);
  });
  window.addEventListener("popstate", () => {
    const params = fromAddress();
    toForm(params);
    load(params).catch(fail);
  });
  $("print").addEventListener("click", () => window.print());
  // Charts follow the page's width in print (A4), then come back.
  const resize = () => {
    for (const c of Object.values(state.charts)) c.resize();
    if (state.map) state.map.invalidateSize();
  };
  window.addEventListener("beforeprint", resize);
  window.addEventListener("afterprint", resize);
  $("logout").addEventListener("click", () => window.portal.signOut(config, errorEl));

  function fail(exc) {
    root.dataset.state = "error";
    text(statusEl, "");
    text(errorEl, t("Помилка: {message}", { message: exc.message }));
  }

  async function start() {
    const me = await api(config.meUrl);
    if (me.status === 401) { window.location.assign(config.loginUrl); return; }
    if (!me.ok) throw new Error(me.body.detail || `HTTP ${me.status}`);
    window.portal.csrf.keep(me.body.csrf_token);
    state.me = me.body;
    root.dataset.role = me.body.role;
    text($("who"), me.body.full_name || me.body.email);
    if (!config.readers.includes(me.body.role)) {
      root.dataset.state = "error";
      text(statusEl, "");
      text(errorEl, t("Дашборд доступний працівникам і депутатам."));
      return;
    }
    if (me.body.role === "deputy") {
      $("ward-field").hidden = true;
      text($("scope-line"), t("Ваш виборчий округ № {number}", { number: me.body.ward_number }));
    } else if (["operator", "curator", "admin"].includes(me.body.role)) {
      text($("scope-line"), t("Усе місто"));
    } else {
      text($("scope-line"), t("Ваша організація та її підрозділи"));
    }
    await loadChoices();
    const params = fromAddress();
    toForm(params);
    toAddress(params, false);
    await load(params);
  }

  start().catch(fail);
})();

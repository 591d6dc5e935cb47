// The portal's map: Kyiv's districts, read from our OGC API – Features like any other client,
// and the appeals from our vector tiles (clusters far out, points coloured by status close
// in), drawn with Leaflet on a neutral background (no tile server is needed).
// The page passes its settings as JSON in #map-config; when the districts are drawn, the map
// element says so in data-state="ready" and data-districts="<count>"; data-appeal-tiles counts
// the appeal tiles drawn (the browser test reads them).
(function () {
  "use strict";

  const { t, plural, locale, lang } = window.i18n;
  // A name in the page's language: the English (name_en) where there is one.
  const named = (o) => (o && ((lang === "en" && o.name_en) || o.name)) || "";
  const { api, fetchAllFeatures, el, STATUS_COLOURS, STATUS_NAMES } = window.portal;
  const config = Object.assign(
    JSON.parse(document.getElementById("map-config").textContent),
    JSON.parse(document.getElementById("map-urls").textContent),
  );
  config.appealUrl = config.appealUrl.replace(/\/0$/, "");
  const mapEl = document.getElementById("map");
  const statusEl = document.getElementById("status");

  // The view lives in the hash (#zoom/lat/lon) and the filters in the query string, so a
  // link reproduces what one sees.
  const viewFromHash = window.portal.readHash();
  const map = L.map(mapEl, { zoomSnap: 0.25, preferCanvas: false });
  if (viewFromHash) map.setView([viewFromHash.lat, viewFromHash.lon], viewFromHash.z);
  else window.portal.homeView(map, config, 10); // the installation's territory (or the viewer's council)
  window.portal.addBackground(map, config);

  // The legend's swatch in the districts' colours (set here: the CSP refuses style="…").
  const swatch = document.getElementById("districts-swatch");
  swatch.style.background = config.districtsStyle.fillColor;
  swatch.style.borderColor = config.districtsStyle.color;

  // The districts' layer exists from the start (the layer switcher lists it); its shapes
  // arrive with the OGC answer.
  const districtsLayer = L.geoJSON(null, {
    style: () => config.districtsStyle,
    attribution: window.portal.osmCredit(config),
    onEachFeature(feature, path) {
      path.bindTooltip(el("span", null, named(feature.properties)), {
        permanent: true, direction: "center", className: "district-label",
      });
      path.on({
        mouseover: () => path.setStyle({ fillOpacity: 0.45 }),
        mouseout: () => districtsLayer.resetStyle(path),
      });
    },
  }).addTo(map);

  // A council's page (/h/{slug}/, issue 17): the map fitted to its boundary, drawn on top.
  const council = config.council || null;
  if (council && council.bbox && !viewFromHash) {
    const [w, south, e, north] = council.bbox;
    map.fitBounds([[south, w], [north, e]], { padding: [10, 10], animate: false });
  }
  if (council) {
    fetchAllFeatures(config.hromadasUrl)
      .then((features) => {
        const own = features.filter((f) => f.properties.code === council.code);
        L.geoJSON({ type: "FeatureCollection", features: own }, {
          style: { color: "#1f5fa8", weight: 3, fill: false, dashArray: council.occupied ? "6 4" : null },
          interactive: false,
        }).addTo(map);
        mapEl.dataset.council = own.length ? council.slug : "";
      })
      .catch(() => { mapEl.dataset.council = ""; });
  }

  function drawDistricts(features) {
    districtsLayer.addData({ type: "FeatureCollection", features });
    if (!viewFromHash && !council && !config.home) {
      map.fitBounds(districtsLayer.getBounds(), { padding: [10, 10], animate: false });
    }
  }

  window.portal.fixVectorGridLatLng(map);

  // --- filters: the form, the URL and the requests share one state -------------------------
  const STATUSES = Object.keys(STATUS_COLOURS);
  const PERIODS = ["day", "week", "month", "all", "custom"];
  const PERIOD_DAYS = { day: 1, week: 7, month: 30 };
  const DATE = /^\d{4}-\d{2}-\d{2}$/;
  const ID = /^\d{1,9}$/;
  const DEFAULTS = {
    type: "", period: "month", date_from: "", date_to: "", status: [], category: "", district: "",
  };

  const filtersForm = document.getElementById("filters");
  const periodSelect = document.getElementById("f-period");
  const datesBox = document.getElementById("f-dates");
  const fromInput = document.getElementById("f-from");
  const toInput = document.getElementById("f-to");
  const categoryInput = document.getElementById("f-category");
  const categoryList = document.getElementById("f-category-list");
  const districtSelect = document.getElementById("f-district");
  const categoryLabels = new Map(); // id → "вид — підвид"
  const categoryIds = new Map(); // "вид — підвид" → id

  function readState(params) {
    const state = { ...DEFAULTS, status: [] };
    const type = params.get("type");
    if (type === "complaint" || type === "thanks") state.type = type;
    const period = params.get("period");
    if (PERIODS.includes(period)) state.period = period;
    for (const key of ["date_from", "date_to"]) {
      const value = params.get(key) || "";
      if (DATE.test(value)) state[key] = value;
    }
    if (state.date_from || state.date_to) state.period = "custom";
    else if (state.period === "custom") state.period = DEFAULTS.period;
    const statuses = (params.get("status") || "").split(",").filter((s) => STATUSES.includes(s));
    state.status = [...new Set(statuses)];
    if (state.status.length === STATUSES.length) state.status = [];
    for (const key of ["category", "district"]) {
      const value = params.get(key) || "";
      if (ID.test(value)) state[key] = value;
    }
    return state;
  }

  let state = readState(new URLSearchParams(location.search));

  function showState() {
    for (const radio of filtersForm.elements.type) radio.checked = radio.value === state.type;
    periodSelect.value = state.period;
    datesBox.hidden = state.period !== "custom";
    fromInput.value = state.date_from;
    toInput.value = state.date_to;
    for (const box of filtersForm.elements.status) {
      box.checked = state.status.length === 0 || state.status.includes(box.value);
    }
    categoryInput.value = state.category ? (categoryLabels.get(state.category) || "") : "";
    categoryInput.removeAttribute("aria-invalid");
    districtSelect.value = state.district;
  }

  function readForm() {
    const next = { ...state };
    next.type = filtersForm.elements.type.value || "";
    next.period = periodSelect.value;
    if (next.period === "custom") {
      if (!fromInput.value && !toInput.value) { // a sensible start: the last 30 days
        fromInput.value = window.portal.kyivDay(Date.now() - 30 * 86400e3);
        toInput.value = window.portal.kyivDay();
      }
      let [from, to] = [fromInput.value, toInput.value];
      if (from && to && from > to) [from, to] = [to, from];
      next.date_from = from;
      next.date_to = to;
    } else {
      next.date_from = next.date_to = "";
    }
    datesBox.hidden = next.period !== "custom";
    const checked = [...filtersForm.elements.status].filter((b) => b.checked).map((b) => b.value);
    next.status = checked.length === STATUSES.length ? [] : checked;
    next.district = districtSelect.value;
    return next;
  }

  // The feed's (and the URL's) parameters.
  function filterParams(s) {
    const params = new URLSearchParams();
    if (s.type) params.set("type", s.type);
    if (s.period !== DEFAULTS.period) params.set("period", s.period);
    if (s.date_from) params.set("date_from", s.date_from);
    if (s.date_to) params.set("date_to", s.date_to);
    if (s.status.length) params.set("status", s.status.join(","));
    if (s.category) params.set("category", s.category);
    if (s.district) params.set("district", s.district);
    return params;
  }

  function rfc3339(date) {
    return date.toISOString().replace(/\.\d{3}Z$/, "Z");
  }

  // The tiles' parameters: the OGC names (kind, datetime) for the same filter.
  function tileParams(s) {
    const params = new URLSearchParams();
    if (s.type) params.set("kind", s.type);
    if (s.status.length) params.set("status", s.status.join(","));
    if (s.category) params.set("category", s.category);
    if (s.district) params.set("district", s.district);
    if (PERIOD_DAYS[s.period]) {
      const minute = 60e3;
      const start = Math.floor((Date.now() - PERIOD_DAYS[s.period] * 86400e3) / minute) * minute;
      params.set("datetime", `${rfc3339(new Date(start))}/..`);
    } else if (s.period === "custom" && (s.date_from || s.date_to)) {
      const from = s.date_from ? `${s.date_from}T00:00:00Z` : "..";
      const to = s.date_to ? `${s.date_to}T23:59:59Z` : "..";
      params.set("datetime", `${from}/${to}`);
    }
    return params;
  }

  function tilesUrl() {
    const params = tileParams(state);
    // A council's page draws its own appeals only, clusters counted of them too (issue 17).
    if (council) params.set("council", council.slug);
    const query = params.toString();
    return config.appealsTiles + (query ? `?${query}` : "");
  }

  // The page's language (?lang=, set by the language switch) stays in the address with the
  // filters, so a shared link opens in the same language; reading the filters ignores it.
  const langParam = new URLSearchParams(location.search).get("lang");

  function writeUrl() {
    const params = filterParams(state);
    if (langParam === "uk" || langParam === "en") params.set("lang", langParam);
    const query = params.toString();
    const centre = map.getCenter();
    const zoom = Math.round(map.getZoom() * 100) / 100;
    const hash = `#${zoom}/${centre.lat.toFixed(5)}/${centre.lng.toFixed(5)}`;
    history.replaceState(null, "", `${location.pathname}${query ? `?${query}` : ""}${hash}`);
    linkDashboard();
  }

  // The dashboard's link ("Статистика") carries the filters its reports share with the map:
  // the period as Kyiv days (a rolling one from the day it began), the category, the district
  // (the reports name it by its KATOTTH code); the language too.
  const dashboardLink = document.getElementById("link-dashboard");
  const districtCodes = new Map(); // the districts' id → code, once they are loaded
  function linkDashboard() {
    if (!dashboardLink) return;
    const params = new URLSearchParams();
    if (PERIOD_DAYS[state.period]) {
      params.set("date_from", window.portal.kyivDay(Date.now() - PERIOD_DAYS[state.period] * 86400e3));
    } else if (state.period === "custom") {
      if (state.date_from) params.set("date_from", state.date_from);
      if (state.date_to) params.set("date_to", state.date_to);
    }
    if (state.district && districtCodes.has(state.district)) params.set("district", districtCodes.get(state.district));
    if (state.category) params.set("category", state.category);
    if (langParam === "uk" || langParam === "en") params.set("lang", langParam);
    const query = params.toString();
    dashboardLink.search = query ? `?${query}` : "";
  }

  // --- the appeals' tiles -------------------------------------------------------------------
  map.createPane("appeals").style.zIndex = 450; // above the districts' fill
  map.createPane("selected").style.zIndex = 460;
  map.createPane("areas").style.zIndex = 390; // wards and the city boundary, under the districts
  let appealTiles = 0;
  const appeals = window.portal.appealTiles(tilesUrl(), { canvas: true });
  appeals.on("tileload", () => { appealTiles += 1; mapEl.dataset.appealTiles = String(appealTiles); });
  appeals.on("click", (event) => {
    const properties = event.layer.properties;
    if (properties.count !== undefined) { // a cluster: closer in
      map.setView(event.latlng, Math.min(map.getZoom() + 2, 18));
      return;
    }
    openCard(properties.number).then((found) => {
      if (!found) {
        statusEl.textContent = t("Звернення № {number} не знайдено.", { number: properties.number });
      }
    });
  });
  appeals.addTo(map);

  // --- the other layers and the switcher ----------------------------------------------------
  function lazyLayer(url, style, name) {
    const layer = L.geoJSON(null, { style: () => style, pane: "areas", interactive: false });
    let loading = false;
    layer.on("add", () => {
      if (loading) return;
      loading = true;
      fetchAllFeatures(url)
        .then((features) => layer.addData({ type: "FeatureCollection", features }))
        .catch((error) => {
          loading = false;
          statusEl.textContent = t("Не вдалося завантажити шар «{name}»: {error}",
            { name, error: error.message });
        });
    });
    return layer;
  }
  const wards = lazyLayer(config.wardsUrl,
    { color: "#8a5a9e", weight: 1, fillColor: "#8a5a9e", fillOpacity: 0.1 }, t("Виборчі округи"));
  const boundary = lazyLayer(config.hromadasUrl,
    { color: "#555555", weight: 2.5, fill: false }, t("Межа міста"));
  L.control.layers(null, {
    [t("Райони")]: districtsLayer,
    [t("Виборчі округи")]: wards,
    [t("Межа міста")]: boundary,
    [t("Звернення")]: appeals,
  }, { collapsed: true, position: "topright" }).addTo(map);

  // --- dates --------------------------------------------------------------------------------
  let dateFormat;
  try {
    dateFormat = new Intl.DateTimeFormat(locale, {
      day: "2-digit", month: "2-digit", year: "numeric", hour: "2-digit", minute: "2-digit",
      timeZone: "Europe/Kyiv",
    });
  } catch (_) {
    dateFormat = new Intl.DateTimeFormat(locale, { dateStyle: "short", timeStyle: "short" });
  }
  function formatDate(iso) {
    if (!iso) return "";
    const date = new Date(iso);
    return Number.isNaN(date.getTime()) ? iso : dateFormat.format(date);
  }

  // A status in the page's language: the page's own names, else the API's.
  function statusBadge(item) {
    const status = item.status;
    const name = STATUS_NAMES[status]
      || (lang === "en" ? item.status_name_en : item.status_name) || status;
    const badge = el("span", `badge badge-${status}`);
    badge.append(el("span", `dot status-${status}`), document.createTextNode(name));
    return badge;
  }

  // --- the panel (a column on a desktop, a bottom sheet on a phone) -------------------------
  const panel = document.getElementById("panel");
  const panelToggle = document.getElementById("panel-toggle");
  function setPanelOpen(open) {
    panel.dataset.open = String(open);
    panelToggle.setAttribute("aria-expanded", String(open));
    panelToggle.textContent = open ? t("Згорнути") : t("Фільтри і список");
  }
  panelToggle.addEventListener("click", () => setPanelOpen(panel.dataset.open !== "true"));

  // --- the card -----------------------------------------------------------------------------
  const card = document.getElementById("card");
  const cardTitle = document.getElementById("card-title");
  const cardBody = document.getElementById("card-body");
  let selected = null;

  function showCard(appeal) {
    cardTitle.textContent = t("Звернення № {number}", { number: appeal.number });
    const rows = el("dl", "card-fields");
    function row(term, value) {
      if (value === null || value === undefined || value === "") return;
      rows.append(el("dt", "", term));
      const dd = el("dd");
      if (value instanceof Node) dd.append(value); else dd.textContent = String(value);
      rows.append(dd);
    }
    row(t("Стан"), statusBadge(appeal));
    const category = appeal.category || {};
    const kindName = named(category.kind);
    row(t("Категорія"), kindName && kindName !== named(category)
      ? `${kindName} — ${named(category)}` : named(category));
    row(t("Тип"), appeal.kind === "thanks" ? t("подяка") : t("скарга"));
    row(t("Адреса"), appeal.address);
    row(t("Район"), appeal.district && appeal.district.name);
    row(t("Виконавець"), appeal.executor);
    row(t("Зареєстровано"), formatDate(appeal.created_at));
    if (appeal.deadline_at) {
      const deadline = el("span", "", formatDate(appeal.deadline_at));
      if (appeal.overdue) deadline.append(" ", el("strong", "overdue", t("прострочено")));
      row(t("Термін виконання"), deadline);
    }
    row(t("Закрито"), formatDate(appeal.closed_at));
    row(t("Результат"), window.portal.resultOf(appeal));
    cardBody.replaceChildren(rows);
    if (appeal.answer) {
      cardBody.append(el("h3", "", t("Відповідь виконавця")), el("p", "answer", appeal.answer));
    }
    if (appeal.is_public && appeal.text) {
      cardBody.append(el("h3", "", t("Текст звернення")), el("p", "text", appeal.text));
    }
    const photos = (appeal.photos || []).filter((p) => p.url);
    if (photos.length) {
      const list = el("ul", "photos");
      for (const photo of photos) {
        const link = el("a");
        link.href = photo.url;
        link.target = "_blank";
        link.rel = "noopener";
        const img = el("img");
        img.src = photo.url;
        img.loading = "lazy";
        img.alt = photo.kind === "answer" ? t("Фото до відповіді виконавця") : t("Фото до звернення");
        link.append(img);
        const item = el("li");
        item.append(link);
        list.append(item);
      }
      cardBody.append(el("h3", "", t("Фото")), list);
    }
    card.hidden = false;
    card.dataset.number = appeal.number;
    if (appeal.location) {
      card.dataset.lat = String(appeal.location.lat);
      card.dataset.lon = String(appeal.location.lon);
    }
    if (selected) selected.remove();
    selected = null;
    if (appeal.location) {
      selected = L.circleMarker([appeal.location.lat, appeal.location.lon], {
        radius: 10, color: "#111", weight: 2.5, fill: false, interactive: false, pane: "selected",
      }).addTo(map);
    }
    setPanelOpen(true);
    cardTitle.focus({ preventScroll: true });
    card.scrollIntoView({ block: "nearest" });
  }

  function closeCard() {
    card.hidden = true;
    delete card.dataset.number;
    delete card.dataset.lat;
    delete card.dataset.lon;
    if (selected) selected.remove();
    selected = null;
  }
  document.getElementById("card-close").addEventListener("click", closeCard);
  card.addEventListener("keydown", (event) => { if (event.key === "Escape") closeCard(); });

  // The card of one appeal: true when shown, false for an unknown number; throws otherwise.
  async function openCard(number) {
    const r = await api(`${config.appealUrl}/${encodeURIComponent(number)}`);
    if (r.status === 404) return false;
    if (!r.ok) throw new Error(r.body.detail || `HTTP ${r.status}`);
    showCard(r.body);
    return true;
  }

  // --- check by number ----------------------------------------------------------------------
  const checkForm = document.getElementById("check-form");
  const checkInput = document.getElementById("check-number");
  const checkMessage = document.getElementById("check-message");
  checkForm.addEventListener("submit", async (event) => {
    event.preventDefault();
    const number = checkInput.value.trim().replace(/^№\s*/, "");
    checkMessage.textContent = "";
    checkInput.removeAttribute("aria-invalid");
    if (!number) {
      checkMessage.textContent = t("Введіть номер звернення.");
      checkInput.setAttribute("aria-invalid", "true");
      return;
    }
    try {
      if (!(await openCard(number))) {
        checkMessage.textContent =
          t("Звернення з номером «{number}» не знайдено. Перевірте номер і спробуйте ще раз.", { number });
        checkInput.setAttribute("aria-invalid", "true");
      }
    } catch (error) {
      checkMessage.textContent = t("Не вдалося перевірити звернення: {error}", { error: error.message });
    }
  });
  // A link `/?number=К-400` (e.g. from the confirmation of a filed appeal) opens its card.
  const linkedNumber = new URLSearchParams(location.search).get("number");
  if (linkedNumber) {
    checkInput.value = linkedNumber;
    checkForm.requestSubmit();
  }

  // --- the list of the latest appeals in the view -------------------------------------------
  const listEl = document.getElementById("appeal-list");
  const listTotal = document.getElementById("list-total");
  const moreButton = document.getElementById("list-more");
  let listSeq = 0;
  let nextCursor = null;

  function bboxParam() {
    const b = map.getBounds();
    const clamp = (v, lim) => Math.max(-lim, Math.min(lim, v));
    return [clamp(b.getWest(), 180), clamp(b.getSouth(), 90), clamp(b.getEast(), 180),
      clamp(b.getNorth(), 90)].map((n) => n.toFixed(5)).join(",");
  }

  function listItem(item) {
    const li = el("li", "appeal-item");
    li.dataset.status = item.status;
    li.dataset.number = item.number;
    const button = el("button", "appeal-link");
    button.type = "button";
    const top = el("span", "appeal-top");
    top.append(el("span", "appeal-number", `№ ${item.number}`),
      statusBadge(item));
    if (item.overdue) top.append(el("span", "overdue", t("прострочено")));
    button.append(top, el("span", "appeal-category", named(item.category)),
      el("span", "appeal-address", item.address || ""),
      el("time", "appeal-date", formatDate(item.created_at)));
    button.querySelector("time").dateTime = item.created_at || "";
    button.addEventListener("click", () => {
      openCard(item.number).catch((error) => {
        statusEl.textContent = t("Не вдалося відкрити звернення: {error}", { error: error.message });
      });
    });
    li.append(button);
    return li;
  }

  async function loadList(append) {
    const seq = ++listSeq;
    const params = filterParams(state);
    if (council) params.set("council", council.slug);
    params.set("bbox", bboxParam());
    params.set("limit", "20");
    if (append && nextCursor) params.set("after", nextCursor);
    listEl.dataset.state = "loading";
    listEl.setAttribute("aria-busy", "true");
    try {
      const { ok, status, body } = await api(`${config.feedUrl}?${params}`);
      if (seq !== listSeq) return;
      if (!ok) throw new Error(body.detail || `HTTP ${status}`);
      if (!append) listEl.replaceChildren();
      for (const item of body.items) listEl.append(listItem(item));
      nextCursor = body.next || null;
      moreButton.hidden = !nextCursor;
      const total = plural(body.total, "{n} звернення|{n} звернення|{n} звернень");
      listTotal.textContent = `(${total})`;
      if (!listEl.children.length) {
        listEl.append(el("li", "empty", t("Тут немає звернень за цими фільтрами.")));
      }
      listEl.dataset.state = "ready";
    } catch (error) {
      if (seq !== listSeq) return;
      listEl.replaceChildren(el("li", "empty error",
        t("Не вдалося завантажити список: {error}", { error: error.message })));
      moreButton.hidden = true;
      listEl.dataset.state = "error";
    } finally {
      if (seq === listSeq) listEl.removeAttribute("aria-busy");
    }
  }
  moreButton.addEventListener("click", () => loadList(true));

  let listTimer = null;
  function scheduleList() {
    clearTimeout(listTimer);
    listEl.dataset.state = "pending"; // a load follows (tests wait for "ready")
    listTimer = setTimeout(() => loadList(false), 300);
  }
  map.on("moveend", () => { writeUrl(); scheduleList(); });

  // --- filter changes -----------------------------------------------------------------------
  function applyFilters() {
    writeUrl();
    // GridLayer.redraw (what setUrl calls) keeps a fractional zoom (zoomSnap 0.25) as the
    // tiles' zoom; adding the layer again rounds it, as the first draw does.
    appeals.setUrl(tilesUrl(), true);
    if (map.hasLayer(appeals)) {
      map.removeLayer(appeals);
      map.addLayer(appeals);
    }
    mapEl.dataset.filters = filterParams(state).toString();
    loadList(false);
  }

  filtersForm.addEventListener("change", (event) => {
    if (event.target === categoryInput) return; // handled below
    state = readForm();
    applyFilters();
  });
  filtersForm.addEventListener("submit", (event) => event.preventDefault());
  filtersForm.addEventListener("reset", () => {
    listEl.dataset.state = "pending";
    setTimeout(() => { state = { ...DEFAULTS, status: [] }; showState(); applyFilters(); });
  });

  function pickCategory(final) {
    const text = categoryInput.value.trim();
    let id = null;
    if (!text) id = "";
    else if (categoryIds.has(text)) id = categoryIds.get(text);
    if (id === null) {
      if (final) categoryInput.setAttribute("aria-invalid", "true");
      return;
    }
    categoryInput.removeAttribute("aria-invalid");
    if (id !== state.category) {
      state = { ...state, category: id };
      applyFilters();
    }
  }
  categoryInput.addEventListener("input", () => pickCategory(false));
  categoryInput.addEventListener("change", () => pickCategory(true));

  // --- the lists the filters offer ------------------------------------------------------------
  fetch(config.categoriesUrl, { headers: { Accept: "application/json", "Accept-Language": lang } })
    .then((response) => (response.ok ? response.json() : Promise.reject(new Error(`HTTP ${response.status}`))))
    .then((body) => {
      const options = [];
      for (const kind of body.kinds || []) {
        for (const sub of kind.subkinds || []) {
          const text = named(sub) === named(kind) ? named(kind) : `${named(kind)} — ${named(sub)}`;
          categoryLabels.set(String(sub.id), text);
          categoryIds.set(text, String(sub.id));
          const option = document.createElement("option");
          option.value = text;
          options.push(option);
        }
      }
      categoryList.replaceChildren(...options);
      if (state.category) categoryInput.value = categoryLabels.get(state.category) || "";
    })
    .catch((error) => {
      statusEl.textContent = t("Не вдалося завантажити категорії: {error}", { error: error.message });
    });

  showState();
  mapEl.dataset.filters = filterParams(state).toString();
  writeUrl();
  scheduleList();

  fetchAllFeatures(config.districtsUrl)
    .then((features) => {
      drawDistricts(features);
      const options = features
        .map((f) => ({ id: String(f.properties.id ?? f.id), name: named(f.properties) }))
        .sort((a, b) => a.name.localeCompare(b.name, lang))
        .map(({ id, name }) => { const o = document.createElement("option"); o.value = id; o.textContent = name; return o; });
      districtSelect.append(...options);
      districtSelect.value = state.district;
      for (const f of features) districtCodes.set(String(f.properties.id ?? f.id), f.properties.code);
      linkDashboard();
      mapEl.dataset.districts = String(features.length);
      mapEl.dataset.state = "ready";
      statusEl.textContent = "";
    })
    .catch((error) => {
      mapEl.dataset.state = "error";
      statusEl.textContent = t("Не вдалося завантажити райони: {error}", { error: error.message });
    });
})();

// The administrator's daily dispatch (/admin, section "Розсилки"; gis/dispatch.py): the
// subscriptions with their last batch, a subscription's batches with the retry of a failed
// one, and the form that makes one (categories × a district, a ward, a polygon from a
// GeoJSON file or polygons drawn on the section's map with Leaflet-Geoman × an e-mail address
// or a webhook × a time × a format). Everything goes through /api/v1/admin/dispatch with the session cookie and its
// CSRF token. Nothing is inserted as HTML.
(function () {
  "use strict";

  const config = JSON.parse(document.getElementById("page-config").textContent);
  const { t, lang: LANG } = window.i18n;
  const { api, csrf, text, el } = window.portal;
  const $ = (id) => document.getElementById(id);
  const section = $("dispatch");
  const base = section.dataset.api;
  const state = { categories: new Map(), districts: new Map(), wards: null, area: null, open: null };

  const STATUS = { pending: t("очікує"), sent: t("надіслано"), failed: t("не вдалося") };
  const FORMATS = { csv: "CSV", xlsx: "XLSX", geojson: "GeoJSON" };

  const send = window.portal.sendJson;
  const fail = (body) => body.detail || t("Не вдалося виконати дію.");

  function option(value, label) {
    const o = document.createElement("option");
    o.value = String(value);
    o.textContent = label;
    return o;
  }

  function categoryLabel(c) {
    const name = (LANG === "en" && c.name_en) || c.name;
    const whole = t("вид, з усіма підвидами");
    if (c.parent_id === null) return `${name} (${whole})`;
    return `${(LANG === "en" && c.kind_en) || c.kind || ""} — ${name}`;
  }

  // --- the map of the area ---------------------------------------------------------------------

  const mapEl = $("dispatch-map");
  const map = L.map(mapEl, { zoomControl: true, keyboard: true, attributionControl: true });
  window.portal.homeView(map, config, 10);
  window.portal.addBackground(map, config, config.attribution);
  const areaLayer = L.geoJSON(null, {
    style: () => ({ color: "#0b57d0", weight: 2.5, fillColor: "#0b57d0", fillOpacity: 0.12 }),
    interactive: false,
    pmIgnore: true, // a district's or ward's outline is shown, never edited
  }).addTo(map);
  window.hromadaDispatchMap = map; // the browser tests click on it

  // Leaflet measures its box when shown: the form opens later than the page.
  $("dispatch-new-box").addEventListener("toggle", () => map.invalidateSize());

  function showArea(geojson) {
    areaLayer.clearLayers();
    if (!geojson) return;
    areaLayer.addData(geojson);
    const bounds = areaLayer.getBounds();
    if (bounds.isValid()) map.fitBounds(bounds, { maxZoom: 14 });
  }

  // --- drawing the area (Leaflet-Geoman: mouse or touch; the keyboard has the other kinds) --------

  const drawn = L.featureGroup();
  map.pm.setLang("hromada", {
    buttonTitles: {
      drawPolyButton: t("Намалювати полігон"),
      editButton: t("Редагувати полігони"),
      dragButton: t("Перемістити полігони"),
      deleteButton: t("Стерти полігон"),
    },
  }, LANG === "en" ? "en" : "ua");
  map.pm.setGlobalOptions({ allowSelfIntersection: false, pathOptions: { color: "#b3261e", weight: 2.5, fillOpacity: 0.15 } });
  map.on("pm:create", (e) => {
    drawn.addLayer(e.layer);
    e.layer.on("pm:edit pm:dragend", drawnChanged);
    drawnChanged();
  });
  map.on("pm:remove", (e) => {
    drawn.removeLayer(e.layer);
    drawnChanged();
  });

  // The drawn polygons as one GeoJSON geometry: a Polygon, or a MultiPolygon for several.
  function drawnGeometry() {
    const polygons = drawn.getLayers().map((l) => l.toGeoJSON().geometry)
      .flatMap((g) => (g.type === "MultiPolygon" ? g.coordinates : [g.coordinates]));
    if (!polygons.length) return null;
    return polygons.length === 1 ? { type: "Polygon", coordinates: polygons[0] }
      : { type: "MultiPolygon", coordinates: polygons };
  }

  // A closed ring's area on the sphere in m² (as PostGIS's geography, to a fraction of a per cent).
  function ringArea(ring) {
    const R = 6378137;
    const rad = Math.PI / 180;
    let sum = 0;
    for (let i = 0; i < ring.length - 1; i += 1) {
      const [x1, y1] = ring[i];
      const [x2, y2] = ring[i + 1];
      sum += (x2 - x1) * rad * (2 + Math.sin(y1 * rad) + Math.sin(y2 * rad));
    }
    return Math.abs((sum * R * R) / 2);
  }

  function drawnChanged() {
    const g = drawnGeometry();
    const summary = $("dispatch-draw-summary");
    $("dispatch-draw-clear").disabled = !g;
    $("dispatch-new-error").textContent = "";
    if (!g) {
      text(summary, t("Ще нічого не намальовано."));
      summary.dataset.vertices = "0";
      return;
    }
    const polygons = g.type === "Polygon" ? [g.coordinates] : g.coordinates;
    let vertices = 0;
    let area = 0;
    for (const rings of polygons) {
      rings.forEach((ring, i) => {
        vertices += ring.length - 1;
        area += i === 0 ? ringArea(ring) : -ringArea(ring);
      });
    }
    const km2 = (area / 1e6).toLocaleString(LANG === "en" ? "en-GB" : "uk-UA", { maximumFractionDigits: 2 });
    text(summary, t("Намальовано полігонів: {count}, вершин: {vertices}, площа ≈ {area} км².",
      { count: polygons.length, vertices, area: km2 }));
    summary.dataset.vertices = String(vertices);
  }

  function drawing(on) {
    if (on) {
      if (!map.pm.controlsVisible()) {
        map.pm.addControls({
          position: "topleft", drawMarker: false, drawCircleMarker: false, drawPolyline: false,
          drawRectangle: false, drawCircle: false, drawText: false, cutPolygon: false, rotateMode: false,
          drawPolygon: true, editMode: true, dragMode: true, removalMode: true,
        });
        // Geoman titles the buttons' boxes, not the role="button" links: name the links too.
        for (const box of mapEl.querySelectorAll(".leaflet-pm-toolbar .button-container[title]")) {
          const link = box.querySelector(".leaflet-buttons-control-button");
          if (link) link.setAttribute("aria-label", box.title);
        }
      }
      drawn.addTo(map);
      drawnChanged();
      return;
    }
    map.pm.disableDraw();
    map.pm.disableGlobalEditMode();
    map.pm.disableGlobalDragMode();
    map.pm.disableGlobalRemovalMode();
    if (map.pm.controlsVisible()) map.pm.removeControls();
    drawn.remove();
  }

  $("dispatch-draw-clear").addEventListener("click", () => {
    drawn.clearLayers();
    drawnChanged();
  });

  async function wards() {
    if (!state.wards) {
      const features = await window.portal.fetchAllFeatures(`${config.wardsUrl}?limit=500`);
      state.wards = new Map(features.map((f) => [String(f.properties.number), f]));
    }
    return state.wards;
  }

  // --- the list ------------------------------------------------------------------------------

  function areaLabel(s) {
    if (s.district_code) {
      const d = state.districts.get(s.district_code);
      return d ? `${t("район")}: ${d.properties.name}` : `${t("район")}: ${s.district_code}`;
    }
    if (s.ward_number) return t("виборчий округ № {number}", { number: s.ward_number });
    if (s.area) return t("полігон");
    return t("уся громада");
  }

  function batchLabel(b) {
    if (!b) return "—";
    const parts = [`${b.day}: ${STATUS[b.status] || b.status}`, t("{count} звернень", { count: b.appeals })];
    if (b.status !== "sent" && b.attempts) parts.push(t("спроб: {count}", { count: b.attempts }));
    return parts.join(", ");
  }

  function button(label, onClick, className = "secondary") {
    const b = el("button", className, label);
    b.type = "button";
    b.addEventListener("click", () => onClick(b));
    return b;
  }

  function row(s) {
    const tr = document.createElement("tr");
    tr.dataset.id = String(s.id);
    const names = s.category_ids.map((id) => {
      const c = state.categories.get(id);
      return c ? categoryLabel(c) : `#${id}`;
    });
    const last = el("td", s.last_batch && s.last_batch.status === "failed" ? "error" : "", batchLabel(s.last_batch));
    last.dataset.status = s.last_batch ? s.last_batch.status : "";
    const actions = el("td", "actions");
    actions.append(
      button(s.is_active ? t("Вимкнути") : t("Увімкнути"), (b) => change(s, { is_active: !s.is_active }, b)),
      button(t("Відправлення"), () => openBatches(s)),
      button(t("Видалити"), (b) => remove(s, b)),
    );
    tr.append(
      el("td", "", s.is_active ? s.name : `${s.name} (${t("вимкнено")})`),
      el("td", "", names.join("; ")),
      el("td", "", areaLabel(s)),
      el("td", "", s.email || s.webhook_url),
      el("td", "", s.send_at),
      el("td", "", FORMATS[s.format] || s.format),
      last,
      actions,
    );
    return tr;
  }

  function load() {
    return window.portal.loadSectionList("dispatch", base, row, fail);
  }

  async function change(s, payload, control) {
    $("dispatch-error").textContent = "";
    control.disabled = true;
    const r = await send("PATCH", `${base}/${s.id}`, payload);
    control.disabled = false;
    if (!r.ok) {
      text($("dispatch-error"), fail(r.body));
      return;
    }
    text($("dispatch-status"), r.body.is_active ? t("Розсилку «{name}» увімкнено.", { name: s.name })
      : t("Розсилку «{name}» вимкнено.", { name: s.name }));
    await load();
  }

  async function remove(s, control) {
    if (!window.confirm(t("Видалити розсилку «{name}»?", { name: s.name }))) return;
    control.disabled = true;
    const r = await send("DELETE", `${base}/${s.id}`);
    if (!r.ok) {
      control.disabled = false;
      text($("dispatch-error"), fail(r.body));
      return;
    }
    if (state.open && state.open.id === s.id) $("dispatch-batches").hidden = true;
    text($("dispatch-status"), t("Розсилку «{name}» видалено.", { name: s.name }));
    await load();
  }

  // --- a subscription's batches ----------------------------------------------------------------

  async function openBatches(s) {
    state.open = s;
    text($("dispatch-batches-name"), `«${s.name}»`);
    const r = await api(`${base}/${s.id}/batches`);
    if (!r.ok) {
      text($("dispatch-error"), fail(r.body));
      return;
    }
    const rows = r.body.items.map((b) => {
      const tr = document.createElement("tr");
      tr.dataset.status = b.status;
      const actions = el("td", "actions");
      if (b.status === "failed") actions.append(button(t("Повторити"), (control) => retry(s, b, control)));
      tr.append(el("td", "", b.day), el("td", b.status === "failed" ? "error" : "", STATUS[b.status] || b.status),
        el("td", "", b.appeals), el("td", "", b.attempts), el("td", "", b.last_error || "—"), actions);
      return tr;
    });
    if (!rows.length) {
      const tr = document.createElement("tr");
      const td = el("td", "hint", t("Ще не надсилалася: перше відправлення — у найближчий час надсилання."));
      td.colSpan = 6;
      tr.append(td);
      rows.push(tr);
    }
    $("dispatch-batches-table").tBodies[0].replaceChildren(...rows);
    $("dispatch-batches").hidden = false;
  }
  $("dispatch-batches-close").addEventListener("click", () => {
    $("dispatch-batches").hidden = true;
    state.open = null;
  });

  async function retry(s, b, control) {
    control.disabled = true;
    const r = await send("POST", `${base}/${s.id}/batches/${b.id}/retry`);
    if (!r.ok) {
      control.disabled = false;
      text($("dispatch-error"), fail(r.body));
      return;
    }
    text($("dispatch-status"), t("Відправлення за {day} буде повторено.", { day: b.day }));
    await Promise.all([openBatches(s), load()]);
  }

  // --- the form ------------------------------------------------------------------------------

  const areaKind = $("dispatch-area-kind");
  async function areaChanged() {
    const kind = areaKind.value;
    $("dispatch-district-box").hidden = kind !== "district_code";
    $("dispatch-ward-box").hidden = kind !== "ward_number";
    $("dispatch-file-box").hidden = kind !== "area";
    $("dispatch-draw-box").hidden = kind !== "drawn";
    drawing(kind === "drawn");
    state.area = null;
    $("dispatch-new-error").textContent = "";
    if (kind === "district_code") {
      const d = state.districts.get($("dispatch-district").value);
      showArea(d || null);
    } else if (kind === "ward_number") {
      const w = $("dispatch-ward").value.trim() ? (await wards()).get($("dispatch-ward").value.trim()) : null;
      showArea(w || null);
    } else if (kind === "area" && $("dispatch-file").files.length) {
      await readFile();
    } else {
      showArea(null);
    }
  }
  areaKind.addEventListener("change", areaChanged);
  $("dispatch-district").addEventListener("change", areaChanged);
  $("dispatch-ward").addEventListener("change", areaChanged);

  async function readFile() {
    const file = $("dispatch-file").files[0];
    state.area = null;
    if (!file) return;
    try {
      state.area = JSON.parse(await file.text());
      showArea(state.area);
    } catch (exc) {
      showArea(null);
      text($("dispatch-new-error"), t("Файл не є GeoJSON."));
    }
  }
  $("dispatch-file").addEventListener("change", readFile);

  $("dispatch-new-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    const error = $("dispatch-new-error");
    const done = $("dispatch-new-done");
    error.textContent = "";
    done.hidden = true;
    const payload = {
      name: $("dispatch-name").value.trim(),
      category_ids: [...$("dispatch-categories").selectedOptions].map((o) => Number(o.value)),
      send_at: $("dispatch-time").value,
      format: $("dispatch-format").value,
      [$("dispatch-recipient-kind").value]: $("dispatch-recipient").value.trim(),
    };
    const kind = areaKind.value;
    if (kind === "district_code") payload.district_code = $("dispatch-district").value;
    if (kind === "ward_number" && $("dispatch-ward").value.trim()) payload.ward_number = Number($("dispatch-ward").value);
    if (kind === "area") {
      if (!state.area) {
        text(error, t("Оберіть файл GeoJSON з полігоном."));
        return;
      }
      payload.area = state.area;
    }
    if (kind === "drawn") {
      payload.area = drawnGeometry();
      if (!payload.area) {
        text(error, t("Намалюйте на мапі хоча б один полігон."));
        return;
      }
    }
    $("dispatch-submit").disabled = true;
    try {
      const r = await send("POST", base, payload);
      if (!r.ok) {
        text(error, fail(r.body));
        return;
      }
      const lines = [t("Розсилку «{name}» створено: щодня о {time}.", { name: r.body.name, time: r.body.send_at })];
      if (r.body.webhook_secret) {
        lines.push(t("Секрет для перевірки підпису (заголовок X-Hromada-Signature) — збережіть його, більше він не покажеться: {secret}", { secret: r.body.webhook_secret }));
      }
      text(done, lines.join(" "));
      done.hidden = false;
      $("dispatch-name").value = "";
      await load();
    } finally {
      $("dispatch-submit").disabled = false;
    }
  });

  // --- start -----------------------------------------------------------------------------------

  async function start() {
    const me = await window.portal.me(config.meUrl);
    if (!me.ok || me.body.role !== "admin") return; // admin.js says why
    csrf.keep(me.body.csrf_token);
    const [categories, districts] = await Promise.all([
      api(config.categoriesUrl),
      window.portal.fetchAllFeatures(`${config.districtsUrl}?limit=500`).catch(() => []),
    ]);
    if (!categories.ok) {
      text($("dispatch-error"), fail(categories.body));
      return;
    }
    const select = $("dispatch-categories");
    for (const c of categories.body.items) {
      state.categories.set(c.id, c);
      if (c.is_active) select.append(option(c.id, categoryLabel(c)));
    }
    const districtSelect = $("dispatch-district");
    for (const d of districts) {
      state.districts.set(String(d.properties.code), d);
      districtSelect.append(option(d.properties.code, (LANG === "en" && d.properties.name_en) || d.properties.name));
    }
    await load();
    section.hidden = false;
    map.invalidateSize();
    section.dataset.state = "ready";
  }

  start().catch(() => {
    text($("dispatch-error"), t("Сервер недоступний. Спробуйте пізніше."));
  });
})();

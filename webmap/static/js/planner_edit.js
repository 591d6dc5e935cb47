// The planner's editing on /planner (planners and administrators): advertising structures and
// kiosks drawn, moved, reshaped, their attributes and permits changed, retired — through the
// OGC API – Features Part 4 of /ogc/collections/{layer}/items, as a GIS tool would.
//
// Drawing is Leaflet-Geoman's (vendored, as the admin's dispatch areas): a marker for an
// advertising structure, a marker or a polygon for a kiosk; a feature being edited is a
// draggable marker or a polygon with Geoman's vertex editing and dragging. The keyboard has
// the same without the mouse: «Новий об'єкт у центрі мапи» and «Перемістити в центр мапи»
// (arrows move the map), and the form is an ordinary form.
//
// Every save sends If-Match with the version the form was opened at: a 412 (someone saved in
// between) shows their values next to ours with «Завантажити їхню версію», nothing is
// overwritten; a 409 placement_rule_violated names the rule and draws what the feature is too
// close to or inside of; a 400 names the field, and its message stands under it.
//
// planner.js calls attach() once the catalogue is listed and pick() on a feature's click.
// The browser test reads #edit[data-state] ("off", "on") and #edit-form[data-state] ("new",
// "open", "saving", "saved", "refused", "stale", "invalid", "failed").
(function () {
  "use strict";

  const { t, lang } = window.i18n;
  const { api, csrf, el } = window.portal;
  const $ = (id) => document.getElementById(id);
  const EDITORS = new Set(["planner", "admin"]);
  const FIELDS = {
    advertising_structures: ["code", "kind", "size", "sides", "owner", "holder_is_person", "permit_number",
      "permit_type", "permit_valid_from", "permit_valid_until", "address"],
    kiosks: ["code", "kind", "specialization", "area_m2", "owner", "holder_is_person", "permit_number",
      "permit_type", "permit_valid_from", "permit_valid_until", "address"],
  };
  const NUMBERS = new Set(["sides", "area_m2"]);
  const LABELS = {
    code: t("Код"), kind: t("Вид"), size: t("Розмір"), sides: t("Кількість сторін"),
    specialization: t("Спеціалізація"), area_m2: t("Площа, м²"), owner: t("Власник дозволу"),
    holder_is_person: t("власник — фізична особа"), permit_number: t("Номер дозволу"),
    permit_type: t("Тип дозволу"), permit_valid_from: t("Дозвіл дійсний з"),
    permit_valid_until: t("Дозвіл дійсний до"), address: t("Адреса"), geometry: t("Місце"),
  };
  const SHAPE_STYLE = { color: "#b3261e", weight: 3, fillOpacity: 0.2 };

  const section = $("edit");
  const layerSelect = $("edit-layer");
  const toggle = $("edit-toggle");
  const tools = $("edit-tools");
  const statusEl = $("edit-status");
  const form = $("edit-form");
  const formTitle = $("edit-form-title");
  const refusal = $("edit-refusal");
  const stale = $("edit-stale");
  const retireConfirm = $("edit-retire-confirm");

  let view = null; // planner.js: { map, entries, switchOn, reload, say, centred }
  let editing = null; // { layer, id, etag, opened (the feature as opened), shape }
  let conflicts = null; // the features/zone a placement rule refused the feature for
  let ownCouncil = null; // /api/v1/me's council: {code, name}; null for oblast staff (issue 17)

  // --- the API: Part 4 with the session cookie and its CSRF token --------------------------

  async function send(method, url, body, headers = {}) {
    const options = {
      method,
      credentials: "same-origin",
      headers: {
        Accept: "application/geo+json, application/json", "Accept-Language": lang,
        "X-CSRF-Token": csrf.get(), ...headers,
      },
    };
    if (body !== undefined) {
      options.headers["Content-Type"] = "application/geo+json";
      options.body = JSON.stringify(body);
    }
    const response = await fetch(url, options);
    const data = await response.json().catch(() => ({}));
    return {
      ok: response.ok, status: response.status, body: data,
      etag: response.headers.get("ETag"), location: response.headers.get("Location"),
    };
  }

  const itemsUrl = (layer) => `/ogc/collections/${layer}/items`;
  const itemUrl = (layer, id) => `${itemsUrl(layer)}/${encodeURIComponent(id)}`;

  // --- the form -----------------------------------------------------------------------------

  function field(name) {
    return $(`edit-${name}`);
  }

  function showFieldsOf(layer) {
    for (const box of form.querySelectorAll(".field[data-for]")) box.hidden = box.dataset.for !== layer;
    // The kinds offered: those the layer's features have (the city's words, not translated).
    const entry = view.entries.get(layer);
    const kinds = [...new Set(((entry && entry.features) || []).map((f) => f.properties && f.properties.kind))]
      .filter(Boolean).sort();
    const list = $("edit-kinds");
    list.replaceChildren(...kinds.map((kind) => {
      const option = el("option");
      option.value = kind;
      return option;
    }));
  }

  function fill(properties) {
    for (const name of FIELDS[editing.layer]) {
      const input = field(name);
      const value = properties[name];
      if (input.type === "checkbox") input.checked = Boolean(value);
      else if (input.type === "date") input.value = value ? String(value).slice(0, 10) : "";
      else input.value = value === null || value === undefined ? "" : String(value);
    }
  }

  function formValues() {
    const properties = {};
    for (const name of FIELDS[editing.layer]) {
      const input = field(name);
      if (input.type === "checkbox") properties[name] = input.checked;
      else if (input.value.trim() === "") properties[name] = null;
      else if (NUMBERS.has(name)) properties[name] = Number(input.value);
      else properties[name] = input.value.trim();
    }
    return properties;
  }

  function clearMessages() {
    for (const p of form.querySelectorAll(".field-error")) {
      p.hidden = true;
      p.textContent = "";
    }
    for (const input of form.querySelectorAll("[aria-invalid]")) input.removeAttribute("aria-invalid");
    refusal.hidden = true;
    stale.hidden = true;
    retireConfirm.hidden = true;
    clearConflicts();
  }

  function clearConflicts() {
    if (conflicts) view.map.removeLayer(conflicts);
    conflicts = null;
  }

  function setState(state) {
    form.dataset.state = state;
  }

  // --- the shape on the map -----------------------------------------------------------------

  function makeShape(geometry) {
    let shape;
    if (geometry.type === "Point") {
      const [lng, lat] = geometry.coordinates;
      shape = L.marker([lat, lng], { draggable: true, keyboard: false, title: t("Об'єкт, що редагується") });
    } else {
      shape = L.geoJSON(geometry, { style: () => SHAPE_STYLE }).getLayers()[0];
    }
    adopt(shape);
    return shape;
  }

  // A marker or a polygon made editable: dragged, its vertices moved (Geoman).
  function adopt(shape) {
    shape.addTo(view.map);
    if (shape instanceof L.Marker) {
      if (shape.dragging) shape.dragging.enable();
    } else {
      shape.setStyle(SHAPE_STYLE);
      shape.pm.enable({ allowSelfIntersection: false, draggable: true });
    }
  }

  function dropShape() {
    if (editing && editing.shape) {
      if (editing.shape.pm) editing.shape.pm.disable();
      view.map.removeLayer(editing.shape);
    }
  }

  function geometryOf(shape) {
    if (shape instanceof L.Marker) {
      const { lat, lng } = shape.getLatLng();
      return { type: "Point", coordinates: [lng, lat] };
    }
    return shape.toGeoJSON().geometry;
  }

  function shifted(coordinates, dLng, dLat) {
    if (typeof coordinates[0] === "number") return [coordinates[0] + dLng, coordinates[1] + dLat];
    return coordinates.map((c) => shifted(c, dLng, dLat));
  }

  // The feature moved to the map's centre (the keyboard's way of dragging it).
  function moveToCentre() {
    if (!editing) return;
    const centre = view.map.getCenter();
    if (editing.shape instanceof L.Marker) {
      editing.shape.setLatLng(centre);
    } else {
      const from = editing.shape.getBounds().getCenter();
      const geometry = geometryOf(editing.shape);
      dropShape();
      editing.shape = makeShape({
        type: geometry.type, coordinates: shifted(geometry.coordinates, centre.lng - from.lng, centre.lat - from.lat),
      });
    }
    statusEl.textContent = t("Об'єкт переміщено в центр мапи; збережіть, щоб записати.");
  }

  // --- opening and closing ------------------------------------------------------------------

  function open(layer, shape, feature, id, etag) {
    clearMessages();
    editing = { layer, id, etag, opened: feature, shape };
    showFieldsOf(layer);
    fill(feature ? feature.properties || {} : {});
    formTitle.textContent = id == null
      ? t("Новий об'єкт")
      : t("Об'єкт {code}", { code: (feature.properties && feature.properties.code) || id });
    $("edit-retire").hidden = id == null;
    form.hidden = false;
    form.dataset.id = id == null ? "" : String(id);
    setState(id == null ? "new" : "open");
    if (window.plannerDocuments) window.plannerDocuments.show(layer, id, $("edit-documents")); // planner_documents.js
    formTitle.focus();
  }

  function close() {
    const hadFocus = form.contains(document.activeElement);
    dropShape();
    clearMessages();
    editing = null;
    form.hidden = true;
    // The keyboard's place is kept: on the editing tools, the status beside them.
    if (hadFocus && !tools.hidden) {
      $("edit-new").focus({ preventScroll: true });
      section.scrollIntoView({ block: "nearest" });
    }
  }

  function startNew(shape) {
    if (editing) close();
    open(layerSelect.value, shape, null, null, null);
    statusEl.textContent = t("Новий об'єкт: заповніть атрибути і збережіть.");
  }

  async function openExisting(layer, id) {
    statusEl.textContent = t("Завантаження об'єкта…");
    const r = await send("GET", itemUrl(layer, id));
    if (!r.ok) {
      statusEl.textContent = r.body.detail || t("Не вдалося завантажити об'єкт (HTTP {status}).", { status: r.status });
      return;
    }
    if (editing) close();
    open(layer, makeShape(r.body.geometry), r.body, id, r.etag);
    statusEl.textContent = "";
  }

  // --- councils (issue 17) -------------------------------------------------------------------
  // A planner bound to a council places features in it only: the council of the point (as the
  // server decides it, /api/v1/areas) is asked before anything is sent; the server checks too.
  async function councilAt(geometry) {
    let point = geometry;
    if (geometry.type !== "Point") {
      const centre = L.geoJSON(geometry).getBounds().getCenter();
      point = { type: "Point", coordinates: [centre.lng, centre.lat] };
    }
    const [lon, lat] = point.coordinates;
    try {
      const r = await api(`/api/v1/areas?lon=${lon}&lat=${lat}`);
      return r.ok ? r.body.council || null : null;
    } catch (error) {
      return null; // unknown: the server decides
    }
  }

  // The refusal's text when the place is another council's, else "" (oblast staff: always "").
  async function outsideOwn(geometry) {
    if (!ownCouncil) return "";
    const council = await councilAt(geometry);
    if (!council || council.code === ownCouncil.code) return "";
    const name = (c) => (lang === "en" && c.name_en) || c.name;
    return t("Місце лежить у громаді {name}, а ви ведете об'єкти громади {own}: тут об'єкт поставити не можна.",
      { name: name(council), own: name(ownCouncil) });
  }

  // A new feature drawn or added at the centre: opened only when the place is the planner's.
  async function placeNew(shape) {
    const refused = await outsideOwn(geometryOf(shape));
    if (refused) {
      if (shape.pm) shape.pm.disable();
      view.map.removeLayer(shape);
      section.dataset.refused = "outside_council";
      statusEl.textContent = refused;
      return;
    }
    delete section.dataset.refused;
    startNew(shape);
  }

  // planner.js: a feature was clicked. Taken (true) when editing its layer — but another
  // council's feature goes to its attribute card, which says whose it is.
  function pick(entry, feature) {
    if (section.dataset.state !== "on" || entry.name !== layerSelect.value || feature.id == null) return false;
    if (view.foreign && view.foreign(entry, feature)) {
      if (editing) close();
      return false;
    }
    openExisting(entry.name, feature.id);
    return true;
  }

  // --- saving -------------------------------------------------------------------------------

  function title(rule) {
    return (lang === "en" && rule.title_en) || rule.title || "";
  }

  function showRefusal(text, detail) {
    $("edit-refusal-list").replaceChildren();
    $("edit-refusal-text").textContent = text;
    $("edit-refusal-detail").textContent = detail || "";
    refusal.hidden = false;
    refusal.scrollIntoView({ block: "nearest" });
  }

  function showPlacementRefusal(body) {
    const rule = body.rule || {};
    refusal.dataset.rule = String(rule.id == null ? "" : rule.id);
    showRefusal(t("Не збережено: порушено правило розміщення «{title}».", { title: title(rule) }), body.detail);
    // What is in the way, in words too (the map's drawing is not for everybody).
    const items = ((body.conflicts && body.conflicts.features) || []).slice(0, 10).map((f) => {
      const p = f.properties || {};
      const label = p.label || String(f.id == null ? "" : f.id);
      const distance = Number(p.distance_m);
      return el("li", null, Number.isFinite(distance) && distance > 0
        ? t("{label}: {distance} м", { label, distance: Math.round(distance) })
        : label);
    });
    $("edit-refusal-list").replaceChildren(...items);
    if (body.conflicts && body.conflicts.features && body.conflicts.features.length) {
      conflicts = L.geoJSON(body.conflicts, {
        interactive: false,
        style: () => ({ color: "#c62828", weight: 3, dashArray: "6 4", fillColor: "#c62828", fillOpacity: 0.25 }),
        pointToLayer: (f, latlng) => L.circleMarker(latlng, {
          radius: 12, color: "#c62828", weight: 3, fillOpacity: 0.3, interactive: false,
        }),
      }).addTo(view.map);
      const bounds = conflicts.getBounds().extend(L.geoJSON(geometryOf(editing.shape)).getBounds());
      if (bounds.isValid()) view.map.fitBounds(bounds, { padding: [40, 40], maxZoom: 18 });
      refusal.dataset.conflicts = String(body.conflicts.features.length);
    } else {
      refusal.dataset.conflicts = "0";
    }
  }

  function shown(value) {
    if (value === null || value === undefined || value === "") return "—";
    if (typeof value === "boolean") return value ? t("так") : t("ні");
    return String(value);
  }

  // A 412: the other planner's feature beside what this form holds; nothing is sent again.
  function showStale(current) {
    const mine = formValues();
    const before = (editing.opened && editing.opened.properties) || {};
    const now = (current && current.properties) || {};
    const body = stale.querySelector("tbody");
    body.replaceChildren();
    const names = FIELDS[editing.layer].filter((name) => shown(now[name]) !== shown(before[name])
      || shown(now[name]) !== shown(mine[name]));
    if (current && JSON.stringify(current.geometry) !== JSON.stringify(editing.opened && editing.opened.geometry)) {
      names.push("geometry");
    }
    for (const name of names) {
      const tr = el("tr");
      tr.dataset.key = name;
      const th = el("th", null, LABELS[name] || name);
      th.scope = "row";
      const theirsValue = name === "geometry" ? t("змінено") : shown(now[name]);
      const mineValue = name === "geometry" ? "" : shown(mine[name]);
      tr.append(th, el("td", "theirs", theirsValue), el("td", "mine", mineValue));
      body.append(tr);
    }
    // Who changed it last and when (the audit trail's last event, properties.last_change).
    const last = now.last_change || {};
    const at = last.at || now.updated_at;
    const when = at ? new Date(at).toLocaleString(window.i18n.locale) : "";
    const who = last.actor || "";
    $("edit-stale-who").textContent = [who, when].filter(Boolean).join(", ");
    stale.hidden = false;
    stale.scrollIntoView({ block: "nearest" });
    setState("stale");
    $("edit-load-theirs").focus();
  }

  function showInvalid(body) {
    const name = String(body.parameter || body.field || body.property || "")
      .replace(/^(body\.)?(properties\.)?/, "");
    const input = name && field(name);
    const errorEl = $(`edit-${name}-error`);
    if (input && errorEl && !input.closest(".field").hidden) {
      errorEl.textContent = body.detail || t("Неправильне значення.");
      errorEl.hidden = false;
      input.setAttribute("aria-invalid", "true");
      input.focus();
    } else if (name === "geometry") {
      $("edit-geometry-error").textContent = body.detail || "";
      $("edit-geometry-error").hidden = false;
    } else {
      showRefusal(body.detail || t("Неправильне значення."), "");
    }
    setState("invalid");
  }

  async function save() {
    if (!editing) return;
    clearMessages();
    const feature = { type: "Feature", geometry: geometryOf(editing.shape), properties: formValues() };
    setState("saving");
    const refused = await outsideOwn(feature.geometry);
    if (refused) {
      showRefusal(refused, "");
      setState("refused");
      return;
    }
    statusEl.textContent = t("Збереження…");
    const r = editing.id == null
      ? await send("POST", itemsUrl(editing.layer), feature)
      : await send("PUT", itemUrl(editing.layer, editing.id), feature, { "If-Match": editing.etag || "*" });
    statusEl.textContent = "";
    if (r.ok) {
      const layer = editing.layer;
      const id = (r.body && r.body.id) != null ? r.body.id : editing.id;
      close();
      form.dataset.state = "saved";
      form.dataset.id = id == null ? "" : String(id);
      statusEl.textContent = t("Збережено.");
      const entry = view.entries.get(layer);
      if (entry) await view.reload(entry);
      return;
    }
    handleRefusal(r);
  }

  function handleRefusal(r) {
    retireConfirm.hidden = true;
    if (r.status === 409 && r.body.code === "placement_rule_violated") {
      showPlacementRefusal(r.body);
      setState("refused");
    } else if (r.status === 412) {
      showStale(r.body.current);
    } else if (r.status === 400 || r.status === 422) {
      showInvalid(r.body);
    } else {
      showRefusal(r.body.detail || t("Не вдалося зберегти (HTTP {status}).", { status: r.status }), "");
      setState("failed");
    }
  }

  async function retire() {
    if (!editing || editing.id == null) return;
    const { layer, id } = editing;
    const r = await send("DELETE", itemUrl(layer, id), undefined, { "If-Match": editing.etag || "*" });
    if (r.ok) {
      close();
      form.dataset.state = "saved";
      statusEl.textContent = t("Об'єкт знято з обліку.");
      const entry = view.entries.get(layer);
      if (entry) await view.reload(entry);
      return;
    }
    handleRefusal(r);
  }

  // --- the switch and the drawing tools -----------------------------------------------------

  function drawTools(on) {
    const map = view.map;
    map.pm.disableDraw();
    if (map.pm.controlsVisible()) map.pm.removeControls();
    if (!on) return;
    const kiosks = layerSelect.value === "kiosks";
    map.pm.addControls({
      position: "topleft", drawMarker: true, drawPolygon: kiosks, drawCircleMarker: false, drawPolyline: false,
      drawRectangle: false, drawCircle: false, drawText: false, cutPolygon: false, rotateMode: false,
      editMode: false, dragMode: false, removalMode: false,
    });
    // Geoman titles the buttons' boxes, not the role="button" links: name the links too.
    for (const box of map.getContainer().querySelectorAll(".leaflet-pm-toolbar .button-container[title]")) {
      const link = box.querySelector(".leaflet-buttons-control-button");
      if (link) link.setAttribute("aria-label", box.title);
    }
  }

  function switchEditing(on) {
    section.dataset.state = on ? "on" : "off";
    toggle.setAttribute("aria-pressed", String(on));
    tools.hidden = !on;
    layerSelect.disabled = false;
    if (!on) close();
    drawTools(on);
    if (on) {
      const entry = view.entries.get(layerSelect.value);
      if (entry && !entry.checkbox.checked) {
        entry.checkbox.checked = true;
        view.switchOn(entry);
      }
      statusEl.textContent = t("Редагування увімкнено: клацніть об'єкт або намалюйте новий.");
    } else {
      statusEl.textContent = "";
    }
  }

  async function attach(planner) {
    view = planner;
    const config = JSON.parse(document.getElementById("planner-config").textContent);
    if (!config.maybeSignedIn) return; // the public: the page as it was
    const me = await api(config.meUrl);
    if (!me.ok || !EDITORS.has(me.body.role)) return; // the page as it was
    csrf.keep(me.body.csrf_token);
    ownCouncil = me.body.council || null;
    if (ownCouncil) {
      // Its English name, for the refusal (the public list of councils has it).
      const list = await api("/api/v1/councils").catch(() => null);
      const full = list && list.ok && list.body.items.find((c) => c.code === ownCouncil.code);
      if (full) ownCouncil = Object.assign({}, ownCouncil, { name_en: full.name_en });
    }
    section.hidden = false;
    section.dataset.role = me.body.role;
    const map = view.map;
    // The map's settled centre, which «Перемістити в центр мапи» uses (the browser test waits on it).
    const showCentre = () => {
      const c = map.getCenter();
      map.getContainer().dataset.centre = `${c.lat.toFixed(6)},${c.lng.toFixed(6)}`;
    };
    map.on("moveend", showCentre);
    showCentre();
    map.pm.setLang("hromada", {
      buttonTitles: {
        drawMarkerButton: t("Поставити об'єкт (точка)"),
        drawPolyButton: t("Намалювати контур МАФ"),
      },
    }, lang === "en" ? "en" : "ua");
    map.on("pm:create", (e) => {
      map.pm.disableDraw();
      map.removeLayer(e.layer);
      const shape = e.layer instanceof L.Marker
        ? makeShape({ type: "Point", coordinates: [e.layer.getLatLng().lng, e.layer.getLatLng().lat] })
        : makeShape(e.layer.toGeoJSON().geometry);
      placeNew(shape);
    });
    toggle.addEventListener("click", () => switchEditing(section.dataset.state !== "on"));
    layerSelect.addEventListener("change", () => {
      if (section.dataset.state === "on") switchEditing(true);
    });
    $("edit-new").addEventListener("click", () => {
      const c = map.getCenter();
      placeNew(makeShape({ type: "Point", coordinates: [c.lng, c.lat] }));
    });
    $("edit-move").addEventListener("click", moveToCentre);
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      save();
    });
    $("edit-cancel").addEventListener("click", () => {
      close();
      statusEl.textContent = t("Зміни скасовано.");
    });
    $("edit-retire").addEventListener("click", () => {
      retireConfirm.hidden = false;
      $("edit-retire-no").focus();
    });
    $("edit-retire-no").addEventListener("click", () => {
      retireConfirm.hidden = true;
      $("edit-retire").focus();
    });
    $("edit-retire-yes").addEventListener("click", retire);
    $("edit-load-theirs").addEventListener("click", () => {
      if (editing && editing.id != null) openExisting(editing.layer, editing.id);
    });
  }

  window.plannerEdit = { attach, pick };
})();

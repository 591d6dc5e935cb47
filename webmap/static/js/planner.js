// The planner's view: the city's thematic and permit layers, switchable, with a legend, a
// feature's attributes on click, and each layer's freshness (owner, regime, last update,
// overdue).
//
// The catalogue comes from /api/v1/layers and the features from /ogc as GeoJSON (pages of
// 5000, following the `next` links), fetched when a layer is first switched on. GeoJSON
// rather than vector tiles: these layers are a few thousand features at most (advertising
// structures 2000, kiosks 800, points of interest ~5300), one or two requests each; the
// browser then has every feature's full attributes for the click table and the permit
// status without another request, draws them on one canvas, and finds the feature nearest
// the map's centre for the keyboard (Enter on the map).
//
// The browser test reads: #map[data-state] ("ready" once the catalogue is listed), each
// layer's li[data-layer][data-state] ("off", "loading", "on", "error") and data-count.
(function () {
  "use strict";

  const { t, plural, locale, lang } = window.i18n;
  const { api, el, fetchAllFeatures } = window.portal;
  const config = JSON.parse(document.getElementById("planner-config").textContent);
  const mapEl = document.getElementById("map");
  const statusEl = document.getElementById("status");
  const listEl = document.getElementById("layer-list");
  const KYIV = [50.45, 30.52];
  const PERMIT_LAYERS = new Set(config.permitLayers);
  const SKIP = new Set(config.skipLayers);
  const ON_BY_DEFAULT = new Set(["districts"]);
  // Thematic layers share one default style; each gets its own hue so that two of them can
  // be told apart (the first keeps the default).
  const THEMATIC_HUES = ["#e07a1f", "#6a4c93", "#1982c4", "#5b8c2a", "#b5179e", "#3d5a80"];
  const PERMIT_COLOURS = {
    valid: "#2e7d32", expiring: "#e09b00", expired: "#c62828", unknown: "#7b8794",
  };
  const PERMIT_NAMES = {
    valid: t("чинний"),
    expiring: t("спливає протягом 30 днів"),
    expired: t("прострочений"),
    unknown: t("строк невідомий"),
  };
  const REGIMES = {
    daily: t("щодня"),
    weekly: t("щотижня"),
    monthly: t("щомісяця"),
    quarterly: t("щокварталу"),
    on_change: t("у разі змін"),
  };
  // A layer's title in the page's language: the catalogue has an English title for the
  // city's own layers (title_en); an imported layer without one keeps its Ukrainian title.
  function layerTitle(row) {
    return (lang === "en" && row.title_en) || row.title;
  }
  function featureCount(n) {
    return plural(n, "{n} об'єкт|{n} об'єкти|{n} об'єктів");
  }

  // A view may come in the hash (#zoom/lat/lon), so that a link shows a place.
  const viewFromHash = window.portal.readHash();
  const map = L.map(mapEl, { preferCanvas: true, keyboard: true, maxZoom: 19, zoomSnap: 0.25 }).setView(
    viewFromHash ? [viewFromHash.lat, viewFromHash.lon] : KYIV,
    viewFromHash ? viewFromHash.z : 11,
  );
  if (!viewFromHash) window.portal.homeView(map, config, 11); window.portal.addBackground(map, config);
  map.attributionControl.addAttribution(window.portal.osmCredit(config));

  function say(text) {
    statusEl.textContent = text;
  }

  function formatDate(iso) {
    if (!iso) return "—";
    const d = new Date(iso);
    if (Number.isNaN(d.getTime())) return String(iso);
    return d.toLocaleDateString(locale, { day: "2-digit", month: "2-digit", year: "numeric" });
  }

  // --- permits ------------------------------------------------------------------------------
  // Kyiv's today, as a local midnight to compare with the permits' days.
  function today() {
    const [y, m, d] = window.portal.kyivDay().split("-").map(Number);
    return new Date(y, m - 1, d);
  }

  function permitStatus(properties) {
    const value = properties && properties.permit_valid_until;
    const m = /^(\d{4})-(\d{2})-(\d{2})/.exec(value || "");
    if (!m) return "unknown";
    const until = new Date(Number(m[1]), Number(m[2]) - 1, Number(m[3]));
    const start = today();
    if (until < start) return "expired";
    const soon = new Date(start);
    soon.setDate(soon.getDate() + 30);
    return until <= soon ? "expiring" : "valid";
  }

  // --- styles -------------------------------------------------------------------------------
  let thematicIndex = 0;
  function styleFor(entry) {
    if (config.styles[entry.name]) return Object.assign({}, config.styles[entry.name]);
    const hue = THEMATIC_HUES[thematicIndex++ % THEMATIC_HUES.length];
    return Object.assign({}, config.thematicStyle, { color: hue, fillColor: hue });
  }

  function swatch(entry) {
    const s = entry.style;
    const node = el("span", "swatch");
    node.setAttribute("aria-hidden", "true");
    const point = /point/i.test(entry.geometry_type || "") || PERMIT_LAYERS.has(entry.name);
    if (point) node.classList.add("swatch-point");
    node.style.borderColor = s.color;
    node.style.background = PERMIT_LAYERS.has(entry.name)
      ? `conic-gradient(${PERMIT_COLOURS.valid} 0 33%, ${PERMIT_COLOURS.expiring} 0 66%, ${PERMIT_COLOURS.expired} 0)`
      : s.fillColor;
    if (!PERMIT_LAYERS.has(entry.name) && !point) {
      node.style.opacity = String(Math.max(0.45, Math.min(1, s.fillOpacity + 0.35)));
    }
    return node;
  }

  // A permit layer's point at its shape's centre (kiosks are tiny polygons, invisible and
  // unclickable at a city's zoom): coloured by permit status, ringed in the layer's colour.
  function centred(feature) {
    if (!feature.geometry || feature.geometry.type === "Point") return feature;
    const centre = L.geoJSON(feature).getBounds().getCenter();
    return Object.assign({}, feature, {
      geometry: { type: "Point", coordinates: [centre.lng, centre.lat] },
    });
  }

  // --- councils (issue 17) -------------------------------------------------------------------
  // Another council's structure or kiosk, as a planner bound to a council gets it: the layer
  // gives planners each feature's `version`, null where the viewer does not edit the feature's
  // council (layers/features.py). Drawn muted; its card says whose it is, with nothing to edit.
  const EDITABLE = new Set(["advertising_structures", "kiosks"]);
  function foreign(entry, feature) {
    const p = (feature && feature.properties) || {};
    return EDITABLE.has(entry.name) && Object.prototype.hasOwnProperty.call(p, "version") && p.version === null;
  }
  const MUTED = "#9aa0a6";

  // --- the layers ---------------------------------------------------------------------------
  const entries = new Map(); // name → {catalogue row, style, leaflet layer, features, li}

  function buildLayer(entry, features) {
    const permit = PERMIT_LAYERS.has(entry.name);
    const s = entry.style;
    const data = {
      type: "FeatureCollection",
      features: permit ? features.map(centred) : features,
    };
    // L.geoJSON applies `style` to its points too: a permit layer's style is per feature.
    const style = permit
      ? (feature) => (foreign(entry, feature)
        ? {
          radius: Math.max(4, s.radius), weight: 1, color: MUTED,
          fillColor: PERMIT_COLOURS[permitStatus(feature.properties)], fillOpacity: 0.3, opacity: 0.7,
        }
        : {
          radius: Math.max(5, s.radius), weight: 1.5, color: s.color,
          fillColor: PERMIT_COLOURS[permitStatus(feature.properties)], fillOpacity: 0.95,
        })
      : () => s;
    return L.geoJSON(data, {
      style,
      pointToLayer: (feature, latlng) => L.circleMarker(latlng, style(feature)),
      onEachFeature(feature, layer) {
        // While editing (planner_edit.js) a click on the edited layer opens the feature's form.
        layer.on("click", () => {
          if (window.plannerEdit && window.plannerEdit.pick(entry, feature)) return;
          showAttributes(entry, feature);
        });
      },
    });
  }

  async function switchOn(entry) {
    entry.li.dataset.state = "loading";
    entry.countEl.textContent = t("завантаження…");
    if (!entry.layer) {
      const url = `${entry.collection}/items?limit=5000`;
      try {
        entry.features = await fetchAllFeatures(url, (got, total) => {
          entry.countEl.textContent = total
            ? t("{got} з {total}…", { got: got.toLocaleString(locale), total: total.toLocaleString(locale) })
            : `${got.toLocaleString(locale)}…`;
        });
      } catch (error) {
        entry.li.dataset.state = "error";
        entry.countEl.textContent = "";
        entry.checkbox.checked = false;
        say(t("Не вдалося завантажити шар «{title}»: {error}", { title: entry.title, error: error.message }));
        return;
      }
      entry.layer = buildLayer(entry, entry.features);
    }
    if (!entry.checkbox.checked) { // switched off again while loading
      entry.li.dataset.state = "off";
      entry.countEl.textContent = featureCount(entry.features.length);
      return;
    }
    entry.layer.addTo(map);
    if (entry.features.some((feature) => foreign(entry, feature))) legendForeign.hidden = false;
    if (entry.kind !== "core" || PERMIT_LAYERS.has(entry.name)) entry.layer.bringToFront();
    entry.li.dataset.state = "on";
    entry.li.dataset.count = String(entry.features.length);
    entry.countEl.textContent = featureCount(entry.features.length);
    if (PERMIT_LAYERS.has(entry.name) && !entry.permitsEl) showPermitCounts(entry);
    say(t("Шар «{title}» увімкнено: {count}.", { title: entry.title, count: featureCount(entry.features.length) }));
  }

  // How many permits of a permit layer are valid, expiring within 30 days, expired.
  function showPermitCounts(entry) {
    const counts = { valid: 0, expiring: 0, expired: 0, unknown: 0 };
    for (const feature of entry.features) counts[permitStatus(feature.properties)] += 1;
    const ul = el("ul", "permit-counts");
    ul.setAttribute("aria-label", t("Дозволи: {title}", { title: entry.title }));
    for (const [status, count] of Object.entries(counts)) {
      if (status === "unknown" && !count) continue;
      const li = el("li", `permit-count permit-${status}`);
      li.dataset.status = status;
      li.dataset.count = String(count);
      li.append(el("span", `dot permit-${status}`), el("span", null, `${PERMIT_NAMES[status]}: ${count.toLocaleString(locale)}`));
      ul.append(li);
    }
    entry.permitsEl = ul;
    entry.li.insertBefore(ul, entry.li.querySelector(".fresh"));
  }

  // A layer's features fetched again (after an edit), drawn again if it is on.
  async function reload(entry) {
    if (entry.layer) map.removeLayer(entry.layer);
    entry.layer = null;
    if (entry.permitsEl) entry.permitsEl.remove();
    entry.permitsEl = null;
    if (entry.checkbox.checked) await switchOn(entry);
  }

  function switchOff(entry) {
    if (entry.layer) map.removeLayer(entry.layer);
    entry.li.dataset.state = "off";
    say(t("Шар «{title}» вимкнено.", { title: entry.title }));
  }

  function freshness(entry) {
    const dl = el("dl", "fresh");
    const rows = [
      [t("Власник"), entry.owner_department || t("не вказано")],
      [t("Оновлення"), REGIMES[entry.update_regime] || entry.update_regime || "—"],
      [t("Оновлено"), formatDate(entry.last_updated)],
    ];
    if (entry.due_by) rows.push([t("Оновити до"), formatDate(entry.due_by)]);
    for (const [term, value] of rows) {
      dl.append(el("dt", null, term), el("dd", null, value));
    }
    if (entry.overdue) {
      const dd = el("dd", "overdue");
      dd.append(el("strong", null, t("прострочено")));
      dl.append(el("dt", "visually-hidden", t("Стан")), dd);
    }
    return dl;
  }

  function listLayer(entry) {
    const li = el("li", "layer");
    li.dataset.layer = entry.name;
    li.dataset.state = "off";
    if (entry.overdue) li.dataset.overdue = "true";
    const id = `layer-${entry.name}`;
    const checkbox = el("input");
    checkbox.type = "checkbox";
    checkbox.id = id;
    checkbox.name = "layer";
    checkbox.value = entry.name;
    const label = el("label");
    label.htmlFor = id;
    label.append(swatch(entry), el("span", "layer-title", entry.title));
    const countEl = el("span", "count muted");
    countEl.setAttribute("aria-live", "polite");
    const head = el("div", "layer-head");
    head.append(checkbox, label, countEl);
    const details = freshness(entry);
    details.id = `${id}-fresh`;
    checkbox.setAttribute("aria-describedby", details.id);
    li.append(head, details);
    if (entry.description) li.title = entry.description;
    Object.assign(entry, { li, checkbox, countEl });
    checkbox.addEventListener("change", () => {
      if (checkbox.checked) switchOn(entry);
      else switchOff(entry);
    });
    return li;
  }

  // --- attributes ---------------------------------------------------------------------------
  const attrs = document.getElementById("attrs");
  const attrsTitle = document.getElementById("attrs-title");
  const attrsPermit = document.getElementById("attrs-permit");
  const attrsBody = document.querySelector("#attrs-table tbody");
  const attrsCouncil = document.getElementById("attrs-council");
  const legendForeign = document.getElementById("legend-foreign");
  let highlight = null;
  let councilAsked = 0; // the latest card's question: an older answer is dropped

  // Whose another council's feature is: the council of its point (/api/v1/areas, as the
  // server places a structure), named in the card.
  async function showCouncil(entry, feature) {
    const asked = ++councilAsked;
    if (!foreign(entry, feature)) {
      attrsCouncil.hidden = true;
      delete attrs.dataset.foreign;
      return;
    }
    attrs.dataset.foreign = "true";
    attrsCouncil.textContent = t("Належить іншій громаді — редагує її планувальник");
    attrsCouncil.hidden = false;
    const point = centred(feature).geometry;
    if (!point || point.type !== "Point") return;
    const [lon, lat] = point.coordinates;
    try {
      const r = await api(`/api/v1/areas?lon=${lon}&lat=${lat}`);
      const council = r.ok && r.body.council;
      if (asked !== councilAsked || !council) return;
      const name = (lang === "en" && council.name_en) || council.name;
      attrsCouncil.textContent = t("Належить громаді {name} — редагує її планувальник", { name });
      attrsCouncil.dataset.council = council.code;
    } catch (error) {
      // the general note stays
    }
  }

  // The city's own columns in the page's words (the key itself in the row's title); other
  // keys (OpenStreetMap's tags, an imported file's columns) as they are.
  const COLUMN_NAMES = {
    id: t("Ідентифікатор"), code: t("Код"), name: t("Назва"), name_en: t("Назва англійською"),
    kind: t("Вид"), size: t("Розмір"), width_m: t("Ширина, м"), height_m: t("Висота, м"),
    area_m2: t("Площа, м²"), specialization: t("Спеціалізація"), owner: t("Власник"),
    permit_number: t("Номер дозволу"), permit_valid_until: t("Дозвіл дійсний до"),
    address: t("Адреса"), number: t("Номер"), description: t("Опис"), note: t("Примітка"),
    generated: t("Згенеровано (демо)"), executor_id: t("Ідентифікатор виконавця"),
    permit_type: t("Тип дозволу"), permit_valid_from: t("Дозвіл дійсний з"),
    sides: t("Кількість сторін"), holder_is_person: t("Власник — фізична особа"),
    version: t("Версія"), updated_at: t("Останнє редагування"),
  };

  function shownValue(key, value) {
    if (typeof value === "boolean") return value ? t("так") : t("ні");
    if (key === "permit_valid_until" || key === "permit_valid_from") return formatDate(value);
    if (key === "updated_at") return new Date(value).toLocaleString(locale);
    return typeof value === "object" ? JSON.stringify(value) : String(value);
  }

  function featureName(p) {
    return p.name || p["name:uk"] || p.code || p.number || p.address || p["addr:street"] || "";
  }

  // The page's add-ons (webmap/static/js/planner_*.js) register in window.plannerAddons:
  // { attach(context) — once the catalogue is loaded; card(entry, feature, node) — optional }.
  const attrsExtra = document.getElementById("attrs-extra");
  function addons() {
    return window.plannerAddons || [];
  }

  function showAttributes(entry, feature) {
    const p = feature.properties || {};
    const name = featureName(p);
    attrsTitle.textContent = name ? `${entry.title}: ${name}` : entry.title;
    attrsBody.replaceChildren();
    for (const [key, value] of Object.entries(p)) {
      if (value === null || value === undefined || value === "") continue;
      const tr = el("tr");
      if (key === "permit_valid_until") tr.className = `permit-row permit-${permitStatus(p)}`;
      tr.append(el("th", null, COLUMN_NAMES[key] || key), el("td", null, shownValue(key, value)));
      tr.firstChild.scope = "row";
      tr.dataset.key = key;
      if (COLUMN_NAMES[key]) tr.firstChild.title = key;
      attrsBody.append(tr);
    }
    if (PERMIT_LAYERS.has(entry.name)) {
      const status = permitStatus(p);
      attrsPermit.className = `permit permit-${status}`;
      attrsPermit.dataset.status = status;
      attrsPermit.replaceChildren(
        el("span", `dot permit-${status}`),
        el("strong", null, t("Дозвіл: {status}", { status: PERMIT_NAMES[status] })),
        document.createTextNode(
          p.permit_valid_until ? " " + t("(до {date})", { date: formatDate(p.permit_valid_until) }) : "",
        ),
      );
      attrsPermit.hidden = false;
    } else {
      attrsPermit.hidden = true;
      delete attrsPermit.dataset.status;
    }
    delete attrsCouncil.dataset.council;
    showCouncil(entry, feature);
    attrs.hidden = false;
    attrs.dataset.layer = entry.name;
    // Add-ons (planner_*.js) append their parts of a feature's card: its appeals, documents.
    attrsExtra.replaceChildren();
    for (const addon of addons()) if (addon.card) addon.card(entry, feature, attrsExtra);
    if (highlight) map.removeLayer(highlight);
    highlight = L.geoJSON(PERMIT_LAYERS.has(entry.name) ? centred(feature) : feature, {
      interactive: false,
      style: () => ({ color: "#111", weight: 3, fill: false }),
      pointToLayer: (f, latlng) => L.circleMarker(latlng, {
        radius: 10, color: "#111", weight: 3, fill: false, interactive: false,
      }),
    }).addTo(map);
    openPanel(true);
    attrsTitle.focus({ preventScroll: false });
  }

  document.getElementById("attrs-close").addEventListener("click", () => {
    attrs.hidden = true;
    if (highlight) map.removeLayer(highlight);
    highlight = null;
    mapEl.focus();
  });

  // Keyboard: Enter on the focused map shows the feature nearest its centre (arrows move the
  // map, + and − zoom), among the layers switched on, the topmost first.
  mapEl.addEventListener("keydown", (event) => {
    if (event.key !== "Enter" || event.target !== mapEl) return;
    event.preventDefault();
    const centre = map.getCenter();
    const c = map.latLngToContainerPoint(centre);
    let best = null;
    for (const entry of entries.values()) {
      if (!entry.layer || !map.hasLayer(entry.layer)) continue;
      entry.layer.eachLayer((layer) => {
        let d;
        if (layer.getLatLng) {
          d = c.distanceTo(map.latLngToContainerPoint(layer.getLatLng()));
        } else if (layer.getBounds && layer.getBounds().contains(centre)) {
          d = 20; // inside a shape: after any point close by
        } else return;
        const rank = d - (entry.kind === "core" && !PERMIT_LAYERS.has(entry.name) ? 0 : 5);
        if (d <= 30 && (!best || rank < best.rank)) best = { rank, entry, layer };
      });
    }
    if (best) {
      if (!(window.plannerEdit && window.plannerEdit.pick(best.entry, best.layer.feature))) {
        showAttributes(best.entry, best.layer.feature);
      }
    } else say(t("Біля центру мапи немає об'єктів увімкнених шарів."));
  });

  // --- the phone's bottom sheet -------------------------------------------------------------
  const panel = document.getElementById("panel");
  const panelToggle = document.getElementById("panel-toggle");
  function openPanel(open) {
    panel.dataset.open = String(open);
    panelToggle.setAttribute("aria-expanded", String(open));
  }
  panelToggle.addEventListener("click", () => openPanel(panel.dataset.open !== "true"));

  // --- start --------------------------------------------------------------------------------
  async function start() {
    let catalogue;
    try {
      const r = await api(config.layersUrl);
      if (!r.ok) throw new Error(r.body.detail || `HTTP ${r.status}`);
      catalogue = r.body;
    } catch (error) {
      say(t("Не вдалося завантажити каталог шарів: {error}", { error: error.message }));
      mapEl.dataset.state = "error";
      return;
    }
    const rows = catalogue.layers.filter((row) => !SKIP.has(row.name));
    // Thematic and permit layers first (the planner's work), then the areas for context.
    const rank = (row) => (row.kind === "thematic" ? 1 : PERMIT_LAYERS.has(row.name) ? 0 : 2);
    rows.sort((a, b) => rank(a) - rank(b) || layerTitle(a).localeCompare(layerTitle(b), locale));
    for (const row of rows) {
      const entry = Object.assign({}, row, { title: layerTitle(row) });
      entry.style = styleFor(entry);
      entries.set(entry.name, entry);
      listEl.append(listLayer(entry));
    }
    listEl.dataset.state = "ready";
    const overdue = rows.filter((row) => row.overdue).length;
    say(overdue
      ? t("Шарів: {count}, прострочено оновлення: {overdue}.", { count: rows.length, overdue })
      : t("Шарів: {count}.", { count: rows.length }));
    mapEl.dataset.state = "ready";
    mapEl.dataset.layers = String(rows.length);
    const context = { map, entries, switchOn, reload, say, centred, showAttributes, foreign };
    if (window.plannerEdit) window.plannerEdit.attach(context);
    for (const addon of addons()) addon.attach(context);
    for (const name of ON_BY_DEFAULT) {
      const entry = entries.get(name);
      if (entry) {
        entry.checkbox.checked = true;
        switchOn(entry).then(() => {
          if (!viewFromHash && entry.layer && entry.features.length) {
            map.fitBounds(entry.layer.getBounds(), { padding: [10, 10], animate: false });
          }
        });
      }
    }
  }
  start();
})();

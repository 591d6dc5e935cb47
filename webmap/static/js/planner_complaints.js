// The planner page add-on for complaints (issue 16): registers in window.plannerAddons.
//
// An appeal about advertising or a kiosk is linked to the nearest registered structure within
// the configured distance (gis/structure_links.py), or marked as having none nearby.
//
// - card(): a structure's or a kiosk's attribute card lists its appeals (anyone: the public
//   fields of GET /api/v1/structures/{layer}/{id}/appeals) — the number linking to the public
//   card `/?number=…`, the category, the status and the date — or «Звернень немає».
// - «Скарги на конструкції і МАФ» (planners and administrators, GET /api/v1/planner/complaints):
//   «Показати скарги на мапі» draws the most-complained structures as circles sized by their
//   count, with a top-10 list (a click opens the structure's card), and the complaints with no
//   registered structure nearby as diamonds (likely unpermitted), each with its public card.
//
// The browser test reads #complaints[data-state] ("off", "loading", "ready", "error"),
// [data-structures] / [data-unmatched] (how many are drawn), #complaints-top li
// [data-feature-layer][data-feature-id][data-count], and .complaints-card[data-state]
// ("loading", "ready", "error") with its li[data-number].
"use strict";

(function () {
  const { t, plural, locale, lang } = window.i18n;
  const { api, el } = window.portal;
  const $ = (id) => document.getElementById(id);
  const VIEWERS = new Set(["planner", "admin"]);
  const LAYERS = new Set(["advertising_structures", "kiosks"]);
  const TOP_LISTED = 10;
  const COLOUR = { advertising_structures: "#6a1b9a", kiosks: "#00695c" };

  const section = $("complaints");
  const statusEl = $("complaints-status");
  const showBox = $("complaints-show");
  const layerSelect = $("complaints-layer");
  const result = $("complaints-result");
  const topList = $("complaints-top");

  let view = null; // planner.js: { map, entries, switchOn, showAttributes, … }
  let overlay = null;
  let asked = 0; // the latest complaints request: an older answer arriving late is dropped
  let carded = 0; // the latest card: its appeals replace nothing of a newer card

  function say(text) {
    statusEl.textContent = text;
  }

  function formatDate(iso) {
    if (!iso) return "—";
    const d = new Date(iso);
    if (Number.isNaN(d.getTime())) return String(iso);
    return d.toLocaleDateString(locale, { day: "2-digit", month: "2-digit", year: "numeric" });
  }

  function statusName(item) {
    return (lang === "en" && item.status_name_en) || item.status_name || item.status;
  }

  function categoryName(item) {
    const c = item.category || {};
    return (lang === "en" && c.name_en) || c.name || "—";
  }

  function complaintsCount(n) {
    return plural(n, "{n} скарга|{n} скарги|{n} скарг");
  }

  // An appeal as a line: its number (the public card), category, status, date.
  function appealLine(item) {
    const li = el("li", "complaints-appeal");
    li.dataset.number = item.number;
    const link = el("a", null, `№ ${item.number}`);
    link.href = `/?number=${encodeURIComponent(item.number)}`;
    li.append(link, document.createTextNode(` · ${categoryName(item)} · `),
      el("span", `status-name status-${item.status}`, statusName(item)),
      document.createTextNode(` · ${formatDate(item.created_at)}`));
    return li;
  }

  // --- the attribute card -----------------------------------------------------------------

  async function card(entry, feature, node) {
    if (!LAYERS.has(entry.name) || feature.id == null) return;
    const mine = ++carded;
    const box = el("section", "complaints-card");
    box.dataset.state = "loading";
    const titleId = "complaints-card-title";
    const title = el("h3", null, t("Звернення про цей об'єкт"));
    title.id = titleId;
    box.setAttribute("aria-labelledby", titleId);
    const note = el("p", "muted small", t("Завантаження звернень…"));
    box.append(title, note);
    node.append(box);
    let r;
    try {
      r = await api(`/api/v1/structures/${entry.name}/${encodeURIComponent(feature.id)}/appeals`);
    } catch (error) {
      r = { ok: false, body: { detail: error.message } };
    }
    if (mine !== carded || !box.isConnected) return;
    if (!r.ok) {
      box.dataset.state = "error";
      note.textContent = t("Не вдалося завантажити звернення: {error}", {
        error: (r.body && r.body.detail) || `HTTP ${r.status}`,
      });
      return;
    }
    const items = r.body.items || [];
    box.dataset.count = String(items.length);
    if (!items.length) {
      note.textContent = t("Звернень немає");
    } else {
      note.textContent = plural(items.length, "{n} звернення|{n} звернення|{n} звернень");
      const list = el("ul", "complaints-appeals");
      list.append(...items.map(appealLine));
      box.append(list);
    }
    box.dataset.state = "ready";
  }

  // --- opening a structure ----------------------------------------------------------------

  async function open(props) {
    const entry = view.entries.get(props.layer);
    if (!entry) {
      say(t("Шар цієї конструкції недоступний."));
      return;
    }
    if (!entry.checkbox.checked || !entry.layer) {
      entry.checkbox.checked = true;
      await view.switchOn(entry);
    }
    const feature = (entry.features || []).find((f) => String(f.id) === String(props.id));
    if (!feature) {
      say(t("Конструкції {code} немає на мапі: можливо, її щойно змінено.", { code: props.code || props.id }));
      return;
    }
    view.showAttributes(entry, feature);
  }

  // --- the overlay and the list -----------------------------------------------------------

  function clearOverlay() {
    if (overlay) view.map.removeLayer(overlay);
    overlay = null;
    delete section.dataset.structures;
    delete section.dataset.unmatched;
  }

  function draw(body) {
    clearOverlay();
    overlay = L.layerGroup();
    const structures = body.structures.features;
    const unmatched = body.unmatched.features;
    for (const f of unmatched) {
      const [lon, lat] = f.geometry.coordinates;
      if (lon == null || lat == null) continue;
      const marker = L.marker([lat, lon], {
        // Leaflet positions a marker by its transform: the diamond is turned inside it.
        icon: L.divIcon({
          className: "complaints-unmatched", iconSize: [14, 14],
          html: '<span class="complaints-diamond"></span>',
        }),
        keyboard: false,
        title: `№ ${f.properties.number}`,
      });
      const popup = el("div", "complaints-popup");
      const link = el("a", null, `№ ${f.properties.number}`);
      link.href = `/?number=${encodeURIComponent(f.properties.number)}`;
      popup.append(el("strong", null, t("Поруч немає зареєстрованої конструкції")), el("br"),
        link, document.createTextNode(` · ${categoryName(f.properties)} · ${formatDate(f.properties.created_at)}`));
      marker.bindPopup(popup);
      overlay.addLayer(marker);
    }
    const most = structures.length ? structures[0].properties.appeals : 1;
    for (const f of structures) {
      const p = f.properties;
      const [lon, lat] = f.geometry.coordinates;
      const circle = L.circleMarker([lat, lon], {
        radius: 6 + 16 * Math.sqrt(p.appeals / most),
        color: COLOUR[p.layer] || "#333", weight: 2, fillColor: COLOUR[p.layer] || "#333",
        fillOpacity: 0.35,
      });
      circle.bindTooltip(`${p.code || p.id}: ${complaintsCount(p.appeals)}`);
      circle.on("click", () => open(p));
      overlay.addLayer(circle);
    }
    overlay.addTo(view.map);
    section.dataset.structures = String(structures.length);
    section.dataset.unmatched = String(unmatched.length);
  }

  function listTop(structures) {
    topList.replaceChildren(...structures.slice(0, TOP_LISTED).map((f) => {
      const p = f.properties;
      const li = el("li", "complaints-item");
      li.dataset.featureLayer = p.layer;
      li.dataset.featureId = String(p.id);
      li.dataset.count = String(p.appeals);
      const button = el("button", "complaints-open");
      button.type = "button";
      button.append(el("strong", null, p.code || `#${p.id}`),
        document.createTextNode(` ${p.address || "—"} · `),
        el("span", "complaints-count", complaintsCount(p.appeals)));
      button.addEventListener("click", () => open(p));
      li.append(button);
      return li;
    }));
  }

  async function load() {
    const mine = ++asked;
    if (!showBox.checked) {
      clearOverlay();
      result.hidden = true;
      section.dataset.state = "off";
      say("");
      return;
    }
    section.dataset.state = "loading";
    say(t("Завантаження скарг…"));
    const params = new URLSearchParams();
    if (layerSelect.value) params.set("layer", layerSelect.value);
    let r;
    try {
      r = await api(`/api/v1/planner/complaints?${params}`);
    } catch (error) {
      r = { ok: false, body: { detail: error.message } };
    }
    if (mine !== asked) return;
    if (!r.ok) {
      section.dataset.state = "error";
      say(t("Не вдалося завантажити скарги: {error}", { error: (r.body && r.body.detail) || `HTTP ${r.status}` }));
      return;
    }
    const body = r.body;
    draw(body);
    listTop(body.structures.features);
    const metres = Math.round(body.distance_m);
    $("complaints-unmatched-label").textContent = t("скарга, біля якої в межах {metres} м немає зареєстрованої конструкції (можливо, без дозволу)", { metres });
    result.hidden = false;
    const n = body.structures.features.length;
    const u = body.unmatched.features.length;
    const structuresText = plural(n, "{n} конструкція|{n} конструкції|{n} конструкцій");
    say(n || u
      ? t("На мапі: {structures} зі скаргами; {unmatched} без зареєстрованої конструкції поруч.", {
        structures: structuresText, unmatched: complaintsCount(u),
      })
      : t("Скарг на конструкції і МАФ немає."));
    section.dataset.state = "ready";
  }

  async function attach(planner) {
    view = planner;
    const config = JSON.parse(document.getElementById("planner-config").textContent);
    if (!config.maybeSignedIn) return; // the public: the cards only
    const me = await window.portal.me(config.meUrl);
    if (!me.ok || !VIEWERS.has(me.body.role)) return;
    section.hidden = false;
    showBox.addEventListener("change", load);
    layerSelect.addEventListener("change", () => {
      if (showBox.checked) load();
    });
  }

  window.plannerAddons = window.plannerAddons || [];
  window.plannerAddons.push({ attach, card });
})();

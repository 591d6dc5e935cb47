// The planner page add-on for permits (issue 16): registers in window.plannerAddons.
//
// «Дозволи, що спливають» (planners and administrators): the advertising structures and
// kiosks whose permits expire within 30 days or have expired, by Kyiv's day, from
// GET /api/v1/planner/permits — two switches (expiring / expired, each with its count), a
// layer select, and a list whose rows (buttons: a click, Enter or Space) zoom to the feature
// and open its attribute card, the layer switched on first if it is off. «Показати на мапі»
// draws the listed features apart: a dashed ring each (amber expiring, red expired), in a
// layer group of its own over the map; a ring's click opens the feature too.
//
// The browser test reads #permits[data-state] ("off", "loading", "ready", "error"),
// [data-status] (the list shown), each row's li[data-feature-layer][data-feature-id], and
// #permits[data-overlay] (how many rings are drawn; absent when off).
"use strict";

(function () {
  const { t, plural, locale } = window.i18n;
  const { api, el } = window.portal;
  const $ = (id) => document.getElementById(id);
  const VIEWERS = new Set(["planner", "admin"]);
  const URL = "/api/v1/planner/permits";
  const LIMIT = 500;
  const RING = { expiring: "#9a6700", expired: "#c62828" };

  const section = $("permits");
  const statusEl = $("permits-status");
  const list = $("permits-list");
  const layerSelect = $("permits-layer");
  const overlayBox = $("permits-overlay");
  const switches = [$("permits-show-expiring"), $("permits-show-expired")];

  let view = null; // planner.js: { map, entries, switchOn, showAttributes, … }
  let status = "expiring";
  let items = [];
  let overlay = null;
  let asked = 0; // the latest request: an older answer arriving late is dropped

  function say(text) {
    statusEl.textContent = text;
  }

  // "YYYY-MM-DD" as the page's language writes a day (no time zone: it is a day, not a moment).
  function formatDay(iso) {
    const m = /^(\d{4})-(\d{2})-(\d{2})/.exec(iso || "");
    if (!m) return iso || "—";
    return new Date(Number(m[1]), Number(m[2]) - 1, Number(m[3]))
      .toLocaleDateString(locale, { day: "2-digit", month: "2-digit", year: "numeric" });
  }

  function daysText(days) {
    if (days === 0) return t("останній день сьогодні");
    if (days > 0) return plural(days, "ще {n} день|ще {n} дні|ще {n} днів");
    return plural(-days, "прострочено {n} день тому|прострочено {n} дні тому|прострочено {n} днів тому");
  }

  // --- opening a feature ----------------------------------------------------------------

  async function open(item) {
    const entry = view.entries.get(item.layer);
    if (!entry) {
      say(t("Шар цього об'єкта недоступний."));
      return;
    }
    if (!entry.checkbox.checked || !entry.layer) {
      entry.checkbox.checked = true;
      await view.switchOn(entry);
    }
    const feature = (entry.features || []).find((f) => String(f.id) === String(item.id));
    if (!feature) {
      say(t("Об'єкт {code} не знайдено на мапі: можливо, його щойно змінено.", { code: item.code || item.id }));
      return;
    }
    if (item.lat != null && item.lon != null) {
      view.map.setView([item.lat, item.lon], Math.max(view.map.getZoom(), 17), { animate: false });
    }
    view.showAttributes(entry, feature);
  }

  // --- the list and the overlay ---------------------------------------------------------

  function row(item) {
    const li = el("li", `permits-item permit-${status}`);
    li.dataset.featureLayer = item.layer;
    li.dataset.featureId = String(item.id);
    const button = el("button", "permits-open");
    button.type = "button";
    const head = el("span", "permits-head");
    head.append(el("span", `dot permit-${status}`), el("strong", null, item.code || `#${item.id}`),
      document.createTextNode(` ${item.address || "—"}`));
    const when = el("span", "permits-when small",
      `${t("до {date}", { date: formatDay(item.permit_valid_until) })} · ${daysText(item.days_left)}`);
    button.append(head, when);
    button.addEventListener("click", () => open(item));
    li.append(button);
    return li;
  }

  function drawOverlay() {
    if (overlay) view.map.removeLayer(overlay);
    overlay = null;
    delete section.dataset.overlay;
    if (!overlayBox.checked) return;
    overlay = L.layerGroup();
    let drawn = 0;
    for (const item of items) {
      if (item.lat == null || item.lon == null) continue;
      const ring = L.circleMarker([item.lat, item.lon], {
        radius: 12, color: RING[status], weight: 3, dashArray: "5 4", fill: true, fillOpacity: 0,
      });
      ring.bindTooltip(`${item.code || item.id} · ${formatDay(item.permit_valid_until)}`);
      ring.on("click", () => open(item));
      overlay.addLayer(ring);
      drawn += 1;
    }
    overlay.addTo(view.map);
    section.dataset.overlay = String(drawn);
  }

  async function load() {
    const mine = ++asked;
    section.dataset.state = "loading";
    section.dataset.status = status;
    for (const b of switches) b.setAttribute("aria-pressed", String(b.dataset.status === status));
    say(t("Завантаження…"));
    const params = new URLSearchParams({ status, limit: String(LIMIT) });
    if (layerSelect.value) params.set("layer", layerSelect.value);
    let r;
    try {
      r = await api(`${URL}?${params}`);
    } catch (error) {
      r = { ok: false, body: { detail: error.message } };
    }
    if (mine !== asked) return;
    if (!r.ok) {
      section.dataset.state = "error";
      say(t("Не вдалося завантажити дозволи: {error}", { error: r.body.detail || `HTTP ${r.status}` }));
      return;
    }
    const body = r.body;
    items = body.items;
    for (const key of ["expiring", "expired"]) {
      $(`permits-count-${key}`).textContent = `(${body.counts[key].toLocaleString(locale)})`;
    }
    list.replaceChildren(...items.map(row));
    const total = body.counts[status];
    const today = formatDay(body.today);
    if (!total) {
      say(status === "expiring"
        ? t("Станом на {today} дозволів, що спливають протягом 30 днів, немає.", { today })
        : t("Станом на {today} прострочених дозволів немає.", { today }));
    } else if (items.length < total) {
      say(t("Станом на {today}: показано {shown} з {total}.", { today, shown: items.length, total }));
    } else {
      say(t("Станом на {today}: {count}.", {
        today, count: plural(total, "{n} об'єкт|{n} об'єкти|{n} об'єктів"),
      }));
    }
    drawOverlay();
    section.dataset.state = "ready";
  }

  async function attach(planner) {
    view = planner;
    const config = JSON.parse(document.getElementById("planner-config").textContent);
    if (!config.maybeSignedIn) return; // the public: the page as it was
    const me = await window.portal.me(config.meUrl);
    if (!me.ok || !VIEWERS.has(me.body.role)) return;
    section.hidden = false;
    for (const b of switches) {
      b.addEventListener("click", () => {
        status = b.dataset.status;
        load();
      });
    }
    layerSelect.addEventListener("change", load);
    overlayBox.addEventListener("change", drawOverlay);
    await load();
  }

  window.plannerAddons = window.plannerAddons || [];
  window.plannerAddons.push({ attach });
})();

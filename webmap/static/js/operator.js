// The contact centre's intake of a call (/operator), worked by keyboard alone: the caller found
// by phone or e-mail (their earlier appeals; a logged read of personal data), the channel, the
// caller's data and privilege, the address with its house number (the map follows), or "no
// location", the category by the caller's words, the open appeals of that category nearby
// (to name one instead of registering a new one), the text; then the number and the deadline,
// large, to read back. Everything goes through the API with the session cookie and its CSRF
// token. Nothing here inserts data as HTML.
(function () {
  "use strict";

  const config = JSON.parse(document.getElementById("page-config").textContent);
  const $ = (id) => document.getElementById(id);
  const root = $("operator");
  const form = $("intake");
  const { t, locale, lang } = window.i18n;
  const { api, csrf, el, STATUS_NAMES } = window.portal;
  const text = (node, value) => window.portal.text(node, value, "");

  const state = { place: null, category: null, idempotencyKey: null, nearbySeq: 0 };

  // --- the map ------------------------------------------------------------------------------

  const map = window.portal.homeView(L.map("map", { zoomSnap: 0.5, keyboard: false }), config, 11);
  window.hromadaOperatorMap = map; // for the browser test
  window.portal.addBackground(map, config, config.attribution);
  const marker = L.circleMarker(map.getCenter(), { radius: 9, color: "#b3261e", weight: 3, fillOpacity: 0.5 });
  const nearbyLayer = L.layerGroup().addTo(map);
  // The city's districts, so the map shows where it is without the online background too.
  window.portal
    .fetchAllFeatures(config.districtsUrl)
    .then((features) => {
      const style = { ...config.districtsStyle, fillOpacity: 0.08, interactive: false };
      L.geoJSON({ type: "FeatureCollection", features }, { style }).addTo(map);
      map.getContainer().dataset.districts = String(features.length);
    })
    .catch(() => {}); // the map still works without them: the address search places the pin

  function formatDate(iso) {
    return new Date(iso).toLocaleDateString(locale, { day: "numeric", month: "long", year: "numeric" });
  }

  function headers(extra = {}) {
    const token = csrf.get();
    return token ? { "X-CSRF-Token": token, ...extra } : extra;
  }

  // A list of choices under a search field: buttons; Enter (or a click) picks one.
  function choices(list, items, label, pick) {
    list.replaceChildren();
    for (const item of items) {
      const li = el("li");
      const b = el("button", "choice", label(item));
      b.type = "button";
      b.addEventListener("click", () => pick(item));
      li.append(b);
      list.append(li);
    }
    // Up and down move between the choices, Escape goes back to the field.
    list.onkeydown = (e) => {
      const buttons = [...list.querySelectorAll("button")];
      const i = buttons.indexOf(document.activeElement);
      if (e.key === "ArrowDown" && i < buttons.length - 1) buttons[i + 1].focus();
      else if (e.key === "ArrowUp" && i > 0) buttons[i - 1].focus();
      else if (e.key === "Escape") list.previousElementSibling.focus();
      else return;
      e.preventDefault();
    };
    const first = list.querySelector("button");
    if (first) first.focus();
  }

  // Enter in a search field searches (the form is not sent).
  function onEnter(input, run) {
    input.addEventListener("keydown", (e) => {
      if (e.key === "Enter" && !e.ctrlKey) {
        e.preventDefault();
        run(input.value.trim());
      }
    });
  }

  // --- 1. the caller ------------------------------------------------------------------------

  const FIELDS = ["full_name", "phone", "email", "postal_address", "privilege"];

  onEnter($("caller-q"), async (q) => {
    text($("error-caller"), "");
    const params = new URLSearchParams(q.includes("@") ? { email: q } : { phone: q });
    const r = await api(`${config.callersUrl}?${params}`, { headers: headers() });
    if (!r.ok) {
      text($("error-caller"), r.body.detail || `HTTP ${r.status}`);
      return;
    }
    const caller = r.body.caller;
    const list = $("history-list");
    list.replaceChildren();
    for (const a of r.body.appeals) {
      const kind = categoryLabel({ kind: a.kind, kind_en: a.kind_en, name: a.category, name_en: a.category_en });
      list.append(el("li", null, [`№ ${a.number}`, formatDate(a.created_at), kind,
        STATUS_NAMES[a.status] || a.status, a.address].filter(Boolean).join(" · "))); // prettier-ignore
    }
    $("history").hidden = !r.body.appeals.length;
    if (caller) {
      for (const name of FIELDS) if (!$(name).value && caller[name]) $(name).value = caller[name];
      text($("caller-status"), t("Знайдено звернень заявника: {n}. Дані заповнено з останнього — перевірте із заявником.",
        { n: r.body.returned })); // prettier-ignore
    } else {
      if (q.includes("@")) $("email").value = $("email").value || q;
      else $("phone").value = $("phone").value || q;
      text($("caller-status"), t("Новий заявник: попередніх звернень немає."));
    }
    suggestChannel(); // the contacts just filled in, as if typed: the channel follows them
    root.dataset.caller = caller ? "known" : "new";
    $(caller ? "address-q" : "full_name").focus();
  });

  // --- 2. the place -------------------------------------------------------------------------

  function setPlace(place) {
    state.place = place;
    text($("error-location"), "");
    if (!place) {
      marker.remove();
      text($("place-info"), $("no-location").checked ? t("Без місця.") : t("Місце ще не обрано."));
      root.dataset.place = $("no-location").checked ? "none" : "";
      refreshNearby();
      return;
    }
    marker.setLatLng([place.lat, place.lon]).addTo(map);
    if (place.type !== "point") map.setView([place.lat, place.lon], 17, { animate: false });
    const note = place.approximate ? t(" (положення будинку приблизне: між сусідніми будинками вулиці)") : "";
    text($("place-info"), `${place.label}${note}`);
    text($("address-status"), t("Обрано: {address}", { address: place.label }));
    root.dataset.place = "set";
    refreshNearby();
  }

  onEnter($("address-q"), async (q) => {
    text($("error-location"), "");
    const list = $("address-results");
    const r = await api(`${config.searchUrl}?q=${encodeURIComponent(q)}`);
    if (!r.ok) {
      list.replaceChildren();
      text($("error-location"), r.body.detail || `HTTP ${r.status}`);
      return;
    }
    if (!r.body.items.length) {
      list.replaceChildren();
      text($("error-location"), t("Адресу не знайдено. Уточніть назву вулиці."));
      return;
    }
    choices(list, r.body.items,
      (item) => (item.approximate ? t("{address} (приблизно)", { address: item.label }) : item.label),
      (item) => {
        list.replaceChildren();
        setPlace(item);
        $("category-q").focus();
      }); // prettier-ignore
  });

  // With the mouse, a place may also be clicked on the map (a street with no known house).
  map.on("click", (e) => {
    if ($("no-location").checked) return;
    $("address-results").replaceChildren();
    setPlace({ type: "point", lon: Number(e.latlng.lng.toFixed(6)), lat: Number(e.latlng.lat.toFixed(6)),
      label: t("Точка на мапі") }); // prettier-ignore
  });

  $("no-location").addEventListener("change", () => {
    const none = $("no-location").checked;
    $("address-q").disabled = none;
    $("address-results").replaceChildren();
    setPlace(null);
  });

  // --- 3. the category and the nearby open appeals ------------------------------------------

  // A category as "kind — name", in English on English pages where the data has it (the
  // search still takes the caller's Ukrainian words).
  function categoryLabel(c) {
    const name = (lang === "en" && c.name_en) || c.name;
    const kind = (lang === "en" && c.kind_en) || c.kind;
    return kind ? `${kind} — ${name}` : name;
  }

  onEnter($("category-q"), async (q) => {
    text($("error-category"), "");
    const list = $("category-results");
    const r = await api(`${config.categorySearchUrl}?q=${encodeURIComponent(q)}`);
    if (!r.ok || !r.body.items.length) {
      list.replaceChildren();
      text($("error-category"), r.ok ? t("Категорію не знайдено: спробуйте інші слова.") : r.body.detail);
      return;
    }
    choices(list, r.body.items, categoryLabel, (item) => {
      list.replaceChildren();
      state.category = item;
      text($("category-status"), t("Обрано: {category} (строк {days} днів)",
        { category: categoryLabel(item), days: item.deadline_days })); // prettier-ignore
      root.dataset.category = String(item.id);
      refreshNearby();
      $("text").focus();
    });
  });

  async function refreshNearby() {
    const seq = ++state.nearbySeq;
    nearbyLayer.clearLayers();
    const list = $("nearby-list");
    if (!state.place || !state.category) {
      $("nearby").hidden = true;
      return;
    }
    const params = new URLSearchParams({ lon: state.place.lon, lat: state.place.lat,
      category: state.category.id }); // prettier-ignore
    const r = await api(`${config.nearbyUrl}?${params}`);
    if (seq !== state.nearbySeq) return; // a newer place or category meanwhile
    list.replaceChildren();
    const items = r.ok ? r.body.items : [];
    $("nearby").hidden = !items.length;
    root.dataset.nearby = String(items.length);
    for (const item of items) {
      const li = el("li");
      li.append(el("span", null, [`№ ${item.number}`, item.address, STATUS_NAMES[item.status] || item.status,
        t("{m} м", { m: Math.round(item.distance_m) })].filter(Boolean).join(" · "))); // prettier-ignore
      const b = el("button", "secondary", t("Назвати цей номер"));
      b.type = "button";
      b.setAttribute("aria-label", t("Назвати цей номер заявникові: № {number} замість нового", { number: item.number }));
      b.addEventListener("click", () => showNumber(item.number, null,
        t("Нове звернення не зареєстровано: заявникові названо номер наявного звернення."))); // prettier-ignore
      // The caller supports it instead: recorded with their phone or e-mail and name.
      const s = el("button", "secondary", t("Підтримати від імені абонента"));
      s.type = "button";
      s.setAttribute("aria-label", t("Підтримати від імені абонента звернення № {number}", { number: item.number }));
      s.addEventListener("click", () => supportFor(item.number, s));
      li.append(" ", b, " ", s);
      list.append(li);
      L.circleMarker([item.lat, item.lon], { radius: 6, color: "#1f5fa8" })
        .bindTooltip(`№ ${item.number}`).addTo(nearbyLayer); // prettier-ignore
    }
  }

  // --- 4. how the caller hears of it ------------------------------------------------------------

  // The channel follows the caller's contacts (e-mail when there is an address, else SMS or
  // Viber to the phone where offered, else none) until the operator picks one: no keystroke
  // is needed for the usual case. The language is Ukrainian unless the caller asks otherwise.
  let channelChosen = false;
  function suggestChannel() {
    if (channelChosen) return;
    const select = $("notify_channel");
    const offered = [...select.options].map((o) => o.value);
    const toPhone = ["sms", "viber"].find((c) => offered.includes(c));
    const email = $("email").value.trim();
    const phone = $("phone").value.trim();
    select.value = !email && phone ? toPhone || "none" : "email";
  }
  $("notify_channel").addEventListener("change", () => { channelChosen = true; });
  for (const id of ["email", "phone"]) $(id).addEventListener("input", suggestChannel);

  // --- registering --------------------------------------------------------------------------

  const INPUT_OF = {
    category: "category-q", text: "text", "author.full_name": "full_name", "author.email": "email",
    "author.phone": "phone", "author.postal_address": "postal_address",
    "author.notify_channel": "notify_channel",
  }; // prettier-ignore
  const ERROR_OF = { location: "error-location", lon: "error-location", lat: "error-location",
    "location.street": "error-location", "location.house": "error-location",
    "location.address": "error-location", category: "error-category", text: "error-text" }; // prettier-ignore

  function clearErrors() {
    form.querySelectorAll(".error").forEach((node) => text(node, ""));
    form.querySelectorAll("[aria-invalid]").forEach((node) => node.removeAttribute("aria-invalid"));
  }

  function showError(parameter, message) {
    root.dataset.state = "error";
    const target = $(ERROR_OF[parameter] || `error-${parameter}`) || $("error-form");
    text(target, message);
    const input = INPUT_OF[parameter] && $(INPUT_OF[parameter]);
    if (input) {
      input.setAttribute("aria-invalid", "true");
      input.focus();
    } else if (target.id === "error-location") {
      $("address-q").focus();
    }
  }

  function showNumber(number, deadline, note) {
    $("done-supported").hidden = true;
    $("done-kind").hidden = false;
    $("done-number").hidden = false;
    delete root.dataset.supported;
    text($("done-number"), number);
    text($("done-deadline"), deadline ? formatDate(deadline) : "");
    $("done-deadline").hidden = !deadline;
    $("done-deadline-label").hidden = !deadline;
    text($("done-note"), note || "");
    form.hidden = true;
    $("done").hidden = false;
    $("done").focus();
    root.dataset.state = "done";
    root.dataset.number = number;
  }

  // The caller supports an open appeal nearby instead of a new one (their phone or e-mail, and
  // name, from the caller's fields): no appeal is registered; the count is read back.
  const SUPPORT_FIELDS = { phone: "author.phone", email: "author.email", full_name: "author.full_name" };

  async function supportFor(number, button) {
    clearErrors();
    const value = (id) => $(id).value.trim() || null;
    const caller = { phone: value("phone"), email: value("email"), full_name: value("full_name"),
      channel: $("channel").value }; // prettier-ignore
    button.disabled = true;
    let r;
    try {
      r = await api(config.supportUrl.replace("{number}", encodeURIComponent(number)), {
        method: "POST",
        headers: headers({ "Content-Type": "application/json" }),
        body: JSON.stringify(caller),
      });
    } catch (exc) {
      r = { ok: false, status: 0, body: { detail: t("Немає зв’язку із сервером. Спробуйте ще раз.") } };
    }
    button.disabled = false;
    if (!r.ok) {
      const field = SUPPORT_FIELDS[r.body.parameter];
      if (field) showError(field, r.body.detail || `HTTP ${r.status}`);
      else {
        root.dataset.state = "error";
        text($("error-nearby"), r.body.detail || `HTTP ${r.status}`);
        button.focus();
      }
      return;
    }
    showNumber(number, null, t("Нове звернення не зареєстровано: голос абонента додано до наявного звернення."));
    for (const id of ["done-kind", "done-number"]) $(id).hidden = true;
    text($("done-supported"), t("Ваш голос додано до звернення № {number} (підтримали {count})",
      { number, count: r.body.support_count })); // prettier-ignore
    $("done-supported").hidden = false;
    root.dataset.supported = String(r.body.support_count);
  }

  function newKey() {
    if (window.crypto && crypto.randomUUID) return crypto.randomUUID();
    return `k-${Date.now()}-${Math.random().toString(36).slice(2)}`;
  }
  form.addEventListener("input", () => {
    state.idempotencyKey = null; // a changed form is a new submission
  });

  async function submit() {
    clearErrors();
    if (!state.category) {
      showError("category", t("Оберіть категорію: уведіть слова заявника і натисніть Enter."));
      return;
    }
    let location;
    if ($("no-location").checked) location = { no_location: true };
    else if (!state.place) {
      showError("location", t("Знайдіть адресу або позначте «Без місця»."));
      return;
    } else if (state.place.type === "address") location = { address: state.place.label };
    else location = { lon: state.place.lon, lat: state.place.lat };
    const value = (id) => $(id).value.trim() || null;
    const author = {};
    for (const name of FIELDS) author[name] = value(name);
    suggestChannel();
    author.notify_channel = $("notify_channel").value;
    author.language = $("notify_language").value;
    const payload = { category: state.category.id, text: $("text").value, location, author,
      channel: $("channel").value, consent_to_publish: false }; // prettier-ignore
    state.idempotencyKey = state.idempotencyKey || newKey();
    const button = $("submit");
    button.disabled = true;
    let r;
    try {
      r = await api(config.appealsUrl, {
        method: "POST",
        headers: headers({ "Content-Type": "application/json", "Idempotency-Key": state.idempotencyKey }),
        body: JSON.stringify(payload),
      });
    } catch (exc) {
      r = { ok: false, status: 0, body: { detail: t("Немає зв’язку із сервером. Спробуйте ще раз.") } };
    }
    button.disabled = false;
    if (!r.ok) {
      showError(r.body.parameter, r.body.detail || `HTTP ${r.status}`);
      return;
    }
    const privileged = r.body.privileged ? t("Пільгове: розглядається першочергово.") : "";
    showNumber(r.body.number, r.body.deadline_at, privileged);
  }

  form.addEventListener("submit", (e) => {
    e.preventDefault();
    submit();
  });
  form.addEventListener("keydown", (e) => {
    if (e.key === "Enter" && e.ctrlKey) {
      e.preventDefault();
      submit();
    }
  });

  // The next call: an empty form, the caller field first.
  $("next-call").addEventListener("click", () => {
    form.reset();
    channelChosen = false;
    for (const id of ["history-list", "address-results", "category-results", "nearby-list"]) $(id).replaceChildren();
    for (const id of ["caller-status", "address-status", "category-status"]) text($(id), "");
    $("history").hidden = true;
    $("address-q").disabled = false;
    state.category = null;
    state.idempotencyKey = null;
    setPlace(null);
    clearErrors();
    $("done").hidden = true;
    form.hidden = false;
    root.dataset.state = "ready";
    $("caller-q").focus();
  });

  $("logout").addEventListener("click", () => window.portal.signOut(config, $("error-form")));

  // --- start --------------------------------------------------------------------------------

  (async () => {
    const me = await api(config.meUrl);
    if (!me.ok) {
      window.location.assign(config.loginUrl);
      return;
    }
    csrf.keep(me.body.csrf_token);
    text($("who"), me.body.full_name || me.body.email);
    if (!config.roles.includes(me.body.role)) {
      text($("error-form"), t("Ця сторінка — для операторів контакт-центру."));
      $("submit").disabled = true;
    }
    root.dataset.state = "ready";
    $("caller-q").focus();
  })();
})();

// "Подати звернення": pin the problem on the map (or find an address), pick the category, write
// the text, add up to N photos, give the author's data (unless signed in), and post it all to
// /api/v1/appeals as multipart/form-data. Before sending, the open appeals of the same category
// near the pin are listed with a "Підтримати" button. Errors of the API are shown next to the
// field their `parameter` names. The page's settings come as JSON in #page-config; #appeal's
// data-state says "ready" when the categories and districts are loaded, "done" after filing.
(function () {
  "use strict";

  const config = JSON.parse(document.getElementById("page-config").textContent);
  const $ = (id) => document.getElementById(id);
  const root = $("appeal");
  const form = $("appeal-form");
  const { t, plural, locale, lang } = window.i18n;
  const { request: api, csrf, fetchAllFeatures } = window.portal;

  const state = { point: null, address: null, categoryId: null, photos: [], me: null, nearbySeq: 0 };

  // Here a missing value shows as no text (the cabinets show "—").
  const text = (el, value) => window.portal.text(el, value, "");

  // --- errors next to their fields ----------------------------------------------------------

  const FIELD_OF = {
    category: "category", text: "text", photos: "photos",
    "author.full_name": "author.full_name", "author.email": "author.email",
    "author.phone": "author.phone", "author.postal_address": "author.postal_address",
    "author.notify_channel": "author.notify_channel",
    location: "location", lon: "location", lat: "location",
    "location.street": "location", "location.house": "location",
  };
  const INPUT_OF = {
    category: "category", text: "text", photos: "photos", "author.full_name": "full_name",
    "author.email": "email", "author.phone": "phone", "author.postal_address": "postal_address",
    "author.notify_channel": "notify_channel",
  };

  function clearErrors() {
    document.querySelectorAll(".error").forEach((el) => text(el, ""));
    document.querySelectorAll("[aria-invalid]").forEach((el) => el.removeAttribute("aria-invalid"));
  }

  function showError(parameter, message) {
    const field = FIELD_OF[parameter];
    const el = (field && $("error-" + field)) || $("error-form");
    if (el.closest("[hidden]") && el.closest("#author-anon")) showAuthorFields();
    const shown = el.closest("[hidden]") ? $("error-form") : el;
    text(shown, message);
    const input = INPUT_OF[field] && $(INPUT_OF[field]);
    if (input && shown === el) {
      input.setAttribute("aria-invalid", "true");
      input.focus();
    } else if (field === "location") {
      $("map").scrollIntoView({ block: "center" });
    }
    return shown;
  }

  // --- the map and the pin ------------------------------------------------------------------

  const map = window.portal.homeView(L.map("map", { zoomSnap: 0.5, keyboard: true }), config, 11);
  window.hromadaAppealMap = map; // for the browser test: where a place is on the screen
  window.portal.addBackground(map, config, config.attribution);
  const pinIcon = L.divIcon({ className: "", html: '<div class="pin-marker"></div>',
    iconSize: [0, 0] }); // prettier-ignore
  let marker = null;

  // `label`: the house address the search found there; the appeal is then filed at that
  // address (the intake places it as the search did, and keeps the address, even a house
  // placed by interpolation that no point of interest holds). A click or a drag drops it.
  async function setPin(lat, lon, label) {
    state.point = { lon: Number(lon.toFixed(6)), lat: Number(lat.toFixed(6)) };
    state.address = label || null;
    if (!marker) {
      marker = L.marker([lat, lon], { icon: pinIcon, draggable: true, keyboard: true,
        title: t("Місце проблеми"), alt: t("Місце проблеми") }).addTo(map); // prettier-ignore
      marker.on("dragend", () => {
        const p = marker.getLatLng();
        setPin(p.lat, p.lng);
      });
    } else {
      marker.setLatLng([lat, lon]);
    }
    text($("error-location"), "");
    const info = $("pin-info");
    text(info, label ? t("{address} — визначаємо район…", { address: label }) : t("Визначаємо адресу…"));
    root.dataset.pin = "pending";
    const r = await api(`${config.reverseUrl}?lon=${state.point.lon}&lat=${state.point.lat}`);
    if (!r.ok) {
      text(info, r.body.detail || t("Не вдалося визначити адресу."));
    } else {
      const district = r.body.district ? r.body.district.name : t("поза межами міста");
      let address = label || r.body.address;
      if (!label && address && r.body.distance_m > 30) address = t("біля {address}", { address });
      text(info, [address || t("Адресу поблизу не знайдено"), district].join(" · "));
      info.dataset.district = r.body.district ? r.body.district.name : "";
    }
    root.dataset.pin = "set";
    root.dataset.lon = String(state.point.lon);
    root.dataset.lat = String(state.point.lat);
    refreshNearby();
  }

  map.on("click", (e) => setPin(e.latlng.lat, e.latlng.lng));
  // By keyboard: the arrows move the map (Leaflet), Enter pins the place at its centre.
  map.getContainer().addEventListener("keydown", (e) => {
    if (e.key === "Enter" && e.target === map.getContainer()) {
      e.preventDefault();
      const c = map.getCenter();
      setPin(c.lat, c.lng);
    }
  });
  // The open appeals of the chosen category near the pin, drawn as small circles.
  const nearbyLayer = L.layerGroup().addTo(map);

  // --- address search -----------------------------------------------------------------------

  $("search-form").addEventListener("submit", async (e) => {
    e.preventDefault();
    const list = $("search-results");
    list.replaceChildren();
    text($("search-error"), "");
    const q = $("address-q").value.trim();
    // A council's form (?council=, issue 17) proposes only that council's streets and houses.
    const scope = config.council ? `&council=${encodeURIComponent(config.council.slug)}` : "";
    const r = await api(`${config.searchUrl}?q=${encodeURIComponent(q)}${scope}`);
    if (!r.ok) {
      text($("search-error"), r.body.detail || `HTTP ${r.status}`);
      return;
    }
    if (!r.body.items.length) {
      text($("search-error"), t("Нічого не знайдено. Спробуйте іншу назву або позначте місце на мапі."));
      return;
    }
    for (const item of r.body.items) {
      const li = document.createElement("li");
      const b = document.createElement("button");
      b.type = "button";
      text(b, item.label);
      b.addEventListener("click", () => {
        list.replaceChildren();
        map.setView([item.lat, item.lon], 17);
        setPin(item.lat, item.lon, item.type === "address" ? item.label : null);
        $("category").focus();
      });
      li.append(b);
      list.append(li);
    }
    list.querySelector("button").focus();
  });

  // --- categories ---------------------------------------------------------------------------

  const categoryByLabel = new Map();

  async function loadCategories() {
    const r = await api(config.categoriesUrl);
    if (!r.ok) throw new Error(r.body.detail || `HTTP ${r.status}`);
    const list = $("category-list");
    for (const kind of r.body.kinds) {
      const items = kind.subkinds.length ? kind.subkinds : [kind];
      for (const sub of items) {
        const label = sub === kind ? kind.name : `${sub.name} — ${kind.name}`;
        // (The labels stay Ukrainian, as the words people type; the kind is named in the
        // page's language under the field.)
        categoryByLabel.set(label.toLowerCase(), { id: sub.id, name: sub.name,
          kind: (lang === "en" && kind.name_en) || kind.name, days: sub.deadline_days }); // prettier-ignore
        const option = document.createElement("option");
        option.value = label;
        list.append(option);
      }
    }
  }

  function pickCategory() {
    const found = categoryByLabel.get($("category").value.trim().toLowerCase());
    const id = found ? found.id : null;
    text($("category-kind"), found ? t("Вид: {kind}.", { kind: found.kind }) + " "
      + plural(found.days, "Строк розгляду — до {n} дня.|Строк розгляду — до {n} днів.|Строк розгляду — до {n} днів.") : ""); // prettier-ignore
    if (id !== state.categoryId) {
      state.categoryId = id;
      refreshNearby();
    }
  }
  $("category").addEventListener("input", pickCategory);

  // Words rather than a category's name ("яма", "батареї"): the categories they name
  // (categories.keywords, /api/v1/categories/search) are offered under the field; picking one
  // puts its label in the field.
  let suggestSeq = 0;
  let suggestTimer = null;
  async function suggestCategories() {
    const seq = ++suggestSeq;
    const list = $("category-suggest");
    const q = $("category").value.trim();
    if (state.categoryId || q.length < 2) {
      list.replaceChildren();
      return;
    }
    const scope = config.council ? `&council=${encodeURIComponent(config.council.slug)}` : "";
    const r = await api(`${config.categorySearchUrl}?q=${encodeURIComponent(q)}${scope}`);
    if (seq !== suggestSeq) return; // a newer word meanwhile
    list.replaceChildren();
    for (const item of r.ok ? r.body.items.slice(0, 5) : []) {
      const label = item.kind ? `${item.name} — ${item.kind}` : item.name;
      const li = document.createElement("li");
      const b = document.createElement("button");
      b.type = "button";
      text(b, label);
      b.addEventListener("click", () => {
        $("category").value = label;
        list.replaceChildren();
        pickCategory();
        text($("error-category"), "");
        $("category").removeAttribute("aria-invalid");
        $("text").focus();
      });
      li.append(b);
      list.append(li);
    }
  }
  $("category").addEventListener("input", () => {
    clearTimeout(suggestTimer);
    suggestTimer = setTimeout(suggestCategories, 250);
  });
  $("category").addEventListener("change", () => {
    pickCategory();
    const suggested = $("category-suggest").children.length > 0;
    if ($("category").value.trim() && !state.categoryId && !suggested) {
      showError("category", t("Оберіть категорію зі списку підказок."));
    } else {
      text($("error-category"), "");
      $("category").removeAttribute("aria-invalid");
    }
  });

  // --- open appeals nearby ------------------------------------------------------------------

  async function refreshNearby() {
    const section = $("nearby");
    const seq = ++state.nearbySeq;
    if (!state.point || !state.categoryId) {
      section.hidden = true;
      nearbyLayer.clearLayers();
      return;
    }
    const q = `lon=${state.point.lon}&lat=${state.point.lat}&category=${state.categoryId}`;
    const r = await api(`${config.nearbyUrl}?${q}`);
    if (seq !== state.nearbySeq) return; // a newer pin or category answered meanwhile
    const list = $("nearby-list");
    list.replaceChildren();
    nearbyLayer.clearLayers();
    text($("nearby-message"), "");
    const items = r.ok ? r.body.items : [];
    section.hidden = items.length === 0;
    root.dataset.nearby = String(items.length);
    for (const item of items.slice(0, 5)) {
      const li = document.createElement("li");
      const what = document.createElement("span");
      const where = item.address ? `, ${item.address}` : "";
      const metres = Math.round(item.distance_m).toLocaleString(locale);
      text(what, t("№ {number}{where} — {metres} м", { number: item.number, where, metres }) +
        (item.support_count ? t(", підтримали: {count}", { count: item.support_count }) : "")); // prettier-ignore
      const b = document.createElement("button");
      b.type = "button";
      b.className = "secondary";
      text(b, t("Підтримати"));
      b.setAttribute("aria-label", t("Підтримати звернення № {number}", { number: item.number }));
      b.addEventListener("click", () => support(item.number, b));
      li.append(what, b);
      list.append(li);
      if (item.lat != null) {
        L.circleMarker([item.lat, item.lon], { radius: 7, color: "#fff", weight: 2,
          fillColor: "#f0b429", fillOpacity: 1 }) // prettier-ignore
          .bindTooltip(`№ ${item.number}`)
          .addTo(nearbyLayer);
      }
    }
  }

  async function support(number, button) {
    const message = $("nearby-message");
    if (!state.me) {
      message.replaceChildren();
      const a = document.createElement("a");
      a.href = config.loginUrl;
      text(a, t("Увійдіть"));
      message.append(a, " ", t("як мешканець, щоб підтримати звернення."));
      return;
    }
    button.disabled = true;
    const r = await api(`${config.appealsUrl}/${encodeURIComponent(number)}/support`, {
      method: "POST",
      headers: { "X-CSRF-Token": csrf.get() },
    });
    if (r.ok) {
      text(message, t("Ви підтримали звернення № {number} (підтримали: {count}).",
        { number, count: r.body.support_count })); // prettier-ignore
      text(button, t("Підтримано"));
    } else {
      button.disabled = false;
      text(message, r.body.detail || `HTTP ${r.status}`);
    }
  }

  // --- text counter -------------------------------------------------------------------------

  function count() {
    const n = $("text").value.length;
    text($("text-counter"), t("{n} з {max} символів", { n: n.toLocaleString(locale),
      max: config.textMax.toLocaleString(locale) })); // prettier-ignore
  }
  $("text").addEventListener("input", count);

  // --- photos -------------------------------------------------------------------------------

  function renderPhotos() {
    const list = $("photo-previews");
    for (const img of list.querySelectorAll("img")) URL.revokeObjectURL(img.src);
    list.replaceChildren();
    state.photos.forEach((file, i) => {
      const li = document.createElement("li");
      const img = document.createElement("img");
      img.src = URL.createObjectURL(file);
      img.alt = t("Фото {n}: {name}", { n: i + 1, name: file.name });
      const b = document.createElement("button");
      b.type = "button";
      text(b, "×");
      b.setAttribute("aria-label", t("Прибрати фото {n}", { n: i + 1 }));
      b.addEventListener("click", () => {
        state.photos.splice(i, 1);
        text($("error-photos"), "");
        renderPhotos();
      });
      li.append(img, b);
      list.append(li);
    });
    root.dataset.photos = String(state.photos.length);
  }

  $("photos").addEventListener("change", (e) => {
    const input = e.target;
    text($("error-photos"), "");
    const refused = [];
    for (const file of input.files) {
      if (state.photos.length >= config.maxPhotos) {
        refused.push(file.name);
      } else if (file.size > config.maxPhotoBytes) {
        text($("error-photos"), t("Фото «{name}» завелике: до {mb} МБ.",
          { name: file.name, mb: Math.round(config.maxPhotoBytes / 1048576) })); // prettier-ignore
      } else {
        state.photos.push(file);
      }
    }
    if (refused.length) {
      text($("error-photos"), t("Можна додати не більше {max} фото; не додано: {names}.",
        { max: config.maxPhotos, names: refused.join(", ") })); // prettier-ignore
    }
    input.value = ""; // the same file may be chosen again after removing it
    renderPhotos();
  });

  // --- who is filing ------------------------------------------------------------------------

  // A signed-in citizen is not asked for the name and e-mail (the API takes them from the
  // account), unless the API refuses the account's own (e.g. a name with other characters
  // than Cyrillic letters): then the fields appear, filled from the account, to correct.
  let authorFromForm = true;
  function showAuthorFields() {
    authorFromForm = true;
    $("author-anon").hidden = false;
    if (state.me) {
      if (!$("full_name").value) $("full_name").value = state.me.full_name || "";
      if (!$("email").value) $("email").value = state.me.email || "";
    }
  }

  // Any signed-in account (a citizen, or staff filing for a caller) keeps its session's CSRF
  // token: the cookie goes with the submission, so the token must too. Only a citizen files
  // under their own name.
  async function loadMe() {
    const r = await api(config.meUrl);
    if (!r.ok) return;
    csrf.keep(r.body.csrf_token);
    if (r.body.role !== "citizen") return;
    state.me = r.body;
    $("author-anon").hidden = true;
    authorFromForm = false;
    const who = $("who");
    text(who, `${r.body.full_name} (${r.body.email})`);
    text($("author-hint"), t("Ім’я та пошту візьмемо з вашого облікового запису. Ці дані не публікуються."));
  }

  // --- how the author hears of it ------------------------------------------------------------

  // The channel follows the contacts given (e-mail when there is an address, else SMS or
  // Viber to the phone where offered, else none) until the author picks one; then it stays.
  let channelChosen = false;
  function suggestChannel() {
    if (channelChosen) return;
    const select = $("notify_channel");
    const offered = [...select.options].map((o) => o.value);
    const email = $("email").value.trim() || (state.me && !authorFromForm && state.me.email);
    const phone = $("phone").value.trim();
    const toPhone = ["sms", "viber"].find((c) => offered.includes(c));
    // Nothing given yet, or an address: e-mail; a phone alone: SMS or Viber, or nothing.
    select.value = !email && phone ? toPhone || "none" : "email";
  }
  $("notify_channel").addEventListener("change", () => { channelChosen = true; });
  for (const id of ["email", "phone"]) $(id).addEventListener("input", suggestChannel);

  // --- sending ------------------------------------------------------------------------------

  function newKey() {
    if (window.crypto && crypto.randomUUID) return crypto.randomUUID();
    return `k-${Date.now()}-${Math.random().toString(36).slice(2)}`;
  }
  let idempotencyKey = newKey();
  form.addEventListener("input", (e) => {
    idempotencyKey = newKey(); // a changed form is a new submission
    // A field being corrected loses its error (the others keep theirs until the next send).
    const ids = (e.target.getAttribute("aria-describedby") || "").split(" ");
    for (const id of ids.filter((x) => x.startsWith("error-"))) text($(id), "");
    e.target.removeAttribute("aria-invalid");
  });

  function formatDate(iso) {
    return new Date(iso).toLocaleDateString(locale, { day: "numeric", month: "long", year: "numeric" });
  }

  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    clearErrors();
    pickCategory();
    // «Без місця» (several councils, ?council=): the appeal goes to the named council.
    const noPlace = Boolean($("no-location") && $("no-location").checked);
    if (!state.point && !noPlace) {
      showError("location", t("Позначте місце проблеми на мапі або знайдіть адресу."));
      return;
    }
    if (!state.categoryId) {
      showError("category", $("category").value.trim()
        ? t("Оберіть категорію зі списку підказок.") : t("Оберіть категорію звернення.")); // prettier-ignore
      return;
    }
    const value = (id) => $(id).value.trim() || null;
    suggestChannel();
    const author = { phone: value("phone"), postal_address: value("postal_address"),
      notify_channel: $("notify_channel").value, language: lang }; // prettier-ignore
    if (authorFromForm) Object.assign(author, { full_name: value("full_name"), email: value("email") });
    const data = {
      category: state.categoryId,
      text: $("text").value,
      location: state.address ? { address: state.address } : state.point,
      author,
      consent_to_publish: $("consent").checked,
    };
    if (noPlace) Object.assign(data, { location: { no_location: true }, council: config.council.slug });
    const body = new FormData();
    body.append("data", JSON.stringify(data));
    for (const file of state.photos) body.append("photos", file, file.name);
    const headers = { "Idempotency-Key": idempotencyKey };
    // A session's token, whatever its role (sent without a session, it is ignored).
    if (csrf.get()) headers["X-CSRF-Token"] = csrf.get();
    const button = $("submit");
    button.disabled = true;
    text(button, t("Надсилаємо…"));
    let r;
    try {
      r = await api(config.appealsUrl, { method: "POST", body, headers });
    } catch (exc) {
      r = { ok: false, status: 0, body: { detail: t("Немає зв’язку із сервером. Спробуйте ще раз.") } };
    }
    button.disabled = false;
    text(button, t("Надіслати звернення"));
    if (!r.ok) {
      showError(r.body.parameter, r.body.detail || t("Помилка HTTP {status}", { status: r.status }));
      root.dataset.state = "error";
      return;
    }
    const number = r.body.number;
    text($("done-number"), number);
    text($("done-deadline"), formatDate(r.body.deadline_at));
    const district = r.body.district ? r.body.district.name : null;
    const executor = r.body.executor && r.body.executor.name;
    text($("done-route"), [district, executor && t("виконавець: {executor}", { executor })]
      .filter(Boolean).join(" · ")); // prettier-ignore
    $("done-link").href = `${config.homeUrl}?number=${encodeURIComponent(number)}`;
    $("done-mine").hidden = !state.me;
    document.querySelector(".place").hidden = true;
    form.hidden = true;
    $("done").hidden = false;
    $("done").focus();
    root.dataset.state = "done";
    root.dataset.number = number;
  });

  // --- start --------------------------------------------------------------------------------

  const districtsStyle = { ...config.districtsStyle, fillOpacity: 0.08, interactive: false };
  Promise.all([
    loadCategories(),
    loadMe(),
    fetchAllFeatures(config.districtsUrl).then((features) => {
      const layer = L.geoJSON({ type: "FeatureCollection", features },
        { style: districtsStyle, attribution: config.attribution }); // prettier-ignore
      layer.addTo(map);
      if (features.length && !marker) map.fitBounds(layer.getBounds(), { animate: false });
    }),
  ])
    .then(() => {
      root.dataset.state = "ready";
    })
    .catch((exc) => {
      root.dataset.state = "error";
      text($("error-form"), t("Не вдалося завантажити сторінку: {error}", { error: exc.message }));
    });
  count();
})();

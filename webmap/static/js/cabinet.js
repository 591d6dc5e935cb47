// The sign-in page and the cabinet. Sign-in POSTs JSON to the API for a cookie session; the
// answer's CSRF token is kept in sessionStorage and sent as X-CSRF-Token on sign-out. The
// cabinet reads who is signed in (/api/v1/me) and their queue (/api/v1/queue) with the cookie.
(function () {
  "use strict";

  const config = {
    queueUrl: "/api/v1/queue",
    appealsUrl: "/api/v1/appeals",
    categoriesUrl: "/api/v1/categories",
    myExecutorsUrl: "/api/v1/me/executors",
    territoriesUrl: "/ogc/collections/executor_territories/items",
    ...JSON.parse(document.getElementById("page-config").textContent),
  };
  const { t, locale, lang } = window.i18n;
  const { api, postJson, csrf, text, STATUS_NAMES } = window.portal;
  const ROLES = {
    citizen: t("Мешканець"),
    operator: t("Оператор контакт-центру"),
    curator: t("Куратор"),
    executor: t("Виконавець"),
    manager: t("Керівник виконавця"),
    deputy: t("Депутат"),
    planner: t("Планувальник"),
    admin: t("Адміністратор"),
  };

  // --- /login ------------------------------------------------------------------------------
  const form = document.getElementById("login-form");
  if (form) {
    const error = document.getElementById("login-error");
    const submit = document.getElementById("login-submit");
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      error.textContent = "";
      submit.disabled = true;
      try {
        const { ok, body } = await postJson(config.loginUrl, {
          email: form.email.value.trim(), password: form.password.value, session: "cookie",
        });
        if (!ok) {
          text(error, body.detail || t("Не вдалося увійти. Перевірте адресу і пароль."));
          return;
        }
        csrf.set(body.csrf_token || "");
        window.location.assign(config.cabinetUrl);
      } catch (exc) {
        text(error, t("Сервер недоступний. Спробуйте пізніше."));
      } finally {
        submit.disabled = false;
      }
    });
  }

  // --- /cabinet ----------------------------------------------------------------------------
  // Every role sees who they are and their queue. Executors and managers also get a map of
  // their organisation's territories with the queue's appeals, filters (status, category,
  // period, overdue) that the queue API applies, and an appeal's card with its actions
  // (take, delegate, answer with photos, return as not mine) posted with the CSRF token.
  const cabinet = document.getElementById("cabinet");
  if (!cabinet) return;
  const $ = (id) => document.getElementById(id);
  const errorEl = $("cabinet-error");
  const queueStatus = $("queue-status");
  const EXECUTOR_ROLES = ["executor", "manager"];
  // Darker than portal.STATUS_COLOURS (the public map's, which map.css repeats): the cabinet's
  // own shades, kept as they were; its legend below is drawn from this table.
  const STATUS_COLORS = {
    registered: "#1f5fa8", in_work: "#c77700", on_check: "#6a4c93", rework: "#b3261e",
    closed: "#2e7d32",
  };
  const MAX_PHOTOS = 5;
  const state = {
    me: null, items: new Map(), next: null, selected: null, map: null, markers: new Map(),
    executors: [], seq: 0,
    severalCouncils: false, // issue 17: the card names the appeal's council when there are several
  };

  function scopeOf(me) {
    if (me.role === "deputy") return t("Виборчий округ № {number}", { number: me.ward_number });
    if (me.executor) return me.executor.name;
    if (me.role === "citizen") return t("Мої звернення");
    if (me.role === "planner") return t("Тематичні шари");
    return t("Усе місто");
  }

  // An appeal's (or a category's) name in the page's language; the Ukrainian one when the
  // catalogue has no English for it.
  function categoryName(item) {
    return (lang === "en" && item.category_en) || item.category;
  }

  function nameOf(category) {
    return (lang === "en" && category.name_en) || category.name;
  }

  function deadlineOf(item) {
    const deadline = item.extended_until || item.deadline_at;
    return deadline ? new Date(deadline).toLocaleDateString(locale) : null;
  }

  function badge(className, label, title) {
    const span = document.createElement("span");
    span.className = `badge ${className}`;
    span.textContent = label;
    span.title = title;
    return span;
  }

  // The row's five cells: number (+ privileged mark), category, status, address, deadline
  // (+ overdue mark).
  function fillRow(tr, item) {
    tr.replaceChildren();
    const cells = [item.number, categoryName(item), STATUS_NAMES[item.status] || item.status,
      item.address, deadlineOf(item)]; // prettier-ignore
    cells.forEach((value, i) => {
      const td = document.createElement("td");
      text(td, value);
      if (i === 0 && item.privileged) {
        td.append(" ", badge("privileged", t("пільга"), t("Пільговий заявник (ст. 20)")));
      }
      if (i === 2) td.dataset.status = item.status;
      if (i === 4 && item.overdue) td.append(" ", badge("overdue", t("прострочено"), t("Строк минув")));
      tr.append(td);
    });
    tr.dataset.number = item.number;
    tr.classList.toggle("is-overdue", Boolean(item.overdue));
  }

  function isExecutor() {
    return state.me && EXECUTOR_ROLES.includes(state.me.role);
  }

  function addRows(items) {
    const table = $("queue");
    const tbody = table.querySelector("tbody");
    for (const item of items) {
      state.items.set(item.number, item);
      const tr = document.createElement("tr");
      fillRow(tr, item);
      if (isExecutor()) {
        tr.tabIndex = 0;
        tr.setAttribute("aria-selected", "false");
        tr.addEventListener("click", () => select(item.number));
        tr.addEventListener("keydown", (event) => {
          if (event.key === "Enter" || event.key === " ") {
            event.preventDefault();
            select(item.number);
          } else if (event.key === "ArrowDown" && tr.nextElementSibling) {
            event.preventDefault();
            tr.nextElementSibling.focus();
          } else if (event.key === "ArrowUp" && tr.previousElementSibling) {
            event.preventDefault();
            tr.previousElementSibling.focus();
          }
        });
      }
      tbody.append(tr);
      addMarker(item);
    }
    table.hidden = tbody.children.length === 0;
  }

  function rowOf(number) {
    return $("queue").querySelector(`tbody tr[data-number="${CSS.escape(number)}"]`);
  }

  // --- the map -------------------------------------------------------------------------------

  function markerStyle(item, selected) {
    return {
      radius: selected ? 10 : 6, weight: selected ? 3 : 1, color: selected ? "#000" : "#fff",
      fillColor: STATUS_COLORS[item.status] || "#555", fillOpacity: 0.9,
    };
  }

  function addMarker(item) {
    if (!state.map || item.lat == null || item.lon == null) return;
    const marker = L.circleMarker([item.lat, item.lon], markerStyle(item, false));
    marker.bindTooltip(t("№ {number}: {category}", { number: item.number, category: categoryName(item) }));
    marker.on("click", () => select(item.number));
    marker.addTo(state.markersLayer);
    state.markers.set(item.number, marker);
  }

  async function initMap() {
    const map = L.map("cabinet-map", { zoomControl: true, attributionControl: true });
    window.portal.homeView(map, config, 10);
    // Territories are cut from OpenStreetMap's district boundaries: credited even offline.
    map.attributionControl.addAttribution(config.attribution);
    window.portal.addBackground(map, config);
    state.map = map;
    state.territoryLayer = L.featureGroup().addTo(map);
    state.markersLayer = L.featureGroup().addTo(map);
    const legend = L.control({ position: "bottomleft" });
    legend.onAdd = () => {
      const box = L.DomUtil.create("div", "map-legend");
      box.setAttribute("aria-label", t("Умовні позначення"));
      const rows = [["territory", t("Моя територія")], ...Object.entries(STATUS_NAMES)];
      for (const [key, label] of rows) {
        const row = L.DomUtil.create("span", "legend-row", box);
        const swatch = L.DomUtil.create("i", key === "territory" ? "swatch area" : "swatch", row);
        swatch.style.background = key === "territory" ? "rgba(42, 157, 143, 0.35)" : STATUS_COLORS[key];
        row.append(label);
      }
      return box;
    };
    legend.addTo(map);
    const mine = new Set(state.me.executor_ids || []);
    if (!mine.size) {
      cabinet.dataset.territories = "0";
      return;
    }
    // Only my organisations' territories (all of the city's weigh 1.4 MB).
    let url = `${config.territoriesUrl}?limit=1000&executor_id=${[...mine].join(",")}`;
    let drawn = 0;
    for (let page = 0; url && page < 20; page += 1) {
      const r = await api(url, { headers: { Accept: "application/geo+json" } });
      if (!r.ok) throw new Error(r.body.detail || `HTTP ${r.status}`);
      const features = (r.body.features || []).filter((f) => mine.has(f.properties.executor_id));
      if (features.length) {
        L.geoJSON({ type: "FeatureCollection", features }, {
          style: { color: "#2a9d8f", weight: 2, fillOpacity: 0.12 },
          onEachFeature: (f, layer) => layer.bindTooltip(f.properties.name || f.properties.code || ""),
        }).addTo(state.territoryLayer);
        drawn += features.length;
      }
      const next = (r.body.links || []).find((l) => l.rel === "next");
      url = next ? window.portal.ownPath(next.href) : null;
    }
    cabinet.dataset.territories = String(drawn);
    const bounds = state.territoryLayer.getBounds();
    if (bounds.isValid()) map.fitBounds(bounds, { padding: [10, 10] });
  }

  function fitToQueue() {
    if (!state.map || state.territoryLayer.getLayers().length) return;
    const bounds = state.markersLayer.getBounds();
    if (bounds.isValid()) state.map.fitBounds(bounds, { padding: [20, 20], maxZoom: 15 });
  }

  // --- the queue -----------------------------------------------------------------------------

  function queueQuery() {
    const params = new URLSearchParams({ limit: "50" });
    if (state.queueUrl !== config.queueUrl) return params;
    if ($("status-filter").value) params.set("status", $("status-filter").value);
    if ($("category-filter").value) params.set("category", $("category-filter").value);
    if ($("from-filter").value) params.set("created_from", $("from-filter").value);
    if ($("to-filter").value) params.set("created_to", $("to-filter").value);
    if ($("overdue-filter").checked) params.set("overdue", "true");
    if (isExecutor()) {
      // The executor's work: the soonest deadline first (the overdue lead), closed ones newest
      // first; with the count of all the filter matches.
      if ($("status-filter").value !== "closed") params.set("order", "deadline");
      params.set("count", "true");
    }
    return params;
  }

  async function loadQueue(more = false) {
    const seq = ++state.seq;
    const params = queueQuery();
    if (more && state.next) params.set("after", state.next);
    cabinet.dataset.state = "loading";
    text($("filters-error"), "");
    $("filters-error").textContent = "";
    const queue = await api(`${state.queueUrl}?${params}`);
    if (seq !== state.seq) return; // a newer filter won
    if (!queue.ok) {
      if (queue.status === 400 || queue.status === 422) {
        $("filters-error").textContent = queue.body.detail || `HTTP ${queue.status}`;
        cabinet.dataset.state = "ready";
        return;
      }
      throw new Error(queue.body.detail || `HTTP ${queue.status}`);
    }
    if (!more) {
      $("queue").querySelector("tbody").replaceChildren();
      state.items.clear();
      state.markers.clear();
      if (state.markersLayer) state.markersLayer.clearLayers();
      closeCard();
    }
    addRows(queue.body.items);
    state.next = queue.body.next;
    $("queue-more").hidden = !state.next;
    const shown = state.items.size;
    let shownText = t("Звернень немає.");
    if (shown) shownText = state.next ? t("Показано {n} (є ще).", { n: shown }) : t("Показано {n}.", { n: shown });
    if (typeof queue.body.matched === "number") {
      shownText = t("Показано {n} з {total}.", { n: shown, total: queue.body.matched });
      cabinet.dataset.matched = String(queue.body.matched);
    }
    text(queueStatus, shownText);
    cabinet.dataset.rows = String(shown);
    if (!more) fitToQueue();
    cabinet.dataset.state = "ready";
  }

  function reload() {
    loadQueue().catch((exc) => {
      cabinet.dataset.state = "error";
      text(errorEl, exc.message);
    });
  }

  for (const id of ["status-filter", "category-filter", "from-filter", "to-filter", "overdue-filter"]) {
    $(id).addEventListener("change", reload);
  }
  $("filters").addEventListener("submit", (event) => {
    event.preventDefault();
    reload();
  });
  $("queue-more").addEventListener("click", () => {
    loadQueue(true).catch((exc) => text(errorEl, exc.message));
  });

  async function loadCategories() {
    const r = await api(config.categoriesUrl);
    if (!r.ok) return;
    const select = $("category-filter");
    // A sub-kind's name many kinds share ("Загальні питання") is named with its kind.
    const uses = new Map();
    for (const kind of r.body.kinds) {
      for (const c of [kind, ...kind.subkinds]) uses.set(c.name, (uses.get(c.name) || 0) + 1);
    }
    for (const kind of r.body.kinds) {
      const option = document.createElement("option");
      option.value = String(kind.id);
      option.textContent = nameOf(kind);
      select.append(option);
      for (const sub of kind.subkinds) {
        const child = document.createElement("option");
        child.value = String(sub.id);
        const name = uses.get(sub.name) > 1 ? `${nameOf(kind)} — ${nameOf(sub)}` : nameOf(sub);
        child.textContent = `\u00a0\u00a0${name}`;
        select.append(child);
      }
    }
  }

  // --- the appeal's card -----------------------------------------------------------------------

  const ERROR_IDS = ["take-error", "delegate-error", "delegate-executor-error",
    "delegate-comment-error", "answer-error", "answer-kind-error", "answer-text-error",
    "answer-photos-error", "return-error", "return-reason-error", "coexec-error",
    "coexec-executor-error", "coexec-deadline-error", "coexec-comment-error", "extension-error",
    "extension-until-error", "extension-reason-error"]; // prettier-ignore

  function clearErrors() {
    for (const id of ERROR_IDS) $(id).textContent = "";
  }

  function closeCard() {
    state.selected = null;
    $("appeal-card").hidden = true;
    $("card-placeholder").hidden = false;
  }

  // The executors an appeal may be delegated to: below the appeal's executor, in my scope.
  function delegateOptions(item) {
    const byCode = new Map(state.executors.map((e) => [e.code, e]));
    const root = byCode.get(item.executor_code);
    const select = $("delegate-executor");
    select.replaceChildren();
    if (!root) return 0;
    const below = new Set([root.id]);
    let grown = true;
    while (grown) {
      grown = false;
      for (const e of state.executors) {
        if (!below.has(e.id) && below.has(e.parent_id)) {
          below.add(e.id);
          grown = true;
        }
      }
    }
    below.delete(root.id);
    const boxes = $("coexec-executors");
    boxes.replaceChildren();
    for (const e of state.executors) {
      if (!below.has(e.id)) continue;
      const option = document.createElement("option");
      option.value = e.code;
      option.textContent = e.name;
      select.append(option);
      // The same sub-organisations may be added as co-executors.
      const label = document.createElement("label");
      const box = document.createElement("input");
      box.type = "checkbox";
      box.value = e.code;
      box.name = "coexec";
      label.append(box, e.name);
      boxes.append(label);
    }
    return select.options.length;
  }

  // What only the card's API answer holds: the photos (the citizen's, the answer's; staff in
  // scope see unpublished ones too), the resolutions and the history.
  const ACTIONS = {
    take: t("Взято в роботу"), answer: t("Відповідь"), return: t("Повернуто як не в компетенції"),
    redirect: t("Перенаправлено"), reroute: t("Перенаправлено"), delegate: t("Делеговано"),
    resolutions: t("Співвиконавці"), extend: t("Строк продовжено"),
    ask_extension: t("Прохання продовжити строк"), accept: t("Перевірено куратором"),
    decline_extension: t("Відмовлено в продовженні строку"),
    rework: t("На доопрацювання"), confirm: t("Підтверджено заявником"),
    reject: t("Не підтверджено заявником"), cancel: t("Скасовано заявником"),
    autoclose: t("Закрито автоматично"), registered: t("Зареєстровано"), closed: t("Закрито"),
    support: t("Підтримка"), locate: t("Вказано місце"),
    dispatch: t("Надіслано розсилкою"), // gis/dispatch.py: where the daily dispatch sent it
  };

  function day(iso) {
    return iso ? new Date(iso).toLocaleDateString(locale) : "—";
  }

  function photoList(list, photos, label) {
    list.replaceChildren();
    photos.forEach((photo, i) => {
      const li = document.createElement("li");
      const a = document.createElement("a");
      a.href = photo.url;
      a.target = "_blank";
      a.rel = "noopener";
      const img = document.createElement("img");
      img.src = photo.url;
      img.alt = `${label} ${i + 1}`;
      img.loading = "lazy";
      a.append(img);
      li.append(a);
      list.append(li);
    });
    list.parentElement.hidden = photos.length === 0;
  }

  function showDetails(body) {
    if (!isExecutor()) return;
    const photos = body.photos || [];
    photoList($("card-photos"), photos.filter((p) => p.kind !== "answer"), t("Фото заявника"));
    photoList($("card-answer-photos"), photos.filter((p) => p.kind === "answer"), t("Фото відповіді"));
    const resolutions = $("card-resolutions");
    resolutions.replaceChildren();
    for (const r of body.resolutions || []) {
      const li = document.createElement("li");
      li.textContent = t("{executor}: {role}, строк {deadline}", {
        executor: r.executor_name || r.executor,
        role: r.is_main ? t("головний виконавець") : t("співвиконавець"),
        deadline: day(r.deadline_at),
      });
      resolutions.append(li);
    }
    if (!resolutions.children.length) {
      const li = document.createElement("li");
      li.textContent = t("Резолюцій немає.");
      resolutions.append(li);
    }
    const history = $("card-history");
    history.replaceChildren();
    for (const e of body.events || []) {
      const li = document.createElement("li");
      const when = document.createElement("span");
      when.className = "when";
      when.textContent = e.at ? new Date(e.at).toLocaleString(locale) : "";
      // The new status, unless the action already says it (registered → registered).
      const moved = e.new && e.new.status && e.action !== e.new.status;
      const newState = moved ? ` → ${STATUS_NAMES[e.new.status] || e.new.status}` : "";
      li.append(when, ` ${ACTIONS[e.action] || e.action}${newState} · ${e.actor || ""}`);
      const asked = e.new && (e.new.requested_until || e.new.extended_until);
      // What the executor answered (the citizen and the curator read the same words).
      const answer = e.action === "answer" && e.new && e.new.answer;
      const note = [answer, e.comment, asked ? t("до {date}", { date: day(asked) }) : ""].filter(Boolean);
      if (note.length) {
        const span = document.createElement("span");
        span.className = "note";
        span.textContent = note.join(" — ");
        li.append(span);
      }
      history.append(li);
    }
    $("appeal-card").dataset.photos = String(photos.length);
  }

  function showCard(item) {
    text($("card-number"), item.number);
    text($("card-category"), categoryName(item));
    text($("card-address"), item.address);
    text($("card-status"), STATUS_NAMES[item.status] || item.status);
    $("card-status").dataset.status = item.status;
    const deadline = deadlineOf(item) || "—";
    text($("card-deadline"), item.overdue ? t("{date} (прострочено)", { date: deadline }) : deadline);
    text($("card-executor"), item.executor);
    text($("card-channel"), (lang === "en" && item.channel_name_en) || item.channel_name || item.channel);
    text($("card-result"), window.portal.resultOf(item));
    text($("card-text"), item.text || "");
    text($("card-routing"), window.portal.routingOf(item) || "—");
    const council = $("card-council");
    council.hidden = !(state.severalCouncils && item.council);
    council.previousElementSibling.hidden = council.hidden;
    text(council, item.council && ((lang === "en" && item.council.name_en) || item.council.name));
    const acts = ["registered", "in_work", "rework"].includes(item.status);
    $("take-box").hidden = !["registered", "rework"].includes(item.status);
    $("answer-box").hidden = item.status !== "in_work";
    $("return-box").hidden = !acts;
    const below = acts ? delegateOptions(item) : 0;
    $("delegate-box").hidden = !acts || below === 0;
    $("coexec-box").hidden = !acts || below === 0;
    $("extension-box").hidden = !acts;
    $("appeal-card").hidden = false;
    $("card-placeholder").hidden = true;
    $("appeal-card").dataset.status = item.status;
  }

  async function select(number) {
    const previous = state.selected;
    state.selected = number;
    for (const tr of $("queue").querySelectorAll("tbody tr")) {
      const on = tr.dataset.number === number;
      tr.classList.toggle("selected", on);
      tr.setAttribute("aria-selected", on ? "true" : "false");
    }
    if (previous && state.markers.has(previous) && state.items.has(previous)) {
      state.markers.get(previous).setStyle(markerStyle(state.items.get(previous), false));
    }
    const item = state.items.get(number);
    const marker = state.markers.get(number);
    if (marker && item) {
      marker.setStyle(markerStyle(item, true));
      marker.bringToFront();
      state.map.panTo(marker.getLatLng());
    }
    cabinet.dataset.selected = number;
    if (previous !== number) {
      clearErrors();
      $("card-done").hidden = true;
      for (const id of ["answer-form", "return-form", "delegate-form", "coexec-form",
        "extension-form"]) $(id).reset(); // prettier-ignore
      for (const id of ["card-photos", "card-answer-photos", "card-resolutions", "card-history"]) {
        $(id).replaceChildren();
      }
    }
    showCard(item);
    // A row chosen far down the queue: its card (above the table) brought into sight.
    const box = $("appeal-card").getBoundingClientRect();
    if (box.bottom < 0 || box.top > window.innerHeight) $("appeal-card").scrollIntoView({ block: "nearest" });
    const r = await api(`${config.queueUrl}/${encodeURIComponent(number)}`);
    if (state.selected !== number) return;
    if (r.ok) {
      showDetails(r.body);
      const fresh = { ...item, ...r.body };
      delete fresh.events;
      state.items.set(number, fresh);
      const tr = rowOf(number);
      if (tr) fillRow(tr, fresh);
      showCard(fresh);
    } else text($("take-error"), r.body.detail || `HTTP ${r.status}`);
  }

  // After an action: the appeal again from the API; its row and marker follow (or go when it
  // left my scope).
  async function refresh(number, message) {
    const r = await api(`${config.queueUrl}/${encodeURIComponent(number)}`);
    const tr = rowOf(number);
    if (r.status === 404) {
      if (tr) tr.remove();
      const marker = state.markers.get(number);
      if (marker) state.markersLayer.removeLayer(marker);
      state.items.delete(number);
      state.markers.delete(number);
      closeCard();
      text(queueStatus, t("{message} Звернення більше не у вашій черзі.", { message }));
      return;
    }
    if (!r.ok) throw new Error(r.body.detail || `HTTP ${r.status}`);
    showDetails(r.body);
    const item = { ...state.items.get(number), ...r.body };
    delete item.events;
    state.items.set(number, item);
    if (tr) fillRow(tr, item);
    const marker = state.markers.get(number);
    if (marker) marker.setStyle(markerStyle(item, true));
    showCard(item);
    $("card-done").hidden = false;
    text($("card-done"), message);
    if (tr) tr.dataset.updated = "1";
  }

  // An action's error: next to the field the API names, else under the action's button.
  function showError(prefix, body, status, fields) {
    const field = body && body.parameter && fields[body.parameter];
    const target = $(field ? `${prefix}-${field}-error` : `${prefix}-error`);
    // The API's "field_required" names the field as the API spells it ("reason"); beside the
    // field itself the portal says it in the page's words.
    const required = field && body.code === "field_required";
    target.textContent = required ? t("Заповніть це поле.") : (body && body.detail) || `HTTP ${status}`;
    const input = field ? $(`${prefix}-${field}`) : null;
    if (input) input.focus();
  }

  async function act(prefix, action, options, fields, message) {
    const number = state.selected;
    if (!number) return;
    clearErrors();
    $("card-done").hidden = true;
    const button = $(`${prefix === "take" ? "act-take" : `${prefix}-submit`}`);
    button.disabled = true;
    cabinet.dataset.action = "busy";
    try {
      const headers = { "X-CSRF-Token": csrf.get(), ...(options.headers || {}) };
      const r = await api(`${config.appealsUrl}/${encodeURIComponent(number)}/${action}`, {
        method: "POST", ...options, headers,
      });
      if (!r.ok) {
        showError(prefix, r.body, r.status, fields);
        return;
      }
      await refresh(number, message);
    } catch (exc) {
      $(`${prefix}-error`).textContent = exc.message || t("Сервер недоступний.");
    } finally {
      button.disabled = false;
      cabinet.dataset.action = "done";
    }
  }

  function json(body) {
    return { headers: { "Content-Type": "application/json" }, body: JSON.stringify(body) };
  }

  $("act-take").addEventListener("click", () => {
    act("take", "take", json({}), {}, t("Звернення взято в роботу."));
  });
  $("delegate-form").addEventListener("submit", (event) => {
    event.preventDefault();
    const body = { executor: $("delegate-executor").value };
    if ($("delegate-comment").value.trim()) body.comment = $("delegate-comment").value.trim();
    act("delegate", "delegate", json(body), { executor: "executor", comment: "comment" },
      t("Звернення делеговано підрозділу.")); // prettier-ignore
  });
  $("answer-form").addEventListener("submit", (event) => {
    event.preventDefault();
    const files = Array.from($("answer-photos").files || []);
    if (files.length > MAX_PHOTOS) {
      clearErrors();
      $("answer-photos-error").textContent = t("Не більше {max} фото.", { max: MAX_PHOTOS });
      $("answer-photos").focus();
      return;
    }
    const form = new FormData();
    form.append("kind", $("answer-kind").value);
    form.append("text", $("answer-text").value);
    for (const file of files) form.append("photos", file, file.name);
    act("answer", "answer", { body: form }, { kind: "kind", text: "text", photos: "photos" },
      t("Відповідь надіслано: звернення на перевірці.")); // prettier-ignore
  });
  // A date picked in the card: noon UTC of that day (the API checks it against the terms).
  function dayTime(value) {
    return value ? `${value}T12:00:00+00:00` : null;
  }
  $("coexec-form").addEventListener("submit", (event) => {
    event.preventDefault();
    const chosen = Array.from($("coexec-executors").querySelectorAll("input:checked"));
    if (!chosen.length) {
      clearErrors();
      $("coexec-executor-error").textContent = t("Оберіть хоча б один підрозділ.");
      const first = $("coexec-executors").querySelector("input");
      if (first) first.focus();
      return;
    }
    const deadline = dayTime($("coexec-deadline").value);
    const body = {
      co_executors: chosen.map((box) => (deadline ? { executor: box.value, deadline_at: deadline }
        : { executor: box.value })), // prettier-ignore
    };
    if ($("coexec-comment").value.trim()) body.comment = $("coexec-comment").value.trim();
    act("coexec", "resolutions", json(body),
      { co_executors: "executor", executor: "executor", deadline_at: "deadline", comment: "comment" },
      t("Співвиконавців додано.")); // prettier-ignore
  });
  $("extension-form").addEventListener("submit", (event) => {
    event.preventDefault();
    const body = { reason: $("extension-reason").value };
    if ($("extension-until").value) body.until = dayTime($("extension-until").value);
    act("extension", "extension-request", json(body), { until: "until", days: "until", reason: "reason" },
      t("Прохання продовжити строк надіслано керівнику.")); // prettier-ignore
  });
  $("return-form").addEventListener("submit", (event) => {
    event.preventDefault();
    act("return", "return", json({ reason: $("return-reason").value }), { reason: "reason" },
      t("Звернення повернуто в 1551 як не в компетенції.")); // prettier-ignore
  });

  // --- start ---------------------------------------------------------------------------------

  async function load() {
    const me = await api(config.meUrl);
    if (me.status === 401) {
      window.location.assign(config.loginUrl);
      return;
    }
    if (!me.ok) throw new Error(me.body.detail || `HTTP ${me.status}`);
    csrf.keep(me.body.csrf_token);
    state.me = me.body;
    text($("who-name"), `${me.body.full_name} (${me.body.email})`);
    text($("who-role"), ROLES[me.body.role] || me.body.role);
    text($("who-scope"), scopeOf(me.body));
    cabinet.dataset.role = me.body.role;
    for (const link of $("role-links").querySelectorAll("a[data-roles]")) {
      link.hidden = !link.dataset.roles.split(" ").includes(me.body.role);
    }

    state.queueUrl = null;
    if (me.body.role === "citizen") {
      state.queueUrl = config.myAppealsUrl;
      text($("queue-title"), t("Мої звернення"));
      $("filters").hidden = true;
    } else if (me.body.role !== "planner") {
      state.queueUrl = config.queueUrl;
    }
    if (state.queueUrl === null) {
      $("filters").hidden = true;
      text(queueStatus, t("Для цієї ролі черги звернень немає."));
      cabinet.dataset.state = "ready";
      return;
    }
    if (state.queueUrl === config.queueUrl) {
      const [, every] = await Promise.all([loadCategories(), api($("appeal-card").dataset.councilsApi)]);
      state.severalCouncils = every.ok && every.body.items.length > 1;
    }
    if (isExecutor()) {
      cabinet.classList.add("executor");
      // The executor's default queue: the open work (registered, in work, rework); the closed
      // and those on check are behind the status filter.
      $("status-filter").value = "open";
      $("workspace").hidden = false;
      text($("queue-title"), t("Моя черга звернень"));
      const [, executors] = await Promise.all([initMap(), api(config.myExecutorsUrl)]);
      if (executors.ok) state.executors = executors.body.items;
    }
    await loadQueue();
  }

  $("logout").addEventListener("click", () => window.portal.signOut(config, errorEl));

  load().catch((exc) => {
    cabinet.dataset.state = "error";
    text(errorEl, exc.message);
  });
})();

// The administrator's workstation (/admin): staff accounts, categories and routing rules, all
// read and changed through the admin API with the session cookie and its CSRF token (each
// change is audited there). Nothing is inserted as HTML.
(function () {
  "use strict";

  const config = JSON.parse(document.getElementById("page-config").textContent);
  const { t, lang: LANG } = window.i18n;
  const { api, postJson, csrf, text, el } = window.portal;
  const $ = (id) => document.getElementById(id);
  const root = $("admin");
  const statusEl = $("admin-status");
  const errorEl = $("admin-error");

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
  const STAFF = ["operator", "curator", "executor", "manager", "deputy", "planner", "admin"];
  const EXECUTOR_BOUND = ["executor", "manager"];
  const CONTACT_CENTRE = ["operator", "curator"];
  const AREA_NAMES = {
    district_code: t("район"), ward_number: t("округ"), territory_code: t("територія"),
  };

  const state = {
    me: null, executors: [], categories: [], usersNext: null, rulesNext: null,
    rules: new Map(), editing: null, areas: {}, selectedRule: null,
    councils: [], manyCouncils: false, // issue 17: the councils the admin administers; several?
  };

  const headers = () => ({ "X-CSRF-Token": csrf.get() });
  function send(method, url, payload) {
    return api(url, {
      method,
      headers: { "Content-Type": "application/json", ...headers() },
      body: payload === undefined ? undefined : JSON.stringify(payload),
    });
  }
  const fail = (body, fallback) => body.detail || fallback || t("Не вдалося виконати дію.");

  function option(value, label) {
    const o = document.createElement("option");
    o.value = value === null || value === undefined ? "" : String(value);
    o.textContent = label;
    return o;
  }

  function executorName(e) {
    return e.short_name || e.name;
  }

  // A council's name by its code (the users' list and form); the code when not administered.
  function councilName(code) {
    if (!code) return t("обласний рівень");
    const c = state.councils.find((x) => x.code === code);
    return c ? ((LANG === "en" && c.name_en) || c.name) : code;
  }

  function categoryName(c) {
    return (LANG === "en" && c.name_en) || c.name;
  }

  // A sub-kind with its kind ("Загальні питання" is the name of many sub-kinds).
  function subkindLabel(c) {
    return c.parent_id === null ? categoryName(c)
      : `${(LANG === "en" && c.kind_en) || c.kind || ""} — ${categoryName(c)}`;
  }

  function categoryLabel(id, fallback) {
    const c = state.categories.find((x) => x.id === id);
    return c ? subkindLabel(c) : fallback;
  }

  // --- the selects every section shares ------------------------------------------------------

  function fillSelects() {
    document.querySelectorAll("[data-roles-select]").forEach((select) => {
      const all = select.dataset.rolesSelect === "all";
      const keep = all ? [...select.options].slice(0, 1) : [];
      select.replaceChildren(...keep);
      for (const role of all ? Object.keys(ROLES) : STAFF) select.append(option(role, ROLES[role]));
    });
    document.querySelectorAll("[data-executors-select]").forEach((select) => {
      select.replaceChildren();
      if (select.dataset.executorsSelect === "any") select.append(option("", t("усі")));
      for (const e of state.executors) select.append(option(e.id, `${executorName(e)} (${e.code})`));
    });
    document.querySelectorAll("[data-councils-select]").forEach((select) => {
      select.replaceChildren();
      if (select.dataset.councilsSelect === "all") select.append(option("", t("усі")));
      else if (!state.me.council) select.append(option("", t("обласний рівень")));
      for (const c of state.councils) select.append(option(c.code, councilName(c.code)));
    });
    document.querySelectorAll("[data-categories-select]").forEach((select) => {
      const mode = select.dataset.categoriesSelect;
      select.replaceChildren();
      if (mode === "any") select.append(option("", t("будь-яка")));
      for (const c of state.categories) {
        if (mode === "subkinds" && c.parent_id === null) continue;
        const label = subkindLabel(c);
        select.append(option(c.id, c.is_active ? label : `${label} (${t("неактивна")})`));
      }
    });
  }

  // The binding fields of a form follow its role: an organisation for executors and managers,
  // a ward for deputies, the contact centre (nothing to pick) for operators and curators.
  function showBinding(form, role) {
    form.querySelectorAll("[data-binding]").forEach((box) => {
      const kind = box.dataset.binding;
      box.hidden = !((kind === "executor" && EXECUTOR_BOUND.includes(role))
        || (kind === "ward" && role === "deputy")
        || (kind === "centre" && CONTACT_CENTRE.includes(role))
        || (kind === "council" && state.manyCouncils && !EXECUTOR_BOUND.includes(role)));
    });
  }

  function binding(role, executorSelect, wardInput) {
    const out = {};
    if (EXECUTOR_BOUND.includes(role) && executorSelect.value) out.executor_id = Number(executorSelect.value);
    if (role === "deputy" && wardInput.value.trim()) out.ward_number = Number(wardInput.value);
    return out;
  }

  // --- staff accounts --------------------------------------------------------------------------

  function bindingOf(user) {
    if (user.role === "deputy" && user.ward_number) return t("Виборчий округ № {number}", { number: user.ward_number });
    if (user.executor) return user.executor;
    return null;
  }

  function userRow(user) {
    const tr = document.createElement("tr");
    tr.dataset.userId = user.id;
    tr.classList.toggle("inactive", !user.is_active);
    for (const value of [user.email, user.full_name, ROLES[user.role] || user.role, bindingOf(user),
      user.role === "citizen" ? null : councilName(user.council),
      user.is_active ? t("активний") : t("деактивований")]) {
      tr.append(el("td", "", value === null || value === undefined ? "—" : value));
    }
    tr.cells[4].dataset.council = user.council || "";
    tr.cells[4].hidden = !state.manyCouncils;
    const td = document.createElement("td");
    const edit = el("button", "secondary small", t("Змінити"));
    edit.type = "button";
    edit.setAttribute("aria-label", t("Змінити обліковий запис {email}", { email: user.email }));
    edit.addEventListener("click", () => openUser(user));
    td.append(edit);
    tr.append(td);
    return tr;
  }

  async function loadUsers(more = false) {
    const body = $("users-table").tBodies[0];
    const params = new URLSearchParams({ limit: "50" });
    const role = $("users-role").value;
    if (role) params.set("role", role);
    const council = $("users-council").value;
    if (council) params.set("council", council);
    const q = $("users-q").value.trim();
    if (q) params.set("q", q);
    if (more && state.usersNext) params.set("after", state.usersNext);
    const r = await api(`${config.usersUrl}?${params}`);
    if (!r.ok) {
      text(errorEl, fail(r.body));
      return;
    }
    if (!more) body.replaceChildren();
    for (const user of r.body.items) body.append(userRow(user));
    state.usersNext = r.body.next;
    $("users-more").hidden = !r.body.next;
    $("users").dataset.count = String(body.rows.length);
  }

  function openUser(user) {
    state.editing = user;
    const box = $("user-edit");
    box.hidden = false;
    text($("user-edit-email"), user.email);
    $("edit-role").value = user.role;
    $("edit-executor").value = user.executor_id ? String(user.executor_id) : "";
    $("edit-ward").value = user.ward_number || "";
    $("edit-council").value = user.council || "";
    showBinding($("user-edit-form"), user.role);
    $("edit-deactivate").hidden = !user.is_active || user.id === state.me.id;
    $("user-edit-error").textContent = "";
    $("user-edit-done").hidden = true;
    $("edit-role").focus();
  }

  function editDone(message) {
    const done = $("user-edit-done");
    text(done, message);
    done.hidden = false;
  }

  async function changeUser(payload, message) {
    $("user-edit-error").textContent = "";
    const user = state.editing;
    const r = await send("PATCH", `${config.usersUrl}/${user.id}`, payload);
    if (!r.ok) {
      text($("user-edit-error"), fail(r.body));
      return;
    }
    state.editing = r.body;
    const row = document.querySelector(`#users-table tr[data-user-id="${r.body.id}"]`);
    if (row) row.replaceWith(userRow(r.body));
    $("edit-deactivate").hidden = !r.body.is_active;
    editDone(message);
  }

  $("edit-role").addEventListener("change", () => showBinding($("user-edit-form"), $("edit-role").value));
  $("user-edit-form").addEventListener("submit", (event) => {
    event.preventDefault();
    const role = $("edit-role").value;
    const payload = { role, ...binding(role, $("edit-executor"), $("edit-ward")) };
    const council = $("edit-council").value;
    if (!$("edit-council").parentElement.hidden && council && council !== (state.editing.council || "")) {
      payload.council = council; // a move to another council (audited)
    }
    changeUser(payload, t("Збережено."));
  });
  $("edit-deactivate").addEventListener("click", () => {
    if (!window.confirm(t("Деактивувати обліковий запис {email}? Усі його сеанси буде завершено.",
      { email: state.editing.email }))) return;
    changeUser({ is_active: false }, t("Обліковий запис деактивовано."));
  });
  $("edit-reset").addEventListener("click", async () => {
    $("user-edit-error").textContent = "";
    const r = await postJson(config.resetUrl, { email: state.editing.email }, headers());
    if (!r.ok) {
      text($("user-edit-error"), fail(r.body));
      return;
    }
    editDone(t("Лист із посиланням для зміни пароля надіслано на {email}.", { email: state.editing.email }));
  });
  $("edit-close").addEventListener("click", () => {
    $("user-edit").hidden = true;
    state.editing = null;
  });
  $("users-role").addEventListener("change", () => loadUsers());
  $("users-council").addEventListener("change", () => loadUsers());
  let usersTyping = null;
  $("users-q").addEventListener("input", () => {
    clearTimeout(usersTyping);
    usersTyping = setTimeout(() => loadUsers(), 300);
  });
  $("users-filters").addEventListener("submit", (event) => {
    event.preventDefault();
    loadUsers();
  });
  $("users-more").addEventListener("click", () => loadUsers(true));

  $("new-role").addEventListener("change", () => showBinding($("user-new-form"), $("new-role").value));
  $("user-new-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    const errorBox = $("user-new-error");
    const done = $("user-new-done");
    errorBox.textContent = "";
    done.hidden = true;
    const role = $("new-role").value;
    const payload = {
      email: $("new-email").value.trim(), full_name: $("new-name").value.trim(), role,
      ...binding(role, $("new-executor"), $("new-ward")),
    };
    if (!$("new-council").parentElement.hidden && $("new-council").value) payload.council = $("new-council").value;
    if (!payload.email || !payload.full_name) {
      text(errorBox, t("Вкажіть ел. пошту та ім'я."));
      return;
    }
    $("new-submit").disabled = true;
    try {
      const r = await postJson(config.usersUrl, payload, headers());
      if (!r.ok) {
        text(errorBox, fail(r.body));
        return;
      }
      text(done, t("Створено: {email}. Пароль (показано один раз): {password}",
        { email: r.body.email, password: r.body.password || "—" }));
      done.hidden = false;
      done.dataset.userId = r.body.id;
      $("new-email").value = "";
      $("new-name").value = "";
      $("users-table").tBodies[0].prepend(userRow(r.body));
    } finally {
      $("new-submit").disabled = false;
    }
  });

  // --- categories ------------------------------------------------------------------------------

  const DEADLINES = [15, 30];

  function categoryRow(c) {
    const tr = document.createElement("tr");
    tr.dataset.categoryId = c.id;
    const kind = c.parent_id === null ? categoryName(c) : (LANG === "en" && c.kind_en) || c.kind;
    tr.append(el("td", "", kind || "—"));
    tr.append(el("td", c.parent_id === null ? "kind" : "", c.parent_id === null ? "—" : categoryName(c)));
    const days = document.createElement("select");
    days.setAttribute("aria-label", t("Строк розгляду, днів: {name}", { name: categoryName(c) }));
    const choices = DEADLINES.includes(c.deadline_days) ? DEADLINES : [...DEADLINES, c.deadline_days];
    for (const d of choices) days.append(option(d, String(d)));
    days.value = String(c.deadline_days);
    days.addEventListener("change", () => changeCategory(c, { deadline_days: Number(days.value) }, days));
    const td = document.createElement("td");
    td.append(days);
    tr.append(td);
    const active = document.createElement("input");
    active.type = "checkbox";
    active.checked = c.is_active;
    active.setAttribute("aria-label", t("Активна: {name}", { name: categoryName(c) }));
    active.addEventListener("change", () => changeCategory(c, { is_active: active.checked }, active));
    const td2 = document.createElement("td");
    td2.append(active);
    tr.append(td2);
    if ("keywords" in c) {
      const words = document.createElement("input");
      words.type = "text";
      words.className = "keywords";
      words.value = (c.keywords || []).join(", ");
      words.setAttribute("aria-label", t("Ключові слова: {name}", { name: categoryName(c) }));
      words.addEventListener("change", () => changeCategory(c, {
        keywords: words.value.split(",").map((w) => w.trim()).filter(Boolean),
      }, words));
      const td3 = document.createElement("td");
      td3.append(words);
      tr.append(td3);
    }
    return tr;
  }

  async function changeCategory(c, payload, control) {
    $("categories-error").textContent = "";
    control.disabled = true;
    try {
      const r = await send("PATCH", config.categoryUrl.replace("{id}", c.id), payload);
      if (!r.ok) {
        text($("categories-error"), fail(r.body));
        return;
      }
      Object.assign(c, { deadline_days: r.body.deadline_days, is_active: r.body.is_active });
      if (r.body.keywords && control.classList.contains("keywords")) {
        c.keywords = r.body.keywords;
        control.value = c.keywords.join(", "); // as stored: lower case, no repeats
      }
      text($("categories-done"), t("Збережено: {name}, {days} днів, {state}.", {
        name: categoryName(c), days: c.deadline_days,
        state: c.is_active ? t("активна") : t("неактивна"),
      }));
    } finally {
      control.disabled = false;
    }
  }

  function drawCategories() {
    const q = $("categories-q").value.trim().toLowerCase();
    const rows = state.categories
      .filter((c) => !q || `${c.name} ${c.kind || ""} ${c.name_en || ""}`.toLowerCase().includes(q))
      .map(categoryRow);
    $("categories-table").tBodies[0].replaceChildren(...rows);
  }
  $("categories-q").addEventListener("input", drawCategories);
  $("categories-filters").addEventListener("submit", (event) => event.preventDefault());

  // --- routing rules: the map ------------------------------------------------------------------

  const mapEl = $("rules-map");
  const map = L.map(mapEl, { zoomControl: true, keyboard: true, attributionControl: true });
  window.portal.homeView(map, config, 10);
  window.portal.addBackground(map, config, config.attribution);
  // The visible bounds, for whoever reads the page (the browser test clicks a point in them).
  map.on("moveend", () => {
    const b = map.getBounds();
    mapEl.dataset.view = [b.getWest(), b.getSouth(), b.getEast(), b.getNorth()].map((v) => v.toFixed(6)).join(",");
    mapEl.dataset.zoom = String(map.getZoom());
  });
  const areaLayer = L.geoJSON(null, {
    style: () => ({ color: "#b3261e", weight: 2.5, fillColor: "#b3261e", fillOpacity: 0.12 }),
    interactive: false,
  }).addTo(map);
  let pointMarker = null;

  const AREA_SOURCES = {
    district_code: ["districtsUrl", "code"],
    ward_number: ["wardsUrl", "number"],
    territory_code: ["territoriesUrl", "code"],
  };

  // Each kind of area is read once (every current district, ward or territory) when a rule of
  // that kind is first shown.
  async function areasOf(kind) {
    if (!state.areas[kind]) {
      const [urlKey, prop] = AREA_SOURCES[kind];
      const features = await window.portal.fetchAllFeatures(`${config[urlKey]}?limit=500`);
      state.areas[kind] = new Map(features.map((f) => [String(f.properties[prop]), f]));
    }
    return state.areas[kind];
  }

  async function areaOf(kind, key) {
    return (await areasOf(kind)).get(String(key)) || null;
  }

  // An area as a person names it: a district by its name (English where the data has it), a
  // ward by its number, an executor's territory by its name.
  function areaName(kind, feature) {
    const p = feature.properties;
    if (kind === "ward_number") return t("виборчий округ № {number}", { number: p.number });
    return (LANG === "en" && p.name_en) || p.name || String(p.code);
  }

  function ruleArea(rule) {
    for (const kind of Object.keys(AREA_SOURCES)) {
      if (rule[kind] !== null && rule[kind] !== undefined) return [kind, rule[kind]];
    }
    return null;
  }

  // `lead` (e.g. "Створено правило № 5.") stays in front of what the map then says.
  async function showRule(rule, lead = "") {
    const say = (message) => text($("rules-status"), lead ? `${lead} ${message}` : message);
    state.selectedRule = rule.id;
    document.querySelectorAll("#rules-table tr.selected").forEach((tr) => tr.classList.remove("selected"));
    const row = document.querySelector(`#rules-table tr[data-rule-id="${rule.id}"]`);
    if (row) row.classList.add("selected");
    areaLayer.clearLayers();
    const area = ruleArea(rule);
    if (!area) {
      say(t("Правило № {id} діє будь-де в місті.", { id: rule.id }));
      mapEl.dataset.state = "ready";
      return;
    }
    mapEl.dataset.state = "loading";
    try {
      const feature = await areaOf(area[0], area[1]);
      if (!feature) {
        say(t("Територію правила № {id} не знайдено серед чинних.", { id: rule.id }));
        return;
      }
      areaLayer.addData(feature);
      map.fitBounds(areaLayer.getBounds(), { padding: [16, 16], animate: false });
      say(t("На мапі: територія правила № {id} ({area} {key}).",
        { id: rule.id, area: AREA_NAMES[area[0]], key: area[1] }));
    } catch (exc) {
      text($("rules-error"), exc.message);
    } finally {
      mapEl.dataset.state = "ready";
    }
  }

  // --- routing rules: the list, the dry run, new rules -----------------------------------------

  function areaLabel(rule) {
    const area = ruleArea(rule);
    return area ? `${AREA_NAMES[area[0]]} ${area[1]}` : t("будь-де");
  }

  function ruleRow(rule) {
    const tr = document.createElement("tr");
    tr.dataset.ruleId = rule.id;
    const category = rule.category_id === null ? t("будь-яка") : categoryLabel(rule.category_id, rule.category);
    for (const value of [rule.id, rule.priority, category, areaLabel(rule), rule.executor]) {
      tr.append(el("td", "", value === null || value === undefined ? "—" : value));
    }
    const td = document.createElement("td");
    const show = el("button", "secondary small", t("На мапі"));
    show.type = "button";
    show.setAttribute("aria-label", t("На мапі: правило № {id}", { id: rule.id }));
    show.addEventListener("click", () => showRule(rule));
    const remove = el("button", "secondary small danger", t("Видалити"));
    remove.type = "button";
    remove.setAttribute("aria-label", t("Видалити правило № {id}", { id: rule.id }));
    remove.addEventListener("click", () => deleteRule(rule));
    td.append(show, " ", remove);
    tr.append(td);
    if (rule.note) tr.title = rule.note;
    return tr;
  }

  async function loadRules(more = false) {
    const body = $("rules-table").tBodies[0];
    const params = new URLSearchParams({ limit: "200" });
    if ($("rules-category").value) params.set("category_id", $("rules-category").value);
    if ($("rules-executor").value) params.set("executor_id", $("rules-executor").value);
    if (more && state.rulesNext) params.set("after", state.rulesNext);
    const r = await api(`${config.rulesUrl}?${params}`);
    if (!r.ok) {
      text($("rules-error"), fail(r.body));
      return;
    }
    if (!more) {
      body.replaceChildren();
      state.rules.clear();
    }
    for (const rule of r.body.items) {
      state.rules.set(rule.id, rule);
      body.append(ruleRow(rule));
    }
    state.rulesNext = r.body.next;
    $("rules-more").hidden = !r.body.next;
    $("rules").dataset.count = String(body.rows.length);
  }

  async function deleteRule(rule) {
    if (!window.confirm(t("Видалити правило № {id}? Звернення, які воно вже направило, залишаться у своїх виконавців.", { id: rule.id }))) return;
    $("rules-error").textContent = "";
    const r = await send("DELETE", `${config.rulesUrl}/${rule.id}`);
    if (!r.ok) {
      text($("rules-error"), fail(r.body));
      return;
    }
    state.rules.delete(rule.id);
    const row = document.querySelector(`#rules-table tr[data-rule-id="${rule.id}"]`);
    if (row) row.remove();
    if (state.selectedRule === rule.id) areaLayer.clearLayers();
    text($("rules-status"), t("Правило № {id} видалено.", { id: rule.id }));
  }

  async function dryRun(lon, lat) {
    const errorBox = $("dry-error");
    const result = $("dry-result");
    errorBox.textContent = "";
    result.hidden = true;
    const category = $("dry-category").value;
    if (pointMarker) pointMarker.remove();
    pointMarker = L.circleMarker([lat, lon], { radius: 7, color: "#1d2a36", weight: 2, fillColor: "#ffd166", fillOpacity: 1 }).addTo(map);
    const params = new URLSearchParams({ category, lon: String(lon), lat: String(lat) });
    const r = await api(`${config.routeUrl}?${params}`);
    if (!r.ok) {
      text(errorBox, fail(r.body));
      return;
    }
    const d = r.body;
    text($("dry-executor"), d.executor_name ? `${d.executor_name} (${d.executor_code})` : null);
    text($("dry-rule"), d.rule_id ? t("№ {id}", { id: d.rule_id }) : t("жодне — за замовчуванням"));
    text($("dry-reason"), (LANG === "en" && d.reason_en) || d.reason);
    result.dataset.ruleId = d.rule_id || "";
    result.hidden = false;
    document.querySelectorAll("#rules-table tr.winner").forEach((tr) => tr.classList.remove("winner"));
    const row = d.rule_id && document.querySelector(`#rules-table tr[data-rule-id="${d.rule_id}"]`);
    if (row) row.classList.add("winner");
  }

  map.on("click", (event) => {
    const lon = Number(event.latlng.lng.toFixed(6));
    const lat = Number(event.latlng.lat.toFixed(6));
    $("dry-lon").value = String(lon);
    $("dry-lat").value = String(lat);
    dryRun(lon, lat);
  });
  $("dry-form").addEventListener("submit", (event) => {
    event.preventDefault();
    const lon = Number($("dry-lon").value.replace(",", "."));
    const lat = Number($("dry-lat").value.replace(",", "."));
    if (!Number.isFinite(lon) || !Number.isFinite(lat) || !$("dry-lon").value || !$("dry-lat").value) {
      text($("dry-error"), t("Клацніть на мапі або введіть довготу і широту."));
      return;
    }
    map.panTo([lat, lon]);
    dryRun(lon, lat);
  });

  $("rules-category").addEventListener("change", () => loadRules());
  $("rules-executor").addEventListener("change", () => loadRules());
  $("rules-more").addEventListener("click", () => loadRules(true));
  // The rule's territory is picked from a list of the kind's current areas (a datalist: typing
  // a name, a number or a code narrows it, arrows and Enter choose); the option's value is what
  // the API takes (a code, a ward's number). A name typed in full is taken as its area, and a
  // code not in the list is sent as typed (the API answers if it is wrong).
  function areaKey(kind, typed) {
    const areas = state.areas[kind];
    if (!areas || areas.has(typed)) return typed;
    const wanted = typed.toLocaleLowerCase();
    const names = (feature) => [areaName(kind, feature), feature.properties.name, feature.properties.name_en]
      .filter(Boolean).map((name) => name.toLocaleLowerCase()); // prettier-ignore
    const partly = [];
    for (const [key, feature] of areas) {
      if (names(feature).includes(wanted)) return key;
      if (names(feature).some((name) => name.includes(wanted))) partly.push(key);
    }
    // Part of one area's name alone ("Голосіїв") names that area.
    return partly.length === 1 ? partly[0] : typed;
  }

  // While typing, the area the field names, if any; when the field is left, also that it names
  // none.
  function sayChosenArea(event) {
    const kind = $("rule-area-kind").value;
    const typed = $("rule-area").value.trim();
    const areas = state.areas[kind];
    let said = "";
    if (kind && typed && areas) {
      const feature = areas.get(areaKey(kind, typed));
      said = feature
        ? t("Обрано: {area}", { area: `${areaName(kind, feature)} (${AREA_NAMES[kind]} ${areaKey(kind, typed)})` })
        : event.type === "change" ? t("Серед чинних територій цього виду такої немає: перевірте код або номер.") : "";
    }
    text($("rule-area-chosen"), said);
  }

  async function fillAreaOptions() {
    const kind = $("rule-area-kind").value;
    const box = $("rule-area-box");
    const list = $("rule-area-options");
    $("rule-area").value = "";
    text($("rule-area-chosen"), "");
    list.replaceChildren();
    box.hidden = !kind;
    if (!kind) return;
    box.dataset.state = "loading";
    let areas;
    try {
      areas = await areasOf(kind);
    } catch (exc) {
      text($("rule-new-error"), exc.message);
      return;
    }
    if ($("rule-area-kind").value !== kind) return; // another kind chosen meanwhile
    const entries = [...areas].map(([key, feature]) => [key, areaName(kind, feature)]);
    if (kind === "ward_number") entries.sort((a, b) => Number(a[0]) - Number(b[0]));
    else entries.sort((a, b) => a[1].localeCompare(b[1], LANG));
    for (const [key, label] of entries) {
      const option = el("option");
      option.value = key;
      option.label = label;
      list.append(option);
    }
    box.dataset.state = "ready";
  }

  $("rule-area-kind").addEventListener("change", fillAreaOptions);
  $("rule-area").addEventListener("input", sayChosenArea);
  $("rule-area").addEventListener("change", sayChosenArea);
  $("rule-new-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    const errorBox = $("rule-new-error");
    errorBox.textContent = "";
    const payload = {
      executor_id: Number($("rule-executor").value),
      priority: Number($("rule-priority").value || 100),
    };
    if ($("rule-category").value) payload.category_id = Number($("rule-category").value);
    const kind = $("rule-area-kind").value;
    const key = kind ? areaKey(kind, $("rule-area").value.trim()) : "";
    if (kind) {
      if (!key) {
        text(errorBox, t("Вкажіть код або номер території."));
        return;
      }
      payload[kind] = kind === "ward_number" ? Number(key) : key;
    }
    if ($("rule-note").value.trim()) payload.note = $("rule-note").value.trim();
    $("rule-submit").disabled = true;
    try {
      const r = await postJson(config.rulesUrl, payload, headers());
      if (!r.ok) {
        text(errorBox, fail(r.body));
        return;
      }
      state.rules.set(r.body.id, r.body);
      $("rules-table").tBodies[0].prepend(ruleRow(r.body));
      const created = t("Створено правило № {id}.", { id: r.body.id });
      text($("rules-status"), created);
      if (payload.category_id) $("dry-category").value = String(payload.category_id);
      await showRule(r.body, created);
    } finally {
      $("rule-submit").disabled = false;
    }
  });

  // --- organisations and their territories ----------------------------------------------------

  const KINDS = {
    contact_centre: t("контакт-центр"),
    district_administration: t("районна адміністрація"),
    housing_office: t("житлово-експлуатаційна організація"),
    utility: t("комунальне підприємство"),
    police: t("поліція"),
    department: t("департамент"),
  };
  const orgsMapEl = $("orgs-map");
  const orgsMap = L.map(orgsMapEl, { zoomControl: true, keyboard: true, attributionControl: true });
  window.portal.homeView(orgsMap, config, 10);
  window.portal.addBackground(orgsMap, config, config.attribution);
  const orgsLayer = L.geoJSON(null, {
    style: () => ({ color: "#2a9d8f", weight: 2, fillColor: "#2a9d8f", fillOpacity: 0.15 }),
    onEachFeature: (feature, layer) => {
      layer.bindTooltip(`${feature.properties.name || ""} (${feature.properties.code})`);
    },
  }).addTo(orgsMap);

  // A territory's old outline (red, dashed) and the file's new one (green), to compare.
  const compareLayer = L.featureGroup().addTo(orgsMap);

  // keep: after a replacement, the comparison and its message stay on the map.
  async function showTerritories(org, keep = false) {
    $("orgs-error").textContent = "";
    orgsMapEl.dataset.state = "loading";
    orgsLayer.clearLayers();
    if (!keep) compareLayer.clearLayers();
    try {
      const url = `${config.territoriesUrl}?executor_id=${encodeURIComponent(org.id)}&limit=500`;
      const features = await window.portal.fetchAllFeatures(url);
      orgsLayer.addData(features);
      const select = $("territory-code");
      const chosen = select.value;
      select.replaceChildren(...features.map((f) =>
        option(f.properties.code, `${f.properties.name || ""} (${f.properties.code})`)));
      if (keep && chosen) select.value = chosen;
      $("territory-form").hidden = !features.length;
      if (keep) return;
      $("territory-apply").disabled = true;
      $("territory-done").hidden = true;
      if (features.length) orgsMap.fitBounds(orgsLayer.getBounds(), { padding: [12, 12], animate: false });
      text($("orgs-status"), t("{name}: територій на мапі — {n}.", { name: executorName(org), n: features.length }));
      orgsMapEl.dataset.territories = String(features.length);
    } catch (exc) {
      text($("orgs-error"), exc.message);
    } finally {
      orgsMapEl.dataset.state = "ready";
    }
  }

  async function sendTerritory(apply) {
    const errorBox = $("territory-error");
    const done = $("territory-done");
    errorBox.textContent = "";
    done.hidden = true;
    const file = $("territory-file").files[0];
    if (!file) {
      text(errorBox, t("Оберіть файл з новою межею."));
      return;
    }
    const code = $("territory-code").value;
    const params = new URLSearchParams({ filename: file.name });
    if (apply) params.set("apply", "true");
    const url = `${config.territoryUrl.replace("{code}", encodeURIComponent(code))}?${params}`;
    const r = await api(url, {
      method: "POST",
      headers: { "Content-Type": "application/octet-stream", ...headers() },
      body: await file.arrayBuffer(),
    });
    if (!r.ok) {
      text(errorBox, fail(r.body));
      return;
    }
    const d = r.body;
    compareLayer.clearLayers();
    L.geoJSON(d.old, { style: () => ({ color: "#b3261e", weight: 2, dashArray: "6 4", fillOpacity: 0 }) }).addTo(compareLayer);
    L.geoJSON(d.new, { style: () => ({ color: "#2e7d32", weight: 2.5, fillColor: "#2e7d32", fillOpacity: 0.15 }) }).addTo(compareLayer);
    orgsMap.fitBounds(compareLayer.getBounds(), { padding: [12, 12], animate: false });
    const areas = { code, old: Math.round(d.old_area_m2 / 1e4), new: Math.round(d.new_area_m2 / 1e4) };
    text(done, apply
      ? t("Територію {code} замінено: версія {version}, площа {old} → {new} га.", { ...areas, version: d.version })
      : t("Перегляд {code}: площа {old} → {new} га. Якщо все правильно, натисніть «Замінити».", areas));
    done.hidden = false;
    $("territory-form").dataset.applied = String(d.applied);
    $("territory-apply").disabled = apply;
    if (apply) {
      const org = state.executors.find((e) => e.id === d.executor_id);
      if (org) await showTerritories(org, true);
    }
  }
  $("territory-form").addEventListener("submit", (event) => {
    event.preventDefault();
    sendTerritory(false);
  });
  $("territory-apply").addEventListener("click", () => sendTerritory(true));
  $("territory-file").addEventListener("change", () => {
    $("territory-apply").disabled = true;
  });

  function orgRow(org) {
    const tr = document.createElement("tr");
    tr.dataset.executorId = org.id;
    const parent = state.executors.find((e) => e.id === org.parent_id);
    for (const value of [executorName(org), org.code, KINDS[org.kind] || org.kind,
      parent ? executorName(parent) : null, org.territories]) {
      tr.append(el("td", "", value === null || value === undefined ? "—" : value));
    }
    const td = document.createElement("td");
    if (org.territories) {
      const show = el("button", "secondary small", t("На мапі"));
      show.type = "button";
      show.setAttribute("aria-label", t("На мапі: території {name}", { name: executorName(org) }));
      show.addEventListener("click", () => showTerritories(org));
      td.append(show);
    }
    tr.append(td);
    return tr;
  }

  function drawOrgs() {
    const q = $("orgs-q").value.trim().toLowerCase();
    const rows = state.executors
      .filter((e) => !q || `${e.name} ${e.short_name || ""} ${e.code}`.toLowerCase().includes(q))
      .map(orgRow);
    $("orgs-table").tBodies[0].replaceChildren(...rows);
  }
  $("orgs-q").addEventListener("input", drawOrgs);
  $("orgs-filters").addEventListener("submit", (event) => event.preventDefault());

  // --- notifications that failed (GET /api/v1/admin/notifications?status=failed) -----------------

  const NOTIFICATIONS_URL = "/api/v1/admin/notifications";
  const NOTICE_KINDS = {
    registered: t("реєстрація"), answered: t("відповідь"), rework: t("доопрацювання"),
    redirected: t("передано за належністю"), extended: t("строк продовжено"), closed: t("закриття"),
  };
  const CHANNELS = { email: t("e-mail"), sms: "SMS", viber: "Viber" };

  function notificationRow(n) {
    const tr = document.createElement("tr");
    tr.dataset.notificationId = n.id;
    for (const value of [n.number, NOTICE_KINDS[n.kind] || n.kind, CHANNELS[n.channel] || n.channel,
      n.recipient, String(n.attempts), n.last_error || "—", window.portal.day(n.created_at)]) {
      tr.append(el("td", "", value));
    }
    const td = document.createElement("td");
    const retry = el("button", "secondary small", t("Надіслати ще раз"));
    retry.type = "button";
    retry.setAttribute("aria-label", t("Надіслати ще раз сповіщення щодо звернення № {number}", { number: n.number }));
    retry.addEventListener("click", () => retryNotification(n, retry, tr));
    td.append(retry);
    tr.append(td);
    return tr;
  }

  async function retryNotification(n, button, tr) {
    $("notifications-error").textContent = "";
    button.disabled = true;
    const r = await send("POST", `${NOTIFICATIONS_URL}/${encodeURIComponent(n.id)}/retry`);
    if (!r.ok) {
      button.disabled = false;
      text($("notifications-error"), fail(r.body));
      return;
    }
    tr.classList.add("inactive");
    button.textContent = t("У черзі");
    text($("notifications-done"), t("Сповіщення щодо звернення № {number} знову в черзі на доставку.", { number: n.number }));
  }

  async function loadNotifications(more = false) {
    const body = $("notifications-table").tBodies[0];
    const params = new URLSearchParams({ status: "failed", limit: "50" });
    if (more && state.notificationsNext) params.set("after", state.notificationsNext);
    const r = await api(`${NOTIFICATIONS_URL}?${params}`);
    if (!r.ok) {
      text($("notifications-error"), fail(r.body));
      return;
    }
    if (!more) body.replaceChildren();
    for (const n of r.body.items) body.append(notificationRow(n));
    state.notificationsNext = r.body.next;
    $("notifications-more").hidden = !r.body.next;
    $("notifications-none").hidden = body.rows.length > 0;
    $("notifications").dataset.count = String(body.rows.length);
  }
  $("notifications-more").addEventListener("click", () => loadNotifications(true));

  // --- start -------------------------------------------------------------------------------------

  $("logout").addEventListener("click", () => window.portal.signOut(config, errorEl));

  async function start() {
    const me = await window.portal.me(config.meUrl);
    if (me.status === 401) {
      window.location.assign(config.loginUrl);
      return;
    }
    if (!me.ok) {
      text(errorEl, fail(me.body));
      root.dataset.state = "error";
      return;
    }
    csrf.keep(me.body.csrf_token);
    state.me = me.body;
    if (me.body.role !== "admin") {
      text(errorEl, t("Ця сторінка — для адміністратора."));
      statusEl.textContent = "";
      root.dataset.state = "forbidden";
      return;
    }
    const councilsSection = $("councils").dataset;
    const [executors, categories, mine, every] = await Promise.all([api(config.executorsUrl),
      api(config.categoriesUrl), api(councilsSection.api), api(councilsSection.allApi)]);
    if (!executors.ok || !categories.ok) {
      text(errorEl, fail(executors.ok ? categories.body : executors.body));
      root.dataset.state = "error";
      return;
    }
    // Several councils (issue 17): the users' list names each account's, the forms pick one.
    state.councils = mine.ok ? mine.body.items : [];
    state.manyCouncils = every.ok && every.body.items.length > 1;
    document.querySelectorAll("[data-council-column]").forEach((th) => { th.hidden = !state.manyCouncils; });
    state.executors = executors.body.items;
    state.categories = categories.body.items;
    fillSelects();
    showBinding($("user-new-form"), $("new-role").value);
    drawCategories();
    drawOrgs();
    await Promise.all([loadUsers(), loadRules(), loadNotifications()]);
    for (const id of ["users", "categories", "rules", "orgs", "notifications"]) $(id).hidden = false;
    map.invalidateSize();
    orgsMap.invalidateSize();
    mapEl.dataset.state = "ready";
    statusEl.textContent = "";
    root.dataset.state = "ready";
  }

  start().catch((exc) => {
    text(errorEl, t("Сервер недоступний. Спробуйте пізніше."));
    root.dataset.state = "error";
    throw exc;
  });
})();

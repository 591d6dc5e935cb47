// The administrator's councils (/admin, section «Громади»; issue 17, gis/admin.py): shown when
// the installation serves several councils or the administrator is oblast staff. The councils
// table (name, KATOTTH code, numbers' prefix, occupied since and the source); an oblast
// administrator changes a council's name, prefix and occupation (PATCH /api/v1/admin/councils/
// {code}: a council's own administrator may not, the API says 404); each administrator opens
// «Категорії громади» of a council they administer: the sub-kinds of the shared catalogue and
// the council's own, each switched on or off with a deadline of its own, and a new sub-kind of
// its own added (GET|PUT /api/v1/directory/councils/{code}/categories). Everything through the
// API with the session cookie and its CSRF token; nothing is inserted as HTML.
(function () {
  "use strict";

  const config = JSON.parse(document.getElementById("page-config").textContent);
  const { t, lang: LANG } = window.i18n;
  const { api, csrf, text, el } = window.portal;
  const send = window.portal.sendJson;
  const $ = (id) => document.getElementById(id);
  const section = $("councils");
  const base = section.dataset.api;
  const fail = (body) => body.detail || t("Не вдалося виконати дію.");

  const state = { me: null, editable: false, councils: [], editing: null, choosing: null, items: [] };

  const nameOf = (c) => (LANG === "en" && c.name_en) || c.name;

  function button(label, aria, onClick) {
    const b = el("button", "secondary small", label);
    b.type = "button";
    b.setAttribute("aria-label", aria);
    b.addEventListener("click", onClick);
    return b;
  }

  function row(c) {
    const tr = document.createElement("tr");
    tr.dataset.code = c.code;
    tr.dataset.occupied = String(c.occupied);
    const occupied = c.occupied
      ? `${window.portal.day(c.occupied_since)}${c.occupied_source ? ` (${c.occupied_source})` : ""}`
      : t("ні");
    tr.append(el("td", "", nameOf(c)), el("td", "", c.code), el("td", "", c.number_prefix || "—"),
      el("td", c.occupied ? "error" : "", occupied));
    const actions = el("td", "actions");
    if (state.editable) {
      actions.append(button(t("Змінити"), t("Змінити громаду {name}", { name: nameOf(c) }),
        () => openCouncil(c)));
    }
    actions.append(button(t("Категорії"), t("Категорії громади {name}", { name: nameOf(c) }),
      () => openCategories(c)));
    tr.append(actions);
    return tr;
  }

  async function load() {
    const r = await api(base);
    if (!r.ok) {
      text($("councils-error"), fail(r.body));
      return false;
    }
    state.councils = r.body.items;
    $("councils-table").tBodies[0].replaceChildren(...state.councils.map(row));
    $("councils-none").hidden = state.councils.length > 0;
    section.dataset.count = String(state.councils.length);
    return true;
  }

  // --- a council's fields (an oblast administrator) -------------------------------------------

  function showOccupied() {
    $("council-occupied-box").hidden = !$("council-occupied").checked;
  }

  function openCouncil(c) {
    state.editing = c;
    $("council-categories").hidden = true;
    text($("council-edit-name"), nameOf(c));
    $("council-name").value = c.name;
    $("council-prefix").value = c.number_prefix || "";
    $("council-prefix").disabled = c.has_appeals;
    $("council-occupied").checked = c.occupied;
    $("council-since").value = c.occupied_since || "";
    $("council-source").value = c.occupied_source || "";
    showOccupied();
    $("council-edit-error").textContent = "";
    $("council-edit").hidden = false;
    $("council-name").focus();
  }

  function closeCouncil() {
    const code = state.editing && state.editing.code;
    $("council-edit").hidden = true;
    state.editing = null;
    focusRow(code, 0);
  }

  function focusRow(code, index) {
    const tr = code && document.querySelector(`#councils-table tr[data-code="${CSS.escape(code)}"]`);
    const target = tr && tr.querySelectorAll("button")[index];
    if (target) target.focus();
  }

  $("council-occupied").addEventListener("change", showOccupied);
  $("council-close").addEventListener("click", closeCouncil);
  $("council-edit").addEventListener("keydown", (event) => {
    if (event.key === "Escape") closeCouncil();
  });

  $("council-edit-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    const c = state.editing;
    const error = $("council-edit-error");
    error.textContent = "";
    const name = $("council-name").value.trim();
    if (!name) {
      text(error, t("Вкажіть назву громади."));
      $("council-name").focus();
      return;
    }
    const payload = { name };
    const prefix = $("council-prefix").value.trim().toUpperCase();
    if (!c.has_appeals && prefix !== (c.number_prefix || "")) payload.number_prefix = prefix;
    if ($("council-occupied").checked) {
      if (!$("council-since").value) {
        text(error, t("Вкажіть, з якого дня громада окупована."));
        $("council-since").focus();
        return;
      }
      payload.occupied_since = $("council-since").value;
      const source = $("council-source").value.trim();
      if (source) payload.occupied_source = source;
    } else if (c.occupied) {
      payload.occupied = false;
    }
    $("council-save").disabled = true;
    try {
      const r = await send("PATCH", `${base}/${encodeURIComponent(c.code)}`, payload);
      if (!r.ok) {
        text(error, fail(r.body));
        return;
      }
      await load();
      text($("councils-status"), t("Громаду «{name}» збережено.", { name: nameOf(r.body) }));
      $("council-edit").hidden = true;
      state.editing = null;
      focusRow(r.body.code, 0);
    } finally {
      $("council-save").disabled = false;
    }
  });

  // --- a council's choice of the catalogue ----------------------------------------------------

  const categoriesUrl = (c) => section.dataset.categoriesApi.replace("{code}", encodeURIComponent(c.code));

  function choiceRow(item) {
    const tr = document.createElement("tr");
    tr.dataset.categoryId = String(item.id);
    tr.dataset.offered = String(item.offered);
    const label = (LANG === "en" && item.name_en) || item.name;
    tr.append(el("td", "kind", item.kind), el("td", "", item.own ? `${label} (${t("власний")})` : label));
    const offered = document.createElement("input");
    offered.type = "checkbox";
    offered.checked = item.offered;
    offered.disabled = !item.catalogue_active;
    offered.setAttribute("aria-label", t("Громада пропонує: {name}", { name: label }));
    const days = document.createElement("input");
    days.type = "number";
    days.min = "1";
    days.max = "45";
    days.step = "1";
    days.inputMode = "numeric";
    days.className = "days";
    days.value = item.deadline_days == null ? "" : String(item.deadline_days);
    days.placeholder = String(item.catalogue_deadline_days);
    days.setAttribute("aria-label", t("Строк розгляду, днів: {name}", { name: label }));
    offered.addEventListener("change", () => choose(item, { offered: offered.checked }, offered, tr));
    days.addEventListener("change", () => {
      const value = days.value.trim();
      choose(item, { deadline_days: value ? Number(value) : null }, days, tr);
    });
    const td1 = document.createElement("td");
    td1.append(offered);
    const td2 = document.createElement("td");
    td2.append(days);
    tr.append(td1, td2);
    return tr;
  }

  function drawChoice() {
    const q = $("council-categories-q").value.trim().toLowerCase();
    const rows = state.items
      .filter((i) => !q || `${i.kind} ${i.name} ${i.name_en || ""}`.toLowerCase().includes(q))
      .map(choiceRow);
    $("council-categories-table").tBodies[0].replaceChildren(...rows);
  }

  function fillKinds() {
    const kinds = new Map();
    for (const i of state.items) if (!kinds.has(i.parent_id)) kinds.set(i.parent_id, i.kind);
    $("council-own-kind").replaceChildren(...[...kinds].map(([id, kind]) => {
      const o = document.createElement("option");
      o.value = String(id);
      o.textContent = kind;
      return o;
    }));
  }

  async function openCategories(c) {
    state.choosing = c;
    $("council-edit").hidden = true;
    for (const id of ["council-categories-error", "council-categories-done", "council-own-error"]) {
      $(id).textContent = "";
    }
    text($("council-categories-name"), `«${nameOf(c)}»`);
    const r = await api(categoriesUrl(c));
    if (!r.ok) {
      text($("councils-error"), fail(r.body));
      return;
    }
    state.items = r.body.items;
    $("council-categories-q").value = "";
    drawChoice();
    fillKinds();
    const box = $("council-categories");
    box.dataset.code = c.code;
    box.dataset.count = String(state.items.length);
    box.hidden = false;
    $("council-categories-q").focus();
  }

  function closeCategories() {
    const code = state.choosing && state.choosing.code;
    $("council-categories").hidden = true;
    state.choosing = null;
    focusRow(code, state.editable ? 1 : 0);
  }

  // One sub-kind's choice: PUT replaces both its switch and its deadline, so both are sent.
  async function choose(item, change, control, tr) {
    const c = state.choosing;
    $("council-categories-error").textContent = "";
    const choice = { category_id: item.id, offered: item.offered, deadline_days: item.deadline_days, ...change };
    control.disabled = true;
    try {
      const r = await send("PUT", categoriesUrl(c), { items: [choice] });
      if (!r.ok) {
        text($("council-categories-error"), fail(r.body));
        if (control.type === "checkbox") control.checked = item.offered;
        else control.value = item.deadline_days == null ? "" : String(item.deadline_days);
        return;
      }
      const now = r.body.items.find((i) => i.id === item.id);
      Object.assign(item, now);
      tr.dataset.offered = String(item.offered);
      const label = (LANG === "en" && item.name_en) || item.name;
      text($("council-categories-done"), t("Збережено: {name} — {state}, {days} днів.", {
        name: label, state: item.offered ? t("пропонується") : t("не пропонується"),
        days: item.deadline_days == null ? item.catalogue_deadline_days : item.deadline_days,
      }));
    } finally {
      control.disabled = !item.catalogue_active && control.type === "checkbox";
    }
  }

  $("council-categories-q").addEventListener("input", drawChoice);
  $("council-categories-filters").addEventListener("submit", (event) => event.preventDefault());
  $("council-categories-close").addEventListener("click", closeCategories);
  $("council-categories").addEventListener("keydown", (event) => {
    if (event.key === "Escape") closeCategories();
  });

  $("council-own-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    const error = $("council-own-error");
    error.textContent = "";
    const name = $("council-own-name").value.trim();
    if (!name) {
      text(error, t("Вкажіть назву підвиду."));
      $("council-own-name").focus();
      return;
    }
    const own = { parent_id: Number($("council-own-kind").value), name };
    const days = $("council-own-days").value.trim();
    if (days) own.deadline_days = Number(days);
    $("council-own-submit").disabled = true;
    try {
      const r = await send("PUT", categoriesUrl(state.choosing), { add: [own] });
      if (!r.ok) {
        text(error, fail(r.body));
        return;
      }
      state.items = r.body.items;
      drawChoice();
      $("council-categories").dataset.count = String(state.items.length);
      $("council-own-name").value = "";
      $("council-own-days").value = "";
      text($("council-categories-done"), t("Додано власний підвид громади: {name}.", { name }));
    } finally {
      $("council-own-submit").disabled = false;
    }
  });

  async function start() {
    const me = await window.portal.me(config.meUrl);
    if (!me.ok || me.body.role !== "admin") return; // admin.js says why
    state.me = me.body;
    csrf.keep(me.body.csrf_token);
    const every = await api(section.dataset.allApi);
    const total = every.ok ? every.body.items.length : 0;
    if (total < 2 && me.body.council) return; // one council, its own administrator: nothing here
    // A council's fields: the oblast's administrator (or the one of a one-council install).
    state.editable = !me.body.council || total < 2;
    if (!(await load())) return;
    section.hidden = false;
    $("councils-link").hidden = false;
    section.dataset.state = "ready";
  }

  start().catch(() => {
    text($("councils-error"), t("Сервер недоступний. Спробуйте пізніше."));
  });
})();

// The administrator's placement rules of advertising structures and kiosks (/admin, section
// "Правила розміщення"; gis/placement_rules.py): the rules with their layer, kind, distance,
// other layer and state; the form that makes one (the other layer picked from the catalogue's
// layers — only polygon ones for "not inside"); a rule's title, English title and distance
// changed in place («Змінити»: a form in a row under it, each error under its field);
// switching a rule off and on; deleting one, after a confirmation. Everything goes through /api/v1/admin/placement-rules with the session
// cookie and its CSRF token. Nothing is inserted as HTML.
(function () {
  "use strict";

  const config = JSON.parse(document.getElementById("page-config").textContent);
  const { t, lang: LANG } = window.i18n;
  const { api, csrf, text, el } = window.portal;
  const $ = (id) => document.getElementById(id);
  const section = $("placement");
  const base = section.dataset.api;

  const LAYER_NAMES = {
    advertising_structures: t("рекламні конструкції"),
    kiosks: t("МАФ (тимчасові споруди)"),
  };
  const KIND_NAMES = {
    min_distance_same: t("не ближче N м до іншого об’єкта того ж шару"),
    min_distance_layer: t("не ближче N м до об’єктів іншого шару"),
    not_inside_layer: t("не всередині полігонів іншого шару"),
  };
  const DISTANCE_KINDS = ["min_distance_same", "min_distance_layer"];
  let layers = []; // the catalogue's layers a rule may name

  const send = window.portal.sendJson;
  const fail = (body) => body.detail || t("Не вдалося виконати дію.");
  const titleOf = (item) => (LANG === "en" && item.title_en) || item.title;
  function layerTitle(name) {
    const found = layers.find((l) => l.name === name);
    return found ? `${titleOf(found)} (${name})` : name;
  }
  const metres = (value) => (value === null || value === undefined ? "—" : String(value).replace(".", LANG === "en" ? "." : ","));

  function row(rule) {
    const tr = document.createElement("tr");
    tr.dataset.id = String(rule.id);
    tr.dataset.enabled = String(rule.enabled);
    const actions = el("td", "actions");
    const change = el("button", "secondary", t("Змінити"));
    change.type = "button";
    change.dataset.action = "edit";
    change.setAttribute("aria-expanded", "false");
    change.addEventListener("click", () => openEdit(rule, tr, change));
    const toggle = el("button", "secondary", rule.enabled ? t("Вимкнути") : t("Увімкнути"));
    toggle.type = "button";
    toggle.dataset.action = "toggle";
    toggle.addEventListener("click", () => setEnabled(rule, !rule.enabled, toggle));
    const remove = el("button", "secondary", t("Видалити"));
    remove.type = "button";
    remove.dataset.action = "delete";
    remove.addEventListener("click", () => removeRule(rule, remove));
    actions.append(change, toggle, remove);
    tr.append(
      el("td", "", titleOf(rule)),
      el("td", "", LAYER_NAMES[rule.layer] || rule.layer),
      el("td", "", KIND_NAMES[rule.kind] || rule.kind),
      el("td", "", metres(rule.distance_m)),
      el("td", "", rule.other_layer ? layerTitle(rule.other_layer) : "—"),
      el("td", rule.enabled ? "" : "error", rule.enabled ? t("діє") : t("вимкнено")),
      actions,
    );
    return tr;
  }

  function load() {
    editing = null;
    return window.portal.loadSectionList("placement", base, row, fail);
  }

  // --- a rule's title, English title and distance, changed in a row under it -----------------
  let editing = null; // { rule, tr (the edit row), button («Змінити») }

  function closeEdit(focusBack) {
    if (!editing) return;
    editing.tr.remove();
    editing.button.setAttribute("aria-expanded", "false");
    if (focusBack) editing.button.focus();
    editing = null;
  }

  function openEdit(rule, ruleRow, button) {
    const again = editing && editing.rule.id === rule.id;
    closeEdit(false);
    if (again) { // a second click closes it
      button.focus();
      return;
    }
    const form = $("placement-edit-template").content.firstElementChild.cloneNode(true);
    const field = (name) => form.elements.namedItem(name);
    field("title").value = rule.title;
    field("title_en").value = rule.title_en || "";
    const distanceKind = DISTANCE_KINDS.includes(rule.kind);
    form.querySelector("[data-distance]").hidden = !distanceKind;
    if (distanceKind) field("distance_m").value = String(rule.distance_m ?? "");
    form.setAttribute("aria-label", t("Змінити правило «{title}»", { title: titleOf(rule) }));
    const tr = document.createElement("tr");
    tr.className = "placement-edit-row";
    tr.dataset.editOf = String(rule.id);
    const cell = document.createElement("td");
    cell.colSpan = ruleRow.children.length;
    cell.append(form);
    tr.append(cell);
    ruleRow.after(tr);
    editing = { rule, tr, button };
    button.setAttribute("aria-expanded", "true");
    form.querySelector('[data-action="cancel"]').addEventListener("click", () => closeEdit(true));
    form.addEventListener("keydown", (event) => {
      if (event.key === "Escape") closeEdit(true);
    });
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      saveEdit(rule, form, distanceKind);
    });
    field("title").focus();
  }

  // An error under its field (aria-invalid, the field focused), or under the form.
  function showError(form, name, message) {
    const input = name ? form.elements.namedItem(name) : null;
    const target = form.querySelector(`[data-error-for="${input ? name : ""}"]`);
    text(target, message);
    if (input) {
      input.setAttribute("aria-invalid", "true");
      input.focus();
    }
  }

  async function saveEdit(rule, form, distanceKind) {
    for (const p of form.querySelectorAll("[data-error-for]")) p.textContent = "";
    for (const input of form.querySelectorAll("[aria-invalid]")) input.removeAttribute("aria-invalid");
    const title = form.elements.namedItem("title").value.trim();
    if (!title) {
      showError(form, "title", t("Вкажіть назву правила."));
      return;
    }
    const body = { title, title_en: form.elements.namedItem("title_en").value.trim() };
    if (distanceKind) {
      const distance = form.elements.namedItem("distance_m").valueAsNumber;
      if (!Number.isFinite(distance)) {
        showError(form, "distance_m", t("Вкажіть відстань у метрах, від 1 до 5000."));
        return;
      }
      body.distance_m = distance;
    }
    const save = form.querySelector('[data-action="save"]');
    save.disabled = true;
    let r;
    try {
      r = await send("PATCH", `${base}/${rule.id}`, body);
    } finally {
      save.disabled = false;
    }
    if (!r.ok) {
      // The field at fault: the answer's `parameter`, or the distance's own refusal.
      const given = r.body.parameter || (r.body.code === "placement_rule_distance" ? "distance_m" : null);
      const name = given && form.elements.namedItem(given) ? given : null;
      showError(form, name, fail(r.body));
      return;
    }
    text($("placement-status"), t("Правило «{title}» змінено.", { title: titleOf(r.body) }));
    await load();
    const again = document.querySelector(`#placement-table tr[data-id="${rule.id}"] [data-action="edit"]`);
    if (again) again.focus();
  }

  async function setEnabled(rule, enabled, control) {
    $("placement-error").textContent = "";
    control.disabled = true;
    const r = await send("PATCH", `${base}/${rule.id}`, { enabled });
    if (!r.ok) {
      control.disabled = false;
      text($("placement-error"), fail(r.body));
      return;
    }
    text($("placement-status"), enabled
      ? t("Правило «{title}» увімкнено.", { title: titleOf(rule) })
      : t("Правило «{title}» вимкнено: збереження за ним більше не перевіряються.", { title: titleOf(rule) }));
    await load();
  }

  async function removeRule(rule, control) {
    if (!window.confirm(t("Видалити правило «{title}»? Збереження за ним більше не перевірятимуться; щоб лише призупинити його, вимкніть правило.", { title: titleOf(rule) }))) return;
    $("placement-error").textContent = "";
    control.disabled = true;
    const r = await send("DELETE", `${base}/${rule.id}`);
    if (!r.ok) {
      control.disabled = false;
      text($("placement-error"), fail(r.body));
      return;
    }
    text($("placement-status"), t("Правило «{title}» видалено.", { title: titleOf(rule) }));
    await load();
  }

  function fillOtherLayers() {
    const kind = $("placement-kind").value;
    const select = $("placement-other");
    const previous = select.value;
    const usable = layers.filter((l) => kind !== "not_inside_layer" || l.polygons);
    select.replaceChildren(...usable.map((l) => {
      const option = document.createElement("option");
      option.value = l.name;
      option.textContent = `${titleOf(l)} (${l.name})`;
      return option;
    }));
    if (usable.some((l) => l.name === previous)) select.value = previous;
  }

  function showFields() {
    const kind = $("placement-kind").value;
    $("placement-distance-box").hidden = !DISTANCE_KINDS.includes(kind);
    $("placement-other-box").hidden = kind === "min_distance_same";
    fillOtherLayers();
  }
  $("placement-kind").addEventListener("change", showFields);

  $("placement-new-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    const error = $("placement-new-error");
    const done = $("placement-new-done");
    error.textContent = "";
    done.hidden = true;
    const kind = $("placement-kind").value;
    const title = $("placement-title-input").value.trim();
    if (!title) {
      text(error, t("Вкажіть назву правила."));
      $("placement-title-input").focus();
      return;
    }
    const body = { layer: $("placement-layer").value, kind, title };
    const titleEn = $("placement-title-en").value.trim();
    if (titleEn) body.title_en = titleEn;
    if (DISTANCE_KINDS.includes(kind)) {
      const distance = $("placement-distance").valueAsNumber;
      if (!Number.isFinite(distance)) {
        text(error, t("Вкажіть відстань у метрах, від 1 до 5000."));
        $("placement-distance").focus();
        return;
      }
      body.distance_m = distance;
    }
    if (kind !== "min_distance_same") body.other_layer = $("placement-other").value;
    $("placement-submit").disabled = true;
    try {
      const r = await send("POST", base, body);
      if (!r.ok) {
        text(error, fail(r.body));
        return;
      }
      text(done, t("Правило «{title}» створено й уже діє.", { title: titleOf(r.body) }));
      done.hidden = false;
      $("placement-title-input").value = "";
      $("placement-title-en").value = "";
      await load();
    } finally {
      $("placement-submit").disabled = false;
    }
  });

  async function start() {
    const me = await window.portal.me(config.meUrl);
    if (!me.ok || me.body.role !== "admin") return; // admin.js says why
    csrf.keep(me.body.csrf_token);
    const choices = await api(`${base}/layers`);
    if (choices.ok) layers = choices.body.items;
    showFields();
    await load();
    section.hidden = false;
    section.dataset.state = "ready";
  }

  start().catch(() => {
    text($("placement-error"), t("Сервер недоступний. Спробуйте пізніше."));
  });
})();

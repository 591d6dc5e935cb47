// The administrator's placement rules of advertising structures and kiosks (/admin, section
// "Правила розміщення"; gis/placement_rules.py): the rules with their layer, kind, distance,
// other layer and state; the form that makes one (the other layer picked from the catalogue's
// layers — only polygon ones for "not inside"); switching a rule off and on; deleting one,
// after a confirmation. Everything goes through /api/v1/admin/placement-rules with the session
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
    const toggle = el("button", "secondary", rule.enabled ? t("Вимкнути") : t("Увімкнути"));
    toggle.type = "button";
    toggle.dataset.action = "toggle";
    toggle.addEventListener("click", () => setEnabled(rule, !rule.enabled, toggle));
    const remove = el("button", "secondary", t("Видалити"));
    remove.type = "button";
    remove.dataset.action = "delete";
    remove.addEventListener("click", () => removeRule(rule, remove));
    actions.append(toggle, remove);
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
    return window.portal.loadSectionList("placement", base, row, fail);
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

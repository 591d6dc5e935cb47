// The planner page add-on for import (issue 16): registers in window.plannerAddons.
//
// «Імпорт з реєстру» (planners and administrators): a city's register of advertising
// structures or kiosks — a CSV or XLSX file, coordinates in the chosen CRS or addresses — sent
// to POST /api/v1/planner/import. «Переглянути» (mode=preview) shows what it would add, change
// (old → new, moved by N m), leave, find missing from the register (retired only with
// «Видалити відсутні в реєстрі») and could not place (the row and why, a placement rule named);
// nothing changes. «Застосувати» posts the same file and choices with mode=apply and shows
// what was done; the layer is then loaded again on the map (switched on if it was off).
// Changing the file or a choice after a preview asks for a new preview first.
//
// The browser test reads #import[data-state] ("off", "ready", "previewing", "previewed",
// "applying", "applied", "error") and #import-counts li[data-kind][data-count].
"use strict";

(function () {
  const { t, locale } = window.i18n;
  const { api, csrf, el } = window.portal;
  const $ = (id) => document.getElementById(id);
  const EDITORS = new Set(["planner", "admin"]);
  const URL = "/api/v1/planner/import";
  const SHOWN = 200; // rows of each table on the page (the counts are complete)

  const section = $("import");
  const form = $("import-form");
  const fileInput = $("import-file");
  const layerSelect = $("import-layer");
  const crsSelect = $("import-crs");
  const retireBox = $("import-retire");
  const previewButton = $("import-preview");
  const applyButton = $("import-apply");
  const statusEl = $("import-status");
  const result = $("import-result");
  const resultTitle = $("import-result-title");
  const countsEl = $("import-counts");
  const tables = $("import-tables");

  const PROPERTIES = {
    code: t("Код"), kind: t("Вид"), size: t("Розмір"), width_m: t("Ширина, м"),
    height_m: t("Висота, м"), sides: t("Кількість сторін"), specialization: t("Спеціалізація"),
    area_m2: t("Площа, м²"), owner: t("Власник дозволу"),
    holder_is_person: t("власник — фізична особа"), permit_number: t("Номер дозволу"),
    permit_type: t("Тип дозволу"), permit_valid_from: t("Дозвіл дійсний з"),
    permit_valid_until: t("Дозвіл дійсний до"), address: t("Адреса"),
  };

  let view = null; // planner.js: { map, entries, switchOn, reload, say, … }
  let previewed = null; // the choices the shown preview was made with

  function say(text) {
    statusEl.textContent = text;
  }

  function choices() {
    return {
      file: fileInput.files[0] || null,
      layer: layerSelect.value,
      crs: crsSelect.value,
      retire: retireBox.checked,
    };
  }

  function value(v) {
    if (v === null || v === undefined || v === "") return "—";
    if (v === true) return t("так");
    if (v === false) return t("ні");
    return String(v);
  }

  // --- the answer as counts and tables -----------------------------------------------------

  function table(caption, heads, rows, total) {
    const wrap = el("div", "import-table-wrap");
    const tableEl = el("table", "import-table");
    tableEl.append(el("caption", null, caption));
    const thead = el("thead");
    const headRow = el("tr");
    for (const h of heads) {
      const th = el("th", null, h);
      th.scope = "col";
      headRow.append(th);
    }
    thead.append(headRow);
    const tbody = el("tbody");
    for (const cells of rows.slice(0, SHOWN)) {
      const tr = el("tr");
      for (const c of cells) tr.append(el("td", null, c));
      tbody.append(tr);
    }
    tableEl.append(thead, tbody);
    wrap.append(tableEl);
    if (total > Math.min(rows.length, SHOWN)) {
      wrap.append(el("p", "muted small", t("Показано {shown} з {total}.", {
        shown: Math.min(rows.length, SHOWN), total,
      })));
    }
    return wrap;
  }

  function change(c) {
    const parts = c.changes.map((x) => `${PROPERTIES[x.property] || x.property}: ${value(x.old)} → ${value(x.new)}`);
    if (c.moved_m !== null && c.moved_m !== undefined) {
      parts.push(t("переміщено на {m} м", { m: c.moved_m.toLocaleString(locale) }));
    }
    return parts.join("; ");
  }

  function placedBy(a) {
    if (a.placed_by === "address") return t("за адресою");
    return t("за координатами");
  }

  function render(body) {
    const applied = body.applied;
    const c = body.counts;
    resultTitle.textContent = applied ? t("Імпорт застосовано") : t("Попередній перегляд: нічого ще не змінено");
    const missing = body.retire_missing
      ? (applied ? t("Вилучено (відсутні в реєстрі)") : t("Буде вилучено (відсутні в реєстрі)"))
      : t("Відсутні в реєстрі (залишаться)");
    const lines = [
      ["added", applied ? t("Додано") : t("Буде додано"), c.added],
      ["changed", applied ? t("Змінено") : t("Буде змінено"), c.changed],
      ["unchanged", t("Без змін"), c.unchanged],
      ["removed", missing, c.removed],
      ["unplaced", t("Не вдалося розмістити"), c.unplaced],
    ];
    countsEl.replaceChildren(...lines.map(([kind, label, n]) => {
      const li = el("li", `import-count import-${kind}`);
      li.dataset.kind = kind;
      li.dataset.count = String(n);
      li.append(el("span", null, `${label}: `), el("strong", null, n.toLocaleString(locale)));
      return li;
    }));
    const parts = [];
    if (c.added) {
      parts.push(table(applied ? t("Додано") : t("Буде додано"),
        [t("Рядок"), t("Код"), t("Адреса"), t("Розміщено")],
        body.added.map((a) => [a.row, a.code, value(a.address), placedBy(a)]), c.added));
    }
    if (c.changed) {
      parts.push(table(applied ? t("Змінено") : t("Буде змінено"), [t("Рядок"), t("Код"), t("Зміни")],
        body.changed.map((x) => [x.row, x.code, change(x)]), c.changed));
    }
    if (c.removed) {
      parts.push(table(missing, [t("Код"), t("Вид"), t("Адреса")],
        body.removed.map((r) => [r.code, value(r.kind), value(r.address)]), c.removed));
    }
    if (c.unplaced) {
      parts.push(table(t("Не вдалося розмістити"), [t("Рядок"), t("Код"), t("Причина")],
        body.unplaced.map((u) => [u.row, value(u.code), u.detail]), c.unplaced));
    }
    tables.replaceChildren(...parts);
    result.hidden = false;
    const work = c.added + c.changed + (body.retire_missing ? c.removed : 0);
    applyButton.hidden = applied || work === 0;
    if (applied) {
      say(t("Імпорт застосовано: додано {added}, змінено {changed}, вилучено {removed}.", {
        added: c.added, changed: c.changed, removed: body.retire_missing ? c.removed : 0,
      }));
    } else if (work === 0) {
      say(t("Нічого застосовувати: шар уже такий, як у реєстрі."));
    } else {
      say(t("Перегляньте зміни і натисніть «Застосувати»."));
    }
    resultTitle.focus();
  }

  // --- sending ------------------------------------------------------------------------------

  async function send(mode) {
    const chosen = choices();
    if (!chosen.file) {
      section.dataset.state = "error";
      say(t("Виберіть файл реєстру (CSV або XLSX)."));
      fileInput.focus();
      return null;
    }
    const body = new FormData();
    body.append("file", chosen.file, chosen.file.name);
    body.append("layer", chosen.layer);
    body.append("crs", chosen.crs);
    body.append("retire_missing", chosen.retire ? "true" : "false");
    body.append("mode", mode);
    section.dataset.state = mode === "apply" ? "applying" : "previewing";
    previewButton.disabled = applyButton.disabled = true;
    say(mode === "apply" ? t("Застосування імпорту…") : t("Читання реєстру…"));
    let r;
    try {
      r = await api(URL, { method: "POST", headers: { "X-CSRF-Token": csrf.get() }, body });
    } catch (error) {
      r = { ok: false, status: 0, body: { detail: error.message } };
    } finally {
      previewButton.disabled = applyButton.disabled = false;
    }
    if (!r.ok) {
      section.dataset.state = "error";
      applyButton.hidden = true;
      say(t("Імпорт не вдався: {error}", { error: r.body.detail || `HTTP ${r.status}` }));
      return null;
    }
    return { chosen, body: r.body };
  }

  async function preview(event) {
    event.preventDefault();
    const got = await send("preview");
    if (!got) return;
    previewed = got.chosen;
    render(got.body);
    section.dataset.state = "previewed";
  }

  async function apply() {
    const got = await send("apply");
    if (!got) return;
    previewed = null;
    render(got.body);
    const entry = view.entries.get(got.body.layer);
    if (entry) {
      if (entry.checkbox.checked) {
        await view.reload(entry);
      } else {
        entry.checkbox.checked = true;
        await view.switchOn(entry);
      }
    }
    section.dataset.state = "applied";
  }

  // A changed file or choice makes the shown preview another file's: preview again first.
  function stale() {
    if (!previewed) return;
    const now = choices();
    if (now.file !== previewed.file || now.layer !== previewed.layer || now.crs !== previewed.crs
      || now.retire !== previewed.retire) {
      previewed = null;
      applyButton.hidden = true;
      section.dataset.state = "ready";
      say(t("Вибір змінено: перегляньте імпорт ще раз."));
    }
  }

  async function attach(planner) {
    view = planner;
    const config = JSON.parse(document.getElementById("planner-config").textContent);
    if (!config.maybeSignedIn) return; // the public: the page as it was
    const me = await window.portal.me(config.meUrl);
    if (!me.ok || !EDITORS.has(me.body.role)) return;
    if (me.body.csrf_token) csrf.keep(me.body.csrf_token);
    section.hidden = false;
    section.dataset.state = "ready";
    form.addEventListener("submit", preview);
    applyButton.addEventListener("click", apply);
    for (const input of [fileInput, layerSelect, crsSelect, retireBox]) {
      input.addEventListener("change", stale);
    }
  }

  window.plannerAddons = window.plannerAddons || [];
  window.plannerAddons.push({ attach });
})();

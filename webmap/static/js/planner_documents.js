// The files of a permit on /planner (issue 16, item 1), for planners and administrators: in the
// editing form of a structure or a kiosk (planner_edit.js calls show() when the form opens) a
// «Документи дозволу» fieldset lists its documents (a download link, size, date), attaches a
// PDF, JPEG or PNG and removes one after a confirmation; in the attribute card (the
// plannerAddons `card` hook) the same list, read-only. The API: /api/v1/planner/… (the
// cookie session, its CSRF token on POST and DELETE); messages go to the form's status area.
//
// The browser test reads #edit-documents[data-state] ("none", "new", "loading", "ready",
// "uploading", "failed") and #attrs-documents[data-state] ("loading", "ready", "failed").
(function () {
  "use strict";

  const { t } = window.i18n;
  const { api, csrf, el, day, me } = window.portal;
  const EDITORS = new Set(["planner", "admin"]);
  const LAYERS = new Set(["advertising_structures", "kiosks"]);
  const ACCEPT = ".pdf,.jpg,.jpeg,.png,application/pdf,image/jpeg,image/png";
  const $ = (id) => document.getElementById(id);

  let who = Promise.resolve(null); // the signed-in role, once attach() has asked
  let current = null; // the form's feature: { layer, id, node }, null when none
  let cards = 0; // the attribute cards opened: an answer for an older one is dropped

  const listUrl = (layer, id) =>
    `/api/v1/planner/${encodeURIComponent(layer)}/${encodeURIComponent(id)}/documents`;

  function say(text) {
    const status = $("edit-status");
    if (status) status.textContent = text;
  }

  function size(bytes) {
    const format = (n) => n.toLocaleString(window.i18n.locale, { maximumFractionDigits: 1 });
    if (bytes < 1024) return t("{n} Б", { n: bytes });
    if (bytes < 1024 * 1024) return t("{n} КБ", { n: format(bytes / 1024) });
    return t("{n} МБ", { n: format(bytes / 1024 / 1024) });
  }

  function link(doc) {
    const a = el("a", "doc-link", doc.filename);
    a.href = doc.url;
    a.setAttribute("download", doc.filename);
    return a;
  }

  function meta(doc) {
    return el("span", "doc-meta muted small", `${size(doc.size)}, ${day(doc.uploaded_at)}`);
  }

  async function fetchList(layer, id) {
    return api(listUrl(layer, id));
  }

  // --- the editing form ---------------------------------------------------------------------

  function row(doc) {
    const li = el("li", "doc");
    li.dataset.id = String(doc.id);
    const remove = el("button", "button small danger", t("Видалити"));
    remove.type = "button";
    remove.setAttribute("aria-label", t("Видалити документ «{name}»", { name: doc.filename }));
    const confirm = el("div", "doc-confirm");
    confirm.setAttribute("role", "group");
    confirm.hidden = true;
    const question = el("span", "small", t("Видалити «{name}»?", { name: doc.filename }));
    const yes = el("button", "button small danger doc-yes", t("Так, видалити"));
    yes.type = "button";
    const no = el("button", "button small doc-no", t("Ні"));
    no.type = "button";
    confirm.append(question, yes, no);
    remove.addEventListener("click", () => {
      confirm.hidden = false;
      no.focus();
    });
    no.addEventListener("click", () => {
      confirm.hidden = true;
      remove.focus();
    });
    yes.addEventListener("click", () => removeDocument(doc, li));
    li.append(link(doc), document.createTextNode(" "), meta(doc), document.createTextNode(" "), remove, confirm);
    return li;
  }

  async function load(state) {
    const { layer, id, node } = state;
    node.dataset.state = "loading";
    const r = await fetchList(layer, id);
    if (current !== state) return;
    const list = node.querySelector(".doc-list");
    const none = node.querySelector(".doc-none");
    if (!r.ok) {
      node.dataset.state = "failed";
      say(r.body.detail || t("Не вдалося завантажити документи (HTTP {status}).", { status: r.status }));
      return;
    }
    list.replaceChildren(...r.body.items.map(row));
    none.hidden = r.body.items.length > 0;
    node.querySelector(".doc-controls label").textContent =
      t("Файл (PDF, JPEG або PNG, до {size})", { size: size(r.body.max_bytes) });
    node.dataset.count = String(r.body.items.length);
    node.dataset.state = "ready";
  }

  async function upload(state, input) {
    const file = input.files && input.files[0];
    if (!file) {
      say(t("Оберіть файл документа."));
      input.focus();
      return;
    }
    const body = new FormData();
    body.append("file", file, file.name);
    state.node.dataset.state = "uploading";
    say(t("Додавання документа…"));
    const r = await api(listUrl(state.layer, state.id), {
      method: "POST", body, headers: { "X-CSRF-Token": csrf.get() },
    });
    if (current !== state) return;
    if (!r.ok) {
      state.node.dataset.state = "failed";
      say(r.body.detail || t("Не вдалося додати документ (HTTP {status}).", { status: r.status }));
      input.focus();
      return;
    }
    input.value = "";
    await load(state);
    say(t("Документ «{name}» додано.", { name: r.body.filename }));
  }

  async function removeDocument(doc, li) {
    const state = current;
    if (!state) return;
    const r = await api(doc.url, { method: "DELETE", headers: { "X-CSRF-Token": csrf.get() } });
    if (current !== state) return;
    if (!r.ok && r.status !== 404) {
      say(r.body.detail || t("Не вдалося видалити документ (HTTP {status}).", { status: r.status }));
      return;
    }
    li.remove();
    await load(state);
    say(t("Документ «{name}» видалено.", { name: doc.filename }));
    state.node.querySelector(".doc-file").focus();
  }

  // planner_edit.js: the form opened on `id` of `layer` (null: a new feature, not yet saved).
  function show(layer, id, node) {
    if (!node) return;
    current = null;
    node.replaceChildren();
    node.hidden = !LAYERS.has(layer);
    if (node.hidden) return;
    const fieldset = el("fieldset", "documents");
    fieldset.append(el("legend", null, t("Документи дозволу")));
    node.append(fieldset);
    if (id === null || id === undefined || id === "") {
      node.dataset.state = "new";
      fieldset.append(el("p", "muted small", t("Збережіть об'єкт, щоб додати документи.")));
      return;
    }
    const state = { layer, id, node };
    current = state;
    const list = el("ul", "doc-list");
    const none = el("p", "doc-none muted small", t("Документів ще немає."));
    none.hidden = true;
    const inputId = "edit-document-file";
    const label = el("label", null, t("Файл (PDF, JPEG або PNG)"));
    label.htmlFor = inputId;
    const input = el("input", "doc-file");
    input.type = "file";
    input.id = inputId;
    input.accept = ACCEPT;
    const add = el("button", "button doc-add", t("Додати"));
    add.type = "button";
    add.id = "edit-document-add";
    add.addEventListener("click", () => upload(state, input));
    const controls = el("div", "doc-controls");
    controls.append(label, input, add);
    fieldset.append(list, none, controls);
    load(state);
  }

  // --- the attribute card -------------------------------------------------------------------

  async function card(entry, feature, node) {
    if (!LAYERS.has(entry.name) || feature.id === null || feature.id === undefined) return;
    // Another council's feature (issue 17: its `version` null for this planner): not theirs.
    const p = feature.properties || {};
    if (Object.prototype.hasOwnProperty.call(p, "version") && p.version === null) return;
    const seq = ++cards;
    const role = await who;
    if (!EDITORS.has(role) || seq !== cards) return;
    const box = el("section", "attrs-documents");
    box.id = "attrs-documents";
    box.dataset.state = "loading";
    box.setAttribute("aria-labelledby", "attrs-documents-title");
    const title = el("h3", null, t("Документи дозволу"));
    title.id = "attrs-documents-title";
    box.append(title);
    node.append(box);
    const r = await fetchList(entry.name, feature.id);
    if (!r.ok) {
      box.append(el("p", "muted small", r.body.detail || t("Не вдалося завантажити документи (HTTP {status}).", { status: r.status })));
      box.dataset.state = "failed";
      return;
    }
    if (r.body.items.length) {
      const list = el("ul", "doc-list");
      list.replaceChildren(...r.body.items.map((doc) => {
        const li = el("li", "doc");
        li.append(link(doc), document.createTextNode(" "), meta(doc));
        return li;
      }));
      box.append(list);
    } else {
      box.append(el("p", "muted small", t("Документів ще немає.")));
    }
    box.dataset.count = String(r.body.items.length);
    box.dataset.state = "ready";
  }

  function attach() {
    const config = JSON.parse($("planner-config").textContent);
    if (!config.maybeSignedIn) return; // the public: no documents
    who = me(config.meUrl).then((r) => (r.ok ? r.body.role : null)).catch(() => null);
  }

  window.plannerDocuments = { show };
  (window.plannerAddons = window.plannerAddons || []).push({ attach, card });
})();

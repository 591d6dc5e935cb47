// The administrator's Open311 keys (/admin, section "Open311"; gis/open311_clients.py): the
// client applications with when each key was made and last used, its calls in the last 30 days
// and whether it is revoked; the form that makes a key (shown once, with a copy button) and the
// revocation, after a confirmation. Everything goes through /api/v1/admin/open311/keys with the
// session cookie and its CSRF token. Nothing is inserted as HTML.
(function () {
  "use strict";

  const config = JSON.parse(document.getElementById("page-config").textContent);
  const { t, lang: LANG } = window.i18n;
  const { api, csrf, text, el } = window.portal;
  const $ = (id) => document.getElementById(id);
  const section = $("open311");
  const base = section.dataset.api;
  const locale = LANG === "en" ? "en-GB" : "uk-UA";

  const send = window.portal.sendJson;
  const fail = (body) => body.detail || t("Не вдалося виконати дію.");
  const when = (iso) => (iso ? new Date(iso).toLocaleString(locale, { timeZone: "Europe/Kyiv" }) : t("ще ні"));

  function row(c) {
    const tr = document.createElement("tr");
    tr.dataset.id = String(c.id);
    tr.dataset.revoked = String(c.revoked);
    const actions = el("td", "actions");
    if (!c.revoked) {
      const b = el("button", "secondary", t("Відкликати"));
      b.type = "button";
      b.addEventListener("click", () => revoke(c, b));
      actions.append(b);
    }
    const created = c.created_by ? `${when(c.created_at)} (${c.created_by})` : when(c.created_at);
    const status = c.revoked ? t("відкликано {when}", { when: when(c.revoked_at) }) : t("діє");
    tr.append(el("td", "", c.name), el("td", "", created), el("td", "", when(c.last_used_at)),
      el("td", "", c.calls_30d), el("td", c.revoked ? "error" : "", status), actions);
    return tr;
  }

  function load() {
    return window.portal.loadSectionList("open311", base, row, fail);
  }

  async function revoke(c, control) {
    if (!window.confirm(t("Відкликати ключ застосунку «{name}»? Його запити отримуватимуть відмову 403; новий ключ доведеться створити й передати заново.", { name: c.name }))) return;
    $("open311-error").textContent = "";
    control.disabled = true;
    const r = await send("DELETE", `${base}/${c.id}`);
    if (!r.ok) {
      control.disabled = false;
      text($("open311-error"), fail(r.body));
      return;
    }
    text($("open311-status"), t("Ключ застосунку «{name}» відкликано.", { name: c.name }));
    await load();
  }

  $("open311-new-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    const error = $("open311-new-error");
    error.textContent = "";
    $("open311-key-box").hidden = true;
    $("open311-key").value = "";
    const name = $("open311-name").value.trim();
    if (!name) {
      text(error, t("Вкажіть назву застосунку."));
      $("open311-name").focus();
      return;
    }
    $("open311-submit").disabled = true;
    try {
      const r = await send("POST", base, { name });
      if (!r.ok) {
        text(error, fail(r.body));
        return;
      }
      text($("open311-key-done"), t("Ключ для «{name}» створено. Він показується лише зараз.", { name: r.body.name }));
      $("open311-key").value = r.body.key;
      $("open311-key-box").hidden = false;
      $("open311-name").value = "";
      $("open311-key").focus();
      $("open311-key").select();
      await load();
    } finally {
      $("open311-submit").disabled = false;
    }
  });

  $("open311-copy").addEventListener("click", async () => {
    const input = $("open311-key");
    input.select();
    try {
      await navigator.clipboard.writeText(input.value);
      text($("open311-key-done"), t("Ключ скопійовано."));
    } catch (exc) {
      text($("open311-key-done"), t("Скопіюйте виділений ключ: Ctrl+C (⌘C на Mac)."));
    }
  });

  async function start() {
    const me = await window.portal.me(config.meUrl);
    if (!me.ok || me.body.role !== "admin") return; // admin.js says why
    csrf.keep(me.body.csrf_token);
    await load();
    section.hidden = false;
    section.dataset.state = "ready";
  }

  start().catch(() => {
    text($("open311-error"), t("Сервер недоступний. Спробуйте пізніше."));
  });
})();

// "My appeals" of a signed-in citizen: each appeal with its status, the executor's answer from
// the public card, and — when the result awaits the author (status on_check) — confirm or
// reject. Data only through the API with the session cookie; unsafe requests carry the CSRF
// token that /api/v1/me hands out. Nothing from the API is inserted as HTML.
(function () {
  "use strict";

  const config = JSON.parse(document.getElementById("page-config").textContent);
  const root = document.getElementById("my-appeals");
  const list = document.getElementById("my-list");
  const statusEl = document.getElementById("my-status");
  const errorEl = document.getElementById("my-error");
  const template = document.getElementById("my-item");
  const { t, plural, locale, lang } = window.i18n;
  const { api, postJson, STATUS_NAMES } = window.portal;
  // This page's token is the one /api/v1/me hands out when it loads (not kept for the tab).
  let csrf = "";

  function day(iso) {
    return iso ? new Date(iso).toLocaleDateString(locale) : "—";
  }

  function fill(item, appeal, card) {
    const q = (selector) => item.querySelector(selector);
    item.dataset.number = appeal.number;
    item.dataset.status = appeal.status;
    item.dataset.overdue = String(Boolean(appeal.overdue));
    q(".my-number").textContent = t("№ {number}", { number: appeal.number });
    q(".my-status-name").textContent = STATUS_NAMES[appeal.status] || (card && card.status_name) || appeal.status;
    q(".my-category").textContent = (lang === "en" && appeal.category_en) || appeal.category || "";
    q(".my-address").textContent = appeal.address || "";
    const deadline = appeal.extended_until || appeal.deadline_at;
    q(".my-dates").textContent = t("Подано {created}; строк — {deadline}",
      { created: day(appeal.created_at), deadline: day(deadline) }) // prettier-ignore
      + (appeal.closed_at ? t("; закрито {closed}", { closed: day(appeal.closed_at) }) : "");
    if (appeal.overdue) {
      const overdue = document.createElement("span");
      overdue.className = "my-overdue";
      overdue.textContent = t(" · прострочено");
      q(".my-dates").append(overdue);
    }
    // The executor's answer (its text, its photos) once there is one; the result (1551's
    // wording: "Очікує прийому в роботу", "Виконано / …") under it, or alone before.
    const answer = card && card.answer;
    q(".my-answer").hidden = !answer;
    q(".my-answer-text").textContent = answer || "";
    // The answer's photos, shown before the author is asked to confirm the result.
    const photos = window.portal.answerPhotos(q(".my-answer-photos"), card);
    if (photos.length) q(".my-answer").hidden = false;
    q(".my-result").textContent = card && card.result ? t("Результат: {result}", { result: window.portal.resultOf(card) }) : "";
    const form = q(".my-decision");
    form.hidden = appeal.status !== "on_check";
    form.onsubmit = (event) => decide(event, item, appeal.number);
  }

  async function decide(event, item, number) {
    event.preventDefault();
    const form = event.target;
    const action = event.submitter ? event.submitter.value : "confirm";
    const errorBox = form.querySelector(".my-decision-error");
    errorBox.textContent = "";
    for (const button of form.querySelectorAll("button")) button.disabled = true;
    const comment = form.elements.comment.value.trim();
    const r = await postJson(`${config.appealsUrl}/${encodeURIComponent(number)}/${action}`,
      comment ? { comment } : {}, { "X-CSRF-Token": csrf });
    for (const button of form.querySelectorAll("button")) button.disabled = false;
    if (!r.ok) {
      errorBox.textContent = r.body.detail || t("Помилка HTTP {status}", { status: r.status });
      return;
    }
    await refresh(item, number);
  }

  async function card(number) {
    const r = await api(`${config.appealsUrl}/${encodeURIComponent(number)}`);
    return r.ok ? r.body : null;
  }

  async function refresh(item, number) {
    const mine = await api(config.myAppealsUrl + "?limit=200");
    const appeal = (mine.body.items || []).find((a) => a.number === number);
    if (appeal) fill(item, appeal, await card(number));
  }

  async function load() {
    const me = await api(config.meUrl);
    if (me.status === 401) {
      window.location.assign(config.loginUrl);
      return;
    }
    csrf = me.body.csrf_token || "";
    if (me.body.role !== "citizen") {
      statusEl.textContent = t("Ця сторінка — для мешканців, які подали звернення. Ваша черга — у кабінеті.");
      root.dataset.state = "ready";
      return;
    }
    const mine = await api(config.myAppealsUrl + "?limit=200");
    if (!mine.ok) throw new Error(mine.body.detail || `HTTP ${mine.status}`);
    const appeals = mine.body.items || [];
    statusEl.textContent = appeals.length
      ? plural(appeals.length, "{n} звернення|{n} звернення|{n} звернень")
      : t("Ви ще не подавали звернень."); // prettier-ignore
    const cards = await Promise.all(appeals.map((a) => card(a.number)));
    appeals.forEach((appeal, i) => {
      const item = template.content.firstElementChild.cloneNode(true);
      fill(item, appeal, cards[i]);
      list.append(item);
    });
    root.dataset.state = "ready";
  }

  load().catch((exc) => {
    root.dataset.state = "error";
    errorEl.textContent = exc.message;
  });
})();

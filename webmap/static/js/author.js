// An author's pages from a notification's link (author.html, author_unsubscribe.html): the
// appeal's public card with the answer, confirm or reject it while it awaits the author, or
// unsubscribe. No account: the link's token (in the page's config) goes in the body of each
// POST (/api/v1/appeals/{number}/author-…). Nothing from the API is inserted as HTML.
(function () {
  "use strict";

  const config = JSON.parse(document.getElementById("page-config").textContent);
  const root = document.getElementById("author");
  const { t, locale } = window.i18n;
  const { api, postJson, STATUS_NAMES, resultOf, text } = window.portal;
  const $ = (id) => document.getElementById(id);

  function day(iso) {
    return iso ? new Date(iso).toLocaleDateString(locale) : "—";
  }

  function failure(r) {
    return r.body.detail || t("Помилка HTTP {status}", { status: r.status });
  }

  // --- the card -----------------------------------------------------------------------------

  function fill(card) {
    const q = (selector) => root.querySelector(selector);
    root.dataset.status = card.status;
    text(q(".author-status-name"), STATUS_NAMES[card.status] || card.status_name || card.status);
    q(".author-overdue").hidden = !card.overdue;
    const result = resultOf(card);
    text(q(".author-result"), result ? t("Результат: {result}", { result }) : "", "");
    // The public card's category as the desks name it: "kind — sub-kind" ("Загальні питання"
    // is a sub-kind of many kinds).
    const category = card.category || {};
    const kind = category.kind || {};
    text(q(".author-category"), window.portal.categoryOf({
      category: category.name, category_en: category.name_en, kind_name: kind.name, kind_name_en: kind.name_en,
    }));
    text(q(".author-address"), card.address);
    text(q(".author-created"), day(card.created_at));
    text(q(".author-deadline"), day(card.deadline_at));
    text(q(".author-executor"), card.executor);
    // The executor's answer (its text, its photos: public by 1551's rules).
    const photos = window.portal.answerPhotos(q(".author-answer-photos"), card);
    text(q(".author-answer-text"), card.answer, "");
    q(".author-answer").hidden = !card.answer && photos.length === 0;
    $("author-card").hidden = false;
    // The decision while the answer awaits the author (the lifecycle allows it on check).
    $("author-decision").hidden = !(config.valid && card.status === "on_check");
  }

  async function loadCard() {
    const r = await api(config.cardUrl);
    if (!r.ok) throw new Error(failure(r));
    fill(r.body);
    text($("author-status"), "", "");
    return r.body;
  }

  function focusTarget() {
    if ($("author-decision").hidden) return;
    if (window.location.hash === "#confirm") $("confirm-button").focus();
    else if (window.location.hash === "#reject") $("reject-comment").focus();
  }

  async function decide(event, action) {
    event.preventDefault();
    const errorBox = $("author-decision-error");
    errorBox.textContent = "";
    const payload = { token: config.token };
    if (action === "reject") {
      const comment = $("reject-comment").value.trim();
      if (!comment) {
        errorBox.textContent = t("Напишіть, що саме не виконано.");
        $("reject-comment").focus();
        return;
      }
      payload.comment = comment;
    }
    const buttons = root.querySelectorAll("#author-decision button");
    for (const button of buttons) button.disabled = true;
    const r = await postJson(action === "confirm" ? config.confirmUrl : config.rejectUrl, payload);
    for (const button of buttons) button.disabled = false;
    if (!r.ok) {
      errorBox.textContent = failure(r);
      return;
    }
    text($("author-done"), action === "confirm"
      ? t("Дякуємо! Виконання підтверджено, звернення закрито.")
      : t("Звернення повернуто виконавцю на доопрацювання.")); // prettier-ignore
    root.dataset.decided = action;
    await loadCard();
    $("author-done").focus();
  }

  async function cardPage() {
    $("author-done").tabIndex = -1;
    $("confirm").addEventListener("submit", (event) => decide(event, "confirm"));
    $("reject").addEventListener("submit", (event) => decide(event, "reject"));
    if (!config.found) {
      text($("author-status"), "", "");
      root.dataset.state = "ready";
      return;
    }
    await loadCard();
    root.dataset.state = "ready";
    focusTarget();
    window.addEventListener("hashchange", focusTarget); // the other of the mail's two links
  }

  // --- unsubscribe --------------------------------------------------------------------------

  function unsubscribePage() {
    const form = $("unsubscribe");
    if (!form) return;
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      const button = $("unsubscribe-button");
      button.disabled = true;
      $("author-error").textContent = "";
      const r = await postJson(config.unsubscribeUrl, { token: config.token });
      button.disabled = false;
      if (!r.ok) {
        $("author-error").textContent = failure(r);
        return;
      }
      form.hidden = true;
      text($("author-done"), t("Ви відписалися від повідомлень про це звернення."));
      root.dataset.state = "unsubscribed";
    });
  }

  const run = root.dataset.page === "unsubscribe" ? async () => unsubscribePage() : cardPage;
  run().catch((exc) => {
    root.dataset.state = "error";
    if ($("author-status")) text($("author-status"), "", "");
    if ($("author-error")) text($("author-error"), exc.message);
  });
})();

// The page's language on the browser side (webmap/i18n.py is the server side). Every text a
// script shows is written in Ukrainian and passed through t("…", {name: value}) or
// plural(n, "одна|кілька|багато", {…}); the page carries the English catalogue as JSON
// (#page-i18n) when it is shown in English, and nothing when in Ukrainian. Loaded before the
// page's own script, which takes window.i18n.
(function () {
  "use strict";

  const LANG = document.documentElement.lang || "uk";
  const node = document.getElementById("page-i18n");
  const messages = node ? JSON.parse(node.textContent) : {};

  function format(text, params) {
    if (!params) return text;
    return text.replace(/\{(\w+)\}/g, (whole, name) =>
      Object.prototype.hasOwnProperty.call(params, name) ? String(params[name]) : whole);
  }

  function t(text, params) {
    return format(messages[text] || text, params);
  }

  // Ukrainian has three forms (1 звернення, 2 звернення, 5 звернень), English two; the forms of
  // a language are in the order of its plural categories, "other" falling on the second.
  const rules = new Intl.PluralRules(LANG);
  const FORM = LANG === "uk" ? { one: 0, few: 1, many: 2, other: 1 } : { one: 0, other: 1 };

  function plural(n, forms, params) {
    const list = (messages[forms] || forms).split("|");
    const index = Math.min(FORM[rules.select(n)] ?? list.length - 1, list.length - 1);
    return format(list[index], Object.assign({ n: n.toLocaleString(locale) }, params));
  }

  // Dates and numbers in the page's language (en-GB: day before month, as in Ukraine).
  const locale = LANG === "en" ? "en-GB" : "uk-UA";

  // The language switch (a[data-lang], one on every page) keeps the page's current address:
  // its filters and map view live in the query and the hash, which scripts change as one works.
  document.addEventListener("click", (event) => {
    const link = event.target.closest && event.target.closest("a[data-lang]");
    if (!link) return;
    event.preventDefault();
    const url = new URL(window.location.href);
    url.searchParams.set("lang", link.dataset.lang);
    window.location.assign(url.toString());
  });

  window.i18n = { lang: LANG, locale, t, plural };
})();

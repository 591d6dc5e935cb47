// The contact centre's curator (/curator): the queues with their counts, an appeal's card with
// the answer's photos beside the appeal's, accept or return an answer for rework (with a
// reason), redirect an appeal returned as not in competence, helped by the routing dry run at
// its point, and give an appeal filed with no location its place (clicked on the card's map or
// found by its address), then redirect it to routing's choice there; with several councils,
// transfer it to the council it belongs to (art. 7: within 5 days). Everything comes from the
// API with the session cookie.
(function () {
  "use strict";

  const config = JSON.parse(document.getElementById("page-config").textContent);
  const { t, lang } = window.i18n;
  const { api, postJson, csrf, text, el, STATUS_NAMES, day, categoryOf, appealRow } = window.portal;
  const fill = window.portal.fillUrl;
  const $ = (id) => document.getElementById(id);
  const root = $("curator");
  const statusEl = $("desk-status");
  const errorEl = $("desk-error");
  const QUEUE_TITLES = {
    check: t("Відповіді, що чекають перевірки куратором"),
    not_competent: t("Повернуті як не в компетенції: перенаправити"),
    no_location: t("Незакриті звернення без місця"),
    no_executor: t("Незакриті звернення без виконавця"),
  };
  const AWAITING = { curator: t("куратора (перевірка відповіді)"), author: t("заявника (підтвердження)"),
    redirect: t("куратора (перенаправлення за належністю)") }; // prettier-ignore
  const ANSWER_KINDS = { done: t("виконано"), explained: t("роз'яснено"), funding: t("потребує фінансування") };
  let current = "check";
  let appeal = null;

  async function loadCounts() {
    const { ok, status, body } = await api(config.countsUrl);
    if (status === 401) { window.location.assign(config.loginUrl); return false; }
    if (!ok) throw new Error(body.detail || `HTTP ${status}`);
    for (const [queue, n] of Object.entries(body.counts)) {
      const span = $(`count-${queue}`);
      if (span) { text(span, n); span.dataset.count = String(n); }
    }
    return true;
  }

  // A queue, its oldest 100 first; `more` adds the next 100 under them ('Показати ще').
  async function loadQueue(queue, more = false) {
    current = queue;
    for (const tab of document.querySelectorAll(".queue-tab")) {
      tab.setAttribute("aria-pressed", String(tab.dataset.queue === queue));
    }
    text($("list-title"), QUEUE_TITLES[queue]);
    const tbody = $("queue-table").querySelector("tbody");
    const offset = more ? tbody.rows.length : 0;
    $("queue-next").disabled = true;
    const { ok, status, body } = await api(`${fill(config.queueUrl, { queue })}?limit=100&offset=${offset}`);
    $("queue-next").disabled = false;
    if (!ok) throw new Error(body.detail || `HTTP ${status}`);
    if (current !== queue) return; // another queue chosen meanwhile
    if (!more) tbody.replaceChildren();
    for (const r of body.items) {
      tbody.appendChild(appealRow(r, [categoryOf(r), r.address || "—", r.executor || "—",
        [day(r.deadline_at), r.overdue ? "overdue" : ""]], (number) => openCard(number).catch(fail)));
    }
    $("queue-table").dataset.queue = queue;
    const shown = tbody.rows.length;
    $("queue-table").dataset.rows = String(shown);
    text($("queue-more"), body.count > shown
      ? t("Показано {shown} з {total} (найдавніші).", { shown, total: body.count })
      : (body.count ? "" : t("У цій черзі звернень немає.")));
    $("queue-next").hidden = body.count <= shown || !body.items.length;
  }

  function photos(box, shas) {
    box.replaceChildren();
    if (!shas.length) { box.appendChild(el("span", "hint", t("немає"))); return; }
    shas.forEach((sha, i) => {
      const link = el("a");
      link.href = fill(config.photoUrl, { sha256: sha });
      link.target = "_blank";
      link.rel = "noopener";
      const img = el("img");
      img.src = link.href;
      img.alt = t("Фото {n}", { n: i + 1 });
      link.appendChild(img);
      box.appendChild(link);
    });
  }

  // --- the card's map: the candidate territories of a redirect, or a place to choose ----------
  let map = null;
  let drawn = null;
  const TERRITORY_COLOURS = ["#1f5fa8", "#8a5a9e", "#2e7d32", "#d97a00", "#b3261e"];

  function ensureMap() {
    if (map) return map;
    map = window.portal.homeView(L.map($("territory-map"), { zoomControl: true, keyboard: true }), config, 11);
    window.hromadaCuratorMap = map; // for the browser test
    window.portal.addBackground(map, config, config.attribution);
    // The city's districts, so that the map shows where it is without the online background.
    window.portal.fetchAllFeatures(config.districtsUrl)
      .then((features) => {
        const style = { ...config.districtsStyle, fillOpacity: 0.05, interactive: false };
        L.geoJSON({ type: "FeatureCollection", features }, { style }).addTo(map);
        $("territory-map").dataset.districts = String(features.length);
      })
      .catch(() => {}); // the address search still places the point
    map.on("click", (e) => {
      if (!locating) return;
      $("locate-results").replaceChildren();
      choosePlace({ lon: Number(e.latlng.lng.toFixed(6)), lat: Number(e.latlng.lat.toFixed(6)) });
    });
    return map;
  }

  function choose(territory) {
    $("redirect-executor").value = territory.executor_code || "";
    $("redirect-executor").focus();
  }

  function drawTerritories(body) {
    const box = $("territories-box");
    const list = $("territories");
    list.replaceChildren();
    box.hidden = !body.territories.length || body.lon == null;
    $("territory-map").hidden = box.hidden;
    if (box.hidden) return;
    for (const territory of body.territories) {
      const button = el("button", "secondary",
        t("Обрати: {executor} ({name})", { executor: territory.executor, name: territory.name }));
      button.type = "button";
      button.dataset.executor = territory.executor_code;
      button.addEventListener("click", () => choose(territory));
      list.appendChild(button);
    }
    ensureMap();
    if (drawn) drawn.remove();
    drawn = L.featureGroup().addTo(map);
    body.territories.forEach((territory, i) => {
      const colour = TERRITORY_COLOURS[i % TERRITORY_COLOURS.length];
      L.geoJSON(territory.geometry, {
        style: () => ({ color: colour, weight: 2, fillColor: colour, fillOpacity: 0.08 }),
      }).bindTooltip(`${territory.executor} — ${territory.name}`)
        .on("click", () => choose(territory)).addTo(drawn);
    });
    L.circleMarker([body.lat, body.lon], { radius: 7, color: "#1d2a36", weight: 2, fillColor: "#ffd166", fillOpacity: 1 })
      .addTo(drawn);
    map.invalidateSize();
    map.fitBounds(drawn.getBounds(), { padding: [10, 10], animate: false });
    $("territory-map").dataset.territories = String(body.territories.length);
  }

  // --- a place for an appeal filed without one (the no_location queue) -------------------------
  let locating = null; // the number of the appeal being given a place
  let place = null; // the place chosen: { lon, lat, address? }
  let placeMarker = null;

  function startLocating(body) {
    locating = body.number;
    place = null;
    $("locate-form").hidden = false;
    $("locate-submit").disabled = true;
    $("locate-q").value = "";
    $("locate-results").replaceChildren();
    text($("locate-place"), t("Місце ще не обрано."));
    $("territory-map").hidden = false;
    delete $("territory-map").dataset.place;
    ensureMap();
    if (drawn) { drawn.remove(); drawn = null; }
    if (placeMarker) placeMarker.remove();
    map.invalidateSize();
    window.portal.homeView(map, config, 11);
  }

  function placeLabel(p) {
    return p.address || `${p.lat.toFixed(5)}, ${p.lon.toFixed(5)}`;
  }

  function choosePlace(chosen) {
    place = chosen;
    if (!placeMarker) {
      placeMarker = L.circleMarker([chosen.lat, chosen.lon], { radius: 8, color: "#b3261e", weight: 3, fillOpacity: 0.5 });
    }
    placeMarker.setLatLng([chosen.lat, chosen.lon]).addTo(map);
    if (chosen.address) map.setView([chosen.lat, chosen.lon], 17, { animate: false });
    text($("locate-place"), t("Обрано: {address}", { address: placeLabel(chosen) }));
    text($("locate-error"), "");
    $("locate-submit").disabled = false;
    $("territory-map").dataset.place = `${chosen.lon},${chosen.lat}`;
  }

  async function searchPlace() {
    const q = $("locate-q").value.trim();
    const list = $("locate-results");
    list.replaceChildren();
    text($("locate-error"), "");
    if (!q) return;
    const { items, error } = await window.portal.searchAddress(config.searchUrl, q);
    text($("locate-error"), error);
    for (const item of items.slice(0, 8)) {
      const label = item.approximate ? t("{address} (приблизно)", { address: item.label }) : item.label;
      const button = el("button", "secondary", label);
      button.type = "button";
      button.addEventListener("click", () => {
        list.replaceChildren();
        choosePlace({ lon: item.lon, lat: item.lat, address: item.type === "address" ? item.label : undefined });
      });
      list.appendChild(button);
    }
  }

  // Routing's choice at a point, its reason in the page's language (the API gives reason_en).
  function routingText(r) {
    const reason = (lang === "en" && r.reason_en) || r.reason;
    return r.executor_code
      ? t("Маршрутизація в цій точці: {name} ({code}). {reason}", { name: r.executor_name, code: r.executor_code, reason })
      : t("Маршрутизація не знайшла виконавця: {reason}", { reason });
  }

  // Saved: the counts and the queue again (the appeal leaves "no location"), the card with its
  // place, and routing's choice there in the redirect form, ready to send.
  async function saveLocation(event) {
    event.preventDefault();
    if (!place) { text($("locate-error"), t("Оберіть місце на мапі або знайдіть адресу.")); return; }
    const number = appeal.number;
    const payload = { lon: place.lon, lat: place.lat };
    if (place.address) payload.address = place.address;
    const { ok, body } = await postJson(fill(config.locateUrl, { number }), payload,
      { "X-CSRF-Token": csrf.get() });
    if (!ok) { text($("locate-error"), body.detail || t("Не вдалося.")); return; }
    await loadCounts();
    await loadQueue(current);
    await openCard(number);
    const out = $("dry-run-result");
    out.dataset.executor = body.routing.executor_code || "";
    text(out, routingText(body.routing));
    if (body.routing.executor_code) $("redirect-executor").value = body.routing.executor_code;
    const saved = t("Місце вказано: {address}.", { address: placeLabel(body) });
    text($("locate-result"), [saved, routingText(body.routing)].join(" "));
  }

  async function openCard(number) {
    const { ok, status, body } = await api(fill(config.cardUrl, { number }));
    if (!ok) throw new Error(body.detail || `HTTP ${status}`);
    appeal = body;
    for (const row of $("queue-table").querySelectorAll("tbody tr")) {
      row.classList.toggle("selected", row.dataset.number === number);
    }
    const card = $("card");
    card.hidden = false;
    card.dataset.number = number;
    text($("card-title"), t("Звернення № {number}", { number }));
    const result = (body.result && window.portal.resultOf(body)) || "";
    text($("card-status"), [STATUS_NAMES[body.status] || body.status, result].filter(Boolean).join(" · "));
    text($("card-awaiting"), AWAITING[body.awaiting] || "—");
    text($("card-category"), categoryOf(body));
    text($("card-address"), body.address || (body.lon == null ? t("без місця") : `${body.lat.toFixed(5)}, ${body.lon.toFixed(5)}`));
    text($("card-executor"), body.executor || "—");
    text($("card-routing"), window.portal.routingOf(body));
    text($("card-deadline"), day(body.deadline_at));
    text($("card-text"), body.text);
    const answer = body.answer;
    $("answer-box").hidden = !answer;
    $("answer-photos-box").hidden = !answer;
    if (answer) {
      text($("answer-meta"), [ANSWER_KINDS[answer.kind] || answer.kind, day(answer.at), answer.by]
        .filter(Boolean).join("; "));
      text($("answer-text"), answer.text);
      photos($("answer-photos"), answer.photos);
    }
    photos($("appeal-photos"), body.photos);
    $("check-form").hidden = body.awaiting !== "curator";
    const redirectable = ["registered", "in_work", "rework"].includes(body.status);
    $("redirect-form").hidden = !redirectable;
    showTransfer(body, redirectable);
    text($("returned-reason"), body.returned
      ? t("Повернуто як не в компетенції {date}: {reason}", { date: day(body.returned.at), reason: body.returned.reason })
      : "");
    $("dry-run").disabled = body.lon == null;
    text($("dry-run-result"), body.lon == null ? t("Без місця: маршрутизація за точкою неможлива.") : "");
    locating = null;
    $("locate-form").hidden = true;
    $("territory-map").hidden = true;
    if (redirectable) drawTerritories(body);
    if (body.lon == null && body.status !== "closed") startLocating(body);
    $("check-comment").value = "";
    $("redirect-executor").value = "";
    $("redirect-reason").value = "";
    $("transfer-reason").value = "";
    for (const id of ["check-error", "redirect-error", "transfer-error", "card-done", "locate-error",
      "locate-result"]) text($(id), "");
    $("card-title").focus();
  }

  // After an action: the counts and the queue again, then the message (tests wait on it).
  async function done(message) {
    $("check-form").hidden = true;
    $("redirect-form").hidden = true;
    $("transfer-form").hidden = true;
    $("locate-form").hidden = true;
    await loadCounts();
    await loadQueue(current);
    text($("card-done"), message);
  }

  async function check(decision) {
    const comment = $("check-comment").value.trim();
    const field = $("check-comment");
    if (decision === "return" && !comment) {
      field.setAttribute("aria-invalid", "true");
      text($("check-error"), t("Вкажіть причину повернення на доопрацювання."));
      field.focus();
      return;
    }
    field.setAttribute("aria-invalid", "false");
    text($("check-error"), ""); // a former refusal is no longer true
    const payload = { decision };
    if (comment) payload.comment = comment;
    const { ok, body } = await postJson(fill(config.checkUrl, { number: appeal.number }), payload,
      { "X-CSRF-Token": csrf.get() });
    if (!ok) { text($("check-error"), body.detail || t("Не вдалося.")); return; }
    await done(decision === "accept"
      ? t("Відповідь прийнято: звернення № {number} закрито.", { number: appeal.number })
      : t("Звернення № {number} повернуто на доопрацювання.", { number: appeal.number }));
  }

  async function dryRun() {
    const params = new URLSearchParams({ category: appeal.category_id, lon: appeal.lon, lat: appeal.lat });
    const { ok, body } = await api(`${config.routeUrl}?${params}`);
    const out = $("dry-run-result");
    if (!ok) { text(out, body.detail || t("Не вдалося.")); return; }
    out.dataset.executor = body.executor_code || "";
    text(out, routingText(body));
    if (body.executor_code && !$("redirect-executor").value) $("redirect-executor").value = body.executor_code;
  }

  async function redirect(event) {
    event.preventDefault();
    const executor = $("redirect-executor").value.trim();
    const reason = $("redirect-reason").value.trim();
    $("redirect-executor").setAttribute("aria-invalid", String(!executor));
    $("redirect-reason").setAttribute("aria-invalid", String(!reason));
    if (!executor || !reason) {
      text($("redirect-error"), t("Вкажіть виконавця і підставу перенаправлення."));
      return;
    }
    const { ok, body } = await postJson(fill(config.redirectUrl, { number: appeal.number }),
      { executor, reason }, { "X-CSRF-Token": csrf.get() });
    if (!ok) { text($("redirect-error"), body.detail || t("Не вдалося.")); return; }
    // The executor by its name where the card knows it (a territory covering the point).
    const named = (appeal.territories || []).find((x) => x.executor_code === body.executor);
    const who = named && named.executor ? `${named.executor} (${body.executor})` : body.executor;
    await done(t("Звернення № {number} перенаправлено: {executor}.", { number: appeal.number, executor: who }));
  }

  // --- transfer to another council (art. 7: within 5 days of registration) ---------------------
  const TRANSFER_DAYS = 5;
  let councils = []; // the councils an appeal may go to (not occupied); none: one council
  let severalCouncils = false; // the card names the appeal's council when there are several

  async function loadCouncils() {
    const { ok, body } = await api(config.councilsUrl);
    councils = ok ? (body.items || []).filter((c) => !c.occupied) : [];
    severalCouncils = ok && (body.items || []).length > 1;
  }

  // The appeal's council on the card (its name; dt and dd hidden with one council).
  function showCouncil(body) {
    const dd = $("card-council");
    const shown = severalCouncils && Boolean(body.council);
    dd.hidden = !shown;
    dd.previousElementSibling.hidden = !shown;
    text(dd, body.council ? ((lang === "en" && body.council.name_en) || body.council.name) : "—");
    dd.dataset.code = body.council ? body.council.code : "";
  }

  function showTransfer(body, open) {
    showCouncil(body);
    // The OTHER councils: the card names the appeal's own (staff card's `council`).
    const others = councils.filter((c) => c.code !== (body.council && body.council.code));
    $("transfer-form").hidden = !open || councils.length < 2 || others.length === 0;
    if ($("transfer-form").hidden) return;
    const select = $("transfer-council");
    select.replaceChildren(...others.map((c) => {
      const option = document.createElement("option");
      option.value = c.slug;
      option.textContent = c.name;
      return option;
    }));
    const used = Math.floor((Date.now() - Date.parse(body.created_at)) / 86400000);
    const left = TRANSFER_DAYS - used;
    text($("transfer-days"), left >= 0
      ? t("Днів для передачі (із {days}): залишилось {left}.", { days: TRANSFER_DAYS, left })
      : t("П'ять днів для передачі минули: передати може лише куратор області."));
  }

  async function transfer(event) {
    event.preventDefault();
    const council = $("transfer-council").value;
    const reason = $("transfer-reason").value.trim();
    $("transfer-reason").setAttribute("aria-invalid", String(!reason));
    if (!council || !reason) {
      text($("transfer-error"), t("Оберіть громаду і вкажіть підставу передачі."));
      return;
    }
    const { ok, body } = await postJson(fill(config.transferUrl, { number: appeal.number }),
      { council, reason }, { "X-CSRF-Token": csrf.get() });
    if (!ok) { text($("transfer-error"), body.detail || t("Не вдалося.")); return; }
    await done(t("Звернення № {number} передано громаді «{council}».",
      { number: appeal.number, council: body.council.name }));
  }

  const fail = window.portal.deskFailure(root, errorEl);

  async function load() {
    const me = await window.portal.deskUser(config, root, "curator",
      { errorEl, statusEl, wrongRole: t("Ця сторінка — для кураторів контакт-центру.") });
    if (!me) return;
    if (!(await loadCounts())) return;
    await loadCouncils();
    for (const tab of document.querySelectorAll(".queue-tab")) {
      tab.addEventListener("click", () => loadQueue(tab.dataset.queue).catch(fail));
    }
    $("queue-next").addEventListener("click", () => loadQueue(current, true).catch(fail));
    $("check-accept").addEventListener("click", () => check("accept").catch(fail));
    $("check-return").addEventListener("click", () => check("return").catch(fail));
    $("dry-run").addEventListener("click", () => dryRun().catch(fail));
    $("redirect-form").addEventListener("submit", (event) => redirect(event).catch(fail));
    $("transfer-form").addEventListener("submit", (event) => transfer(event).catch(fail));
    $("locate-form").addEventListener("submit", (event) => saveLocation(event).catch(fail));
    $("locate-search").addEventListener("click", () => searchPlace().catch(fail));
    $("locate-q").addEventListener("keydown", (event) => {
      if (event.key !== "Enter") return;
      event.preventDefault();
      searchPlace().catch(fail);
    });
    await loadQueue(current);
    text(statusEl, "");
    root.dataset.state = "ready";
  }

  $("logout").addEventListener("click", () => window.portal.signOut(config, errorEl));
  load().catch(fail);
})();

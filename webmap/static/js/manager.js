// The manager's АРМ (/manager): unexecuted appeals of the organisation counted by
// sub-organisation (overdue, due within 2 days, due later, under personal control, with an
// executor's request for a longer term awaiting a decision), the list behind each count and its
// CSV, an appeal's card with its resolutions, the request (granted with extend or declined), a
// new resolution (main executor and co-executors, each with the deadline and the text) and the
// personal control.
// Everything comes from the API with the session cookie.
(function () {
  "use strict";

  const config = JSON.parse(document.getElementById("page-config").textContent);
  const { t } = window.i18n;
  const { api, postJson, csrf, text, el, STATUS_NAMES, day, categoryOf, appealRow } = window.portal;
  const fill = window.portal.fillUrl;
  const $ = (id) => document.getElementById(id);
  const root = $("manager");
  const errorEl = $("desk-error");
  const BUCKETS = ["open", "overdue", "due_2d", "due_later", "control", "extension"];
  const TITLES = {
    open: t("Невиконані звернення"),
    overdue: t("Прострочені звернення"),
    due_2d: t("Строк спливає за 2 дні"),
    due_later: t("Строк пізніше ніж за 2 дні"),
    control: t("На особистому контролі"),
    extension: t("Прохання продовжити строк, що чекають рішення"),
  };
  const state = { bucket: "open", executor: null, units: [], executors: [], appeal: null };

  // --- the map: the unexecuted appeals, coloured by lateness -----------------------------------
  const LATE_COLOURS = { overdue: "#b3261e", due_2d: "#d97a00", due_later: "#2e7d32" };
  const mapEl = $("late-map");
  const map = L.map(mapEl, { zoomControl: true, keyboard: true });
  window.portal.homeView(map, config, 11);
  window.portal.addBackground(map, config, config.attribution);
  const markers = L.layerGroup().addTo(map);

  function lateness(r) {
    if (r.overdue) return "overdue";
    const due = new Date(r.deadline_at).getTime();
    return due - Date.now() < 2 * 24 * 3600 * 1000 ? "due_2d" : "due_later";
  }

  async function drawMap() {
    const { ok, body } = await api(`${config.listUrl}?${new URLSearchParams({ bucket: "open", limit: "500" })}`);
    markers.clearLayers();
    if (!ok) return;
    const points = [];
    const drawn = { overdue: 0, due_2d: 0, due_later: 0 };
    for (const r of body.items) {
      if (r.lat == null || r.lon == null) continue;
      const late = lateness(r);
      drawn[late] += 1;
      const marker = L.circleMarker([r.lat, r.lon], {
        radius: 7, color: "#fff", weight: 1.5, fillColor: LATE_COLOURS[late], fillOpacity: 0.9,
      });
      marker.bindTooltip(`${r.number} · ${day(r.deadline_at)}`);
      marker.on("click", () => openCard(r.number).catch(fail));
      markers.addLayer(marker);
      points.push([r.lat, r.lon]);
    }
    mapEl.dataset.markers = String(points.length);
    for (const [late, n] of Object.entries(drawn)) mapEl.dataset[late] = String(n);
    if (points.length) map.fitBounds(points, { padding: [20, 20], maxZoom: 15, animate: false });
  }

  function countButton(cell, n, bucket, executor, label) {
    const button = el("button", "link", n);
    button.type = "button";
    button.dataset.bucket = bucket;
    button.setAttribute("aria-label", label);
    button.addEventListener("click", () => showList(bucket, executor).catch(fail));
    cell.appendChild(button);
  }

  async function loadSummary() {
    const { ok, status, body } = await api(config.summaryUrl);
    if (status === 401) { window.location.assign(config.loginUrl); return false; }
    if (!ok) throw new Error(body.detail || `HTTP ${status}`);
    for (const b of BUCKETS) {
      const span = $(`count-${b}`);
      text(span, body.total[b]);
      span.dataset.count = String(body.total[b]);
    }
    const tbody = $("by-unit").querySelector("tbody");
    tbody.replaceChildren();
    state.units = body.rows;
    for (const r of body.rows) {
      const row = document.createElement("tr");
      row.dataset.executor = String(r.executor_id);
      const head = el("th", "", r.name || r.code);
      head.scope = "row";
      row.appendChild(head);
      for (const b of BUCKETS) {
        const cell = el("td", "num");
        cell.dataset.bucket = b;
        cell.dataset.count = String(r[b]);
        countButton(cell, r[b], b, r.executor_id, `${r.name || r.code}: ${TITLES[b]} — ${r[b]}`);
        row.appendChild(cell);
      }
      tbody.appendChild(row);
    }
    return true;
  }

  async function showList(bucket, executor) {
    state.bucket = bucket;
    state.executor = executor;
    for (const tab of document.querySelectorAll(".queue-tab")) {
      tab.setAttribute("aria-pressed", String(tab.dataset.bucket === bucket && executor == null));
    }
    const unit = state.units.find((u) => u.executor_id === executor);
    text($("list-title"), unit ? `${TITLES[bucket]}: ${unit.name || unit.code}` : TITLES[bucket]);
    $("all-units").hidden = executor == null;
    const params = new URLSearchParams({ bucket });
    if (executor != null) params.set("executor", String(executor));
    $("csv-link").href = `${config.csvUrl}?${params}`;
    params.set("limit", "200");
    const { ok, status, body } = await api(`${config.listUrl}?${params}`);
    if (!ok) throw new Error(body.detail || `HTTP ${status}`);
    const tbody = $("list").querySelector("tbody");
    tbody.replaceChildren();
    for (const r of body.items) {
      tbody.appendChild(appealRow(r, [categoryOf(r), r.executor || "—",
        [day(r.deadline_at), r.overdue ? "overdue" : ""], r.control_until ? day(r.control_until) : "—"],
      (number) => openCard(number).catch(fail)));
    }
    const list = $("list");
    list.dataset.bucket = bucket;
    list.dataset.executor = executor == null ? "" : String(executor);
    list.dataset.count = String(body.count);
    list.dataset.rows = String(body.items.length);
    text($("list-more"), body.count > body.returned
      ? t("Показано {shown} з {total} (найраніший строк першим).", { shown: body.returned, total: body.count })
      : (body.count ? "" : t("Звернень немає.")));
  }

  function fillExecutors(appeal) {
    const main = $("res-main");
    main.replaceChildren(el("option", "", t("— не змінювати —")));
    main.firstChild.value = "";
    const co = $("res-co");
    for (const line of co.querySelectorAll(".co-line")) line.remove();
    // Only the sub-organisations of the appeal's executor (strictly below it) may be given a
    // resolution (the API refuses the others): its parents and siblings are not offered.
    const own = state.executors.find((e) => e.code === appeal.executor_code);
    const below = new Set(own ? [own.id] : []);
    for (let grown = true; grown; ) {
      grown = false;
      for (const e of state.executors) {
        if (below.has(e.parent_id) && !below.has(e.id)) { below.add(e.id); grown = true; } // prettier-ignore
      }
    }
    if (own) below.delete(own.id);
    // …and only while the appeal is being worked on (the API refuses it after the answer).
    const working = ["registered", "in_work", "rework"].includes(appeal.status);
    const offered = working ? state.executors.filter((e) => below.has(e.id)) : [];
    text($("res-none"), working ? t("У виконавця звернення немає підпорядкованих організацій: резолюцію видати нікому.")
      : t("Резолюцію видають лише зверненню в роботі: на це вже відповіли або його закрито.")); // prettier-ignore
    $("res-none").hidden = offered.length > 0;
    $("res-fields").hidden = !offered.length;
    $("resolution-form").dataset.offered = String(offered.length);
    // A resolution's term is not later than the appeal's (the API refuses it): the date fields
    // stop there.
    const term = (appeal.extended_until || appeal.deadline_at || "").slice(0, 10);
    $("res-deadline").max = term;
    for (const e of offered) {
      const option = el("option", "", e.name || e.code);
      option.value = e.code;
      main.appendChild(option);
      // Each co-executor with a deadline of its own (else the resolution's).
      const line = el("div", "co-line");
      const label = el("label");
      const box = el("input");
      box.type = "checkbox";
      box.value = e.code;
      box.name = "co";
      label.appendChild(box);
      label.appendChild(document.createTextNode(` ${e.name || e.code}`));
      const due = el("input");
      due.type = "date";
      due.className = "co-deadline";
      due.max = term;
      due.dataset.executor = e.code;
      due.setAttribute("aria-label", t("Строк співвиконавця: {name}", { name: e.name || e.code }));
      // …and a text of its own (else the resolution's).
      const own = el("input");
      own.type = "text";
      own.maxLength = 4000;
      own.className = "co-text";
      own.dataset.executor = e.code;
      own.setAttribute("aria-label", t("Текст для співвиконавця: {name}", { name: e.name || e.code }));
      own.placeholder = t("Свій текст (інакше — текст резолюції)");
      own.hidden = true; // shown for a chosen co-executor
      box.addEventListener("change", () => { own.hidden = !box.checked; });
      line.appendChild(label);
      line.appendChild(due);
      line.appendChild(own);
      co.appendChild(line);
    }
  }

  async function loadResolutions(number) {
    const { ok, body } = await api(fill(config.resolutionsUrl, { number }));
    const tbody = $("resolutions").querySelector("tbody");
    tbody.replaceChildren();
    if (!ok) return;
    for (const r of body.resolutions) {
      const row = document.createElement("tr");
      row.dataset.executor = r.executor;
      row.dataset.main = String(r.is_main);
      row.appendChild(el("td", "", r.executor_name || r.executor));
      row.appendChild(el("td", "", r.is_main ? t("головний") : t("співвиконавець")));
      row.appendChild(el("td", "", day(r.deadline_at)));
      row.appendChild(el("td", "", r.text || "—"));
      tbody.appendChild(row);
    }
    $("resolutions").dataset.rows = String(body.resolutions.length);
  }

  function grantLabel() {
    const until = $("ext-until").value;
    text($("ext-grant"), until ? t("Продовжити до {date}", { date: day(`${until}T12:00:00Z`) }) : t("Продовжити"));
  }

  // The executor's latest request for a longer term: who asked, when, why, until when; pending:
  // the grant (the date asked for, the reason editable) and the refusal; else its outcome.
  function showExtension(request) {
    const box = $("extension");
    box.hidden = !request;
    state.request = request;
    if (!request) return;
    box.dataset.state = request.state;
    text($("ext-asked"), t("{who}, {date}: просить продовжити строк до {until}.", {
      who: request.asked_by || "—", date: day(request.asked_at), until: day(request.requested_until),
    }));
    text($("ext-reason"), request.reason || "");
    const outcome = {
      pending: "",
      granted: t("Продовжено до {date}: {reason}", {
        date: day(request.extended_until), reason: request.decision_reason || "" }),
      declined: t("Відмовлено: {reason}", { reason: request.decision_reason || "" }),
      lapsed: t("Звернення закрито без рішення про строк."),
    }[request.state];
    text($("ext-outcome"), outcome || "");
    $("extension-form").hidden = request.state !== "pending";
    $("ext-until").value = request.requested_until ? window.portal.kyivDay(request.requested_until) : "";
    $("ext-grant-reason").value = request.reason || "";
    $("ext-decline-reason").value = "";
    for (const id of ["ext-until", "ext-grant-reason", "ext-decline-reason"]) $(id).removeAttribute("aria-invalid");
    text($("ext-error"), "");
    grantLabel();
  }

  async function decideExtension(grant) {
    const number = state.appeal.number;
    const request = state.request;
    const field = $(grant ? "ext-grant-reason" : "ext-decline-reason");
    const reason = field.value.trim();
    const until = $("ext-until").value;
    field.setAttribute("aria-invalid", String(!reason));
    $("ext-until").setAttribute("aria-invalid", String(grant && !until));
    if (!reason || (grant && !until)) {
      text($("ext-error"), grant ? t("Вкажіть новий строк і підставу продовження.")
        : t("Напишіть причину відмови."));
      return;
    }
    const headers = { "X-CSRF-Token": csrf.get() };
    // The day asked for: the very moment asked for; another day: its noon (as the executor's).
    const at = request.requested_until && until === window.portal.kyivDay(request.requested_until)
      ? request.requested_until : `${until}T12:00:00+00:00`;
    const r = grant
      ? await postJson(fill(config.extendUrl, { number }), { until: at, reason }, headers)
      : await postJson(fill(config.declineUrl, { number }), { reason }, headers);
    if (!r.ok) { text($("ext-error"), r.body.detail || t("Не вдалося.")); return; }
    await afterChange(grant
      ? t("Строк звернення № {number} продовжено до {date}.", { number, date: day(r.body.extended_until) })
      : t("У продовженні строку звернення № {number} відмовлено.", { number }));
  }

  async function openCard(number) {
    const { ok, status, body } = await api(fill(config.cardUrl, { number }));
    if (!ok) throw new Error(body.detail || `HTTP ${status}`);
    const listed = [...$("list").querySelectorAll("tbody tr")].find((r) => r.dataset.number === number);
    state.appeal = body;
    for (const row of $("list").querySelectorAll("tbody tr")) row.classList.toggle("selected", row === listed);
    const card = $("card");
    text($("card-title"), t("Звернення № {number}", { number }));
    text($("card-status"), STATUS_NAMES[body.status] || body.status);
    text($("card-category"), categoryOf(body));
    text($("card-address"), body.address);
    text($("card-executor"), body.executor);
    text($("card-deadline"), day(body.extended_until || body.deadline_at));
    text($("card-text"), body.text);
    showExtension(body.extension_request || null);
    fillExecutors(body);
    await loadResolutions(number);
    const item = await api(`${config.listUrl}?${new URLSearchParams({ bucket: "control", limit: "500" })}`);
    const controlled = item.ok ? item.body.items.find((r) => r.number === number) : null;
    text($("card-control"), controlled ? day(controlled.control_until) : "—");
    $("control-until").value = controlled ? controlled.control_until : "";
    $("control-lift").disabled = !controlled;
    for (const id of ["res-error", "control-error", "card-done"]) text($(id), "");
    $("res-text").value = "";
    $("res-deadline").value = "";
    card.hidden = false;
    card.dataset.number = number;
    $("card-title").focus();
  }

  // After a change: the counts, the list, the map and the card again, then the message.
  async function afterChange(message) {
    await loadSummary();
    await drawMap();
    await showList(state.bucket, state.executor);
    const number = state.appeal.number;
    await openCard(number);
    text($("card-done"), message);
  }

  async function issueResolution(event) {
    event.preventDefault();
    const number = state.appeal.number;
    const main = $("res-main").value;
    const co = [...$("res-co").querySelectorAll("input:checked")].map((b) => b.value).filter((c) => c !== main);
    const comment = $("res-text").value.trim();
    const deadline = $("res-deadline").value;
    const error = $("res-error");
    const own = (executor, kind) =>
      $("res-co").querySelector(`.co-${kind}[data-executor="${CSS.escape(executor)}"]`);
    // The common text is needed by the main executor and by co-executors without their own.
    const needed = main || co.some((executor) => !own(executor, "text").value.trim());
    $("res-text").setAttribute("aria-invalid", String(needed && !comment));
    if ((needed && !comment) || (!main && !co.length)) {
      text(error, t("Оберіть головного виконавця або співвиконавців і напишіть текст резолюції."));
      return;
    }
    const headers = { "X-CSRF-Token": csrf.get() };
    const deadlineAt = deadline || null;
    if (co.length) {
      const r = await postJson(fill(config.resolutionsUrl, { number }), {
        co_executors: co.map((executor) => {
          const words = own(executor, "text").value.trim();
          return { executor, deadline_at: own(executor, "deadline").value || deadlineAt, ...(words ? { text: words } : {}) };
        }), comment,
      }, headers);
      if (!r.ok) { text(error, r.body.detail || t("Не вдалося.")); return; }
    }
    if (main) {
      const r = await postJson(fill(config.delegateUrl, { number }),
        { executor: main, deadline_at: deadlineAt, comment }, headers);
      if (!r.ok) { text(error, r.body.detail || t("Не вдалося.")); return; }
    }
    await afterChange(t("Резолюцію видано."));
  }

  async function control(until) {
    const number = state.appeal.number;
    if (until === "") {
      $("control-until").setAttribute("aria-invalid", "true");
      text($("control-error"), t("Вкажіть дату контролю."));
      return;
    }
    $("control-until").setAttribute("aria-invalid", "false");
    const r = await postJson(fill(config.controlUrl, { number }), { until },
      { "X-CSRF-Token": csrf.get() });
    if (!r.ok) { text($("control-error"), r.body.detail || t("Не вдалося.")); return; }
    await afterChange(until
      ? t("Звернення № {number} на особистому контролі до {date}.", { number, date: day(until) })
      : t("Звернення № {number} знято з контролю.", { number }));
  }

  const fail = window.portal.deskFailure(root, errorEl);

  async function load() {
    const me = await window.portal.deskUser(config, root, "manager", {
      errorEl, statusEl: $("desk-status"), wrongRole: t("Ця сторінка — для керівників організацій-виконавців."),
    });
    if (!me) return;
    if (!(await loadSummary())) return;
    const executors = await api(config.executorsUrl);
    state.executors = executors.ok ? executors.body.items : [];
    for (const tab of document.querySelectorAll(".queue-tab")) {
      tab.addEventListener("click", () => showList(tab.dataset.bucket, null).catch(fail));
    }
    $("all-units").addEventListener("click", () => showList(state.bucket, null).catch(fail));
    $("resolution-form").addEventListener("submit", (event) => issueResolution(event).catch(fail));
    $("control-form").addEventListener("submit", (event) => {
      event.preventDefault();
      control($("control-until").value).catch(fail);
    });
    $("control-lift").addEventListener("click", () => control(null).catch(fail));
    $("extension-form").addEventListener("submit", (event) => {
      event.preventDefault();
      decideExtension(true).catch(fail);
    });
    $("ext-decline").addEventListener("click", () => decideExtension(false).catch(fail));
    $("ext-until").addEventListener("input", grantLabel);
    await showList("open", null);
    await drawMap();
    text($("desk-status"), "");
    root.dataset.state = "ready";
  }

  $("logout").addEventListener("click", () => window.portal.signOut(config, errorEl));
  load().catch(fail);
})();

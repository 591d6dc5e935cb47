// The manager's АРМ (/manager): unexecuted appeals of the organisation counted by
// sub-organisation (overdue, due within 2 days, due later, under personal control), the list
// behind each count and its CSV, an appeal's card with its resolutions, a new resolution (main
// executor and co-executors, each with the deadline and the text) and the personal control.
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
  const BUCKETS = ["open", "overdue", "due_2d", "due_later", "control"];
  const TITLES = {
    open: t("Невиконані звернення"),
    overdue: t("Прострочені звернення"),
    due_2d: t("Строк спливає за 2 дні"),
    due_later: t("Строк пізніше ніж за 2 дні"),
    control: t("На особистому контролі"),
  };
  const state = { bucket: "open", executor: null, units: [], executors: [], appeal: null };

  // --- the map: the unexecuted appeals, coloured by lateness -----------------------------------
  const LATE_COLOURS = { overdue: "#b3261e", due_2d: "#d97a00", due_later: "#2e7d32" };
  const mapEl = $("late-map");
  const map = L.map(mapEl, { zoomControl: true, keyboard: true });
  map.setView([50.45, 30.52], 11);
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
    for (const e of state.executors) {
      if (e.code === appeal.executor_code) continue;
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
      due.dataset.executor = e.code;
      due.setAttribute("aria-label", t("Строк співвиконавця: {name}", { name: e.name || e.code }));
      line.appendChild(label);
      line.appendChild(due);
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
      tbody.appendChild(row);
    }
    $("resolutions").dataset.rows = String(body.resolutions.length);
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
    $("res-text").setAttribute("aria-invalid", String(!comment));
    if (!comment || (!main && !co.length)) {
      text(error, t("Оберіть головного виконавця або співвиконавців і напишіть текст резолюції."));
      return;
    }
    const headers = { "X-CSRF-Token": csrf.get() };
    const deadlineAt = deadline || null;
    if (co.length) {
      const r = await postJson(fill(config.resolutionsUrl, { number }), {
        co_executors: co.map((executor) => {
          const own = $("res-co").querySelector(`.co-deadline[data-executor="${CSS.escape(executor)}"]`);
          return { executor, deadline_at: (own && own.value) || deadlineAt };
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
    await showList("open", null);
    await drawMap();
    text($("desk-status"), "");
    root.dataset.state = "ready";
  }

  $("logout").addEventListener("click", () => window.portal.signOut(config, errorEl));
  load().catch(fail);
})();

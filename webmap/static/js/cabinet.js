// The sign-in page and the cabinet. Sign-in POSTs JSON to the API for a cookie session; the
// answer's CSRF token is kept in sessionStorage and sent as X-CSRF-Token on sign-out. The
// cabinet reads who is signed in (/api/v1/me) and their queue (/api/v1/queue) with the cookie.
(function () {
  "use strict";

  const config = JSON.parse(document.getElementById("page-config").textContent);
  const CSRF_KEY = "hromada.csrf";
  const LANG = document.documentElement.lang || "uk";
  const ROLES = {
    citizen: "Мешканець", operator: "Оператор контакт-центру", curator: "Куратор",
    executor: "Виконавець", manager: "Керівник виконавця", deputy: "Депутат",
    planner: "Планувальник", admin: "Адміністратор",
  };
  const STATUSES = {
    registered: "Зареєстровано", in_work: "В роботі", on_check: "На перевірці",
    rework: "На доопрацюванні", closed: "Закрито",
  };

  async function api(url, options = {}) {
    const headers = { Accept: "application/json", "Accept-Language": LANG, ...(options.headers || {}) };
    const response = await fetch(url, { credentials: "same-origin", ...options, headers });
    const body = await response.json().catch(() => ({}));
    return { ok: response.ok, status: response.status, body };
  }

  function text(el, value) {
    el.textContent = value == null ? "—" : String(value); // data is never inserted as HTML
  }

  // --- /login ------------------------------------------------------------------------------
  const form = document.getElementById("login-form");
  if (form) {
    const error = document.getElementById("login-error");
    const submit = document.getElementById("login-submit");
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      error.textContent = "";
      submit.disabled = true;
      try {
        const { ok, body } = await api(config.loginUrl, {
          method: "POST",
          headers: { "Content-Type": "application/json" },
          body: JSON.stringify({
            email: form.email.value.trim(), password: form.password.value, session: "cookie",
          }),
        });
        if (!ok) {
          text(error, body.detail || "Не вдалося увійти. Перевірте адресу і пароль.");
          return;
        }
        sessionStorage.setItem(CSRF_KEY, body.csrf_token || "");
        window.location.assign(config.cabinetUrl);
      } catch (exc) {
        text(error, "Сервер недоступний. Спробуйте пізніше.");
      } finally {
        submit.disabled = false;
      }
    });
  }

  // --- /cabinet ----------------------------------------------------------------------------
  const cabinet = document.getElementById("cabinet");
  if (!cabinet) return;
  const errorEl = document.getElementById("cabinet-error");
  const queueStatus = document.getElementById("queue-status");

  function scopeOf(me) {
    if (me.role === "deputy") return `Виборчий округ № ${me.ward_number}`;
    if (me.executor) return me.executor.name;
    if (me.role === "citizen") return "Мої звернення";
    if (me.role === "planner") return "Тематичні шари";
    return "Усе місто";
  }

  function fillQueue(items) {
    const table = document.getElementById("queue");
    const tbody = table.querySelector("tbody");
    tbody.replaceChildren();
    for (const item of items) {
      const tr = document.createElement("tr");
      const deadline = item.extended_until || item.deadline_at;
      for (const value of [
        item.number, item.category, STATUSES[item.status] || item.status, item.address,
        deadline ? new Date(deadline).toLocaleDateString("uk-UA") : null,
      ]) {
        const td = document.createElement("td");
        text(td, value);
        tr.append(td);
      }
      tbody.append(tr);
    }
    table.hidden = items.length === 0;
  }

  const statusFilter = document.getElementById("status-filter");
  let queueUrl = null;

  async function loadQueue() {
    const status = queueUrl === config.queueUrl && statusFilter.value
      ? `&status=${encodeURIComponent(statusFilter.value)}` : "";
    cabinet.dataset.state = "loading";
    const queue = await api(`${queueUrl}?limit=50${status}`);
    if (!queue.ok) throw new Error(queue.body.detail || `HTTP ${queue.status}`);
    fillQueue(queue.body.items);
    text(queueStatus, queue.body.items.length
      ? `Показано ${queue.body.items.length} найновіших.` : "Звернень немає.");
    cabinet.dataset.rows = String(queue.body.items.length);
    cabinet.dataset.state = "ready";
  }

  statusFilter.addEventListener("change", () => {
    loadQueue().catch((exc) => {
      cabinet.dataset.state = "error";
      text(errorEl, exc.message);
    });
  });

  async function load() {
    const me = await api(config.meUrl);
    if (me.status === 401) {
      window.location.assign(config.loginUrl);
      return;
    }
    if (!me.ok) throw new Error(me.body.detail || `HTTP ${me.status}`);
    if (me.body.csrf_token) sessionStorage.setItem(CSRF_KEY, me.body.csrf_token);
    text(document.getElementById("who-name"), `${me.body.full_name} (${me.body.email})`);
    text(document.getElementById("who-role"), ROLES[me.body.role] || me.body.role);
    text(document.getElementById("who-scope"), scopeOf(me.body));
    cabinet.dataset.role = me.body.role;

    if (me.body.role === "citizen") {
      queueUrl = config.myAppealsUrl;
      text(document.getElementById("queue-title"), "Мої звернення");
      document.getElementById("filters").hidden = true;
    } else if (me.body.role !== "planner") {
      queueUrl = config.queueUrl;
    }
    if (queueUrl === null) {
      document.getElementById("filters").hidden = true;
      text(queueStatus, "Для цієї ролі черги звернень немає.");
      cabinet.dataset.state = "ready";
      return;
    }
    await loadQueue();
  }

  document.getElementById("logout").addEventListener("click", async () => {
    const { ok, status, body } = await api(config.logoutUrl, {
      method: "POST", headers: { "X-CSRF-Token": sessionStorage.getItem(CSRF_KEY) || "" },
    });
    if (!ok && status !== 401) {
      text(errorEl, body.detail || "Не вдалося вийти.");
      return;
    }
    sessionStorage.removeItem(CSRF_KEY);
    window.location.assign(config.loginUrl);
  });

  load().catch((exc) => {
    cabinet.dataset.state = "error";
    text(errorEl, exc.message);
  });
})();

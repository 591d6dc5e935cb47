// Registration, e-mail confirmation and password reset: /register, /account/confirm and
// /account/reset. A mailed link carries its one-time token in the URL fragment (#token=…),
// which a browser never sends to a server: it is read here, taken out of the address bar (and
// so of the history), and sent only in a POST body. Error messages are the API's own (detail),
// in the page's language; only a password repeat that does not match is caught here.
(function () {
  "use strict";

  const config = JSON.parse(document.getElementById("page-config").textContent);
  const LANG = document.documentElement.lang || "uk";
  const root = document.getElementById("account");
  const errorEl = document.getElementById("account-error");
  const doneEl = document.getElementById("account-done");

  async function post(url, payload) {
    const response = await fetch(url, {
      method: "POST",
      credentials: "same-origin",
      headers: { Accept: "application/json", "Accept-Language": LANG, "Content-Type": "application/json" },
      body: JSON.stringify(payload),
    });
    const body = await response.json().catch(() => ({}));
    return { ok: response.ok, status: response.status, body };
  }

  function fail(message) {
    errorEl.textContent = message; // never inserted as HTML
    root.dataset.state = "error";
  }

  // The success message (plain text), optionally followed by a link to the sign-in page.
  function done(message, withLogin) {
    doneEl.replaceChildren(document.createTextNode(message));
    if (withLogin) {
      const link = document.createElement("a");
      link.href = config.loginUrl;
      link.textContent = "Увійти";
      doneEl.append(" ", link);
    }
    doneEl.hidden = false;
    root.dataset.state = "done";
  }

  // A link opened over this very page changes only the fragment: start again, with its token.
  window.addEventListener("hashchange", () => {
    if (new URLSearchParams(window.location.hash.slice(1)).get("token")) window.location.reload();
  });

  function takeToken() {
    const token = new URLSearchParams(window.location.hash.slice(1)).get("token");
    if (window.location.hash) {
      history.replaceState(null, "", window.location.pathname + window.location.search);
    }
    return token;
  }

  function passwordProblem(form) {
    if (!form.password.value) return "Вкажіть пароль.";
    if (form.password.value !== form.password2.value) {
      return "Паролі не збігаються: введіть той самий пароль двічі.";
    }
    return null;
  }

  // Submits `form`: `check` may return a message (nothing is sent then); `send` POSTs and
  // returns post()'s answer; `onDone` runs on success.
  function handle(form, check, send, onDone) {
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      errorEl.textContent = "";
      const problem = check();
      if (problem) {
        fail(problem);
        return;
      }
      const button = form.querySelector("button[type=submit]");
      button.disabled = true;
      root.dataset.state = "sending";
      try {
        const answer = await send();
        if (!answer.ok) {
          fail(answer.body.detail || `Помилка ${answer.status}. Спробуйте пізніше.`);
          return;
        }
        form.hidden = true;
        onDone(answer);
      } catch (exc) {
        fail("Сервер недоступний. Спробуйте пізніше.");
      } finally {
        button.disabled = false;
      }
    });
  }

  // --- /register -----------------------------------------------------------------------------
  const registerForm = document.getElementById("register-form");
  if (registerForm) {
    const f = registerForm;
    handle(
      f,
      () => (!f.full_name.value.trim() || !f.email.value.trim()
        ? "Вкажіть ПІБ і адресу електронної пошти." : passwordProblem(f)),
      () => post(config.registerUrl, {
        full_name: f.full_name.value.trim(), email: f.email.value.trim(), password: f.password.value,
      }),
      () => done(`Ми надіслали лист для підтвердження на ${f.email.value.trim()}. Відкрийте ` +
        "посилання з листа, щоб завершити реєстрацію, а тоді увійдіть.", false),
    );
    return;
  }

  // --- /account/reset ------------------------------------------------------------------------
  const requestSection = document.getElementById("reset-request");
  if (requestSection) {
    const requestForm = document.getElementById("reset-request-form");
    const confirmForm = document.getElementById("reset-confirm-form");
    const token = takeToken();
    handle(
      requestForm,
      () => (requestForm.email.value.trim() ? null : "Вкажіть адресу електронної пошти."),
      () => post(config.requestUrl, { email: requestForm.email.value.trim() }),
      () => done("Якщо такий обліковий запис існує, ми надіслали лист на " +
        `${requestForm.email.value.trim()} із посиланням для нового пароля.`, false),
    );
    if (token) {
      requestSection.hidden = true;
      document.getElementById("reset-confirm").hidden = false;
      handle(
        confirmForm,
        () => passwordProblem(confirmForm),
        () => post(config.confirmUrl, { token, password: confirmForm.password.value }),
        () => done("Пароль змінено. Увійдіть з новим паролем.", true),
      );
    }
    return;
  }

  // --- /account/confirm ----------------------------------------------------------------------
  const token = takeToken();
  const status = document.getElementById("account-status");
  if (!token) {
    status.hidden = true;
    fail("У посиланні немає коду підтвердження. Відкрийте посилання з листа повністю.");
    return;
  }
  post(config.confirmUrl, { token })
    .then((answer) => {
      status.hidden = true;
      if (!answer.ok) {
        fail(answer.body.detail || `Помилка ${answer.status}. Спробуйте пізніше.`);
        return;
      }
      doneEl.hidden = false;
      root.dataset.state = "done";
    })
    .catch(() => {
      status.hidden = true;
      fail("Сервер недоступний. Спробуйте пізніше.");
    });
})();

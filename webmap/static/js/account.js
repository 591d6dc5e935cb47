// Registration, e-mail confirmation and password reset: /register, /account/confirm and
// /account/reset. A mailed link carries its one-time token in the URL fragment (#token=…),
// which a browser never sends to a server: it is read here, taken out of the address bar (and
// so of the history), and sent only in a POST body. Error messages are the API's own (detail),
// in the page's language; only a missing field or a password repeat that does not match is
// caught here. A message about one field (ours, or the API's by its code) is shown next to
// that field (#<name>-error, which the field's aria-describedby then names); any other below
// the form (#account-error).
(function () {
  "use strict";

  const { t } = window.i18n;
  const { postJson: post } = window.portal;
  const config = JSON.parse(document.getElementById("page-config").textContent);
  const root = document.getElementById("account");
  const errorEl = document.getElementById("account-error");
  const doneEl = document.getElementById("account-done");

  function fail(message) {
    errorEl.textContent = message; // never inserted as HTML
    root.dataset.state = "error";
  }

  // The API's error codes that are about one field of these forms.
  const FIELD_OF_CODE = {
    invalid_email: "email", email_taken: "email", full_name_required: "full_name",
    weak_password: "password", password_too_short: "password", password_too_long: "password",
  };

  // A message next to the field `name` of `form` (falls back to below the form).
  function failAt(form, name, message) {
    const input = form.elements[name];
    const note = document.getElementById(`${name}-error`);
    if (!input || !note) {
      fail(message);
      return;
    }
    note.textContent = message; // never inserted as HTML
    input.setAttribute("aria-invalid", "true");
    const described = (input.getAttribute("aria-describedby") || "").split(" ").filter(Boolean);
    if (!described.includes(note.id)) described.unshift(note.id);
    input.setAttribute("aria-describedby", described.join(" "));
    root.dataset.state = "error";
    input.focus();
  }

  function clearErrors(form) {
    errorEl.textContent = "";
    for (const note of form.querySelectorAll(".field-error")) {
      note.textContent = "";
      const input = form.elements[note.id.replace(/-error$/, "")];
      if (!input) continue;
      input.removeAttribute("aria-invalid");
      const rest = (input.getAttribute("aria-describedby") || "").split(" ")
        .filter((id) => id && id !== note.id);
      if (rest.length) input.setAttribute("aria-describedby", rest.join(" "));
      else input.removeAttribute("aria-describedby");
    }
  }

  // The success message (plain text), optionally followed by a link to the sign-in page.
  function done(message, withLogin) {
    doneEl.replaceChildren(document.createTextNode(message));
    if (withLogin) {
      const link = document.createElement("a");
      link.href = config.loginUrl;
      link.textContent = t("Увійти");
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

  // A problem is [field name, message].
  function passwordProblem(form) {
    if (!form.password.value) return ["password", t("Вкажіть пароль.")];
    if (form.password.value !== form.password2.value) {
      return ["password2", t("Паролі не збігаються: введіть той самий пароль двічі.")];
    }
    return null;
  }

  // Submits `form`: `check` may return a problem (nothing is sent then); `send` POSTs and
  // returns post()'s answer; `onDone` runs on success.
  function handle(form, check, send, onDone) {
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      clearErrors(form);
      const problem = check();
      if (problem) {
        failAt(form, ...problem);
        return;
      }
      const button = form.querySelector("button[type=submit]");
      button.disabled = true;
      root.dataset.state = "sending";
      try {
        const answer = await send();
        if (!answer.ok) {
          const message = answer.body.detail
            || t("Помилка {status}. Спробуйте пізніше.", { status: answer.status });
          const field = FIELD_OF_CODE[answer.body.code];
          if (field) failAt(form, field, message);
          else fail(message);
          return;
        }
        form.hidden = true;
        onDone(answer);
      } catch (exc) {
        fail(t("Сервер недоступний. Спробуйте пізніше."));
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
      () => {
        if (!f.full_name.value.trim()) return ["full_name", t("Вкажіть ПІБ.")];
        if (!f.email.value.trim()) return ["email", t("Вкажіть адресу електронної пошти.")];
        return passwordProblem(f);
      },
      () => post(config.registerUrl, {
        full_name: f.full_name.value.trim(), email: f.email.value.trim(), password: f.password.value,
      }),
      () => done(t("Ми надіслали лист для підтвердження на {email}. Відкрийте посилання з листа, щоб завершити реєстрацію, а тоді увійдіть.", { email: f.email.value.trim() }), false),
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
      () => (requestForm.email.value.trim()
        ? null : ["email", t("Вкажіть адресу електронної пошти.")]),
      () => post(config.requestUrl, { email: requestForm.email.value.trim() }),
      () => done(t("Якщо такий обліковий запис існує, ми надіслали лист на {email} із посиланням для нового пароля.", { email: requestForm.email.value.trim() }), false),
    );
    if (token) {
      requestSection.hidden = true;
      document.getElementById("reset-confirm").hidden = false;
      handle(
        confirmForm,
        () => passwordProblem(confirmForm),
        () => post(config.confirmUrl, { token, password: confirmForm.password.value }),
        () => done(t("Пароль змінено. Увійдіть з новим паролем."), true),
      );
    }
    return;
  }

  // --- /account/confirm ----------------------------------------------------------------------
  const token = takeToken();
  const status = document.getElementById("account-status");
  if (!token) {
    status.hidden = true;
    fail(t("У посиланні немає коду підтвердження. Відкрийте посилання з листа повністю."));
    return;
  }
  post(config.confirmUrl, { token })
    .then((answer) => {
      status.hidden = true;
      if (!answer.ok) {
        fail(answer.body.detail || t("Помилка {status}. Спробуйте пізніше.", { status: answer.status }));
        return;
      }
      doneEl.hidden = false;
      root.dataset.state = "done";
    })
    .catch(() => {
      status.hidden = true;
      fail(t("Сервер недоступний. Спробуйте пізніше."));
    });
})();

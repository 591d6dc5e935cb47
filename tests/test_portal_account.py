"""The portal's account pages, in Debian's chromium, with a real SMTP server and PostGIS: a
citizen signs up through /register, opens the confirmation link from the mail, signs in and
sees the cabinet; then forgets the password, opens the reset link from the next mail, sets a
new one and signs in with it. A password repeat that does not match is refused on the page,
without a request; a used link shows the API's message; the links' tokens never appear in a
requested URL."""

from __future__ import annotations

import re

import pytest
from live import serve
from playwright.sync_api import expect

from api import create_app
from gis.embedded import free_port
from gis.settings import Settings

EMAIL = "olena.pchilka@example.ua"
NAME = "Олена Пчілка"
PASSWORD = "vyshyvanka-2026"
NEW_PASSWORD = "kalyna and verba"


@pytest.fixture
def account_server(db_url, smtp_server):
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    settings = Settings(
        database_url=db_url, demo_mode=False, smtp_host=smtp_server.host,
        smtp_port=smtp_server.port, public_base_url=base,
    )  # fmt: skip
    with serve(create_app(settings), port) as served:
        yield served


def mailed_link(smtp_server, page: str) -> str:
    body = smtp_server.wait_for(EMAIL, timeout=10).get_content()
    match = re.search(rf"(http://\S+/account/{page}#token=[\w-]+)", body)
    assert match, body
    return match.group(1)


def sign_in(page, base: str, password: str) -> None:
    page.goto(base + "/login")
    page.fill("#email", EMAIL)
    page.fill("#password", password)
    page.click("#login-submit")
    page.wait_for_url(base + "/cabinet")
    page.wait_for_selector('#cabinet[data-state="ready"]', timeout=15_000)


def test_sign_up_confirm_sign_in_and_reset_the_password(
    account_server, smtp_server, page, screenshot
):
    base = account_server
    requests: list[tuple[str, str]] = []  # (method, url) of every request the pages make
    page.set_viewport_size({"width": 390, "height": 844})
    page.on("request", lambda r: requests.append((r.method, r.url)))

    # From the sign-in page to the registration form and back.
    page.goto(base + "/login")
    page.get_by_role("link", name="Зареєструватися").click()
    page.wait_for_url(base + "/register")
    page.get_by_role("link", name="Увійти").click()
    page.wait_for_url(base + "/login")
    page.get_by_role("link", name="Зареєструватися").click()
    page.wait_for_url(base + "/register")

    # A repeat that does not match: a Ukrainian message, and nothing sent.
    page.fill("#full_name", NAME)
    page.fill("#email", EMAIL)
    page.fill("#password", PASSWORD)
    page.fill("#password2", PASSWORD + "!")
    page.click("#account-submit")
    # Next to the repeat field, which it describes and which takes the focus.
    expect(page.locator("#password2-error")).to_have_text(
        "Паролі не збігаються: введіть той самий пароль двічі."
    )
    assert page.get_attribute("#password2", "aria-invalid") == "true"
    assert "password2-error" in page.get_attribute("#password2", "aria-describedby")
    assert page.evaluate("document.activeElement.id") == "password2"
    assert page.inner_text("#account-error") == ""
    assert not [u for m, u in requests if m == "POST"]
    assert screenshot(page, "register", full_page=True).stat().st_size > 10_000

    # A password the server refuses: its message, as it comes, next to the password;
    # the repeat's message is gone.
    page.fill("#password", "short")
    page.fill("#password2", "short")
    page.click("#account-submit")
    expect(page.locator("#password-error")).to_have_text(
        "Пароль закороткий: щонайменше 10 символів."
    )
    assert page.inner_text("#password2-error") == ""
    assert page.get_attribute("#password2", "aria-invalid") is None
    assert page.get_attribute("#password2", "aria-describedby") is None
    assert page.get_attribute("#password", "aria-describedby") == ("password-error password-hint")

    page.fill("#password", PASSWORD)
    page.fill("#password2", PASSWORD)
    page.click("#account-submit")
    expect(page.locator("#account-done")).to_contain_text(
        f"Ми надіслали лист для підтвердження на {EMAIL}."
    )
    assert page.is_hidden("#register-form")
    assert page.inner_text("#account-error") == ""

    # Not confirmed yet: signing in is refused with the API's message.
    page.goto(base + "/login")
    page.fill("#email", EMAIL)
    page.fill("#password", PASSWORD)
    page.click("#login-submit")
    expect(page.locator("#login-error")).to_contain_text("ще не підтверджено")

    # The link from the mail.
    confirm_link = mailed_link(smtp_server, "confirm")
    assert confirm_link.startswith(base + "/account/confirm#token=")
    page.goto(confirm_link)
    page.wait_for_selector('#account[data-state="done"]')
    expect(page.locator("#account-done")).to_contain_text("Адресу підтверджено.")
    assert page.url == base + "/account/confirm"  # the token left the address bar
    page.locator("#account-done").get_by_role("link", name="увійти").click()
    page.wait_for_url(base + "/login")
    # The link is single-use: opened again, the API's message.
    page.goto(confirm_link)
    page.wait_for_selector('#account[data-state="error"]')
    expect(page.locator("#account-error")).to_contain_text(
        "Посилання недійсне: його вже використано"
    )
    page.goto(base + "/account/confirm")
    page.wait_for_selector('#account[data-state="error"]')
    expect(page.locator("#account-error")).to_contain_text("немає коду підтвердження")

    # Confirmed: the cabinet shows the citizen.
    sign_in(page, base, PASSWORD)
    assert page.inner_text("#who-name") == f"{NAME} ({EMAIL})"
    assert page.inner_text("#who-role") == "Мешканець"
    assert page.inner_text("#queue-title") == "Мої звернення"
    assert page.inner_text("#queue-status") == "Звернень немає."
    page.click("#logout")
    page.wait_for_url(base + "/login")

    # Forgot the password: the link on /login, the form, the mail.
    screenshot(page, "login")
    page.get_by_role("link", name="Забули пароль?").click()
    page.wait_for_url(base + "/account/reset")
    assert page.is_hidden("#reset-confirm")
    page.fill("#email", EMAIL)
    page.get_by_role("button", name="Надіслати лист").click()
    expect(page.locator("#account-done")).to_contain_text(
        "Якщо такий обліковий запис існує, ми надіслали лист"
    )
    reset_link = mailed_link(smtp_server, "reset")
    page.goto(reset_link)  # over the same page: only the fragment changes
    expect(page.locator("#reset-confirm")).to_be_visible()
    assert page.is_hidden("#reset-request")
    assert page.url == base + "/account/reset"
    # A mismatched repeat here too: refused on the page.
    posts = len([u for m, u in requests if m == "POST"])
    page.fill("#password", NEW_PASSWORD)
    page.fill("#password2", NEW_PASSWORD.upper())
    page.get_by_role("button", name="Зберегти пароль").click()
    expect(page.locator("#password2-error")).to_have_text(
        "Паролі не збігаються: введіть той самий пароль двічі."
    )
    assert len([u for m, u in requests if m == "POST"]) == posts
    page.fill("#password2", NEW_PASSWORD)
    page.get_by_role("button", name="Зберегти пароль").click()
    expect(page.locator("#account-done")).to_contain_text("Пароль змінено.")
    screenshot(page, "account-reset")
    page.locator("#account-done").get_by_role("link", name="Увійти").click()
    page.wait_for_url(base + "/login")

    # The old password no longer works; the new one does.
    page.fill("#email", EMAIL)
    page.fill("#password", PASSWORD)
    page.click("#login-submit")
    expect(page.locator("#login-error")).to_have_text("Неправильна адреса e-mail або пароль.")
    sign_in(page, base, NEW_PASSWORD)
    assert page.inner_text("#who-role") == "Мешканець"
    # The one-time tokens travelled only in POST bodies, never in a URL sent to the server (a
    # fragment stays in the browser).
    for link in (confirm_link, reset_link):
        token = link.partition("#token=")[2]
        assert not [u for _, u in requests if token in u.partition("#")[0]]
    posted = {u.removeprefix(base) for m, u in requests if m == "POST"}
    assert {
        "/api/v1/auth/register", "/api/v1/auth/confirm", "/api/v1/auth/password-reset",
        "/api/v1/auth/password-reset/confirm", "/api/v1/auth/login",
    } <= posted  # fmt: skip


def test_the_account_pages_in_english(account_server, smtp_server, new_context, screenshot):
    """The switch on /register: the form in English, the page's own message (a repeat that does
    not match) and the API's (an address it refuses) in English next to their fields; the
    confirmation and reset pages in English too; no mail is sent for a refused form."""
    base = account_server
    posts: list[str] = []
    for name, viewport in (("phone", {"width": 390, "height": 844}),
                           ("desktop", {"width": 1280, "height": 800})):  # fmt: skip
        page = new_context(viewport=viewport).new_page()
        page.on("request", lambda r: posts.append(r.url) if r.method == "POST" else None)
        page.goto(base + "/register")
        assert page.get_attribute("html", "lang") == "uk"
        page.click('.crumbs a.lang-switch[data-lang="en"]')
        page.wait_for_url(base + "/register?lang=en")
        assert page.get_attribute("html", "lang") == "en"
        assert page.title() == "Register — Hromada GIS"
        expect(page.locator("h1")).to_have_text("Register")
        expect(page.locator(".crumbs a.lang-switch")).to_have_text("Українська")
        page.get_by_label("Full name").fill("Olena Pchilka")
        page.get_by_label("E-mail").fill(EMAIL)
        page.get_by_label("Password", exact=True).fill(PASSWORD)
        page.get_by_label("Repeat the password").fill(PASSWORD + "!")
        page.get_by_role("button", name="Register").click()
        expect(page.locator("#password2-error")).to_have_text(
            "The passwords do not match: enter the same password twice."
        )
        assert not posts

        # The API refuses the address: its English message, next to the e-mail field.
        page.get_by_label("E-mail").fill("olena.example.ua")
        page.get_by_label("Repeat the password").fill(PASSWORD)
        page.get_by_role("button", name="Register").click()
        expect(page.locator("#email-error")).to_have_text(
            "Invalid e-mail address: 'olena.example.ua'."
        )
        assert page.get_attribute("#email", "aria-invalid") == "true"
        assert page.inner_text("#password2-error") == ""
        assert page.is_visible("#register-form")
        shot = screenshot(page, f"register-en-{name}", full_page=True)
        assert shot.stat().st_size > 10_000
        posts.clear()

    # The language stays (a cookie): the confirmation page without its code, the
    # reset page, in English.
    page.goto(base + "/account/confirm")
    page.wait_for_selector('#account[data-state="error"]')
    expect(page.locator("h1")).to_have_text("Confirm your e-mail address")
    expect(page.locator("#account-error")).to_have_text(
        "The link has no confirmation code. Open the full link from the mail."
    )
    page.goto(base + "/account/reset")
    expect(page.locator("#reset-request h1")).to_have_text("Forgot your password?")
    page.get_by_role("button", name="Send the link").click()
    expect(page.locator("#email-error")).to_have_text("Enter your e-mail address.")
    page.get_by_label("E-mail").fill(EMAIL)
    page.get_by_role("button", name="Send the link").click()
    expect(page.locator("#account-done")).to_have_text(
        f"If such an account exists, we have sent a mail to {EMAIL} with a link to set"
        " a new password."
    )
    screenshot(page, "account-reset-en")
    # And back to Ukrainian.
    page.click('.crumbs a.lang-switch[data-lang="uk"]')
    page.wait_for_url(base + "/account/reset?lang=uk")
    expect(page.locator("#reset-request h1")).to_have_text("Забули пароль?")

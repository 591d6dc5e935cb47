"""Mail: the SMTP client delivers UTF-8 mail through a real (local) SMTP server."""

from __future__ import annotations

import asyncio
import mailbox
import time

import pytest

from gis.embedded import free_port
from gis.mail import LocalSmtpServer, MailError, asend_mail, send_mail
from gis.settings import Settings

SUBJECT = "Підтвердіть адресу електронної пошти — Громада"
BODY = "Вітаємо, Ґанно!\nПерейдіть за посиланням: http://127.0.0.1:8000/confirm#token=абв\n"


def _settings(port: int) -> Settings:
    return Settings(smtp_host="127.0.0.1", smtp_port=port, smtp_timeout=3)


def test_delivers_utf8_mail_to_the_recipient_and_the_maildir(tmp_path):
    with LocalSmtpServer(maildir=tmp_path / "mail") as server:
        send_mail(_settings(server.port), to="hanna@example.ua", subject=SUBJECT, body=BODY)
        send_mail(_settings(server.port), to="other@example.ua", subject="Інше", body="Інше")
        msg = server.wait_for("Hanna@Example.ua", timeout=2)

    assert msg["Subject"] == SUBJECT
    assert msg["To"] == "hanna@example.ua"
    assert msg["From"] == Settings().mail_from
    assert msg.get_content() == BODY
    assert msg.get_content_charset() == "utf-8"
    assert [m["To"] for m in server.messages] == ["hanna@example.ua", "other@example.ua"]

    stored = list(mailbox.Maildir(tmp_path / "mail", create=False))
    assert len(stored) == 2
    assert {m["To"] for m in stored} == {"hanna@example.ua", "other@example.ua"}


def test_wait_for_returns_each_mail_once_and_times_out(smtp_server):
    settings = _settings(smtp_server.port)
    send_mail(settings, to="a@example.ua", subject="Перший", body="1")
    send_mail(settings, to="a@example.ua", subject="Другий", body="2")
    assert smtp_server.wait_for("a@example.ua")["Subject"] == "Перший"
    assert smtp_server.wait_for("a@example.ua")["Subject"] == "Другий"
    started = time.monotonic()
    with pytest.raises(TimeoutError):
        smtp_server.wait_for("a@example.ua", timeout=0.3)
    assert time.monotonic() - started < 2


def test_async_variant(smtp_server):
    asyncio.run(
        asend_mail(_settings(smtp_server.port), to="b@example.ua", subject="Тема", body="Текст")
    )
    assert smtp_server.wait_for("b@example.ua").get_content().strip() == "Текст"


def test_a_closed_port_is_a_mail_error_not_a_hang():
    started = time.monotonic()
    with pytest.raises(MailError) as info:
        send_mail(_settings(free_port()), to="a@example.ua", subject="x", body="y")
    assert time.monotonic() - started < 5
    assert info.value.code == "mail_unavailable"


def test_no_server_configured_is_a_mail_error():
    with pytest.raises(MailError):
        send_mail(Settings(smtp_host=None), to="a@example.ua", subject="x", body="y")


def test_header_injection_in_the_recipient_is_refused(smtp_server):
    with pytest.raises(MailError):
        send_mail(
            _settings(smtp_server.port),
            to="a@example.ua\nBcc: all@example.ua",
            subject="x",
            body="y",
        )
    assert smtp_server.messages == []


def test_the_password_is_a_secret():
    settings = Settings(smtp_password="s3cret-pw")
    assert "s3cret-pw" not in repr(settings)
    assert settings.smtp_password.get_secret_value() == "s3cret-pw"

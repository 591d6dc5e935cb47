"""Mail: a plain SMTP client for the confirmation and password-reset mails, and a local SMTP
server for development and tests.

    send_mail(settings, to="a@b.ua", subject="Підтвердіть адресу", body="…")
    await asend_mail(settings, to=…, subject=…, body=…)   # from async routes (in a thread)

Any failure to hand the mail over (server down, refused, timed out) raises MailError, a domain
error the API answers with 503. The body is never logged (it carries one-time links), nor is
the SMTP password.

`LocalSmtpServer` (aiosmtpd, a dev dependency) listens on 127.0.0.1, keeps every message in
memory and, when given a directory, in a Maildir there so a developer can read the demo's mails
with any mail reader (`mutt -f .hromada/mail`).
"""

from __future__ import annotations

import asyncio
import email
import email.policy
import logging
import mailbox
import smtplib
import ssl
import threading
import time
from collections.abc import Sequence
from email.message import EmailMessage
from email.utils import formatdate, make_msgid, parseaddr
from pathlib import Path
from typing import TYPE_CHECKING

from gis.errors import DomainError
from gis.settings import Settings

if TYPE_CHECKING:
    from aiosmtpd.controller import Controller

log = logging.getLogger("hromada.mail")


class MailError(DomainError):
    """The mail could not be handed to the SMTP server (503)."""

    code = "mail_unavailable"


# A file attached to a mail: (file name, MIME type "maintype/subtype", content).
Attachment = tuple[str, str, bytes]


def build_message(settings: Settings, *, to: str, subject: str, body: str,
                  attachments: Sequence[Attachment] = (),
                  message_id: str | None = None) -> EmailMessage:  # fmt: skip
    msg = EmailMessage(policy=email.policy.default)
    msg["From"] = settings.mail_from
    msg["To"] = to
    msg["Subject"] = subject
    msg["Date"] = formatdate(localtime=False, usegmt=True)
    domain = parseaddr(settings.mail_from)[1].rpartition("@")[2] or "hromada.localhost"
    # A given Message-ID (a notification's, the same at every try: gis/notify.py) or a new one.
    msg["Message-ID"] = message_id or make_msgid(domain=domain)
    msg.set_content(body, charset="utf-8")
    for filename, mime, data in attachments:
        maintype, _, subtype = mime.partition("/")
        msg.add_attachment(data, maintype=maintype, subtype=subtype, filename=filename)
    return msg


def send_mail(settings: Settings, *, to: str, subject: str, body: str,
              attachments: Sequence[Attachment] = (),
              message_id: str | None = None) -> None:  # fmt: skip
    """Hand one plain-text UTF-8 mail (with any files attached) to settings.smtp_host;
    MailError when that fails."""
    if not settings.smtp_host:
        raise MailError(reason="no SMTP server configured (HROMADA_SMTP_HOST)")
    if "\n" in to or "\r" in to or "@" not in to:
        raise MailError(reason="invalid recipient")
    msg = build_message(settings, to=to, subject=subject, body=body, attachments=attachments,
                        message_id=message_id)  # fmt: skip
    try:
        with smtplib.SMTP(
            settings.smtp_host, settings.smtp_port, timeout=settings.smtp_timeout
        ) as smtp:
            if settings.smtp_starttls:
                smtp.starttls(context=ssl.create_default_context())
            if settings.smtp_user:
                password = (
                    settings.smtp_password.get_secret_value() if settings.smtp_password else ""
                )
                smtp.login(settings.smtp_user, password)
            smtp.send_message(msg)
    except (OSError, smtplib.SMTPException) as exc:
        # The exception's text names the server and the SMTP reply, never the credentials.
        log.warning(
            "mail to %s not sent via %s:%s: %s: %s",
            to, settings.smtp_host, settings.smtp_port, type(exc).__name__, exc,
        )  # fmt: skip
        raise MailError(reason=type(exc).__name__) from exc
    log.info("mail sent to %s: %s", to, subject)


async def asend_mail(settings: Settings, *, to: str, subject: str, body: str,
                     attachments: Sequence[Attachment] = (),
                     message_id: str | None = None) -> None:  # fmt: skip
    """send_mail from async code, without blocking the event loop."""
    await asyncio.to_thread(send_mail, settings, to=to, subject=subject, body=body,
                            attachments=attachments, message_id=message_id)  # fmt: skip


class LocalSmtpServer:
    """An SMTP server on 127.0.0.1 that keeps what it receives.

    with LocalSmtpServer(maildir=tmp / "mail") as server:
        send_mail(settings.model_copy(update={"smtp_host": "127.0.0.1",
                                              "smtp_port": server.port}), …)
        msg = server.wait_for("a@b.ua")
    """

    def __init__(self, port: int | None = None, maildir: Path | str | None = None) -> None:
        from gis.embedded import free_port

        self.host = "127.0.0.1"
        self.port = port or free_port()
        self.maildir = Path(maildir) if maildir else None
        self.messages: list[EmailMessage] = []  # every message received, in order
        self._recipients: list[tuple[str, ...]] = []  # envelope recipients, per message
        self._taken: set[int] = set()
        self._cond = threading.Condition()
        self._controller: Controller | None = None

    # --- the aiosmtpd handler ---
    async def handle_DATA(self, server, session, envelope) -> str:  # noqa: N802 (aiosmtpd API)
        raw = envelope.original_content or envelope.content
        if isinstance(raw, str):
            raw = raw.encode("utf-8")
        msg = email.message_from_bytes(raw, policy=email.policy.default)
        if self.maildir is not None:
            mailbox.Maildir(self.maildir, create=True).add(raw)
        with self._cond:
            self.messages.append(msg)
            self._recipients.append(tuple(r.lower() for r in envelope.rcpt_tos))
            self._cond.notify_all()
        return "250 Message accepted for delivery"

    # --- lifecycle ---
    def start(self) -> LocalSmtpServer:
        from aiosmtpd.controller import Controller

        if self.maildir is not None:
            self.maildir.parent.mkdir(parents=True, exist_ok=True)
            mailbox.Maildir(self.maildir, create=True)
        self._controller = Controller(
            self, hostname=self.host, port=self.port, enable_SMTPUTF8=True
        )
        self._controller.start()
        return self

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None

    def __enter__(self) -> LocalSmtpServer:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    # --- for tests ---
    def wait_for(self, to: str, timeout: float = 5.0) -> EmailMessage:
        """The oldest message to `to` not yet returned by wait_for (so a confirmation and then
        a reset mail to the same address come back one after the other); waits up to
        `timeout` seconds, then TimeoutError."""
        to = to.strip().lower()
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                for i, rcpts in enumerate(self._recipients):
                    if i not in self._taken and to in rcpts:
                        self._taken.add(i)
                        return self.messages[i]
                left = deadline - time.monotonic()
                if left <= 0:
                    raise TimeoutError(f"no mail to {to} within {timeout} s")
                self._cond.wait(left)

    def messages_to(self, to: str) -> list[EmailMessage]:
        to = to.strip().lower()
        with self._cond:
            return [m for m, r in zip(self.messages, self._recipients, strict=True) if to in r]

    def clear(self) -> None:
        with self._cond:
            self.messages.clear()
            self._recipients.clear()
            self._taken.clear()

"""Log hygiene: no password, token or session cookie ever reaches a log.

`RedactingFilter` rewrites each record that passes a handler: bearer tokens, `password=…`,
`"password": "…"`, `token=…` (query or fragment), `hromada_session=…`, the password in a
URL's user-info. `install_log_redaction()` puts it on every handler of the root logger and of
uvicorn's loggers; create_app calls it when built and again at startup (uvicorn configures its
handlers after the app is built).
"""

from __future__ import annotations

import logging
import re

MASK = "***"

# A key that names a secret: password, passwd, token, secret, session, api_key, csrf…
_KEY = r"[\w.-]*(?:passw(?:or)?d|pwd|token|secret|session|api[_-]?key|csrf|credential)[\w.-]*"

_PATTERNS: list[tuple[re.Pattern[str], str]] = [
    # Authorization: Bearer abc / Basic abc, and a bare "Bearer abc" anywhere.
    (re.compile(r"\b(Bearer|Basic)\s+[A-Za-z0-9._~+/=-]+", re.I), rf"\1 {MASK}"),
    # JSON or a Python repr: "password": "x" / 'token': 'x'
    (re.compile(rf"""(["']{_KEY}["']\s*:\s*)(["'])(?:\\.|(?!\2).)*\2""", re.I), rf"\1\2{MASK}\2"),
    # key=value in a query, a fragment, a form body or a Cookie header
    (re.compile(rf"(?<![\w.-])({_KEY})=([^&\s;,'\"#]+)", re.I), rf"\1={MASK}"),
    # password in a URL: scheme://user:password@host
    (re.compile(r"(\b[a-z][a-z0-9+.-]*://[^/\s:@]+:)[^@\s/]+@", re.I), rf"\1{MASK}@"),
]


def redact(text: str) -> str:
    """
    >>> redact('POST /login?next=/&token=abc123 password=hunter2 "password": "x y"')
    'POST /login?next=/&token=*** password=*** "password": "***"'
    """
    for pattern, replacement in _PATTERNS:
        text = pattern.sub(replacement, text)
    return text


def _redact_arg(arg: object) -> object:
    if isinstance(arg, (int, float, bool)) or arg is None:
        return arg
    text = str(arg)
    cleaned = redact(text)
    if cleaned == text:
        return arg
    return cleaned


class RedactingFilter(logging.Filter):
    """Redacts the message, its arguments (kept in place, so formatters that read them, like
    uvicorn's access log, still work) and the formatted exception."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.msg, str):
            record.msg = redact(record.msg)
        elif record.msg is not None:
            record.msg = _redact_arg(record.msg)
        if isinstance(record.args, tuple):
            record.args = tuple(_redact_arg(a) for a in record.args)
        elif isinstance(record.args, dict):
            record.args = {k: _redact_arg(v) for k, v in record.args.items()}
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact(record.exc_text)
        return True


LOGGERS = ("", "uvicorn", "uvicorn.error", "uvicorn.access", "hromada")


def install_log_redaction(loggers: tuple[str, ...] = LOGGERS) -> None:
    """Add a RedactingFilter to every handler of these loggers (once per handler)."""
    for name in loggers:
        for handler in logging.getLogger(name).handlers:
            if not any(isinstance(f, RedactingFilter) for f in handler.filters):
                handler.addFilter(RedactingFilter())

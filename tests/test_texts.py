"""One home for user-visible text (gis/texts.py): every marked text, the portal's and the
server's, has its English; `hromada texts missing` says which do not; the language is
negotiated in one place."""

from __future__ import annotations

import doctest
import re
import subprocess
import sys
from pathlib import Path

from gis import notices, texts
from gis.models import result_en, status_name

CYRILLIC = re.compile(r"[А-Яа-яЇїІіЄєҐґ]")
ROOT = Path(__file__).resolve().parent.parent


def test_no_text_lacks_its_english():
    run = subprocess.run(
        [sys.executable, "-m", "cli.main", "texts", "missing"],
        capture_output=True, text=True, cwd=ROOT, timeout=120,
    )  # fmt: skip
    assert run.returncode == 0, run.stdout + run.stderr
    assert re.search(r"^portal: \d{3,} texts marked, 0 without English", run.stdout, re.M)
    assert re.search(r"^server: \d{3,} texts marked, 0 without English", run.stdout, re.M)


def test_a_text_without_english_is_named_with_its_place(tmp_path, capsys):
    source = tmp_path / "module.py"
    source.write_text('A = N_("Перший")\n\nB = tr("Другий {n}", lang, n=1)\n', encoding="utf-8")
    (tmp_path / "locale" / "en").mkdir(parents=True)
    (tmp_path / "locale" / "en" / "x.po").write_text(
        'msgid ""\nmsgstr ""\n"Content-Type: text/plain; charset=UTF-8\\n"\n\n'
        'msgid "Перший"\nmsgstr "First"\n\nmsgid "Третій"\nmsgstr ""\n\n'
        'msgid "Другий {n}"\nmsgstr "Second {m}"\n',
        encoding="utf-8",
    )
    domain = texts.TextDomain(
        "test", tmp_path / "locale", tmp_path, lambda: [(source, texts.extract_python)]
    )
    assert domain.catalogue("en").text("Перший") == "First"
    assert texts.report([domain]) == 1
    out = capsys.readouterr().out
    assert "x.po:8: empty translation: 'Третій'" in out
    assert "placeholders differ: 'Другий {n}'" in out

    (tmp_path / "locale" / "en" / "x.po").write_text(
        'msgid "Перший"\nmsgstr "First"\n', encoding="utf-8"
    )
    assert (
        texts.report([texts.TextDomain("t2", tmp_path / "locale", tmp_path, domain.sources)]) == 1
    )
    assert "module.py:3: no English: 'Другий {n}'" in capsys.readouterr().out


def test_tr_fills_placeholders_and_falls_back_to_ukrainian():
    assert texts.tr("Звернення № {number} закрито", "en", number="С-1") == (
        "Appeal No. С-1 is closed"
    )
    assert texts.tr("Звернення № {number} закрито", "uk", number=7) == "Звернення № 7 закрито"
    assert texts.tr("Звернення № {number} закрито", "de", number=7) == "Звернення № 7 закрито"
    assert texts.tr("Текст, якого немає в каталозі", "en") == "Текст, якого немає в каталозі"
    # A missing value leaves the text unfilled rather than failing.
    assert texts.tr("Звернення № {number} закрито", "en") == "Appeal No. {number} is closed"
    assert status_name("in_work", "en") == "In work" and status_name("in_work") == "В роботі"
    assert result_en("Прийнято в роботу") == "Taken into work"


def test_every_mail_is_ukrainian_then_english():
    for subject, body in (
        notices.confirmation_mail("Ганна", "https://h.example/account/confirm#token=t", 24),
        notices.already_registered_mail("https://h.example/account/reset"),
        notices.reset_mail("https://h.example/account/reset#token=t", 30),
        notices.redirected_mail("С-1", "ЖЕД 1", "не наша ділянка", "https://h.example/a"),
        notices.extended_mail("С-1", "2026-04-01", "потрібне обстеження", "https://h.example/a"),
        notices.closed_mail("С-1", "Прийнято до відома / Ознайомився",
                            result_en("Прийнято до відома / Ознайомився"), "https://h.example/a"),
    ):  # fmt: skip
        uk, en = body.split("\n---\n")
        assert CYRILLIC.search(uk) and "{" not in body
        # The English part is English but for the values put in (names, reasons, numbers).
        for value in ("Ганна", "ЖЕД 1", "не наша ділянка", "потрібне обстеження", "С-1"):
            en = en.replace(value, "")
        assert not CYRILLIC.search(en), en
        assert " / " in subject and subject.endswith("— Hromada GIS")


def test_language_negotiation_has_one_home():
    assert doctest.testmod(texts).failed == 0
    assert texts.preferred_language("ru,en;q=0.9") == "uk"
    assert texts.negotiate("en", "uk", None) == "en"
    assert texts.negotiate(None, None, "en-GB") == "en"
    # The portal's pages and the API's messages read the same rule (webmap/ imports no api/:
    # tests/test_architecture.py).
    from api import errors
    from webmap import i18n

    assert (
        i18n.negotiate is texts.negotiate and errors.preferred_language is texts.preferred_language
    )


def test_every_error_code_raised_has_its_message():
    """A code raised (or answered) with no text would reach the client as http_error's
    "Помилка запиту."; each literal code in gis/, layers/, tiles/ and api/ has its own."""
    import ast

    from gis.error_messages import MESSAGES

    errors = {"InvalidInput", "InvalidParameter", "Conflict", "NotFound", "Forbidden",
              "NotAuthenticated", "PayloadTooLarge", "RateLimited", "DomainError", "LayerError",
              "UnknownCollection", "FeatureNotFound", "MailError"}  # fmt: skip
    # The base classes' own codes, never raised bare.
    generic = {"domain_error", "invalid_input", "invalid_parameter", "conflict", "layer_error"}
    found, missing = 0, []
    for package in ("gis", "layers", "tiles", "api"):
        for path in sorted((ROOT / package).rglob("*.py")):
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                code = None
                if isinstance(node, ast.Call):
                    name = getattr(node.func, "id", None) or getattr(node.func, "attr", None)
                    index = 0 if name in errors else 2 if name == "error_response" else None
                    if index is not None and len(node.args) > index:
                        arg = node.args[index]
                        if isinstance(arg, ast.Constant) and isinstance(arg.value, str):
                            code = arg.value
                elif isinstance(node, ast.Assign) and isinstance(node.value, ast.Constant):
                    if [getattr(t, "id", None) for t in node.targets] == ["code"]:
                        code = node.value.value if node.value.value not in generic else None
                if code:
                    found += 1
                    if code not in MESSAGES:
                        missing.append(f"{path.relative_to(ROOT)}:{node.lineno}: {code}")
    assert found > 100 and not missing, missing

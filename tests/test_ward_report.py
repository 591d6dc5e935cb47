"""The ward report's own texts (gis/ward_report.py) in Ukrainian and English, without a
database: the HTML and the PDF say what they say in the language asked for, the ward's name
shows only when it adds something to its number, and the PDF's text is read back as a viewer
reads it (pdf_text, also used by tests/test_portal_deputy.py)."""

from __future__ import annotations

import datetime as dt
import re
import zlib

import pytest

from gis import texts, ward_report

NOW = dt.datetime(2026, 3, 5, 9, 30, tzinfo=dt.UTC)


def pdf_text(data: bytes) -> str:
    """The text drawn on a PDF's pages, read as a viewer would: each font's glyph codes
    through its ToUnicode map (fpdf2 embeds DejaVu Sans as an Identity-H subset)."""
    objects = {int(n): body for n, body in re.findall(rb"(?ms)^(\d+) 0 obj\s*(.*?)endobj", data)}

    def stream(n: int) -> bytes:
        body = objects[n]
        raw = re.search(rb"stream\r?\n(.*?)\r?\nendstream", body, re.S).group(1)
        return zlib.decompress(raw) if b"/FlateDecode" in body[: body.index(b"stream")] else raw

    def unicode_map(n: int) -> dict[int, str]:
        cmap = stream(n).decode("latin-1")
        out = {}
        for block in re.findall(r"beginbfchar(.*?)endbfchar", cmap, re.S):
            for code, uni in re.findall(r"<([0-9A-Fa-f]+)>\s*<([0-9A-Fa-f]+)>", block):
                out[int(code, 16)] = bytes.fromhex(uni).decode("utf-16-be")
        for block in re.findall(r"beginbfrange(.*?)endbfrange", cmap, re.S):
            for lo, hi, uni in re.findall(
                r"<([0-9A-Fa-f]+)>\s*<([0-9A-Fa-f]+)>\s*<([0-9A-Fa-f]+)>", block
            ):
                for i, code in enumerate(range(int(lo, 16), int(hi, 16) + 1)):
                    out[code] = chr(int(uni, 16) + i)
        return out

    fonts = {}
    for name, n in re.findall(rb"/(F\d+) (\d+) 0 R", data):
        to_unicode = re.search(rb"/ToUnicode (\d+) 0 R", objects[int(n)])
        if to_unicode:
            fonts[name.decode()] = unicode_map(int(to_unicode.group(1)))

    def literal(s: bytes) -> bytes:
        escapes = {b"n": b"\n", b"r": b"\r", b"t": b"\t", b"b": b"\b", b"f": b"\f"}
        return re.sub(
            rb"\\([0-7]{1,3}|.)",
            lambda m: bytes([int(m.group(1), 8)]) if m.group(1)[:1].isdigit()
            else escapes.get(m.group(1), m.group(1)),
            s, flags=re.S,
        )  # fmt: skip

    lines = []
    pages = [int(n) for n in re.findall(rb"/Contents (\d+) 0 R", data)]
    token = re.compile(rb"/(F\d+) [\d.]+ Tf|\(((?:[^()\\]|\\.)*)\)\s*Tj", re.S)
    for page in pages:
        font: dict[int, str] = {}
        for m in token.finditer(stream(page)):
            if m.group(1):
                font = fonts.get(m.group(1).decode(), {})
                continue
            raw = literal(m.group(2))
            codes = [int.from_bytes(raw[i : i + 2], "big") for i in range(0, len(raw), 2)]
            lines.append("".join(font.get(c, "\ufffd") for c in codes))
    return "\n".join(lines)


def _ward(name: str | None = "Виборчий округ №5") -> dict:
    ring = [[30.5, 50.4], [30.6, 50.4], [30.6, 50.5], [30.5, 50.4]]
    return {
        "number": 5, "name": name, "geometry": {"type": "Polygon", "coordinates": [ring]},
        "bbox": [30.5, 50.4, 30.6, 50.5],
    }  # fmt: skip


def _stats(lang: str) -> dict:
    return {
        "total": 7, "open": 4, "overdue": 2,
        "by_status": [
            {"status": s, "name": ward_report.status_name(s, lang), "count": 1, "overdue": 0}
            for s in ward_report.STATUS_ORDER
        ],
        "by_category": [{"category": "Ремонт доріг", "count": 7, "overdue": 2}],
        "by_month": [
            {"month": "2026-03", "label": ward_report.month_label("2026-03", lang),
             "count": 7, "closed": 3},
        ],
    }  # fmt: skip


@pytest.mark.parametrize(
    ("name", "adds"),
    [
        ("Виборчий округ №5", False),
        ("Виборчий округ № 5", False),
        ("виборчий округ 5", False),
        ("Округ № 5.", False),
        ("Electoral ward No. 5", False),
        ("", False),
        (None, False),
        ("Оболонський", True),
        ("Виборчий округ № 5 (Оболонь)", True),
        ("Виборчий округ № 15", True),  # another number is something else
    ],
)
def test_a_wards_name_shows_only_when_it_adds_something(name, adds):
    assert ward_report.name_adds(name, 5) is adds
    title = ward_report.title(_ward(name), "uk")
    assert title == ("Звіт по виборчому округу № 5" + (f" — {name}" if adds else ""))
    assert ward_report.report_context(_ward(name))["name_adds"] is adds


def test_status_and_month_names_in_both_languages():
    assert ward_report.status_name("registered", "uk") == "Зареєстровано"
    assert ward_report.status_name("rework", "en") == "Returned for rework"
    assert ward_report.status_name("closed", "xx") == "Закрито"
    assert ward_report.status_name("unknown", "en") == "unknown"
    assert ward_report.month_label("2026-03", "uk") == "березень 2026"
    assert ward_report.month_label("2026-12", "en") == "December 2026"
    assert ward_report.month_label("2026-01", "xx") == "січень 2026"
    # Every text has its English (gis/locale/en/report.po), with the same placeholders.
    for key, uk in ward_report.TEXTS.items():
        en = texts.gettext(uk, "en")
        assert set(re.findall(r"\{(\w+)\}", uk)) == set(re.findall(r"\{(\w+)\}", en)), key
        assert not re.search("[А-Яа-яЇїІіЄєҐґ]", en), key
    assert ward_report.text("title", "en", number=3) == "Report on electoral ward No. 3"


def _html(lang: str, name: str = "Виборчий округ №5") -> str:
    return ward_report.render_html(
        _ward(name), _stats(lang), [(30.55, 50.45, "closed")],
        leaflet_js="/static/leaflet.js", leaflet_css="/static/leaflet.css", now=NOW, lang=lang,
    )  # fmt: skip


def test_the_html_report_in_english():
    page = _html("en")
    assert '<html lang="en">' in page
    assert "<title>Report on electoral ward No. 5</title>" in page
    assert "<h1>Report on electoral ward No. 5</h1>" in page
    assert "As of 05.03.2026 09:30 UTC." in page
    for caption in ("By status", "By category", "By month (the last 12 months)"):
        assert f"<caption>{caption}</caption>" in page
    for head in ("Status", "Category", "Month", "Appeals", "Overdue", "Filed", "Of them closed"):
        assert f'<th scope="col">{head}</th>' in page
    assert (
        'Appeals in total: <b id="total">7</b>; open: <b>4</b>; overdue: <b id="overdue">2</b>.'
        in page
    )
    assert "Returned for rework" in page and "March 2026" in page
    # The data stays as it is; no Ukrainian text of ours is left.
    assert "Ремонт доріг" in page
    for uk in ("Звіт", "Станом", "За статусом", "Усього", "Звернень", "березень", "Закрито"):
        assert uk not in page, uk
    # The ward's name repeats nothing; a name of its own is shown.
    assert "Виборчий округ" not in page
    assert "<h1>Report on electoral ward No. 5 — Оболонський</h1>" in _html("en", "Оболонський")


def test_the_html_report_in_ukrainian_by_default():
    page = _html("uk")
    assert '<html lang="uk">' in page
    assert "<h1>Звіт по виборчому округу № 5</h1>" in page
    assert "<caption>По місяцях (останні 12 місяців)</caption>" in page
    assert 'Усього звернень: <b id="total">7</b>' in page
    assert "By status" not in page
    assert ward_report.render_html(
        _ward(), _stats("uk"), [], leaflet_js="/a.js", leaflet_css="/a.css", now=NOW, lang="de"
    ).count('<html lang="uk">') == 1  # fmt: skip


def test_the_pdf_report_in_english_and_ukrainian():
    en = ward_report.render_pdf(_ward(), _stats("en"), [(30.55, 50.45, "rework")], NOW, lang="en")
    assert b"/Title (Report on electoral ward No. 5)" in en and b"/Lang (en)" in en
    text = pdf_text(en)
    lines = text.splitlines()
    assert lines[0] == "Report on electoral ward No. 5"
    assert lines[1] == "As of 05.03.2026 09:30 UTC. No personal data of the applicants."
    for line in (
        "By status", "By category", "By month (the last 12 months)", "Status", "Category",
        "Month", "Appeals", "Overdue", "Filed", "Of them closed", "Returned for rework",
        "March 2026", "Appeals in total: 7; open: 4; overdue: 2.", "Ремонт доріг",
    ):  # fmt: skip
        assert line in lines, line
    assert not re.search("[А-Яа-яЇїІіЄєҐґ]", text.replace("Ремонт доріг", ""))

    uk = pdf_text(ward_report.render_pdf(_ward("Оболонський"), _stats("uk"), [], NOW))
    lines = uk.splitlines()
    assert lines[0] == "Звіт по виборчому округу № 5 — Оболонський"
    for line in ("За статусом", "По місяцях (останні 12 місяців)", "З них закрито",
                 "березень 2026", "На доопрацюванні"):  # fmt: skip
        assert line in lines, line
    assert "By status" not in uk

"""The portal's languages. Ukrainian is the source: every text of the templates and scripts is
written in Ukrainian and marked, `_("…")` in a template and `t("…")` or `plural(n, "…|…|…")` in a
script. English comes from the PO catalogues under locale/en/ (one file per group of pages),
keyed by the Ukrainian text as gettext does; a text without a translation stays Ukrainian.

The machinery (catalogues, the check, the language negotiation) is gis/texts.py, shared with
the server's texts; this module names the portal's catalogues and how its files are read. They
stay apart from the server's because the scripts get their whole catalogue in every page.

`python -m webmap.i18n` (like `hromada texts missing`) lists the marked texts that have no
English yet, in the portal and the server alike (exit 1), and the translations nothing uses any
more; tests/test_portal_i18n.py runs the same check.

Data is not translated: category, district and street names are the city's registers, in
Ukrainian only."""

from __future__ import annotations

import io
import sys
from collections.abc import Iterator, Mapping
from pathlib import Path

from babel.messages.extract import extract

from gis import texts
from gis.texts import (  # noqa: F401 (the portal's names for the shared machinery)
    LANGUAGES,
    SOURCE_LANGUAGE,
    Catalogue,
    CatalogueCheck,
    format_text,
    negotiate,
)
from webmap import STATIC_DIR, TEMPLATES_DIR, WEBMAP_DIR

LOCALE_DIR = WEBMAP_DIR / "locale"
# The switch on every page offers the other language, named in itself.
LANGUAGE_NAMES = {"uk": "Українська", "en": "English"}

# Marking functions: a template's _() and a script's t() take the text first; a script's
# plural(n, "одна|кілька|багато") takes the Ukrainian forms, joined by "|", second.
TEMPLATE_KEYWORDS = {"_": None}
SCRIPT_KEYWORDS = {"t": None, "plural": (2,)}


def _extract_file(path: Path) -> Iterator[tuple[str, int]]:
    keywords: Mapping[str, tuple[int, ...] | None]
    if path.suffix == ".html":
        # Named, not passed: Jinja types its extractor's tuples differently from Babel.
        method, keywords = "jinja2.ext:babel_extract", TEMPLATE_KEYWORDS
    else:
        method, keywords = "javascript", SCRIPT_KEYWORDS
    source = io.BytesIO(path.read_bytes())
    for lineno, messages, _comments, _context in extract(
        method, source, keywords=keywords, options={"encoding": "utf-8"}
    ):
        text = messages if isinstance(messages, str) else next(m for m in messages if m)
        yield text, lineno


def _sources() -> Iterator[tuple[Path, texts.Extractor]]:
    for path in sorted(TEMPLATES_DIR.glob("*.html")) + sorted((STATIC_DIR / "js").glob("*.js")):
        yield path, _extract_file


PORTAL = texts.TextDomain("portal", LOCALE_DIR, WEBMAP_DIR, _sources)


def catalogue(lang: str) -> Catalogue:
    return PORTAL.catalogue(lang)


def marked_texts() -> dict[str, list[str]]:
    """Every text marked for translation in the templates and our scripts, with where it is."""
    return PORTAL.marked_texts()


def check(lang: str = "en") -> CatalogueCheck:
    return PORTAL.check(lang)


def main() -> int:
    return texts.report([PORTAL, texts.SERVER], "en")


if __name__ == "__main__":
    sys.exit(main())

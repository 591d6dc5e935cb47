"""The portal's languages. Ukrainian is the source: every text of the templates and scripts is
written in Ukrainian and marked, `_("…")` in a template and `t("…")` or `plural(n, "…|…|…")` in a
script. English comes from the PO catalogues under locale/en/ (one file per group of pages),
keyed by the Ukrainian text as gettext does; a text without a translation stays Ukrainian.

`python -m webmap.i18n` lists the marked texts that have no English yet (exit 1) and the
translations nothing uses any more; tests/test_portal_i18n.py runs the same check.

Data is not translated: category, district and street names are the city's registers, in
Ukrainian only."""

from __future__ import annotations

import functools
import io
import re
import sys
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

from babel.messages.extract import extract
from babel.messages.pofile import read_po
from jinja2.ext import babel_extract

from webmap import STATIC_DIR, TEMPLATES_DIR, WEBMAP_DIR

LANGUAGES = ("uk", "en")
SOURCE_LANGUAGE = "uk"
LOCALE_DIR = WEBMAP_DIR / "locale"
# The switch on every page offers the other language, named in itself.
LANGUAGE_NAMES = {"uk": "Українська", "en": "English"}

# Marking functions: a template's _() and a script's t() take the text first; a script's
# plural(n, "одна|кілька|багато") takes the Ukrainian forms, joined by "|", second.
TEMPLATE_KEYWORDS = {"_": None}
SCRIPT_KEYWORDS = {"t": None, "plural": (2,)}

_PLACEHOLDER = re.compile(r"\{(\w+)\}")


def format_text(text: str, params: Mapping[str, object]) -> str:
    """Fills {name} placeholders; one without a value stays as it is (never an error on a page)."""
    return _PLACEHOLDER.sub(
        lambda m: str(params[m.group(1)]) if m.group(1) in params else m.group(0), text
    )


@dataclass(frozen=True)
class Catalogue:
    lang: str
    messages: Mapping[str, str]

    def gettext(self, msgid: str, **params: object) -> str:
        return format_text(self.messages.get(msgid) or msgid, params)


def _catalogue_files(lang: str) -> list[Path]:
    return sorted((LOCALE_DIR / lang).glob("*.po"))


def read_catalogue_files(lang: str) -> Iterator[tuple[Path, str, str]]:
    """(file, Ukrainian text, translation) for every translated entry of a language."""
    for path in _catalogue_files(lang):
        with path.open("rb") as fh:
            for message in read_po(fh, locale=None):
                if not message.id or message.fuzzy or not isinstance(message.id, str):
                    continue
                if message.string:
                    yield path, message.id, message.string


@functools.cache
def catalogue(lang: str) -> Catalogue:
    if lang == SOURCE_LANGUAGE or lang not in LANGUAGES:
        return Catalogue(SOURCE_LANGUAGE, {})
    return Catalogue(lang, {msgid: text for _, msgid, text in read_catalogue_files(lang)})


def negotiate(query_lang: str | None, cookie_lang: str | None, accept_language: str | None) -> str:
    """The page's language: the one asked for in the address (?lang=), else the one chosen
    before (the cookie the switch leaves), else the browser's preference, else Ukrainian.
    An unknown code is ignored rather than refused: it is a preference, not data."""
    from api.errors import preferred_language  # the API's own Accept-Language rule

    for choice in (query_lang, cookie_lang):
        if choice in LANGUAGES:
            return choice
    return preferred_language(accept_language)


def _extract_file(path: Path) -> Iterator[tuple[str, int]]:
    if path.suffix == ".html":
        method, keywords = babel_extract, TEMPLATE_KEYWORDS
    else:
        method, keywords = "javascript", SCRIPT_KEYWORDS
    source = io.BytesIO(path.read_bytes())
    for lineno, messages, _comments, _context in extract(
        method, source, keywords=keywords, options={"encoding": "utf-8"}
    ):
        text = messages if isinstance(messages, str) else next(m for m in messages if m)
        yield text, lineno


def marked_texts() -> dict[str, list[str]]:
    """Every text marked for translation in the templates and our scripts, with where it is."""
    found: dict[str, list[str]] = {}
    files = sorted(TEMPLATES_DIR.glob("*.html")) + sorted((STATIC_DIR / "js").glob("*.js"))
    for path in files:
        for text, lineno in _extract_file(path):
            found.setdefault(text, []).append(f"{path.relative_to(WEBMAP_DIR)}:{lineno}")
    return found


@dataclass
class CatalogueCheck:
    marked: int  # how many texts are marked
    missing: dict[str, list[str]]  # marked, no translation: text → where it is marked
    unused: list[str]  # translated, marked nowhere
    conflicting: dict[str, set[str]]  # one text translated differently in two files
    placeholders: dict[str, str]  # a translation whose {names} differ from its source's


def check(lang: str = "en") -> CatalogueCheck:
    marked = marked_texts()
    translations: dict[str, set[str]] = {}
    for _, msgid, text in read_catalogue_files(lang):
        translations.setdefault(msgid, set()).add(text)
    bad_placeholders = {}
    for msgid, texts in translations.items():
        for text in texts:
            if set(_PLACEHOLDER.findall(text)) != set(_PLACEHOLDER.findall(msgid)) or (
                "|" in msgid and "|" not in text
            ):
                bad_placeholders[msgid] = text
    return CatalogueCheck(
        marked=len(marked),
        missing={m: where for m, where in marked.items() if m not in translations},
        unused=sorted(m for m in translations if m not in marked),
        conflicting={m: t for m, t in translations.items() if len(t) > 1},
        placeholders=bad_placeholders,
    )


def main() -> int:
    result = check("en")
    for text, where in sorted(result.missing.items()):
        print(f"no English: {text!r}  ({', '.join(where)})")
    for text in result.unused:
        print(f"unused: {text!r}")
    for text, translations in result.conflicting.items():
        print(f"translated differently: {text!r} → {sorted(translations)}")
    for text, translation in result.placeholders.items():
        print(f"placeholders differ: {text!r} → {translation!r}")
    bad = result.missing or result.conflicting or result.placeholders
    print(
        f"{result.marked} texts marked, {len(result.missing)} without English, "
        f"{len(result.unused)} unused translations"
    )
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())

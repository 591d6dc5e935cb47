"""Every text a person reads, and the language it is read in: the one home of both.

Ukrainian is the source language. A text is written in Ukrainian where the code uses it and
marked: `N_("…")` where it is defined (a table of names, an error's message) and
`tr("…", lang, **params)` where it is used at once. English comes from the gettext catalogues
(PO files, read with Babel), keyed by the Ukrainian text; a text without English stays
Ukrainian. Placeholders are str.format's: `{value}`, `{parameter}`, …

Two groups of catalogues (`TextDomain`), read by the same machinery:

* SERVER, gis/locale/<lang>/*.po — what the server writes: the API's error messages
  (messages.po; their Ukrainian is gis/error_messages.py), mails (mail.po), the ward report
  (report.po), status and result names (names.po) and 1551's category kinds (categories.po);
* the portal's, webmap/locale/<lang>/*.po — its templates and scripts (webmap/i18n.py), sent
  to the browser, so kept apart from the server's.

`hromada texts missing` (or `python -m webmap.i18n`) lists every marked text without English,
in either group, as file:line and the text; exit status 1 when there is one.

The language: `preferred_language` reads Accept-Language (the API), `negotiate` adds the
portal's ?lang= and cookie. Data is not translated: category, district and street names are
the city's registers (a kind's English is the exception: categories.po gives the importer one).
"""

from __future__ import annotations

import io
import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path

LANGUAGES = ("uk", "en")
SOURCE_LANGUAGE = "uk"
GIS_DIR = Path(__file__).resolve().parent
PROJECT_DIR = GIS_DIR.parent

_PLACEHOLDER = re.compile(r"\{(\w+)\}")

# Marking functions in Python: N_(text) and tr(text, lang, **params) take the text first.
PYTHON_KEYWORDS = {"N_": None, "tr": None}


def N_(text: str) -> str:  # noqa: N802 (gettext's name for a marker)
    """Marks a Ukrainian text for the catalogues where it is defined; `tr` translates it later."""
    return text


# --- language ----------------------------------------------------------------------------


def preferred_language(accept_language: str | None) -> str:
    """'en' when the client's Accept-Language ranks English above Ukrainian, else 'uk'.
    Russian counts as Ukrainian here: a Kyiv browser set to Russian (which usually lists
    English after it) belongs to a reader of Ukrainian, not of English.

    >>> preferred_language("en-US,en;q=0.9,uk;q=0.8"), preferred_language("uk,en;q=0.5")
    ('en', 'uk')
    >>> preferred_language("ru-RU,ru;q=0.9,en-US;q=0.8,en;q=0.7")
    'uk'
    """
    reads = {"uk": "uk", "ru": "uk", "en": "en"}
    best = {"uk": -1.0, "en": -1.0}
    for position, item in enumerate((accept_language or "").split(",")):
        tag, _, q_part = item.strip().partition(";")
        language = reads.get(tag.strip().lower().split("-")[0])
        if language is None:
            continue
        try:
            q = float(q_part.strip()[2:]) if q_part.strip().startswith("q=") else 1.0
        except ValueError:
            q = 0.0
        # Equal weights: the one listed first wins.
        best[language] = max(best[language], q - position * 1e-6)
    return "en" if best["en"] > 0 and best["en"] > best["uk"] else "uk"


def negotiate(query_lang: str | None, cookie_lang: str | None, accept_language: str | None) -> str:
    """A page's language: the one asked for in the address (?lang=), else the one chosen
    before (the cookie the portal's switch leaves), else the browser's preference, else
    Ukrainian. An unknown code is ignored rather than refused: it is a preference, not data."""
    for choice in (query_lang, cookie_lang):
        if choice in LANGUAGES:
            return choice
    return preferred_language(accept_language)


# --- catalogues --------------------------------------------------------------------------


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
        """The portal's lookup: placeholders filled leniently (format_text)."""
        return format_text(self.messages.get(msgid) or msgid, params)

    def text(self, msgid: str) -> str:
        return self.messages.get(msgid) or msgid


# A source file's marked texts: (text, line number).
Extractor = Callable[[Path], Iterator[tuple[str, int]]]


def extract_python(path: Path) -> Iterator[tuple[str, int]]:
    from babel.messages.extract import extract

    source = io.BytesIO(path.read_bytes())
    for lineno, messages, _comments, _context in extract(
        "python", source, keywords=PYTHON_KEYWORDS, options={"encoding": "utf-8"}
    ):
        text = messages if isinstance(messages, str) else next(m for m in messages if m)
        yield text, lineno


@dataclass
class CatalogueCheck:
    domain: str
    marked: int  # how many texts are marked
    missing: dict[str, list[str]]  # marked, no translation: text → where it is marked
    untranslated: dict[str, str]  # a catalogue entry with an empty translation → file:line
    unused: list[str]  # translated, marked nowhere
    conflicting: dict[str, set[str]]  # one text translated differently in two files
    placeholders: dict[str, str]  # a translation whose {names} differ from its source's


@dataclass(frozen=True, eq=False)
class TextDomain:
    """A group of catalogues (`<locale_dir>/<lang>/*.po`) and the source files whose marked
    texts they translate (`sources()`: each file with the extractor that reads it)."""

    name: str
    locale_dir: Path
    root: Path  # where-paths are shown relative to this
    sources: Callable[[], Iterable[tuple[Path, Extractor]]]
    _cache: dict = field(default_factory=dict, repr=False)

    def catalogue_files(self, lang: str) -> list[Path]:
        return sorted((self.locale_dir / lang).glob("*.po"))

    def entries(self, lang: str) -> Iterator[tuple[Path, int, str, str]]:
        """(file, line, Ukrainian text, translation) for every entry of a language."""
        from babel.messages.pofile import read_po

        for path in self.catalogue_files(lang):
            with path.open("rb") as fh:
                for message in read_po(fh, locale=None):
                    if not message.id or message.fuzzy or not isinstance(message.id, str):
                        continue
                    string = message.string if isinstance(message.string, str) else ""
                    yield path, message.lineno or 0, message.id, string

    def catalogue(self, lang: str) -> Catalogue:
        if lang == SOURCE_LANGUAGE or lang not in LANGUAGES:
            return Catalogue(SOURCE_LANGUAGE, {})
        if lang not in self._cache:
            self._cache[lang] = Catalogue(
                lang, {msgid: text for _, _, msgid, text in self.entries(lang) if text}
            )
        return self._cache[lang]

    def marked_texts(self) -> dict[str, list[str]]:
        """Every marked text of the sources, with where it is (file:line)."""
        found: dict[str, list[str]] = {}
        for path, extractor in self.sources():
            for text, lineno in extractor(path):
                found.setdefault(text, []).append(f"{_shown(path, self.root)}:{lineno}")
        return found

    def check(self, lang: str = "en") -> CatalogueCheck:
        marked = self.marked_texts()
        translations: dict[str, set[str]] = {}
        untranslated: dict[str, str] = {}
        for path, lineno, msgid, text in self.entries(lang):
            if text:
                translations.setdefault(msgid, set()).add(text)
            else:
                untranslated[msgid] = f"{_shown(path, self.root)}:{lineno}"
        bad_placeholders = {}
        for msgid, texts in translations.items():
            for text in texts:
                if set(_PLACEHOLDER.findall(text)) != set(_PLACEHOLDER.findall(msgid)) or (
                    "|" in msgid and "|" not in text
                ):
                    bad_placeholders[msgid] = text
        return CatalogueCheck(
            domain=self.name,
            marked=len(marked),
            missing={m: where for m, where in marked.items() if m not in translations},
            untranslated={m: w for m, w in untranslated.items() if m not in translations},
            unused=sorted(m for m in translations if m not in marked),
            conflicting={m: t for m, t in translations.items() if len(t) > 1},
            placeholders=bad_placeholders,
        )


def _shown(path: Path, root: Path) -> str:
    try:
        return str(path.relative_to(root))
    except ValueError:
        return str(path)


# The packages whose Python marks server texts (read as files, not imported).
SERVER_PACKAGES = ("gis", "layers", "tiles", "api", "importers", "cli")


def _server_sources() -> Iterator[tuple[Path, Extractor]]:
    for package in SERVER_PACKAGES:
        for path in sorted((PROJECT_DIR / package).rglob("*.py")):
            if "migrations" not in path.parts:
                yield path, extract_python


SERVER = TextDomain("server", GIS_DIR / "locale", PROJECT_DIR, _server_sources)


def tr(text: str, lang: str = SOURCE_LANGUAGE, **params: object) -> str:
    """A server text in `lang` (Ukrainian for any language but English), its placeholders
    filled by str.format; when a value is missing, the text is given unfilled. A value given
    per language (`state_uk=…, state_en=…`) fills `{state}` in its language.

    >>> tr("Звернення № {number} закрито", "en", number=7)
    'Appeal No. 7 is closed'
    >>> tr("Закрито", "en"), tr("Закрито", "de")
    ('Closed', 'Закрито')
    """
    catalogue = SERVER.catalogue(lang)
    translated = catalogue.text(text)
    suffix = f"_{catalogue.lang}"
    values = {**params, **{k[: -len(suffix)]: v for k, v in params.items() if k.endswith(suffix)}}
    try:
        return translated.format(**values)
    except (KeyError, IndexError, ValueError):
        return translated


def gettext(text: str, lang: str = SOURCE_LANGUAGE) -> str:
    """A server text in `lang`, its placeholders left for the caller to fill."""
    return SERVER.catalogue(lang).text(text)


def translation(text: str | None, lang: str = "en") -> str | None:
    """The catalogue's translation of a text, or None when it has none (data outside the
    catalogue, such as a result 1551 worded differently)."""
    if not text:
        return None
    return SERVER.catalogue(lang).messages.get(text)


def report(domains: Iterable[TextDomain], lang: str = "en", *, verbose: bool = True) -> int:
    """Prints every text without `lang` (file:line and the text) across the domains; 1 when
    any text lacks it, a translation's placeholders differ, or two files disagree."""
    bad = False
    for domain in domains:
        result = domain.check(lang)
        for text, where in sorted(result.missing.items()):
            for place in where:
                print(f"{place}: no English: {text!r}")
        for text, place in sorted(result.untranslated.items(), key=lambda i: i[1]):
            print(f"{place}: empty translation: {text!r}")
        for text, translations in result.conflicting.items():
            print(f"{domain.name}: translated differently: {text!r} → {sorted(translations)}")
        for text, translation_ in result.placeholders.items():
            print(f"{domain.name}: placeholders differ: {text!r} → {translation_!r}")
        if verbose:
            for text in result.unused:
                print(f"{domain.name}: unused: {text!r}")
        print(
            f"{domain.name}: {result.marked} texts marked, {len(result.missing)} without "
            f"English, {len(result.unused)} unused translations"
        )
        bad = bad or bool(
            result.missing or result.untranslated or result.conflicting or result.placeholders
        )
    return 1 if bad else 0

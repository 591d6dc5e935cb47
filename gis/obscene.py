"""Obscene language in an appeal's text (Kyiv's 1551 rule: such an appeal is not accepted).

The words live in a plain list kept in the repository, gis/data/obscene_uk.txt (its header
explains the format). Each pattern must match a WHOLE word of the normalised text, so
inflected and prefixed forms are found (хуйня, нахуй, заїбав) while innocent words that only
contain a stem somewhere inside are not (сукня, себе, запізднілий, небу).

Normalisation: lower case; ’ ʼ ` ´ unified to '; ё kept (it has its own patterns); in a word
that has Cyrillic letters, Latin look-alikes (a, e, i, o, p, c, x, y, k, m, t, h, b) are read as
the Cyrillic ones, so "xуйня" written with a Latin x is caught.
"""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path

WORDS_FILE = Path(__file__).with_name("data") / "obscene_uk.txt"

# Optional verbal prefixes standing for {P} in the list.
PREFIXES = (
    "за", "на", "по", "до", "від", "роз", "раз", "рас", "ви", "вы", "у", "о", "ні", "ни",
    "пере", "недо", "під", "под", "от", "об", "з", "съ", "отъ", "разъ", "подъ", "объ",
)  # fmt: skip
_P = "(?:(?:" + "|".join(sorted(PREFIXES, key=len, reverse=True)) + ")'?)?"

_APOSTROPHES = str.maketrans({"’": "'", "ʼ": "'", "`": "'", "´": "'", "‘": "'"})
_LOOKALIKES = str.maketrans("aeiopcxykmthb", "аеіорсхукмтнв")
_CYRILLIC = re.compile(r"[\u0400-\u04ff]")
_WORD = re.compile(r"[\w']+")


def load_patterns(path: Path = WORDS_FILE) -> list[str]:
    """The patterns of the list, comments and blank lines dropped, {P} expanded."""
    out = []
    for line in path.read_text(encoding="utf-8").splitlines():
        line = line.split("#", 1)[0].strip()
        if line:
            out.append(line.replace("{P}", _P))
    return out


@lru_cache
def _matcher() -> re.Pattern[str]:
    return re.compile("|".join(f"(?:{p})" for p in load_patterns()))


def normalise(text: str) -> str:
    text = text.lower().translate(_APOSTROPHES)

    def fix(m: re.Match[str]) -> str:
        word = m.group(0)
        return word.translate(_LOOKALIKES) if _CYRILLIC.search(word) else word

    return _WORD.sub(fix, text)


def find_obscene(text: str) -> list[str]:
    """The words of `text` that the list matches (normalised, in order); [] when clean."""
    matcher = _matcher()
    found = []
    for m in _WORD.finditer(normalise(text)):
        word = m.group(0).strip("'")
        if word and matcher.fullmatch(word):
            found.append(word)
    return found


def is_obscene(text: str) -> bool:
    return bool(find_obscene(text))

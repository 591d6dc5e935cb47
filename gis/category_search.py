"""Categories by the words callers use: "яма" finds «Ремонт та укладання асфальтного
покриття», "батареї" «Опалення». No HTTP.

Each category has `keywords` (categories.keywords: lower-case words and phrases, seeded per
kind by migration 0009 and the importer, edited by the administrator); a sub-kind is found by
its own keywords and name and, a little lower, by its kind's. A query word matches a keyword
or name word when equal, or when one begins with the other's stem (the word without its last
two letters, at least three kept), so inflected forms ("ями", "батареї", "сміттям") match.
The categories are few (about a hundred), so they are scored here rather than in SQL.

Only what can be filed is returned: active sub-kinds, and kinds without sub-kinds.
"""

from __future__ import annotations

import re

from psycopg.rows import dict_row

from gis.councils import CATEGORIES_OF_COUNCIL, Council
from gis.errors import InvalidInput

SEARCH_LIMIT = 10
QUERY_MIN, QUERY_MAX = 2, 100
KEYWORDS_MAX = 40  # per category
KEYWORD_MAX_CHARS = 60
KIND_WEIGHT = 0.9  # a sub-kind found by its kind's words

_ITEM = ("id", "code", "name", "name_en", "parent_id", "kind", "kind_en", "deadline_days",
         "needs_study")  # fmt: skip
_APOSTROPHES = str.maketrans({"’": "'", "ʼ": "'", "`": "'", "´": "'", "‘": "'"})

_SQL = """
SELECT c.id, c.code, c.name, c.name_en, c.parent_id, c.deadline_days, c.needs_study,
       c.keywords, k.name AS kind, k.name_en AS kind_en, coalesce(k.keywords, '{}') AS
       kind_keywords, coalesce(k.sort_order, c.sort_order) AS sort_order
  FROM categories c LEFT JOIN categories k ON k.id = c.parent_id
 WHERE c.is_active AND (k.id IS NULL OR k.is_active)
   AND NOT EXISTS (SELECT 1 FROM categories s WHERE s.parent_id = c.id AND s.is_active)
"""
# The same, as a council offers them (gis/councils.CATEGORIES_OF_COUNCIL): what it chose,
# with its deadline and its extra keywords.
_COUNCIL_SQL = f"""
SELECT c.id, c.code, c.name, c.name_en, c.parent_id, c.deadline_days_effective AS deadline_days,
       c.needs_study, c.keywords_effective AS keywords, k.name AS kind, k.name_en AS kind_en,
       coalesce(k.keywords, '{{}}') AS kind_keywords,
       coalesce(k.sort_order, c.sort_order) AS sort_order
  FROM ({CATEGORIES_OF_COUNCIL}) c LEFT JOIN categories k ON k.id = c.parent_id
 WHERE (k.id IS NULL OR k.is_active)
   AND NOT EXISTS (SELECT 1 FROM ({CATEGORIES_OF_COUNCIL}) s WHERE s.parent_id = c.id)
"""


def words(value: str) -> list[str]:
    return re.findall(r"[\w']+", value.lower().translate(_APOSTROPHES))


def _stem(word: str) -> str:
    return word[: max(3, len(word) - 2)] if len(word) > 4 else word


def _word_score(word: str, other: str) -> float:
    if word == other:
        return 1.0
    if len(word) >= 3 and len(other) >= 3:
        if other.startswith(_stem(word)) or word.startswith(_stem(other)):
            return 0.75
    return 0.0


def _coverage(qwords: list[str], phrase: list[str]) -> float:
    """How much of a phrase the query's words cover (0..1)."""
    if not phrase:
        return 0.0
    return sum(max(_word_score(w, p) for w in qwords) for p in phrase) / len(phrase)


def _score(query: str, qwords: list[str], keywords: list[str], name: str) -> tuple[float, str]:
    """(score, the keyword that matched best or "") of one category's words: 10 for the
    whole query as a keyword; else 4 × the best keyword's coverage (a little more for each
    other keyword that matches too), or 2 × the share of the query's words in the name."""
    covered = []
    for keyword in keywords:
        if keyword == query:
            return 10.0, keyword
        c = _coverage(qwords, words(keyword))
        if c > 0:
            covered.append((c, keyword))
    covered.sort(reverse=True)
    by_keyword = 4.0 * covered[0][0] + 0.25 * (len(covered) - 1) if covered else 0.0
    nwords = words(name)
    by_name = 2.0 * sum(max((_word_score(w, n) for n in nwords), default=0.0) for w in qwords)
    by_name /= len(qwords)
    if by_keyword >= by_name and covered:
        return by_keyword, covered[0][1]
    return by_name, ""


def clean_keywords(values: object) -> list[str]:
    """Keywords as stored: each trimmed, lower case, inner spaces single; empty ones and
    repeats dropped; at most KEYWORDS_MAX of at most KEYWORD_MAX_CHARS characters."""
    if not isinstance(values, list) or not all(isinstance(v, str) for v in values):
        raise InvalidInput("invalid_keywords", parameter="keywords",
                           max=KEYWORDS_MAX, chars=KEYWORD_MAX_CHARS)  # fmt: skip
    out: list[str] = []
    for value in values:
        keyword = " ".join(value.lower().translate(_APOSTROPHES).split())
        if keyword and keyword not in out:
            out.append(keyword)
    if len(out) > KEYWORDS_MAX or any(len(k) > KEYWORD_MAX_CHARS for k in out):
        raise InvalidInput("invalid_keywords", parameter="keywords",
                           max=KEYWORDS_MAX, chars=KEYWORD_MAX_CHARS)  # fmt: skip
    return out


async def search(conn, q: str | None, *, limit: int = SEARCH_LIMIT,
                 council: Council | None = None) -> dict:  # fmt: skip
    """The categories a caller's words name, best first: {q, items, returned}; each item the
    category (a sub-kind with its kind, or a kind without sub-kinds) and `matched`, the
    keyword that matched (null when the name did). With `council`, among what it offers."""
    text = " ".join((q or "").split())
    if len(text) < QUERY_MIN:
        raise InvalidInput("category_query_too_short", parameter="q", min=QUERY_MIN)
    if len(text) > QUERY_MAX:
        raise InvalidInput("category_query_too_long", parameter="q", max=QUERY_MAX)
    query = " ".join(words(text))
    qwords = words(text)
    if not qwords:
        return {"q": text, "items": [], "returned": 0}
    async with conn.cursor(row_factory=dict_row) as cur:
        if council is None:
            await cur.execute(_SQL)
        else:
            await cur.execute(_COUNCIL_SQL, {"council": council.id})
        rows = await cur.fetchall()
    scored = []
    for r in rows:
        own, matched = _score(query, qwords, r["keywords"], f"{r['name']} {r['name_en'] or ''}")
        kind, kind_matched = (0.0, "")
        if r["kind"] is not None:
            kind, kind_matched = _score(
                query, qwords, r["kind_keywords"], f"{r['kind']} {r['kind_en'] or ''}"
            )
            kind *= KIND_WEIGHT
        score = max(own, kind)
        if score < 1.5:
            continue
        item = {key: r[key] for key in _ITEM}
        item["matched"] = (matched if own >= kind else kind_matched) or None
        scored.append((-score, r["sort_order"], r["id"], item))
    scored.sort(key=lambda t: t[:3])
    items = [t[3] for t in scored[:limit]]
    return {"q": text, "items": items, "returned": len(items)}

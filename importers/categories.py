"""1551's categories → the `categories` table: two levels, kinds (вид) and their sub-kinds
(підвид), each with the term the law gives for considering an appeal.

Sources, all real:

* the profile of Kyiv's published 1551 data (`kyiv_1551_profile.json`): the 40 most frequent
  kinds of each profiled month (their union is the kind list, ordered by volume) and a few
  example sub-kinds;
* the sample of real 1551 records (`kyiv_1551_appeals_sample.json`, read from beside the
  profile when present): each record's `kind` and its sub-kind (`content`), which says which
  kind a sub-kind belongs to;
* a city's own list: a CSV with columns `kind`, `subkind` and optionally `deadline_days`,
  `needs_study`, `name_en`, `subkind_en`.

A kind without an English name gets the catalogue's (gis/locale/en/categories.po), when it
has one.

The profile's example sub-kinds that the records do not place are placed by
`SUBKIND_KINDS` below; a kind for which no sub-kind is known gets one general sub-kind so an
appeal can always be filed under some sub-kind.

Codes are stable: derived from the names (transliterated, KMU 2010), so re-importing, or
importing a newer profile where a kind moves in the ranking, keeps every code.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from pathlib import Path

from gis.texts import N_, translation
from importers.readers import load_json, read_table
from importers.report import ImportFailed, ImportReport
from importers.sync import Audit, Target, sync
from importers.values import clean_text

# --- deadlines ---------------------------------------------------------------------------
# Law «Про звернення громадян», art. 20: an appeal that needs no additional study is
# considered without delay and within 15 days; otherwise within one month (30 days here),
# extendable to 45 in all. 1551's kinds are mostly service failures an executor checks and
# fixes or explains (no hot water, a broken lift, uncollected rubbish): 15 days. The kinds
# below need a study by their nature: a document or permit check, a billing audit, a
# technical survey or a works programme, or a proposal the body must weigh. They get 30
# days and needs_study; their sub-kinds inherit that.
DEADLINE_DAYS = 15
DEADLINE_DAYS_WITH_STUDY = 30
NEEDS_STUDY = frozenset({
    "Архітектура; капітальне будівництво та реконструкція",  # planning documents, permits
    "Перевірка наявності дозвільної документації; в разі її відсутності - демонтаж",  # permits
    "Перерахунки; нарахування плати та боргу; укладання договорів",  # billing audit
    "Ремонт та укладання асфальтного покриття",  # survey and the repair programme
    "Газифікація",  # technical conditions with the gas utility
    "Екологічна безпека",  # inspection, measurements
    "Соціальне забезпечення",  # entitlement and documents checks
    "Житлове господарство",  # housing status, queues, documents
    "Пропозиції та побажання по роботі",  # a proposal is weighed, not fixed
    "Зовнішня реклама",  # permit register check of the structure
    "Функціонування МАФ",  # permit check of the kiosk
    "Облаштування майданчиків",  # design and funding of a playground
})  # fmt: skip

# Example sub-kinds of the profile that no sample record places under a kind: ГВП is
# гаряче водопостачання (hot water supply).
SUBKIND_KINDS = {
    "Недостатній тиск ГВП": "Гаряче водопостачання",
    "Відсутність ГВП": "Гаряче водопостачання",
}

# The sub-kinds of the real records and profile (shared/data), marked so that the server's
# catalogue (gis/locale/en/categories.po) gives them English as it does the kinds.
SUBKINDS_1551 = (
    N_("Відсутність ГВП"),
    N_("Недостатній тиск ГВП"),
    N_("Утримання підвалів та технічних поверхів"),
    N_("Ремонт дахів; покрівель; технічних поверхів"),
    N_("Відпуск лікарських засобів за пільговим рецептом"),
    N_("Перерахунок; нарахування плати та боргу за утримання будинку та прибудинкової"
       " території"),
    N_("Про розгляд звернень громадян"),
    N_("Пошкодження будинків внаслідок обстрілів"),
    N_("Не працює пасажирський ліфт"),
)  # fmt: skip

GENERAL_SUBKIND = N_("Загальні питання")

# 1551's kinds as its open data names them (the profile's kinds_top40, the sample records').
# Their English, which the import writes to categories.name_en unless the file gives one, is
# in the server's catalogue (gis/locale/en/categories.po; gis/texts.py), as is the general
# sub-kind's.
KINDS_1551 = (
    N_("Інші питання"),
    N_("Антисанітарний стан"),
    N_("Архітектура; капітальне будівництво та реконструкція"),
    N_("Ветеринарна медицина та догляд за тваринами"),
    N_("Газифікація"),
    N_("Гаряче водопостачання"),
    N_("Дорожнє господарство"),
    N_("Екологічна безпека"),
    N_("Електропостачання"),
    N_("Житлове господарство"),
    N_("Залиття квартири"),
    N_("Зауваження та претензії по роботі"),
    N_("Зовнішня реклама"),
    N_("Ліфт"),
    N_("Облаштування майданчиків"),
    N_("Обслуговування зовнішніх та внутрішньобудинкових систем"),
    N_("Опалення"),
    N_("Освіта і наука"),
    N_("Освітлення приміщень"),
    N_("Освітлення територій"),
    N_("Охорона здоров'я"),
    N_("Перевірка наявності дозвільної документації; в разі її відсутності - демонтаж"),
    N_("Перерахунки; нарахування плати та боргу; укладання договорів"),
    N_("Питання квитанцій"),
    N_("Подяки"),
    N_("Порушення громадського порядку і безпеки"),
    N_("Порушення правил виконання робіт на об'єктах благоустрою"),
    N_("Прибирання снігу та льодяного покрову"),
    N_("Прибирання; санітарне утримання території; приміщень та об'єктів благоустрою"),
    N_("Пропозиції та побажання по роботі"),
    N_("Ремонт та укладання асфальтного покриття"),
    N_("Робота аптек"),
    N_("Робота бюветів"),
    N_("Санітарний стан приміщень; територій та об'єктів благоустрою"),
    N_("Сміття"),
    N_("Соціальне забезпечення"),
    N_("Торгівля"),
    N_("Транспорт"),
    N_("Укриття"),
    N_("Утримання МАФ та прилеглої до нього території"),
    N_("Утримання будинку"),
    N_("Утримання зелених насаджень"),
    N_("Функціонування МАФ"),
    N_("Холодне водопостачання"),
)

PROFILE_SOURCE = "1551 open data profile"
RECORDS_SOURCE = "1551 open data records"

_TRANSLIT = dict(zip(
    "абвгґдезийіклмнопрстуфхцчшщьюяєїжыэёъ",
    ["a", "b", "v", "h", "g", "d", "e", "z", "y", "i", "i", "k", "l", "m", "n", "o", "p", "r",
     "s", "t", "u", "f", "kh", "ts", "ch", "sh", "shch", "", "iu", "ia", "ie", "i", "zh", "y",
     "e", "io", ""],
    strict=True,
))  # fmt: skip


_APOSTROPHES = re.compile("['`\u02bc\u2019]")


def slug(name: str, max_length: int) -> str:
    """A lower-case Latin slug of a Ukrainian name (KMU 2010 transliteration), at most
    `max_length` characters; a name cut short ends in 4 hex digits of its hash so two long
    names that share a beginning still differ."""
    latin = "".join(_TRANSLIT.get(ch, ch) for ch in _APOSTROPHES.sub("", name.lower()))
    text = re.sub(r"[^a-z0-9]+", "-", latin).strip("-") or "x"
    if len(text) <= max_length:
        return text
    digest = hashlib.sha1(name.encode()).hexdigest()[:4]
    return text[: max_length - 5].rstrip("-") + "-" + digest


def kind_code(kind: str) -> str:
    return slug(kind, 30)


def subkind_code(kind: str, subkind: str) -> str:
    return f"{kind_code(kind)}.{slug(subkind, 33)}"


@dataclass
class Kind:
    name: str
    volume: int = 0  # appeals in the profiled months, for the order
    name_en: str | None = None
    source: str = PROFILE_SOURCE
    needs_study: bool | None = None
    deadline_days: int | None = None
    subkinds: dict[str, tuple[str | None, str]] = field(default_factory=dict)  # name → (en, source)


def _kind(kinds: dict[str, Kind], name: str, source: str) -> Kind:
    if name not in kinds:
        kinds[name] = Kind(name, source=source)
    return kinds[name]


def _from_profile(profile: dict, kinds: dict[str, Kind]) -> list[str]:
    top = profile.get("kinds_top40")
    if not isinstance(top, dict):
        raise ImportFailed("1551 profile without 'kinds_top40'")
    for month in sorted(top):
        for entry in top[month]:
            name = clean_text(entry.get("kind"))
            if name:
                _kind(kinds, name, PROFILE_SOURCE).volume += int(entry.get("count") or 0)
    return [s for s in (clean_text(x) for x in profile.get("example_subkinds") or []) if s]


def _from_records(records: list, kinds: dict[str, Kind]) -> None:
    for record in records:
        kind, content = clean_text(record.get("kind")), clean_text(record.get("content"))
        if kind:
            k = _kind(kinds, kind, RECORDS_SOURCE)
            if content:
                k.subkinds.setdefault(content, (None, RECORDS_SOURCE))


def _from_csv(path: Path, kinds: dict[str, Kind], report: ImportReport) -> None:
    table = read_table(path)
    kind_col = table.find(None, ("kind", "вид"), "the kind")
    sub_col = table.find(None, ("subkind", "sub_kind", "підвид"), "the sub-kind")
    if not kind_col:
        raise ImportFailed(
            f"{path.name}: no 'kind' column (columns are: {', '.join(table.columns)})"
        )
    days_col = table.find(None, ("deadline_days", "термін"), "the deadline")
    study_col = table.find(None, ("needs_study",), "needs_study")
    en_col = table.find(None, ("name_en", "kind_en"), "the English name")
    sub_en_col = table.find(None, ("subkind_en",), "the English sub-kind name")
    for i, row in enumerate(table.rows, start=1):
        name = clean_text(row[kind_col])
        if not name:
            report.reject(f"row {i}", "no kind")
            continue
        k = _kind(kinds, name, path.name)
        k.volume = max(k.volume, len(table.rows) - i)  # keep the file's order
        if en_col and clean_text(row[en_col]):
            k.name_en = clean_text(row[en_col])
        if days_col and (days_text := clean_text(row[days_col])):
            try:
                days = int(days_text)
                if not 1 <= days <= 45:
                    raise ValueError
                k.deadline_days = days
            except ValueError:
                report.reject(
                    f"row {i}", f"deadline {row[days_col]!r} is not a number of days 1-45"
                )
                continue
        if study_col and (study := clean_text(row[study_col])):
            k.needs_study = study.lower() in ("1", "true", "yes", "так", "t")
        sub = clean_text(row[sub_col]) if sub_col else None
        if sub:
            k.subkinds.setdefault(
                sub, (clean_text(row[sub_en_col]) if sub_en_col else None, path.name)
            )


def read_categories(path: Path, report: ImportReport) -> dict[str, Kind]:
    """The kinds and sub-kinds a file (and, for a 1551 profile, the records beside it)
    describe, with deadlines decided."""
    path = Path(path)
    if not path.is_file():
        raise ImportFailed(f"file not found: {path}")
    kinds: dict[str, Kind] = {}
    examples: list[str] = []
    if path.suffix.lower() in (".csv", ".tsv", ".txt"):
        _from_csv(path, kinds, report)
    else:
        doc = load_json(path)
        if isinstance(doc, dict) and "kinds_top40" in doc:
            examples = _from_profile(doc, kinds)
            for sample in sorted(path.parent.glob("*1551_appeals_sample*.json")):
                sample_doc = load_json(sample)
                records = (
                    sample_doc.get("records", []) if isinstance(sample_doc, dict) else sample_doc
                )
                if isinstance(records, list):
                    _from_records(records, kinds)
        elif isinstance(doc, dict) and isinstance(doc.get("records"), list):
            _from_records(doc["records"], kinds)
        elif isinstance(doc, list):
            _from_records(doc, kinds)
        else:
            raise ImportFailed(
                f"{path.name}: not a 1551 profile (kinds_top40) nor a list of 1551 records"
            )
    report.read = len(kinds)

    placed = {s for k in kinds.values() for s in k.subkinds}
    for example in examples:
        if example in placed:
            continue
        kind = SUBKIND_KINDS.get(example)
        if kind and kind in kinds:
            kinds[kind].subkinds.setdefault(example, (None, PROFILE_SOURCE))
        else:
            report.reject(example, "example sub-kind whose kind is not known; left out")

    for k in kinds.values():
        if k.needs_study is None:
            k.needs_study = k.name in NEEDS_STUDY
        if k.deadline_days is None:
            k.deadline_days = DEADLINE_DAYS_WITH_STUDY if k.needs_study else DEADLINE_DAYS
        if not k.subkinds:
            k.subkinds[GENERAL_SUBKIND] = (translation(GENERAL_SUBKIND), "general")
        if k.name_en is None:
            k.name_en = translation(k.name)
        k.subkinds = {s: (en or translation(s), source) for s, (en, source) in k.subkinds.items()}
    if not kinds:
        raise ImportFailed(f"{path.name}: no categories found")
    return kinds


# The words callers use for a kind (categories.keywords, gis/category_search.py): a kind
# gets them when it has none (the administrator's own keywords are kept); its sub-kinds are
# found by them too. Migration 0009_category_keywords gave the same to kinds imported before.
KIND_KEYWORDS = {
    "Ремонт та укладання асфальтного покриття": ["яма", "ями", "вибоїна", "вибоїни", "асфальт", "покриття дороги", "ямковий ремонт"],
    "Дорожнє господарство": ["дорога", "тротуар", "бордюр", "розмітка", "дорожній знак", "люк"],
    "Сміття": ["сміття", "смітник", "контейнер", "вивіз сміття", "сміттєпровід", "мусор"],
    "Ліфт": ["ліфт", "ліфта", "застряг", "підйомник"],
    "Опалення": ["опалення", "батарея", "батареї", "радіатор", "холодно в квартирі", "тепло"],
    "Гаряче водопостачання": ["гаряча вода", "гарячої води", "гвп", "вода"],
    "Холодне водопостачання": ["холодна вода", "вода", "води", "водопровід", "тиск води", "хвп"],
    "Електропостачання": ["світло", "світла", "електрика", "електроенергія", "напруга", "відключення"],
    "Освітлення територій": ["ліхтар", "ліхтарі", "вуличне освітлення", "темно", "світло на вулиці"],
    "Освітлення приміщень": ["лампочка", "світло в під'їзді", "освітлення під'їзду"],
    "Прибирання снігу та льодяного покрову": ["сніг", "снігу", "ожеледиця", "лід", "бурульки", "посипати"],
    "Прибирання; санітарне утримання території; приміщень та об'єктів благоустрою": ["прибирання", "брудно", "листя", "бруд"],
    "Утримання зелених насаджень": ["дерево", "дерева", "гілка", "гілки", "трава", "покіс", "кущі"],
    "Залиття квартири": ["залиття", "затоплення", "заливає", "заливають", "протікання"],
    "Утримання будинку": ["дах", "покрівля", "підвал", "під'їзд", "тече дах"],
    "Обслуговування зовнішніх та внутрішньобудинкових систем": ["каналізація", "засмічення", "стояк", "труба", "прорив труби"],
    "Газифікація": ["газ", "запах газу", "газова плита"],
    "Транспорт": ["автобус", "тролейбус", "трамвай", "маршрутка", "метро", "зупинка"],
    "Ветеринарна медицина та догляд за тваринами": ["собака", "собаки", "кіт", "тварини", "безпритульні тварини"],
    "Порушення громадського порядку і безпеки": ["шум", "хулігани", "порядок"],
    "Антисанітарний стан": ["антисанітарія", "щури", "таргани", "дезінсекція", "сморід"],
    "Зовнішня реклама": ["реклама", "білборд", "вивіска"],
    "Функціонування МАФ": ["кіоск", "маф", "ларьок"],
    "Утримання МАФ та прилеглої до нього території": ["кіоск", "маф", "ларьок"],
    "Облаштування майданчиків": ["дитячий майданчик", "майданчик", "гойдалка", "спортмайданчик"],
    "Укриття": ["укриття", "бомбосховище", "сховище"],
    "Робота бюветів": ["бювет"],
    "Робота аптек": ["аптека", "ліки"],
    "Торгівля": ["стихійна торгівля", "магазин"],
    "Питання квитанцій": ["квитанція", "квитанції", "платіжка"],
    "Перерахунки; нарахування плати та боргу; укладання договорів": ["перерахунок", "борг", "нарахування", "тариф"],
    "Соціальне забезпечення": ["пільга", "пільги", "субсидія", "допомога", "пенсія"],
    "Охорона здоров'я": ["лікарня", "поліклініка", "лікар"],
    "Освіта і наука": ["школа", "садочок", "дитсадок"],
    "Подяки": ["подяка", "дякую"],
    "Інші питання": ["обстріл", "пошкодження"],
}  # fmt: skip


# Which layer the appeals of a kind (and its sub-kinds) are about: each is linked to the
# nearest structure of it (gis/structure_links.py). The permit check «… в разі її відсутності
# - демонтаж» is 1551's kind for unpermitted temporary structures (МАФ), handled with the
# kiosks by the same department; advertising has its own kind.
STRUCTURE_LAYERS = {
    "Зовнішня реклама": "advertising_structures",
    "Функціонування МАФ": "kiosks",
    "Утримання МАФ та прилеглої до нього території": "kiosks",
    "Перевірка наявності дозвільної документації; в разі її відсутності - демонтаж": "kiosks",
}


KINDS = Target(
    "categories", "code",
    ("parent_id", "name", "name_en", "deadline_days", "needs_study", "is_active", "sort_order", "source"),
    geom=None, removal="deactivate", where="{t}.parent_id IS NULL",
)  # fmt: skip
SUBKINDS = Target(
    "categories", "code", KINDS.columns,
    geom=None, removal="deactivate", where="{t}.parent_id IS NOT NULL",
)  # fmt: skip


def prepare(path: Path, report: ImportReport):
    """Read the categories; return the function that writes them in a transaction. Kinds go
    first, then sub-kinds (which need their kind's id); a category the file no longer has is
    deactivated, never deleted, since appeals refer to it."""
    kinds = read_categories(path, report)
    ordered = sorted(kinds.values(), key=lambda k: (-k.volume, k.name))
    codes: dict[str, str] = {}
    for k in ordered:
        for code in [kind_code(k.name), *(subkind_code(k.name, s) for s in k.subkinds)]:
            if code in codes:
                raise ImportFailed(f"two categories get the code {code!r}: rename one")
            codes[code] = k.name

    def store(conn, audit: Audit | None = None) -> dict[str, int]:
        kind_rows = [
            (kind_code(k.name), None, k.name, k.name_en, k.deadline_days, k.needs_study, True,
             (n + 1) * 10, k.source)
            for n, k in enumerate(ordered)
        ]  # fmt: skip
        counts = sync(conn, KINDS, kind_rows, audit)
        ids = dict(
            conn.execute("SELECT code, id FROM categories WHERE parent_id IS NULL").fetchall()
        )
        sub_rows = [
            (subkind_code(k.name, s), ids[kind_code(k.name)], s, en, k.deadline_days,
             k.needs_study, True, (n + 1) * 10, source)
            for k in ordered
            for n, (s, (en, source)) in enumerate(k.subkinds.items())
        ]  # fmt: skip
        sub_counts = sync(conn, SUBKINDS, sub_rows, audit)
        for name, keywords in KIND_KEYWORDS.items():
            conn.execute(
                "UPDATE categories SET keywords = %s"
                " WHERE parent_id IS NULL AND name = %s AND keywords = '{}'",
                (keywords, name),
            )
        for name, layer in STRUCTURE_LAYERS.items():
            conn.execute(
                "UPDATE categories SET structure_layer = %s WHERE structure_layer IS NULL"
                " AND id IN (SELECT id FROM categories WHERE parent_id IS NULL AND name = %s"
                " UNION SELECT c.id FROM categories c JOIN categories k ON k.id = c.parent_id"
                "  WHERE k.parent_id IS NULL AND k.name = %s)",
                (layer, name, name),
            )
        return {name: counts[name] + sub_counts[name] for name in counts}

    return store

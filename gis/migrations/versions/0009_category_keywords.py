"""keywords and synonyms per category: the words callers use ("яма", "сміття", "ліфт")

Revision ID: 0009_category_keywords
Revises: 0008
Create Date: 2026-12-06

The contact centre's operator picks a category from what the caller says, not from 1551's
official names ("яма" is «Ремонт та укладання асфальтного покриття»). `categories.keywords`
holds those words, lower case, edited by the administrator (PATCH /api/v1/categories/{id});
gis/categories.py searches them with the names. A GIN index serves exact keyword lookups
(`keywords && ARRAY[...]`), a trigram index (pg_trgm) the names.

The operator also registers written letters: the channel `letter` joins appeals' channels
(gis/models.py CHANNELS).

Kinds already imported get the keywords below by name (the importer, importers/categories.py,
gives them to kinds it creates); sub-kinds start empty.
"""

from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql


revision = '0009_category_keywords'
down_revision = '0008'
branch_labels = None
depends_on = None

# A snapshot of importers.categories.KIND_KEYWORDS as of this revision.
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


CHANNELS_BEFORE = "'site','phone_1551','government_hotline','email','tv','112'"
CHANNELS_AFTER = CHANNELS_BEFORE + ",'letter'"


def _channels(allowed: str) -> None:
    op.drop_constraint(op.f('ck_appeals_channel'), 'appeals', type_='check')
    op.create_check_constraint(op.f('ck_appeals_channel'), 'appeals', f"channel IN ({allowed})")


def upgrade() -> None:
    _channels(CHANNELS_AFTER)
    op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    op.add_column('categories', sa.Column('keywords', postgresql.ARRAY(sa.Text()), server_default='{}', nullable=False))
    op.create_index('ix_categories_keywords', 'categories', ['keywords'], unique=False, postgresql_using='gin')
    op.create_index('ix_categories_name_trgm', 'categories', ['name'], unique=False, postgresql_using='gin', postgresql_ops={'name': 'gin_trgm_ops'})
    categories = sa.table('categories', sa.column('name', sa.Text()), sa.column('parent_id', sa.Integer()), sa.column('keywords', postgresql.ARRAY(sa.Text())))
    for name, words in KIND_KEYWORDS.items():
        op.execute(
            categories.update()
            .where(categories.c.name == name, categories.c.parent_id.is_(None))
            .values(keywords=words)
        )


def downgrade() -> None:
    op.drop_index('ix_categories_name_trgm', table_name='categories', postgresql_using='gin', postgresql_ops={'name': 'gin_trgm_ops'})
    op.drop_index('ix_categories_keywords', table_name='categories', postgresql_using='gin')
    op.drop_column('categories', 'keywords')
    op.execute("UPDATE appeals SET channel = 'email' WHERE channel = 'letter'")
    _channels(CHANNELS_BEFORE)

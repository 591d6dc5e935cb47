"""The schema, as SQLAlchemy models. Alembic migrations (gis/migrations) are the source of
truth for the database; these models are what the code and `alembic revision --autogenerate`
read. All geometry is stored in EPSG:4326; layers that are drawn as vector tiles also carry a
generated EPSG:3857 copy (`geom_3857`), which the pilot measured at twice the tile speed of
reprojecting per row.

Areas (hromadas, districts, wards, executor territories) are versioned: a boundary change
closes the old row (`valid_to`) and adds a new one with the next `version`, so whatever was
decided by an old boundary can still be explained by it.
"""

from __future__ import annotations

import datetime as dt
from typing import Literal, get_args

from geoalchemy2 import Geometry
from sqlalchemy import (
    REAL,
    BigInteger,
    Boolean,
    CheckConstraint,
    Computed,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Identity,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    Numeric,
    Sequence,
    SmallInteger,
    String,
    Text,
    Time,
    UniqueConstraint,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from gis.texts import N_, tr, translation

NAMING = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

UPDATE_REGIMES = ("daily", "weekly", "monthly", "quarterly", "on_change")
EXECUTOR_KINDS = (
    "contact_centre", "district_administration", "housing_office", "utility",
    "police", "department",
)  # fmt: skip
# 1551's statuses (see GUIDE §2); stored as stable codes, shown by their Ukrainian names.
APPEAL_STATUSES = ("registered", "in_work", "on_check", "rework", "closed")
# Their names as 1551 shows them, in Ukrainian; English: gis/locale/en/names.po (gis/texts.py).
STATUS_NAMES = {
    "registered": N_("Зареєстровано"),
    "in_work": N_("В роботі"),
    "on_check": N_("На перевірці"),
    "rework": N_("На доопрацюванні"),
    "closed": N_("Закрито"),
}
CHANNELS = (
    "site", "phone_1551", "government_hotline", "email", "tv", "112", "letter", "open311",
)  # fmt: skip
# 1551's results ("<outcome> / <detail>", data/kyiv_1551_profile.json "results_2025-09", and
# those gis/lifecycle.py sets): stored in Ukrainian, as 1551 words them; their English (for the
# English portal) is in gis/locale/en/names.po. A result outside this list has no English.
RESULTS = (
    N_("Прийнято в роботу"),
    N_("Очікує прийому в роботу"),
    N_("Очікує прийому в роботу / Перенаправлено за належністю"),
    N_("Виконано / Очікує підтвердження заявником"),
    N_("Виконано / Підтверджено заявником"),
    N_("Виконано / Фотофіксація /Відеофіксація"),
    N_("Роз`яснено / Потребує перевірки куратором"),
    N_("Роз`яснено / Перевірено куратором"),
    N_("Роз`яснено / Потребує фінансування/Включено в план-програму"),
    N_("На доопрацювання / Виконання не підтверджено заявником"),
    N_("На доопрацювання / Спростовано куратором"),
    N_("Не в компетенції / Повернуто в 1551"),
    N_("Не в компетенції / Повернуто в батьківську організацію"),
    N_("Повернуто виконавцю / Перенаправлено за належністю"),
    N_("Відмінено / Відмінено заявником"),
    N_("Закрито автоматично / Виконання не підтверджено заявником"),
    N_("Самостійно / Заявник усунув проблему власними силами"),
    N_("Прийнято до відома / Ознайомився"),
    N_("Не можливо виконати в даний період / Потребує фінансування/Включено в план-програму"),
    N_("Фактично / Спростовано куратором"),
)


def status_name(status: str, lang: str = "uk") -> str:
    """A status's name in `lang`; an unknown status is shown as its code."""
    name = STATUS_NAMES.get(status)
    return tr(name, lang) if name else status


def result_en(result: str | None) -> str | None:
    return translation(result, "en") if result in RESULTS else None


def _geom(kind: str, srid: int = 4326, nullable: bool = False):
    return mapped_column(Geometry(kind, srid=srid, spatial_index=True), nullable=nullable)


def _geom_3857(source: str = "geom"):
    return mapped_column(
        Geometry("GEOMETRY", srid=3857, spatial_index=True),
        Computed(f"ST_Transform({source}, 3857)", persisted=True),
    )


def _now():
    return mapped_column(DateTime(timezone=True), server_default=func.now(), nullable=False)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


def current_version_unique(table: str, column: str) -> Index:
    """One current version per area code: enforced by the database, not only by importers."""
    return Index(
        f"uq_{table}_current_{column}", column, unique=True,
        postgresql_where=text("valid_to IS NULL"),
    )  # fmt: skip


class VersionedArea:
    """Columns every area carries so that a boundary change never rewrites the past."""

    version: Mapped[int] = mapped_column(SmallInteger, server_default="1", nullable=False)
    valid_from: Mapped[dt.datetime] = _now()
    valid_to: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))


class Hromada(VersionedArea, Base):
    """A territorial community served by this installation (Kyiv is one; an oblast has many)."""

    __tablename__ = "hromadas"
    id: Mapped[int] = mapped_column(Integer, Identity(), primary_key=True)
    code: Mapped[str] = mapped_column(String(32))  # KATOTTH
    name: Mapped[str] = mapped_column(Text)
    name_en: Mapped[str | None] = mapped_column(Text)
    source_id: Mapped[str | None] = mapped_column(Text)
    geom = _geom("MULTIPOLYGON")
    __table_args__ = (
        UniqueConstraint("code", "version"),
        current_version_unique("hromadas", "code"),
    )


# The default of every tenant column (0018): the only council; none yet → a placeholder
# council that gis/councils.ensure_single adopts; several → the INSERT fails.
_DEFAULT_COUNCIL = text("default_council_id()")


def _tenant(nullable: bool = False, default: bool = True):
    """A tenant table's council (0018; gis/scope.council_scope)."""
    return mapped_column(
        ForeignKey("councils.id"),
        server_default=_DEFAULT_COUNCIL if default else None,
        nullable=nullable,
    )


class Council(Base):
    """The tenant (issue 17): a hromada's council, stable across boundary versions; its area is
    the current `hromadas` row of its `code`. `number_prefix` prefixes its appeal numbers
    («ЗП-П-6714»; '' at most once); `occupied_since`: listed and mapped, refuses appeals."""

    __tablename__ = "councils"
    id: Mapped[int] = mapped_column(Integer, Identity(), primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)  # KATOTTH
    slug: Mapped[str] = mapped_column(String(40), unique=True)  # /h/{slug}/
    name: Mapped[str] = mapped_column(Text)
    name_en: Mapped[str | None] = mapped_column(Text)
    number_prefix: Mapped[str] = mapped_column(String(6), server_default="")
    occupied_since: Mapped[dt.date | None] = mapped_column(Date)
    occupied_source: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = _now()
    __table_args__ = (
        CheckConstraint("slug ~ '^[a-z0-9][a-z0-9-]{1,39}$'", "slug"),
        CheckConstraint("number_prefix ~ '^[А-ЯІЇЄҐA-Z0-9]{0,6}$'", "number_prefix"),
        Index("uq_councils_number_prefix", "number_prefix", unique=True),
    )


class District(VersionedArea, Base):
    __tablename__ = "districts"
    id: Mapped[int] = mapped_column(Integer, Identity(), primary_key=True)
    code: Mapped[str] = mapped_column(String(32))  # KATOTTH
    name: Mapped[str] = mapped_column(Text)
    name_en: Mapped[str | None] = mapped_column(Text)
    hromada_id: Mapped[int | None] = mapped_column(ForeignKey("hromadas.id"))
    source_id: Mapped[str | None] = mapped_column(Text)  # e.g. OSM relation/1754513
    properties: Mapped[dict] = mapped_column(JSONB, server_default="{}")
    council_id: Mapped[int | None] = _tenant(nullable=True)
    geom = _geom("MULTIPOLYGON")
    geom_3857 = _geom_3857()
    __table_args__ = (
        UniqueConstraint("code", "version"),
        current_version_unique("districts", "code"),
    )


class Ward(VersionedArea, Base):
    """Electoral ward (виборчий округ) of the city council."""

    __tablename__ = "wards"
    id: Mapped[int] = mapped_column(Integer, Identity(), primary_key=True)
    number: Mapped[int] = mapped_column(Integer)
    name: Mapped[str] = mapped_column(Text)
    hromada_id: Mapped[int | None] = mapped_column(ForeignKey("hromadas.id"))
    generated: Mapped[bool] = mapped_column(Boolean, server_default="false")
    description: Mapped[str | None] = mapped_column(Text)
    council_id: Mapped[int] = _tenant()
    geom = _geom("MULTIPOLYGON")
    geom_3857 = _geom_3857()
    # Ward numbers repeat across councils (0018).
    __table_args__ = (
        UniqueConstraint("council_id", "number", "version"),
        Index(
            "uq_wards_current_number",
            "council_id",
            "number",
            unique=True,
            postgresql_where=text("valid_to IS NULL"),
        ),  # fmt: skip
    )


class Deputy(Base):
    """A council deputy elected in a ward (public persons: their names are public)."""

    __tablename__ = "deputies"
    id: Mapped[int] = mapped_column(Integer, Identity(), primary_key=True)
    ward_number: Mapped[int] = mapped_column(Integer, index=True)
    full_name: Mapped[str] = mapped_column(Text)
    faction: Mapped[str | None] = mapped_column(Text)
    public_email: Mapped[str | None] = mapped_column(Text)
    term_from: Mapped[dt.date | None] = mapped_column(Date)
    term_to: Mapped[dt.date | None] = mapped_column(Date)
    generated: Mapped[bool] = mapped_column(Boolean, server_default="false")
    council_id: Mapped[int] = _tenant()
    __table_args__ = (Index("ix_deputies_council_id", "council_id"),)


class Executor(Base):
    """An executor organisation; `parent_id` makes the hierarchy (РДА → its ЖЕДи)."""

    __tablename__ = "executors"
    id: Mapped[int] = mapped_column(Integer, Identity(), primary_key=True)
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("executors.id"), index=True)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(Text)
    short_name: Mapped[str | None] = mapped_column(Text)
    kind: Mapped[str] = mapped_column(String(32))
    district_code: Mapped[str | None] = mapped_column(String(32))
    phone: Mapped[str | None] = mapped_column(Text)
    email: Mapped[str | None] = mapped_column(Text)
    generated: Mapped[bool] = mapped_column(Boolean, server_default="false")
    council_id: Mapped[int] = _tenant()
    __table_args__ = (
        CheckConstraint("kind IN (" + ",".join(f"'{k}'" for k in EXECUTOR_KINDS) + ")", "kind"),
        Index("ix_executors_council_id", "council_id"),
    )


class ExecutorTerritory(VersionedArea, Base):
    __tablename__ = "executor_territories"
    id: Mapped[int] = mapped_column(Integer, Identity(), primary_key=True)
    executor_id: Mapped[int] = mapped_column(ForeignKey("executors.id"), index=True)
    code: Mapped[str] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(Text)
    geom = _geom("MULTIPOLYGON")
    geom_3857 = _geom_3857()
    __table_args__ = (
        UniqueConstraint("code", "version"),
        current_version_unique("executor_territories", "code"),
    )


class Category(Base):
    """1551's two levels: a kind (вид, parent_id NULL) and its sub-kinds (підвид)."""

    __tablename__ = "categories"
    id: Mapped[int] = mapped_column(Integer, Identity(), primary_key=True)
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("categories.id"), index=True)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(Text)
    name_en: Mapped[str | None] = mapped_column(Text)
    # Art. 20 of the law: 15 days without extra study, one month otherwise, 45 at most.
    deadline_days: Mapped[int] = mapped_column(SmallInteger, server_default="15")
    needs_study: Mapped[bool] = mapped_column(Boolean, server_default="false")
    is_active: Mapped[bool] = mapped_column(Boolean, server_default="true")
    sort_order: Mapped[int] = mapped_column(Integer, server_default="0")
    source: Mapped[str | None] = mapped_column(Text)
    # The words callers use ("яма", "сміття"), lower case; the administrator edits them.
    keywords: Mapped[list[str]] = mapped_column(ARRAY(Text), server_default="{}")
    # Which layer its appeals are about (0017; gis/structure_links.py): an appeal of
    # «Зовнішня реклама» is linked to the nearest advertising structure, of «Функціонування
    # МАФ» to the nearest kiosk. NULL: not about a structure (a sub-kind without one inherits
    # its kind's).
    structure_layer: Mapped[str | None] = mapped_column(Text)
    # NULL: the shared (oblast) catalogue; set: a council's own sub-kind (0018).
    council_id: Mapped[int | None] = _tenant(nullable=True, default=False)
    __table_args__ = (
        CheckConstraint("deadline_days BETWEEN 1 AND 45", "deadline_days"),
        CheckConstraint(
            "structure_layer IN ('advertising_structures', 'kiosks')", "structure_layer"
        ),
        Index(
            "uq_categories_shared_name",
            "parent_id",
            "name",
            unique=True,
            postgresql_where=text("council_id IS NULL"),
        ),  # fmt: skip
        Index(
            "uq_categories_council_name",
            "council_id",
            "parent_id",
            "name",
            unique=True,
            postgresql_where=text("council_id IS NOT NULL"),
        ),  # fmt: skip
        Index("ix_categories_keywords", "keywords", postgresql_using="gin"),
        Index(
            "ix_categories_name_trgm",
            "name",
            postgresql_using="gin",
            postgresql_ops={"name": "gin_trgm_ops"},
        ),
    )


class RoutingRule(Base):
    """(category, area) → executor. Lower `priority` is tried first; at most one area is set;
    no area means city-wide, no category means any category."""

    __tablename__ = "routing_rules"
    id: Mapped[int] = mapped_column(Integer, Identity(), primary_key=True)
    priority: Mapped[int] = mapped_column(Integer, server_default="100")
    category_id: Mapped[int | None] = mapped_column(ForeignKey("categories.id"), index=True)
    district_code: Mapped[str | None] = mapped_column(String(32))
    ward_number: Mapped[int | None] = mapped_column(Integer)
    territory_code: Mapped[str | None] = mapped_column(String(64))
    executor_id: Mapped[int] = mapped_column(ForeignKey("executors.id"))
    is_active: Mapped[bool] = mapped_column(Boolean, server_default="true")
    note: Mapped[str | None] = mapped_column(Text)
    council_id: Mapped[int] = _tenant()
    __table_args__ = (
        CheckConstraint(
            "num_nonnulls(district_code, ward_number, territory_code) <= 1", "one_area"
        ),
        Index("ix_routing_rules_council_id", "council_id", postgresql_where=text("is_active")),
    )


class CouncilCategory(Base):
    """What a council offers of the catalogue (0018): every shared category by default
    (triggers add the rows for a new council and a new category), with the council's own
    deadline (NULL: the catalogue's) and extra keywords."""

    __tablename__ = "council_categories"
    council_id: Mapped[int] = mapped_column(
        ForeignKey("councils.id", ondelete="CASCADE"), primary_key=True
    )
    category_id: Mapped[int] = mapped_column(
        ForeignKey("categories.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    is_active: Mapped[bool] = mapped_column(Boolean, server_default="true")
    deadline_days: Mapped[int | None] = mapped_column(SmallInteger)
    keywords: Mapped[list[str] | None] = mapped_column(ARRAY(Text))
    __table_args__ = (CheckConstraint("deadline_days BETWEEN 1 AND 45", "deadline_days"),)


APPEAL_NUMBER_SEQ = Sequence("appeal_number_seq", start=1, metadata=Base.metadata)


# An appeal's z16 cell as one number (cy × 65536 + cx): the vector tiles' index (tiles/mvt.py).
_TILE_CELL_KEY = text(
    "(floor((20037508.342789244 - ST_Y(geom_3857)) / 611.49622628141)::bigint * 65536"
    " + floor((ST_X(geom_3857) + 20037508.342789244) / 611.49622628141)::bigint)"
)


# The manager's "under personal control" (0010): the partial index's condition (`text` is a
# column name inside the class).
_UNDER_CONTROL = text("control_until IS NOT NULL")
# The overdue list's index (0013): an open appeal's due date.
_DUE = text("coalesce(extended_until, deadline_at)")
_OPEN = text("status <> 'closed'")


class AppealId(Base):
    """The anchor of a partitioned appeal (0020): one row per appeal, kept by triggers on
    `appeals`, so that ids and numbers stay unique across the months and the tables about an
    appeal have a key to reference (PostgreSQL 15 allows no unique id alone on `appeals`)."""

    __tablename__ = "appeal_ids"
    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    number: Mapped[str] = mapped_column(String(32), unique=True)
    # The appeal's `generated`, for the audit seal's one-row lookup (0023).
    generated: Mapped[bool] = mapped_column(Boolean, server_default=text("false"))


class Appeal(Base):
    """An appeal as a spatial feature. The author's personal data lives apart, in
    `appeal_authors`, so that no public query can reach it by accident. Partitioned by month
    of created_at (0020, gis/partitions.py): the key is (id, created_at); the id's and the
    number's uniqueness are appeal_ids'."""

    __tablename__ = "appeals"
    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    number: Mapped[str] = mapped_column(String(32))
    category_id: Mapped[int] = mapped_column(ForeignKey("categories.id"))
    kind: Mapped[str] = mapped_column(String(16), server_default="complaint")  # or 'thanks'
    text: Mapped[str] = mapped_column(Text)
    is_public: Mapped[bool] = mapped_column(Boolean, server_default="false")
    channel: Mapped[str] = mapped_column(String(32))
    status: Mapped[str] = mapped_column(String(16), server_default="registered")
    result: Mapped[str | None] = mapped_column(Text)
    privileged: Mapped[bool] = mapped_column(Boolean, server_default="false")
    geom = _geom("POINT", nullable=True)
    geom_3857 = _geom_3857()
    address: Mapped[str | None] = mapped_column(Text)
    district_id: Mapped[int | None] = mapped_column(ForeignKey("districts.id"))
    ward_id: Mapped[int | None] = mapped_column(ForeignKey("wards.id"))
    executor_id: Mapped[int | None] = mapped_column(ForeignKey("executors.id"))
    routing_rule_id: Mapped[int | None] = mapped_column(ForeignKey("routing_rules.id"))
    routing_reason: Mapped[str | None] = mapped_column(Text)
    areas: Mapped[list] = mapped_column(JSONB, server_default="[]")
    created_at: Mapped[dt.datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), primary_key=True
    )
    deadline_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    extended_until: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    closed_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[dt.datetime] = _now()
    generated: Mapped[bool] = mapped_column(Boolean, server_default="false")
    support_count: Mapped[int] = mapped_column(Integer, server_default="0")
    # When the executor last answered (status on_check): the autoclose job counts from it.
    answered_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    # Under a manager's personal control until this date (NULL: not), and who set it (0010).
    control_until: Mapped[dt.date | None] = mapped_column(Date)
    control_by: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    # The client application that filed it through Open311 (channel 'open311'; 0014).
    open311_client_id: Mapped[int | None] = mapped_column(ForeignKey("open311_clients.id"))
    # The council (0018): a staff member of another never sees it (gis/scope.appeal_scope).
    council_id: Mapped[int] = _tenant()
    __table_args__ = (
        CheckConstraint(
            "status IN (" + ",".join(f"'{s}'" for s in APPEAL_STATUSES) + ")", "status"
        ),
        CheckConstraint("channel IN (" + ",".join(f"'{c}'" for c in CHANNELS) + ")", "channel"),
        CheckConstraint("kind IN ('complaint', 'thanks')", "kind"),
        # The vector tiles' clusters of a category and period, or of a period: index-only
        # scans (0006). They also serve every other read by category and period, or by
        # period (the narrow copies were dropped in 0007).
        Index(
            "ix_appeals_tiles_category",
            "category_id",
            "created_at",
            postgresql_include=["geom_3857", "status"],
        ),
        Index("ix_appeals_tiles_period", "created_at", postgresql_include=["geom_3857", "status"]),
        # … and the ids of a raw tile's newest appeals, by z16 cell (0006, tiles/mvt.py), with
        # the partition key, so that their rows are looked up in their month only (0022).
        Index(
            "ix_appeals_tiles_cell",
            _TILE_CELL_KEY,
            postgresql_include=["id", "geom_3857", "created_at"],
        ),
        Index(None, "executor_id", "status"),
        Index(None, "district_id", "created_at"),
        Index(
            "ix_appeals_council_created",
            "council_id",
            "created_at",
            postgresql_include=(
                "id status channel category_id district_id ward_id executor_id deadline_at"
                " extended_until answered_at closed_at result geom_3857"
            ).split(),
        ),
        Index(None, "number"),  # unique in appeal_ids (0020)
        Index(None, "status", "created_at"),
        Index(
            "ix_appeals_control_until",
            "executor_id",
            "control_until",
            postgresql_where=_UNDER_CONTROL,
        ),
        # The reports of a period (gis/reports.py) read these columns only: index-only scans
        # instead of the whole heap (0013, bench/reports_3m.py).
        Index(
            "ix_appeals_reports",
            "created_at",
            postgresql_include=(
                "id status channel category_id district_id ward_id executor_id deadline_at"
                " extended_until answered_at closed_at result geom_3857 council_id"
            ).split(),
        ),
        # … and the open appeals by due date, for the overdue list (0013).
        Index(
            "ix_appeals_open_due",
            _DUE,
            postgresql_include=(
                "id number status category_id district_id ward_id executor_id channel created_at"
                " deadline_at extended_until council_id"
            ).split(),
            postgresql_where=_OPEN,
        ),
    )


class AppealAuthor(Base):
    """Personal data of an appeal's author: readable only by staff who handle the appeal."""

    __tablename__ = "appeal_authors"
    appeal_id: Mapped[int] = mapped_column(
        ForeignKey("appeal_ids.id", ondelete="CASCADE"), primary_key=True
    )
    full_name: Mapped[str] = mapped_column(Text)
    email: Mapped[str | None] = mapped_column(Text)
    phone: Mapped[str | None] = mapped_column(Text)
    postal_address: Mapped[str | None] = mapped_column(Text)
    privilege: Mapped[str | None] = mapped_column(Text)  # the legal ground of priority, if any
    # The citizen's account, when the appeal was filed signed in (for "my appeals", export
    # and erasure); NULL for appeals registered by an operator or imported.
    user_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), index=True
    )
    # How the author wants to hear of the appeal (gis/notify.py): 'email', 'sms', 'viber' or
    # 'none', in their language; unsubscribed_at set from any mail's link stops them all.
    notify_channel: Mapped[str] = mapped_column(String(16), server_default="email")
    language: Mapped[str] = mapped_column(String(8), server_default="uk")
    unsubscribed_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))


class AppealEvent(Base):
    """The audit trail: every change of an appeal, with old and new values. Partitioned by
    month of `at` (0020): the key is (id, at)."""

    __tablename__ = "appeal_events"
    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    appeal_id: Mapped[int] = mapped_column(
        ForeignKey("appeal_ids.id", ondelete="CASCADE"), index=True
    )
    at: Mapped[dt.datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), primary_key=True
    )
    actor: Mapped[str] = mapped_column(Text)
    actor_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    action: Mapped[str] = mapped_column(String(32))
    old: Mapped[dict | None] = mapped_column(JSONB)
    new: Mapped[dict | None] = mapped_column(JSONB)
    comment: Mapped[str | None] = mapped_column(Text)
    # Audit (gis/audit.py): a staff-only comment never shown in the public history; the hash
    # chain, filled by the database trigger on insert (chain_seq NULL: a demo event, sealed
    # on its own).
    internal: Mapped[bool] = mapped_column(Boolean, server_default="false")
    # Unique with `at` (a partitioned table's unique keys hold its partition key); the seal
    # trigger keeps it unique alone, and `hromada audit verify` checks it.
    chain_seq: Mapped[int | None] = mapped_column(BigInteger)
    prev_hash: Mapped[str | None] = mapped_column(String(64))
    hash: Mapped[str | None] = mapped_column(String(64))
    # The curator's returns for rework, for the executors' report (0013); the events by time,
    # for Open311's servicerequestupdates (0015).
    __table_args__ = (
        Index("ix_appeal_events_rework", "appeal_id", postgresql_where=text("action = 'rework'")),
        Index("ix_appeal_events_at", "at", "id"),
        UniqueConstraint("chain_seq", "at"),
    )


class AdvertisingStructure(Base):
    __tablename__ = "advertising_structures"
    id: Mapped[int] = mapped_column(Integer, Identity(), primary_key=True)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    kind: Mapped[str] = mapped_column(Text)  # billboard, citylight, scroller, sign...
    size: Mapped[str | None] = mapped_column(String(32))  # e.g. "6x3"
    width_m: Mapped[float | None] = mapped_column(Float)
    height_m: Mapped[float | None] = mapped_column(Float)
    owner: Mapped[str | None] = mapped_column(Text)
    permit_number: Mapped[str | None] = mapped_column(Text)
    permit_valid_until: Mapped[dt.date | None] = mapped_column(Date)
    address: Mapped[str | None] = mapped_column(Text)
    generated: Mapped[bool] = mapped_column(Boolean, server_default="false")
    # The workbench (issue 16, migration 0016): the ETag of an edit, its time, a retired
    # structure (hidden from the map, kept for the audit trail), the permit's type and first day;
    # holder_is_person: `owner` is a private person, never shown on a public endpoint.
    version: Mapped[int] = mapped_column(Integer, server_default="1")
    updated_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    retired_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    permit_type: Mapped[str | None] = mapped_column(Text)
    permit_valid_from: Mapped[dt.date | None] = mapped_column(Date)
    holder_is_person: Mapped[bool] = mapped_column(Boolean, server_default="false")
    sides: Mapped[int | None] = mapped_column(SmallInteger)
    council_id: Mapped[int | None] = _tenant(nullable=True)
    geom = _geom("POINT")
    geom_3857 = _geom_3857()


class Kiosk(Base):
    """A kiosk or other temporary structure (МАФ, тимчасова споруда)."""

    __tablename__ = "kiosks"
    id: Mapped[int] = mapped_column(Integer, Identity(), primary_key=True)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    kind: Mapped[str] = mapped_column(Text)
    specialization: Mapped[str | None] = mapped_column(Text)
    owner: Mapped[str | None] = mapped_column(Text)
    area_m2: Mapped[float | None] = mapped_column(Numeric(8, 2))
    permit_number: Mapped[str | None] = mapped_column(Text)
    permit_valid_until: Mapped[dt.date | None] = mapped_column(Date)
    address: Mapped[str | None] = mapped_column(Text)
    generated: Mapped[bool] = mapped_column(Boolean, server_default="false")
    # The workbench (issue 16, migration 0016): the ETag of an edit, its time, a retired
    # structure (hidden from the map, kept for the audit trail), the permit's type and first day;
    # holder_is_person: `owner` is a private person, never shown on a public endpoint.
    version: Mapped[int] = mapped_column(Integer, server_default="1")
    updated_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    retired_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    permit_type: Mapped[str | None] = mapped_column(Text)
    permit_valid_from: Mapped[dt.date | None] = mapped_column(Date)
    holder_is_person: Mapped[bool] = mapped_column(Boolean, server_default="false")
    council_id: Mapped[int | None] = _tenant(nullable=True)
    geom = _geom("GEOMETRY")
    geom_3857 = _geom_3857()


class PermitDocument(Base):
    """A file of a structure's permit (issue 16), stored under settings.data_dir by its hash."""

    __tablename__ = "permit_documents"
    id: Mapped[int] = mapped_column(Integer, Identity(), primary_key=True)
    layer: Mapped[str] = mapped_column(Text)
    feature_id: Mapped[int] = mapped_column(Integer)
    filename: Mapped[str] = mapped_column(Text)
    media_type: Mapped[str] = mapped_column(Text)
    sha256: Mapped[str] = mapped_column(String(64))
    size: Mapped[int] = mapped_column(Integer)
    uploaded_at: Mapped[dt.datetime] = _now()
    uploaded_by: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    __table_args__ = (
        Index("ix_permit_documents_feature", "layer", "feature_id"),
        CheckConstraint("layer IN ('advertising_structures', 'kiosks')", "layer"),
    )


class AppealStructure(Base):
    """An appeal of a category about structures (categories.structure_layer) linked to the
    nearest structure of that layer within settings.structure_link_distance_m (issue 16,
    gis/structure_links.py). feature_id NULL: no registered structure so near — likely an
    unpermitted one. An appeal without a place has no row."""

    __tablename__ = "appeal_structures"
    appeal_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("appeal_ids.id", ondelete="CASCADE"), primary_key=True
    )
    layer: Mapped[str] = mapped_column(Text)
    feature_id: Mapped[int | None] = mapped_column(Integer)
    distance_m: Mapped[float | None] = mapped_column(REAL)
    linked_at: Mapped[dt.datetime] = _now()
    __table_args__ = (
        Index("ix_appeal_structures_feature", "layer", "feature_id"),
        CheckConstraint("layer IN ('advertising_structures', 'kiosks')", "layer"),
    )


class PlacementRule(Base):
    """A rule every save of a structure or kiosk is checked against (gis/placement.py):
    min_distance_same (at least distance_m from another feature of the same layer),
    min_distance_layer (not within distance_m of other_layer's features), not_inside_layer
    (not inside other_layer's polygons). other_layer: a layer of the catalogue."""

    __tablename__ = "placement_rules"
    id: Mapped[int] = mapped_column(Integer, Identity(), primary_key=True)
    layer: Mapped[str] = mapped_column(Text)
    kind: Mapped[str] = mapped_column(Text)
    distance_m: Mapped[float | None] = mapped_column(Numeric(10, 2))
    other_layer: Mapped[str | None] = mapped_column(Text)
    title: Mapped[str] = mapped_column(Text)
    title_en: Mapped[str | None] = mapped_column(Text)
    enabled: Mapped[bool] = mapped_column(Boolean, server_default="true")
    created_at: Mapped[dt.datetime] = _now()
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    __table_args__ = (
        CheckConstraint("layer IN ('advertising_structures', 'kiosks')", "layer"),
        CheckConstraint(
            "kind IN ('min_distance_same', 'min_distance_layer', 'not_inside_layer')", "kind"
        ),
    )


class Layer(Base):
    """Every served layer: who owns it and how often it must be refreshed (Pokrovsk's rule)."""

    __tablename__ = "layers"
    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    title: Mapped[str] = mapped_column(Text)
    title_en: Mapped[str | None] = mapped_column(Text)
    description: Mapped[str | None] = mapped_column(Text)
    geometry_type: Mapped[str] = mapped_column(String(32))
    kind: Mapped[str] = mapped_column(String(16), server_default="thematic")  # or 'core'
    owner_department: Mapped[str | None] = mapped_column(Text)
    update_regime: Mapped[str] = mapped_column(String(16), server_default="monthly")
    last_updated: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    source: Mapped[str | None] = mapped_column(Text)
    attribution: Mapped[str | None] = mapped_column(Text)
    is_public: Mapped[bool] = mapped_column(Boolean, server_default="true")
    __table_args__ = (
        CheckConstraint(
            "update_regime IN (" + ",".join(f"'{r}'" for r in UPDATE_REGIMES) + ")",
            "update_regime",
        ),
        CheckConstraint("kind IN ('core', 'thematic')", "kind"),
    )


class LayerFeature(Base):
    """Features of imported thematic layers, whatever their geometry and attributes."""

    __tablename__ = "layer_features"
    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    layer_name: Mapped[str] = mapped_column(
        ForeignKey("layers.name", ondelete="CASCADE", onupdate="CASCADE")
    )
    feature_key: Mapped[str] = mapped_column(Text)
    properties: Mapped[dict] = mapped_column(JSONB, server_default="{}")
    content_hash: Mapped[str] = mapped_column(String(64))
    geom = _geom("GEOMETRY")
    geom_3857 = _geom_3857()
    updated_at: Mapped[dt.datetime] = _now()
    __table_args__ = (UniqueConstraint("layer_name", "feature_key"),)


class Street(Base):
    """Kyiv's official street register (no geometry)."""

    __tablename__ = "streets"
    code: Mapped[str] = mapped_column(String(16), primary_key=True)
    name: Mapped[str] = mapped_column(Text)
    kind: Mapped[str] = mapped_column(Text)
    districts: Mapped[list[str]] = mapped_column(ARRAY(Text), server_default="{}")
    naming_document: Mapped[str | None] = mapped_column(Text)
    naming_date: Mapped[dt.date | None] = mapped_column(Date)
    naming_number: Mapped[str | None] = mapped_column(Text)
    naming_title: Mapped[str | None] = mapped_column(Text)
    comment: Mapped[str | None] = mapped_column(Text)
    former_name: Mapped[str | None] = mapped_column(Text)
    former_kind: Mapped[str | None] = mapped_column(Text)
    content_hash: Mapped[str] = mapped_column(String(64))
    __table_args__ = (Index("ix_streets_name_lower", text("lower(name)")),)


class ImportRun(Base):
    """One run of `hromada import`: what it did, for the record."""

    __tablename__ = "import_runs"
    id: Mapped[int] = mapped_column(Integer, Identity(), primary_key=True)
    layer: Mapped[str] = mapped_column(String(64))
    source: Mapped[str] = mapped_column(Text)
    started_at: Mapped[dt.datetime] = _now()
    added: Mapped[int] = mapped_column(Integer, server_default="0")
    changed: Mapped[int] = mapped_column(Integer, server_default="0")
    unchanged: Mapped[int] = mapped_column(Integer, server_default="0")
    removed: Mapped[int] = mapped_column(Integer, server_default="0")
    rejected: Mapped[int] = mapped_column(Integer, server_default="0")
    repaired: Mapped[int] = mapped_column(Integer, server_default="0")
    report: Mapped[dict] = mapped_column(JSONB, server_default="{}")


Role = Literal[
    "citizen", "operator", "curator", "executor", "manager", "deputy", "planner", "admin"
]
ROLES: tuple[str, ...] = get_args(Role)


class User(Base):
    """An account. Citizens register themselves; staff are created by an administrator and
    bound to what they may see: an executor organisation (executors, managers), a ward
    (deputies), or the contact centre (operators, curators)."""

    __tablename__ = "users"
    id: Mapped[int] = mapped_column(Integer, Identity(), primary_key=True)
    email: Mapped[str] = mapped_column(Text)
    password_hash: Mapped[str | None] = mapped_column(Text)
    full_name: Mapped[str] = mapped_column(Text)
    role: Mapped[str] = mapped_column(String(16))
    executor_id: Mapped[int | None] = mapped_column(ForeignKey("executors.id"), index=True)
    ward_number: Mapped[int | None] = mapped_column(Integer)
    is_active: Mapped[bool] = mapped_column(Boolean, server_default="true")
    is_demo: Mapped[bool] = mapped_column(Boolean, server_default="false")
    email_confirmed_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[dt.datetime] = _now()
    erased_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    # The council of a member of staff (0018); NULL: a citizen, or oblast staff (operator,
    # curator, admin, planner). A trigger gives executors, managers and deputies the
    # executor's council, else the default one, when none is named.
    council_id: Mapped[int | None] = _tenant(nullable=True, default=False)
    __table_args__ = (
        CheckConstraint("role IN (" + ",".join(f"'{r}'" for r in ROLES) + ")", "role"),
        CheckConstraint("role <> 'citizen' OR council_id IS NULL", "citizen_unbound"),
        CheckConstraint(
            "council_id IS NOT NULL OR role IN ('citizen', 'operator', 'curator', 'admin',"
            " 'planner')",
            "council_bound",
        ),
        Index("ix_users_council_id", "council_id"),
        CheckConstraint(
            "role NOT IN ('executor', 'manager') OR executor_id IS NOT NULL", "executor_bound"
        ),
        CheckConstraint("role <> 'deputy' OR ward_number IS NOT NULL", "deputy_bound"),
        Index("uq_users_email_lower", text("lower(email)"), unique=True),
    )


class UserIdentity(Base):
    """The seam for national identity providers (id.gov.ua, BankID, a qualified e-signature):
    a verified external subject bound to an account. None is built yet."""

    __tablename__ = "user_identities"
    provider: Mapped[str] = mapped_column(String(32), primary_key=True)
    subject: Mapped[str] = mapped_column(Text, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    verified_at: Mapped[dt.datetime] = _now()


class AuthSession(Base):
    """A signed-in session: a portal cookie or an API bearer token. Only the token's SHA-256
    is stored, so a database dump does not let anyone sign in."""

    __tablename__ = "auth_sessions"
    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(8))  # 'cookie' or 'bearer'
    csrf_token: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[dt.datetime] = _now()
    expires_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    last_used_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    revoked_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    ip: Mapped[str | None] = mapped_column(Text)
    user_agent: Mapped[str | None] = mapped_column(Text)
    __table_args__ = (CheckConstraint("kind IN ('cookie', 'bearer')", "kind"),)


class LoginFailure(Base):
    """Wrong passwords given for one account from one client address (gis/accounts.py): past
    a few, that address must wait before trying that account again, longer each time. Kept
    per address so that nobody elsewhere can lock the owner out. The account is the SHA-256
    of the e-mail as typed (casefolded), whether or not it has an account."""

    __tablename__ = "login_failures"
    account_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    address: Mapped[str] = mapped_column(Text, primary_key=True)
    failures: Mapped[int] = mapped_column(Integer)
    last_failure_at: Mapped[dt.datetime] = _now()
    blocked_until: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    __table_args__ = (Index("ix_login_failures_last_failure_at", "last_failure_at"),)


class UserToken(Base):
    """A one-time link sent by e-mail: confirm the address, or reset the password."""

    __tablename__ = "user_tokens"
    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    purpose: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[dt.datetime] = _now()
    expires_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    used_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    __table_args__ = (CheckConstraint("purpose IN ('confirm_email', 'reset_password')", "purpose"),)


class PersonalDataAccess(Base):
    """Every read of an author's personal data: who, when, which appeal, through what."""

    __tablename__ = "personal_data_access"
    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    appeal_id: Mapped[int] = mapped_column(
        ForeignKey("appeal_ids.id", ondelete="CASCADE"), index=True
    )
    at: Mapped[dt.datetime] = _now()
    purpose: Mapped[str] = mapped_column(Text)


class AppealPhoto(Base):
    """A photo of an appeal (or of an executor's answer). The file lives outside the database,
    under its content hash; what is published has its EXIF metadata stripped."""

    __tablename__ = "appeal_photos"
    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    appeal_id: Mapped[int] = mapped_column(
        ForeignKey("appeal_ids.id", ondelete="CASCADE"), index=True
    )
    sha256: Mapped[str] = mapped_column(String(64))
    content_type: Mapped[str] = mapped_column(String(32))
    bytes: Mapped[int] = mapped_column(Integer)
    width: Mapped[int | None] = mapped_column(Integer)
    height: Mapped[int | None] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(8), server_default="appeal")  # or 'answer'
    position: Mapped[int] = mapped_column(SmallInteger, server_default="0")
    created_at: Mapped[dt.datetime] = _now()
    __table_args__ = (
        UniqueConstraint("appeal_id", "kind", "sha256"),
        CheckConstraint("kind IN ('appeal', 'answer')", "kind"),
    )


class IdempotencyKey(Base):
    """A submission's Idempotency-Key: a retry returns the first answer, never a second appeal."""

    __tablename__ = "idempotency_keys"
    key: Mapped[str] = mapped_column(String(128), primary_key=True)
    # Who sent it (user id or client address), so two clients' keys never collide.
    owner: Mapped[str] = mapped_column(String(128), primary_key=True)
    request_hash: Mapped[str] = mapped_column(String(64))
    status_code: Mapped[int] = mapped_column(SmallInteger)
    response: Mapped[dict] = mapped_column(JSONB)
    appeal_id: Mapped[int | None] = mapped_column(ForeignKey("appeal_ids.id", ondelete="CASCADE"))
    created_at: Mapped[dt.datetime] = _now()


class AppealSupporter(Base):
    """Someone who supports an existing appeal instead of filing a duplicate: a signed-in
    citizen (user_id), or a caller the contact centre recorded by phone and/or e-mail (0011).
    The phone, e-mail and name are personal data: staff only, never public."""

    __tablename__ = "appeal_supporters"
    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    appeal_id: Mapped[int] = mapped_column(
        ForeignKey("appeal_ids.id", ondelete="CASCADE"), index=True
    )
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    email: Mapped[str | None] = mapped_column(Text)  # to notify them; personal data
    phone: Mapped[str | None] = mapped_column(Text)  # a caller's; personal data
    full_name: Mapped[str | None] = mapped_column(Text)  # a caller's; personal data
    # The operator or curator who recorded a caller's support; NULL for a citizen's own.
    recorded_by: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    channel: Mapped[str | None] = mapped_column(Text)  # as appeals.channel
    created_at: Mapped[dt.datetime] = _now()
    __table_args__ = (
        UniqueConstraint("appeal_id", "user_id"),
        # The same phone (its digits) or e-mail (any case) supports an appeal once.
        Index(
            "uq_appeal_supporters_phone",
            "appeal_id",
            text("regexp_replace(phone, '\\D', '', 'g')"),
            unique=True,
            postgresql_where=text("phone IS NOT NULL"),
        ),
        Index(
            "uq_appeal_supporters_email",
            "appeal_id",
            text("lower(email)"),
            unique=True,
            postgresql_where=text("email IS NOT NULL"),
        ),
    )


class Resolution(Base):
    """A resolution on an appeal: its main executor or a co-executor (a sub-organisation of
    the executor's), each with its own deadline (gis/lifecycle.py)."""

    __tablename__ = "resolutions"
    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    appeal_id: Mapped[int] = mapped_column(
        ForeignKey("appeal_ids.id", ondelete="CASCADE"), index=True
    )
    executor_id: Mapped[int] = mapped_column(ForeignKey("executors.id"))
    is_main: Mapped[bool] = mapped_column(Boolean, server_default="false")
    deadline_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    comment: Mapped[str | None] = mapped_column(Text)
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[dt.datetime] = _now()
    __table_args__ = (UniqueConstraint("appeal_id", "executor_id"),)


class FeatureEvent(Base):
    """The audit trail of layer features (layer_features, advertising_structures, kiosks):
    who changed which attribute, old and new values; hash-chained like appeal_events."""

    __tablename__ = "feature_events"
    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    layer: Mapped[str] = mapped_column(String(64))
    feature_id: Mapped[str] = mapped_column(String(64))
    at: Mapped[dt.datetime] = _now()
    actor: Mapped[str] = mapped_column(Text)
    actor_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    action: Mapped[str] = mapped_column(String(32))
    old: Mapped[dict | None] = mapped_column(JSONB)
    new: Mapped[dict | None] = mapped_column(JSONB)
    chain_seq: Mapped[int | None] = mapped_column(BigInteger, unique=True)
    prev_hash: Mapped[str | None] = mapped_column(String(64))
    hash: Mapped[str | None] = mapped_column(String(64))
    __table_args__ = (Index(None, "layer", "feature_id"),)


class AuditChainHead(Base):
    """The last link of each hash chain ('appeals', 'features'): its sequence and hash, kept
    by the insert triggers under pg_advisory_xact_lock, so a deleted tail is detected too."""

    __tablename__ = "audit_chain_heads"
    chain: Mapped[str] = mapped_column(String(16), primary_key=True)
    seq: Mapped[int] = mapped_column(BigInteger)
    hash: Mapped[str] = mapped_column(String(64))


class Notification(Base):
    """The outbox (gis/notify.py): one message to one recipient about one event of an appeal,
    written in the same transaction as the change that causes it and delivered by a job
    (gis/jobs.py). The recipient and the text are personal data: staff only."""

    __tablename__ = "notifications"
    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    appeal_id: Mapped[int] = mapped_column(
        ForeignKey("appeal_ids.id", ondelete="CASCADE"), index=True
    )
    # The event (no foreign key since 0020: appeal_events is partitioned; appeal_id cascades).
    event_id: Mapped[int | None] = mapped_column(BigInteger)
    kind: Mapped[str] = mapped_column(String(32))  # registered, answered, rework, closed…
    channel: Mapped[str] = mapped_column(String(16))  # email, sms, viber
    recipient: Mapped[str] = mapped_column(Text)
    language: Mapped[str] = mapped_column(String(8), server_default="uk")
    subject: Mapped[str] = mapped_column(Text)
    body: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16), server_default="pending")  # sent, failed
    attempts: Mapped[int] = mapped_column(Integer, server_default="0")
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = _now()
    next_attempt_at: Mapped[dt.datetime] = _now()
    sent_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    __table_args__ = (
        # Never twice for the same event and recipient.
        UniqueConstraint("event_id", "channel", "recipient"),
        Index(
            "ix_notifications_undelivered",
            "next_attempt_at",
            postgresql_where=text("status <> 'sent'"),
        ),  # fmt: skip
    )


class DispatchSubscription(Base):
    """A daily dispatch (gis/dispatch.py): the appeals of some categories (a kind stands for
    its sub-kinds) in an area (a district, a ward or a drawn polygon), sent at a time of day
    (Kyiv) to an e-mail address as a file, or to a webhook as JSON signed with HMAC-SHA256."""

    __tablename__ = "dispatch_subscriptions"
    id: Mapped[int] = mapped_column(Integer, Identity(), primary_key=True)
    name: Mapped[str] = mapped_column(Text)
    category_ids: Mapped[list[int]] = mapped_column(ARRAY(Integer), server_default="{}")
    district_code: Mapped[str | None] = mapped_column(String(32))
    ward_number: Mapped[int | None] = mapped_column(Integer)
    geom: Mapped[object | None] = mapped_column(Geometry("MULTIPOLYGON", 4326))  # a drawn area
    recipient_email: Mapped[str | None] = mapped_column(Text)
    webhook_url: Mapped[str | None] = mapped_column(Text)
    webhook_secret: Mapped[str | None] = mapped_column(Text)
    send_at: Mapped[dt.time] = mapped_column(Time, server_default="07:00")
    format: Mapped[str] = mapped_column(String(8), server_default="csv")  # csv, xlsx, geojson
    is_active: Mapped[bool] = mapped_column(Boolean, server_default="true")
    created_at: Mapped[dt.datetime] = _now()
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    council_id: Mapped[int] = _tenant()
    __table_args__ = (
        CheckConstraint("(recipient_email IS NULL) <> (webhook_url IS NULL)", name="one_recipient"),
        CheckConstraint("format IN ('csv', 'xlsx', 'geojson')", name="format"),
    )


class DispatchBatch(Base):
    """One day's sending of a subscription: its appeals (dispatch_items), its delivery state."""

    __tablename__ = "dispatch_batches"
    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    subscription_id: Mapped[int] = mapped_column(
        ForeignKey("dispatch_subscriptions.id", ondelete="CASCADE")
    )
    day: Mapped[dt.date] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(16), server_default="pending")  # sent, failed
    attempts: Mapped[int] = mapped_column(Integer, server_default="0")
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = _now()
    sent_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    __table_args__ = (UniqueConstraint("subscription_id", "day"),)


class DispatchItem(Base):
    """An appeal sent by a subscription: once, whatever restarts or workers."""

    __tablename__ = "dispatch_items"
    subscription_id: Mapped[int] = mapped_column(
        ForeignKey("dispatch_subscriptions.id", ondelete="CASCADE"), primary_key=True
    )
    appeal_id: Mapped[int] = mapped_column(
        ForeignKey("appeal_ids.id", ondelete="CASCADE"), primary_key=True
    )
    batch_id: Mapped[int] = mapped_column(
        ForeignKey("dispatch_batches.id", ondelete="CASCADE"), index=True
    )


class PermitNotice(Base):
    """A permit's expiry told to the planners once per threshold (30 and 7 days before)."""

    __tablename__ = "permit_notices"
    layer: Mapped[str] = mapped_column(String(64), primary_key=True)
    feature_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    valid_until: Mapped[dt.date] = mapped_column(Date, primary_key=True)
    threshold_days: Mapped[int] = mapped_column(Integer, primary_key=True)
    permit_number: Mapped[str | None] = mapped_column(Text)
    sent_at: Mapped[dt.datetime] = _now()


class ServiceKey(Base):
    """Keys the service keeps in its database, so that every machine shares them: 'author'
    signs the links in an author's notifications (confirm, reject, unsubscribe)."""

    __tablename__ = "service_keys"
    name: Mapped[str] = mapped_column(String(32), primary_key=True)
    key: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[dt.datetime] = _now()


class Open311Client(Base):
    """A client application of the Open311 GeoReport v2 API (gis/open311_clients.py): its key
    is shown once when made; only its SHA-256 is stored. A revoked key is kept (revoked_at),
    so that the appeals it filed still name their application (0014)."""

    __tablename__ = "open311_clients"
    id: Mapped[int] = mapped_column(Integer, Identity(), primary_key=True)
    name: Mapped[str] = mapped_column(Text, unique=True)
    key_sha256: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[dt.datetime] = _now()
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    revoked_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    last_used_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    # NULL: an oblast-wide key; set: the council whose requests it files and reads (0018).
    council_id: Mapped[int | None] = _tenant(nullable=True, default=False)


class Open311Call(Base):
    """A call made with a client's key: when, what, and the answer's status; the retention
    purge drops those older than 90 days (gis/accounts.purge_expired)."""

    __tablename__ = "open311_calls"
    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    client_id: Mapped[int] = mapped_column(ForeignKey("open311_clients.id", ondelete="CASCADE"))
    at: Mapped[dt.datetime] = _now()
    method: Mapped[str] = mapped_column(String(8))
    path: Mapped[str] = mapped_column(Text)
    status: Mapped[int] = mapped_column(SmallInteger)
    __table_args__ = (Index(None, "client_id", "at"), Index(None, "at"))


class Open311Token(Base):
    """A token handed to the client with its request (GeoReport v2 `tokens/{token}`)."""

    __tablename__ = "open311_tokens"
    token: Mapped[str] = mapped_column(String(64), primary_key=True)
    appeal_id: Mapped[int] = mapped_column(
        ForeignKey("appeal_ids.id", ondelete="CASCADE"), index=True
    )
    client_id: Mapped[int] = mapped_column(ForeignKey("open311_clients.id", ondelete="CASCADE"))
    created_at: Mapped[dt.datetime] = _now()

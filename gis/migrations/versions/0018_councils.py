"""councils (hromadas) as tenants: `councils`, `council_categories`, a council on every
tenant table

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-07

Issue 17 (plan: notes PLAN17 §2). A **council** is the tenant: a stable row keyed by its
KATOTTH `code`, whose area is the current `hromadas` version of that code (hromadas rows are
versions: a tenant key pointing at them would orphan everything at the next boundary import).
`number_prefix` prefixes its appeal numbers («ЗП-П-6714»; '' at most once: Kyiv's «П-6714»
stays as it is); `occupied_since`/`occupied_source`: listed and mapped, refuses appeals.

`default_council_id()` is the default of every tenant column: the only council; none yet → a
placeholder council (code '', slug 'default') that `gis/councils.ensure_single` adopts once the
boundary is loaded; several → the INSERT fails (`council_required`) instead of landing in the
wrong council.

Backfill: one council per current hromada (by code; Kyiv's UA80000000000093317 gets the slug
`kyiv`, the others their lower-case code; prefix '' for the first, X1, X2… after); no hromada
but tenant rows → the placeholder. Appeals take the **fast path** when there is one council:
`ADD COLUMN … NOT NULL DEFAULT <its id>` is catalogue-only (no rewrite of the table, its
relfilenode is unchanged) and only then the default becomes `default_council_id()`; the
foreign key is added NOT VALID and validated (one scan, SHARE UPDATE EXCLUSIVE). With several
councils each appeal takes the council covering its point (the lowest code on a border).

Tenant columns: appeals, executors, routing_rules, wards, deputies, dispatch_subscriptions
(NOT NULL), districts, advertising_structures, kiosks (NULL; filled), users (staff; a citizen
never has one, executors/managers/deputies always: a trigger takes the executor's council, or
the default, when the INSERT names none), open311_clients (NULL = an oblast-wide key),
categories (NULL = the shared catalogue; a council's own sub-kinds set it). `council_categories`:
what each council offers (every shared category by default: triggers add the rows for a new
council and a new category), with its own deadline and keywords.

appeals: `ix_appeals_council_created`; `council_id` joins the INCLUDE lists of
`ix_appeals_reports` and `ix_appeals_open_due`; the view `appeal_features` gains `council_id`
as its last column. Change notices (layers/changes.py): councils → 'councils', categories and
council_categories → 'categories' (nothing bumped the 'categories' generation before).

Measured on the 3-million-appeal bench city (5.0 GB, one council; 2 CPUs, PostgreSQL 15,
shared_buffers 1 GB): 10.3 s in all — the column and its default catalogue-only (the appeals'
relfilenode unchanged), the foreign key's validation and the three index builds the rest.
"""

import sqlalchemy as sa
from alembic import op

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None

KYIV_CODE = "UA80000000000093317"
OBLAST_ROLES = "('citizen', 'operator', 'curator', 'admin', 'planner')"

DEFAULT_COUNCIL_FUNCTION = """
CREATE FUNCTION default_council_id() RETURNS integer LANGUAGE plpgsql VOLATILE AS $$
DECLARE n int; one int;
BEGIN
  SELECT count(*), min(id) INTO n, one FROM councils;
  IF n = 1 THEN RETURN one; END IF;
  IF n = 0 THEN  -- a one-community install whose boundary is not loaded yet: its placeholder
    INSERT INTO councils (code, slug, name) VALUES ('', 'default', 'Громада')
      ON CONFLICT DO NOTHING;
    RETURN (SELECT min(id) FROM councils);
  END IF;
  RAISE EXCEPTION 'council_required: % councils, the row must name its council', n
    USING ERRCODE = 'not_null_violation';
END $$
"""

# A statement's change notice on the channel layers/changes.py listens to (no extent).
TABLE_CHANGED_FUNCTION = """
CREATE FUNCTION hromada_table_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_notify('hromada_layer_changes',
                    json_build_object('layer', TG_ARGV[0], 'bbox', NULL)::text);
  RETURN NULL;
END $$
"""
NOTICES = {"councils": "councils", "categories": "categories", "council_categories": "categories"}

# What a council offers: every shared category, from its creation on; a category: offered
# by every council (shared) or by its own.
FILL_FUNCTIONS = """
CREATE FUNCTION council_categories_of_council() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO council_categories (council_id, category_id)
  SELECT NEW.id, c.id FROM categories c WHERE c.council_id IS NULL
  ON CONFLICT DO NOTHING;
  RETURN NULL;
END $$;
CREATE FUNCTION council_categories_of_category() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO council_categories (council_id, category_id)
  SELECT k.id, NEW.id FROM councils k WHERE NEW.council_id IS NULL OR k.id = NEW.council_id
  ON CONFLICT DO NOTHING;
  RETURN NULL;
END $$;
CREATE TRIGGER council_categories_fill AFTER INSERT ON councils
  FOR EACH ROW EXECUTE FUNCTION council_categories_of_council();
CREATE TRIGGER council_categories_fill AFTER INSERT ON categories
  FOR EACH ROW EXECUTE FUNCTION council_categories_of_category();
"""

# Staff bound to an organisation or a ward always belong to a council: the executor's, else
# the default one, when the INSERT (or an UPDATE making them so) names none. A citizen belongs
# to none: an account made a citizen leaves its council (a citizen inserted with one is refused).
USERS_FUNCTION = """
CREATE FUNCTION users_council() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'UPDATE' AND NEW.role = 'citizen' AND OLD.role <> 'citizen' THEN
    NEW.council_id := NULL;
  ELSIF NEW.council_id IS NULL AND NEW.role IN ('executor', 'manager', 'deputy') THEN
    NEW.council_id := coalesce(
      (SELECT council_id FROM executors WHERE id = NEW.executor_id), default_council_id());
  END IF;
  RETURN NEW;
END $$;
CREATE TRIGGER users_council BEFORE INSERT OR UPDATE OF role, executor_id, council_id ON users
  FOR EACH ROW EXECUTE FUNCTION users_council();
"""

# 0005's view, and the same with the council appended last (OR REPLACE adds columns only at
# the end).
APPEAL_FEATURES = """
VIEW appeal_features AS
SELECT a.id, a.number, a.kind, a.category_id, c.name AS category, c.name_en AS category_en,
       a.status,
       CASE a.status WHEN 'registered' THEN 'Зареєстровано' WHEN 'in_work' THEN 'В роботі'
                     WHEN 'on_check' THEN 'На перевірці' WHEN 'rework' THEN 'На доопрацюванні'
                     WHEN 'closed' THEN 'Закрито' ELSE a.status END AS status_name,
       a.result, a.district_id, d.name AS district, a.ward_id, w.number AS ward,
       a.executor_id, coalesce(x.short_name, x.name) AS executor, a.address,
       CASE WHEN a.is_public THEN a.text END AS text,
       a.created_at, coalesce(a.extended_until, a.deadline_at) AS deadline_at, a.closed_at,
       (a.status <> 'closed' AND coalesce(a.extended_until, a.deadline_at) < now()) AS overdue,
       a.support_count, a.channel, a.privileged, a.routing_reason, a.generated,
       a.geom, a.geom_3857{council}
  FROM appeals a
  LEFT JOIN categories c ON c.id = a.category_id
  LEFT JOIN districts d ON d.id = a.district_id
  LEFT JOIN wards w ON w.id = a.ward_id
  LEFT JOIN executors x ON x.id = a.executor_id
"""

REPORTS_INCLUDE = (
    "id, status, channel, category_id, district_id, ward_id, executor_id, deadline_at,"
    " extended_until, answered_at, closed_at, result, geom_3857"
)
OPEN_DUE_INCLUDE = (
    "id, number, status, category_id, district_id, ward_id, executor_id, channel, created_at,"
    " deadline_at, extended_until"
)

# The council covering a point: the lowest code on a shared border (gis/councils.py).
AT_POINT = (
    "(SELECT k.id FROM hromadas h JOIN councils k ON k.code = h.code"
    " WHERE h.valid_to IS NULL AND ST_Covers(h.geom, {geom}) ORDER BY h.code LIMIT 1)"
)
# A row's council through the hromada version it references.
VIA_HROMADA = (
    "(SELECT k.id FROM hromadas h JOIN councils k ON k.code = h.code WHERE h.id = {t}.hromada_id)"
)

# table → (NOT NULL?, default_council_id() as default?, how a row finds its council besides K)
TENANT_TABLES = {
    "executors": (True, True, None),
    "routing_rules": (True, True, None),
    "wards": (True, True, VIA_HROMADA.format(t="wards")),
    "deputies": (True, True, None),
    "districts": (False, True, VIA_HROMADA.format(t="districts")),
    "dispatch_subscriptions": (True, True, None),
    "open311_clients": (False, False, None),
    "advertising_structures": (False, True, AT_POINT.format(geom="advertising_structures.geom")),
    "kiosks": (False, True, AT_POINT.format(geom="ST_PointOnSurface(kiosks.geom)")),
}
ROWS_NEED_A_COUNCIL = (*TENANT_TABLES, "appeals")


def _backfill_councils(conn) -> int | None:
    """One council per current hromada; the id of the first (K), or of the placeholder when
    tenant rows exist without any hromada; None: nothing to backfill."""
    conn.execute(
        sa.text(
            """
            INSERT INTO councils (code, slug, name, name_en, number_prefix)
            SELECT code,
                   CASE WHEN code = :kyiv THEN 'kyiv'
                        WHEN lower(code) ~ '^[a-z0-9][a-z0-9-]{1,39}$' THEN lower(code)
                        ELSE 'h' || id END,
                   name, name_en,
                   CASE WHEN n = 1 THEN '' ELSE 'X' || (n - 1) END
              FROM (SELECT h.*, row_number() OVER (ORDER BY code) AS n
                      FROM hromadas h WHERE valid_to IS NULL) h
             ORDER BY code
            """
        ),
        {"kyiv": KYIV_CODE},
    )
    first = conn.execute(sa.text("SELECT id FROM councils ORDER BY code LIMIT 1")).scalar()
    if first is not None:
        return int(first)
    rows = " OR ".join(f"EXISTS (SELECT 1 FROM {t})" for t in ROWS_NEED_A_COUNCIL)
    rows += " OR EXISTS (SELECT 1 FROM users WHERE role <> 'citizen')"
    if conn.execute(sa.text(f"SELECT {rows}")).scalar():
        return int(conn.execute(sa.text("SELECT default_council_id()")).scalar())
    return None


def _add_appeals_council(conn, k: int | None, councils: int) -> None:
    if councils <= 1:
        # Catalogue-only: a constant default fills the existing rows without a rewrite.
        default = f" DEFAULT {int(k)}" if k is not None else ""
        op.execute(f"ALTER TABLE appeals ADD COLUMN council_id integer NOT NULL{default}")
    else:
        op.execute("ALTER TABLE appeals ADD COLUMN council_id integer")
        op.execute("ALTER TABLE appeals DISABLE TRIGGER appeals_cells_update")
        op.execute("ALTER TABLE appeals DISABLE TRIGGER appeals_layer_changed_update")
        op.execute(
            "UPDATE appeals SET council_id = coalesce("
            + AT_POINT.format(geom="appeals.geom")
            + f", {k})"
        )
        op.execute("ALTER TABLE appeals ENABLE TRIGGER appeals_layer_changed_update")
        op.execute("ALTER TABLE appeals ENABLE TRIGGER appeals_cells_update")
        op.execute("ALTER TABLE appeals ALTER COLUMN council_id SET NOT NULL")
    op.execute("ALTER TABLE appeals ALTER COLUMN council_id SET DEFAULT default_council_id()")
    op.execute(
        "ALTER TABLE appeals ADD CONSTRAINT fk_appeals_council_id_councils"
        " FOREIGN KEY (council_id) REFERENCES councils (id) NOT VALID"
    )
    op.execute("ALTER TABLE appeals VALIDATE CONSTRAINT fk_appeals_council_id_councils")


def upgrade() -> None:
    op.create_table(
        "councils",
        sa.Column("id", sa.Integer(), sa.Identity(), primary_key=True),
        sa.Column("code", sa.String(32), nullable=False),
        sa.Column("slug", sa.String(40), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("name_en", sa.Text()),
        sa.Column("number_prefix", sa.String(6), server_default="", nullable=False),
        sa.Column("occupied_since", sa.Date()),
        sa.Column("occupied_source", sa.Text()),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.UniqueConstraint("code", name=op.f("uq_councils_code")),
        sa.UniqueConstraint("slug", name=op.f("uq_councils_slug")),
        sa.CheckConstraint("slug ~ '^[a-z0-9][a-z0-9-]{1,39}$'", name=op.f("ck_councils_slug")),
        sa.CheckConstraint(
            "number_prefix ~ '^[А-ЯІЇЄҐA-Z0-9]{0,6}$'", name=op.f("ck_councils_number_prefix")
        ),
    )
    op.create_index("uq_councils_number_prefix", "councils", ["number_prefix"], unique=True)
    op.execute(DEFAULT_COUNCIL_FUNCTION)

    # The shared catalogue (council_id NULL) and a council's own sub-kinds.
    op.add_column(
        "categories",
        sa.Column(
            "council_id",
            sa.Integer(),
            sa.ForeignKey("councils.id", name=op.f("fk_categories_council_id_councils")),
        ),
    )
    op.drop_constraint(op.f("uq_categories_parent_id_name"), "categories", type_="unique")
    op.create_index(
        "uq_categories_shared_name", "categories", ["parent_id", "name"], unique=True,
        postgresql_where=sa.text("council_id IS NULL"),
    )  # fmt: skip
    op.create_index(
        "uq_categories_council_name", "categories", ["council_id", "parent_id", "name"],
        unique=True, postgresql_where=sa.text("council_id IS NOT NULL"),
    )  # fmt: skip
    op.create_table(
        "council_categories",
        sa.Column(
            "council_id",
            sa.Integer(),
            sa.ForeignKey("councils.id", ondelete="CASCADE"),
            primary_key=True,
        ),  # fmt: skip
        sa.Column(
            "category_id",
            sa.Integer(),
            sa.ForeignKey("categories.id", ondelete="CASCADE"),
            primary_key=True,
        ),  # fmt: skip
        sa.Column("is_active", sa.Boolean(), server_default="true", nullable=False),
        sa.Column("deadline_days", sa.SmallInteger()),
        sa.Column("keywords", sa.ARRAY(sa.Text())),
        sa.CheckConstraint(
            "deadline_days BETWEEN 1 AND 45", name=op.f("ck_council_categories_deadline_days")
        ),
    )
    op.create_index("ix_council_categories_category_id", "council_categories", ["category_id"])
    op.execute(FILL_FUNCTIONS)
    op.execute(TABLE_CHANGED_FUNCTION)
    for table, layer in NOTICES.items():
        op.execute(
            f"CREATE TRIGGER {table}_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE"
            f" ON {table} FOR EACH STATEMENT EXECUTE FUNCTION hromada_table_changed('{layer}')"
        )

    conn = op.get_bind()
    k = _backfill_councils(conn)  # council_categories follow (trigger)
    councils = int(conn.execute(sa.text("SELECT count(*) FROM councils")).scalar() or 0)

    _add_appeals_council(conn, k, councils)
    op.create_index("ix_appeals_council_created", "appeals", ["council_id", "created_at"])
    op.execute("DROP INDEX ix_appeals_reports")
    op.execute(
        "CREATE INDEX ix_appeals_reports ON appeals (created_at)"
        f" INCLUDE ({REPORTS_INCLUDE}, council_id)"
    )
    op.execute("DROP INDEX ix_appeals_open_due")
    op.execute(
        "CREATE INDEX ix_appeals_open_due ON appeals ((coalesce(extended_until, deadline_at)))"
        f" INCLUDE ({OPEN_DUE_INCLUDE}, council_id) WHERE status <> 'closed'"
    )
    op.execute("CREATE OR REPLACE " + APPEAL_FEATURES.format(council=", a.council_id"))

    for table, (not_null, default, own) in TENANT_TABLES.items():
        op.add_column(
            table,
            sa.Column("council_id", sa.Integer(), sa.ForeignKey(
                "councils.id", name=op.f(f"fk_{table}_council_id_councils"))),
        )  # fmt: skip
        if k is not None:
            value = f"coalesce({own}, {k})" if own and councils > 1 else str(k)
            op.execute(f"UPDATE {table} SET council_id = {value}")
        if not_null:
            op.execute(f"ALTER TABLE {table} ALTER COLUMN council_id SET NOT NULL")
        if default:
            op.execute(
                f"ALTER TABLE {table} ALTER COLUMN council_id SET DEFAULT default_council_id()"
            )
    op.create_index("ix_executors_council_id", "executors", ["council_id"])
    op.create_index("ix_deputies_council_id", "deputies", ["council_id"])
    op.create_index(
        "ix_routing_rules_council_id", "routing_rules", ["council_id"],
        postgresql_where=sa.text("is_active"),
    )  # fmt: skip
    # Ward numbers repeat across councils (number 1 in every one).
    op.drop_constraint(op.f("uq_wards_number_version"), "wards", type_="unique")
    op.execute("DROP INDEX uq_wards_current_number")
    op.create_unique_constraint(
        op.f("uq_wards_council_id_number_version"), "wards", ["council_id", "number", "version"]
    )
    op.create_index(
        "uq_wards_current_number", "wards", ["council_id", "number"], unique=True,
        postgresql_where=sa.text("valid_to IS NULL"),
    )  # fmt: skip

    # Users: staff belong to a council (oblast staff: none); a citizen never does.
    op.add_column(
        "users",
        sa.Column("council_id", sa.Integer(), sa.ForeignKey(
            "councils.id", name=op.f("fk_users_council_id_councils"))),
    )  # fmt: skip
    if k is not None:
        op.execute(f"UPDATE users SET council_id = {k} WHERE role <> 'citizen'")
    op.create_check_constraint(
        op.f("ck_users_citizen_unbound"), "users", "role <> 'citizen' OR council_id IS NULL"
    )
    op.create_check_constraint(
        op.f("ck_users_council_bound"), "users",
        f"council_id IS NOT NULL OR role IN {OBLAST_ROLES}",
    )  # fmt: skip
    op.create_index("ix_users_council_id", "users", ["council_id"])
    op.execute(USERS_FUNCTION)


def downgrade() -> None:
    op.execute("DROP TRIGGER IF EXISTS users_council ON users")
    op.execute("DROP FUNCTION IF EXISTS users_council()")
    op.drop_index("ix_users_council_id", table_name="users")
    op.drop_constraint(op.f("ck_users_council_bound"), "users", type_="check")
    op.drop_constraint(op.f("ck_users_citizen_unbound"), "users", type_="check")
    op.drop_column("users", "council_id")

    op.drop_index("uq_wards_current_number", table_name="wards")
    op.drop_constraint(op.f("uq_wards_council_id_number_version"), "wards", type_="unique")
    op.create_unique_constraint(op.f("uq_wards_number_version"), "wards", ["number", "version"])
    op.create_index(
        "uq_wards_current_number", "wards", ["number"], unique=True,
        postgresql_where=sa.text("valid_to IS NULL"),
    )  # fmt: skip
    op.drop_index("ix_routing_rules_council_id", table_name="routing_rules")
    op.drop_index("ix_deputies_council_id", table_name="deputies")
    op.drop_index("ix_executors_council_id", table_name="executors")
    for table in TENANT_TABLES:
        op.drop_column(table, "council_id")

    op.execute("DROP VIEW appeal_features")
    op.execute("CREATE " + APPEAL_FEATURES.format(council=""))
    op.execute("DROP INDEX ix_appeals_open_due")
    op.execute(
        "CREATE INDEX ix_appeals_open_due ON appeals ((coalesce(extended_until, deadline_at)))"
        f" INCLUDE ({OPEN_DUE_INCLUDE}) WHERE status <> 'closed'"
    )
    op.execute("DROP INDEX ix_appeals_reports")
    op.execute(
        f"CREATE INDEX ix_appeals_reports ON appeals (created_at) INCLUDE ({REPORTS_INCLUDE})"
    )
    op.drop_index("ix_appeals_council_created", table_name="appeals")
    op.drop_column("appeals", "council_id")

    for table in NOTICES:
        op.execute(f"DROP TRIGGER IF EXISTS {table}_changed ON {table}")
    op.execute("DROP FUNCTION IF EXISTS hromada_table_changed()")
    op.execute("DROP TRIGGER IF EXISTS council_categories_fill ON categories")
    op.execute("DROP TRIGGER IF EXISTS council_categories_fill ON councils")
    op.execute("DROP FUNCTION IF EXISTS council_categories_of_category()")
    op.execute("DROP FUNCTION IF EXISTS council_categories_of_council()")
    op.drop_table("council_categories")
    op.drop_index("uq_categories_council_name", table_name="categories")
    op.drop_index("uq_categories_shared_name", table_name="categories")
    op.create_unique_constraint(
        op.f("uq_categories_parent_id_name"), "categories", ["parent_id", "name"]
    )
    op.drop_column("categories", "council_id")
    op.execute("DROP FUNCTION IF EXISTS default_council_id()")
    op.drop_table("councils")

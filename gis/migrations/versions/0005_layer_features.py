"""appeals as a layer; change notifications of every layer

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-26

Issue 5. Two things, both by hand (views and triggers are outside SQLAlchemy's metadata):

* `appeal_features`: the appeals layer as OGC API and the tiles read it — names of category,
  district, ward and executor joined in, the text only when its author consented, the
  effective deadline and whether it is overdue. It never reads `appeal_authors`. Every join
  is a LEFT JOIN on a primary key, so PostgreSQL drops the joins a query does not use (a tile
  that reads only id, status and geometry touches `appeals` alone).

* `hromada_layer_changed()`: after every statement that writes a layer's table, one
  `pg_notify('hromada_layer_changes', {"layer": …, "bbox": [minx, miny, maxx, maxy]})` with
  the extent (EPSG:4326) of the rows written, old and new. The server listens and drops the
  cached tiles and counts that the write affects (layers/changes.py). One notice per
  statement, not per row: loading three million appeals sends one notice, not three million.
"""

from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

APPEAL_FEATURES = """
CREATE VIEW appeal_features AS
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
       a.geom, a.geom_3857
  FROM appeals a
  LEFT JOIN categories c ON c.id = a.category_id
  LEFT JOIN districts d ON d.id = a.district_id
  LEFT JOIN wards w ON w.id = a.ward_id
  LEFT JOIN executors x ON x.id = a.executor_id
"""

NOTIFY_FUNCTION = """
CREATE FUNCTION hromada_layer_changed() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    change record;
BEGIN
    -- TG_ARGV[0]: the layer's id, or '*' for layer_features (each row names its layer).
    FOR change IN
        EXECUTE format(
            'SELECT %s AS layer, ST_XMin(e) AS minx, ST_YMin(e) AS miny,'
            ' ST_XMax(e) AS maxx, ST_YMax(e) AS maxy FROM ('
            '  SELECT layer, ST_Extent(geom) AS e FROM ('
            '   SELECT %s AS layer, geom FROM %s UNION ALL SELECT %s, geom FROM %s) rows'
            '  GROUP BY layer) x',
            'layer',
            CASE WHEN TG_ARGV[0] = '*' THEN 'layer_name' ELSE quote_literal(TG_ARGV[0]) END,
            CASE WHEN TG_OP = 'INSERT' THEN '(SELECT * FROM new_rows LIMIT 0) n' ELSE 'old_rows' END,
            CASE WHEN TG_ARGV[0] = '*' THEN 'layer_name' ELSE quote_literal(TG_ARGV[0]) END,
            CASE WHEN TG_OP = 'DELETE' THEN '(SELECT * FROM old_rows LIMIT 0) o' ELSE 'new_rows' END)
    LOOP
        PERFORM pg_notify('hromada_layer_changes', json_build_object(
            'layer', change.layer,
            'bbox', CASE WHEN change.minx IS NULL THEN NULL
                         ELSE json_build_array(change.minx, change.miny, change.maxx, change.maxy)
                    END)::text);
    END LOOP;
    RETURN NULL;
END
$$
"""

# table → the layer id its notices carry ('*': the row's own layer_name)
LAYER_TABLES = {
    "appeals": "appeals",
    "hromadas": "hromadas",
    "districts": "districts",
    "wards": "wards",
    "executor_territories": "executor_territories",
    "advertising_structures": "advertising_structures",
    "kiosks": "kiosks",
    "layer_features": "*",
}


def _triggers(table: str, layer: str) -> list[str]:
    # A statement trigger with transition tables may name only one event.
    return [
        f"CREATE TRIGGER {table}_layer_changed_{op_name.lower()} AFTER {op_name} ON {table}"
        f" REFERENCING {refs} FOR EACH STATEMENT EXECUTE FUNCTION hromada_layer_changed('{layer}')"
        for op_name, refs in (
            ("INSERT", "NEW TABLE AS new_rows"),
            ("UPDATE", "OLD TABLE AS old_rows NEW TABLE AS new_rows"),
            ("DELETE", "OLD TABLE AS old_rows"),
        )
    ]


def upgrade() -> None:
    op.execute(APPEAL_FEATURES)
    op.execute(NOTIFY_FUNCTION)
    for table, layer in LAYER_TABLES.items():
        for statement in _triggers(table, layer):
            op.execute(statement)


def downgrade() -> None:
    for table in LAYER_TABLES:
        for op_name in ("insert", "update", "delete"):
            op.execute(f"DROP TRIGGER IF EXISTS {table}_layer_changed_{op_name} ON {table}")
    op.execute("DROP FUNCTION IF EXISTS hromada_layer_changed()")
    op.execute("DROP VIEW IF EXISTS appeal_features")

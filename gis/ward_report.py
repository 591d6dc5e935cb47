"""A ward's statistics and its printable report (HTML with a folium map, and PDF), for the
deputy cabinet. Queries and rendering only, no HTTP: api/routers/wards.py serves them.

Everything is read from the view `appeal_features`, which holds no personal data; an appeal
belongs to a ward by the ward's number (whatever version of the ward), as in gis/scope.py.
"""

from __future__ import annotations

import datetime as dt
import html
import json
import math
import re
from pathlib import Path
from typing import Any

from psycopg.rows import dict_row

from gis.category_names import label_sql
from gis.models import status_name
from gis.texts import N_, gettext, tr

# A TrueType font with Cyrillic (Debian's fonts-dejavu-core; scripts/system-deps.sh).
FONT = Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf")
FONT_BOLD = Path("/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf")

STATUS_ORDER = ("registered", "in_work", "on_check", "rework", "closed")
STATUS_COLOURS = {
    "registered": "#1f77b4", "in_work": "#ff7f0e", "on_check": "#8e44ad",
    "rework": "#c0392b", "closed": "#2e8b57",
}  # fmt: skip  # the public map's colours (webmap/static/js/map.js)
MONTHS = 12
LATEST = 20
MAX_POINTS = 5000  # drawn on the report's maps

# The report's languages: Ukrainian, and English as a switch (the page's ?lang=, else the
# browser's Accept-Language; api/routers/wards.py decides). The texts are marked Ukrainian,
# their English is gis/locale/en/report.po (gis/texts.py); the data (category names, the
# ward's name) stays Ukrainian.
LANGUAGES = ("uk", "en")
MONTH_NAMES = (
    N_("січень"), N_("лютий"), N_("березень"), N_("квітень"), N_("травень"), N_("червень"),
    N_("липень"), N_("серпень"), N_("вересень"), N_("жовтень"), N_("листопад"), N_("грудень"),
)  # fmt: skip
TEXTS = {
    "ward": N_("Виборчий округ № {number}"),
    "title": N_("Звіт по виборчому округу № {number}"),
    "as_of": N_("Станом на {when} UTC. Без персональних даних заявників."),
    "totals": N_("Усього звернень: {total}; незакритих: {open}; прострочених: {overdue}."),
    "by_status": N_("За статусом"),
    "by_category": N_("За категорією"),
    "by_month": N_("По місяцях (останні 12 місяців)"),
    "status": N_("Статус"),
    "category": N_("Категорія"),
    "month": N_("Місяць"),
    "appeals": N_("Звернень"),
    "overdue": N_("Прострочено"),
    "filed": N_("Подано"),
    "closed": N_("З них закрито"),
    "ward_layer": N_("Округ"),
}


def text(key: str, lang: str = "uk", **params: object) -> str:
    return tr(TEXTS[key], lang, **params)


def month_label(month: str, lang: str = "uk") -> str:
    """'2026-03' → 'березень 2026' ('March 2026' in English)."""
    year, m = month.split("-")
    return f"{tr(MONTH_NAMES[int(m) - 1], lang)} {year}"


_WARD_WORDS = re.compile(r"виборч\w*|округ\w*|electoral|ward|№|no\.?|[\W_]", re.I)


def name_adds(name: str | None, number: int) -> bool:
    """Whether a ward's name says more than its number: 'Виборчий округ №3' does not (the
    importers name a ward so when the source has no name), 'Оболонський' does."""
    if not name:
        return False
    rest = _WARD_WORDS.sub("", re.sub(rf"(?<!\d){number}(?!\d)", "", name, count=1))
    return bool(rest.strip())


def title(info: dict, lang: str = "uk", key: str = "title") -> str:
    """'Звіт по виборчому округу № 3', with ' — name' only when the name adds something."""
    head = text(key, lang, number=info["number"])
    return f"{head} — {info['name']}" if name_adds(info.get("name"), info["number"]) else head


async def ward(conn, number: int, council_id: int) -> dict | None:
    """The current version of ward `number` of the council (ward numbers repeat across
    councils, issue 17): number, name, GeoJSON geometry and bbox."""
    async with conn.cursor(row_factory=dict_row) as cur:
        await cur.execute(
            "SELECT number, name, ST_AsGeoJSON(geom, 6) AS geometry,"
            " ST_XMin(geom) AS minx, ST_YMin(geom) AS miny,"
            " ST_XMax(geom) AS maxx, ST_YMax(geom) AS maxy"
            " FROM wards WHERE number = %s AND council_id = %s AND valid_to IS NULL"
            " ORDER BY version DESC LIMIT 1",
            (number, council_id),
        )
        row = await cur.fetchone()
    if row is None:
        return None
    return {
        "number": row["number"],
        "name": row["name"],
        "geometry": json.loads(row["geometry"]) if row["geometry"] else None,
        "bbox": [row["minx"], row["miny"], row["maxx"], row["maxy"]],
    }


async def statistics(conn, number: int, council_id: int, now: dt.datetime | None = None,
                     lang: str = "uk") -> dict:  # fmt: skip
    """The ward's appeals (ward `number` of the council) counted by status, by category,
    overdue, and month by month (the last 12 calendar months, Kyiv time, by the date filed),
    and its latest appeals; status and month names and the categories' in `lang`."""
    now = now or dt.datetime.now(dt.UTC)
    # The category's name in `lang`; the Ukrainian one where it has no English.
    category = label_sql("c")
    if lang == "en":
        category = f"coalesce({label_sql('c', lang='en')}, {category})"
    async with conn.cursor(row_factory=dict_row) as cur:
        await cur.execute(
            "SELECT count(*) AS total, count(*) FILTER (WHERE overdue) AS overdue,"
            " count(*) FILTER (WHERE status <> 'closed') AS open"
            " FROM appeal_features WHERE ward = %s AND council_id = %s",
            (number, council_id),
        )
        totals = await cur.fetchone()
        await cur.execute(
            "SELECT status, count(*) AS count, count(*) FILTER (WHERE overdue) AS overdue"
            " FROM appeal_features WHERE ward = %s AND council_id = %s GROUP BY status",
            (number, council_id),
        )
        by_status = {r["status"]: r for r in await cur.fetchall()}
        # Per category id, named with its kind when the name is shared (gis/category_names):
        # the many kinds' "Загальні питання" are as many rows, not one.
        await cur.execute(
            f"SELECT f.category_id, {category} AS category, count(*) AS count,"
            " count(*) FILTER (WHERE f.overdue) AS overdue"
            " FROM appeal_features f LEFT JOIN categories c ON c.id = f.category_id"
            " WHERE f.ward = %s AND f.council_id = %s GROUP BY f.category_id, c.id"
            " ORDER BY count(*) DESC, 2, 1",
            (number, council_id),
        )
        by_category = await cur.fetchall()
        await cur.execute(
            """
            WITH months AS (
                SELECT generate_series(
                    date_trunc('month', (%(now)s::timestamptz AT TIME ZONE 'Europe/Kyiv'))
                        - interval '11 months',
                    date_trunc('month', (%(now)s::timestamptz AT TIME ZONE 'Europe/Kyiv')),
                    interval '1 month') AS month
            )
            SELECT to_char(m.month, 'YYYY-MM') AS month, count(f.id) AS count,
                   count(f.id) FILTER (WHERE f.status = 'closed') AS closed
              FROM months m
              LEFT JOIN appeal_features f
                ON f.ward = %(ward)s AND f.council_id = %(council)s
               AND date_trunc('month', f.created_at AT TIME ZONE 'Europe/Kyiv') = m.month
             GROUP BY m.month ORDER BY m.month
            """,
            {"now": now, "ward": number, "council": council_id},
        )
        by_month = await cur.fetchall()
        await cur.execute(
            f"SELECT f.number, {category} AS category, f.status, f.address, f.created_at,"
            " f.deadline_at, f.overdue FROM appeal_features f"
            " LEFT JOIN categories c ON c.id = f.category_id"
            " WHERE f.ward = %s AND f.council_id = %s ORDER BY f.created_at DESC, f.id DESC"
            " LIMIT %s",
            (number, council_id, LATEST),
        )
        latest = await cur.fetchall()
    return {
        "total": totals["total"],
        "open": totals["open"],
        "overdue": totals["overdue"],
        "by_status": [
            {
                "status": s,
                "name": status_name(s, lang),
                "count": by_status[s]["count"] if s in by_status else 0,
                "overdue": by_status[s]["overdue"] if s in by_status else 0,
            }
            for s in (*STATUS_ORDER, *sorted(set(by_status) - set(STATUS_ORDER)))
        ],
        "by_category": [
            {
                "category_id": r["category_id"],
                "category": r["category"],
                "count": r["count"],
                "overdue": r["overdue"],
            }  # fmt: skip
            for r in by_category
        ],
        "by_month": [
            {
                "month": r["month"],
                "label": month_label(r["month"], lang),
                "count": r["count"],
                "closed": r["closed"],
            }
            for r in by_month
        ],  # fmt: skip
        "latest": [
            {
                "number": r["number"],
                "category": r["category"],
                "status": r["status"],
                "status_name": status_name(r["status"], lang),
                "address": r["address"],
                "created_at": r["created_at"].isoformat() if r["created_at"] else None,
                "deadline_at": r["deadline_at"].isoformat() if r["deadline_at"] else None,
                "overdue": bool(r["overdue"]),
            }
            for r in latest
        ],
    }


async def points(conn, number: int, council_id: int,
                 limit: int = MAX_POINTS) -> list[tuple[float, float, str]]:  # fmt: skip
    """(lon, lat, status) of the ward's appeals, the newest first, for the report's maps."""
    cur = await conn.execute(
        "SELECT ST_X(geom), ST_Y(geom), status FROM appeal_features"
        " WHERE ward = %s AND council_id = %s AND geom IS NOT NULL"
        " ORDER BY created_at DESC LIMIT %s",
        (number, council_id, limit),
    )
    return [(float(x), float(y), s) for x, y, s in await cur.fetchall()]


# --- the HTML report ------------------------------------------------------------------------


def _table(caption: str, head: tuple[str, ...], rows: list[tuple], cls: str) -> str:
    e = html.escape
    out = [f'<table class="{cls}"><caption>{e(caption)}</caption><thead><tr>']
    out += [f'<th scope="col">{e(h)}</th>' for h in head]
    out.append("</tr></thead><tbody>")
    for row in rows:
        cells = [f'<th scope="row">{e(str(row[0]))}</th>']
        cells += [f'<td class="num">{e(str(v))}</td>' for v in row[1:]]
        out.append("<tr>" + "".join(cells) + "</tr>")
    out.append("</tbody></table>")
    return "".join(out)


def tables_html(stats: dict, lang: str = "uk") -> str:
    """The report's tables: by status, by category, month by month."""
    e = html.escape
    # The sentence in its language, its numbers in bold.
    totals = '<p class="totals">{}</p>'.format(
        e(gettext(TEXTS["totals"], lang)).format(
            total=f'<b id="total">{stats["total"]}</b>',
            open=f"<b>{stats['open']}</b>",
            overdue=f'<b id="overdue">{stats["overdue"]}</b>',
        )
    )
    status_rows = [(r["name"], r["count"], r["overdue"]) for r in stats["by_status"]]
    category_rows = [(r["category"], r["count"], r["overdue"]) for r in stats["by_category"]]
    month_rows = [(r["label"], r["count"], r["closed"]) for r in stats["by_month"]]

    def head(*keys: str) -> tuple[str, ...]:
        return tuple(text(k, lang) for k in keys)

    return (
        totals
        + _table(text("by_status", lang), head("status", "appeals", "overdue"), status_rows,
                 "by-status")
        + _table(text("by_category", lang), head("category", "appeals", "overdue"),
                 category_rows, "by-category")
        + _table(text("by_month", lang), head("month", "filed", "closed"), month_rows,
                 "by-month")
    )  # fmt: skip


REPORT_CSS = """
html, body { height: auto !important; width: auto !important; }
body { font-family: "DejaVu Sans", Arial, sans-serif; margin: 1.5rem !important; color: #1a1a1a; }
h1 { font-size: 1.5rem; margin: 0 0 .25rem; }
.meta { color: #444; margin: 0 0 1rem; }
.report-map { height: 420px; width: 100%; border: 1px solid #999; margin-bottom: 1rem; }
table { border-collapse: collapse; margin: 0 0 1.25rem; min-width: 24rem; }
caption { text-align: left; font-weight: bold; padding: .25rem 0; }
th, td { border: 1px solid #bbb; padding: .25rem .5rem; text-align: left; }
td.num { text-align: right; }
.legend span { display: inline-block; margin-right: 1rem; }
.legend i { display: inline-block; width: .8rem; height: .8rem; border-radius: 50%;
            margin-right: .3rem; vertical-align: middle; }
@media print { .report-map { height: 360px; } body { margin: 0; } }
"""


def render_html(
    info: dict, stats: dict, pts: list[tuple[float, float, str]], *,
    leaflet_js: str, leaflet_css: str, now: dt.datetime | None = None, lang: str = "uk",
) -> str:  # fmt: skip
    """The printable report in `lang`: a folium map (the ward and its appeals coloured by
    status) with the tables. Leaflet comes from `leaflet_js`/`leaflet_css` (the app's own
    /static/vendor copy), never from folium's CDNs: the city's network is offline."""
    import branca.element
    import folium

    now = now or dt.datetime.now(dt.UTC)
    lang = lang if lang in LANGUAGES else "uk"
    heading_text = title(info, lang)
    minx, miny, maxx, maxy = info["bbox"]
    e = html.escape
    m = folium.Map(
        location=[(miny + maxy) / 2, (minx + maxx) / 2], zoom_start=13, tiles=None,
        height=420, control_scale=True, prefer_canvas=True,
    )  # fmt: skip
    # Only Leaflet itself, from our own server (folium's defaults are CDN URLs).
    m.default_js = [("leaflet", leaflet_js)]
    m.default_css = [("leaflet_css", leaflet_css)]
    if info.get("geometry"):
        folium.GeoJson(
            {"type": "Feature", "geometry": info["geometry"], "properties": {}},
            style_function=lambda _f: {"color": "#8a5a9e", "weight": 2, "fillOpacity": 0.08},
            name=text("ward_layer", lang),
        ).add_to(m)
    for lon, lat, status in pts:
        folium.CircleMarker(
            [lat, lon], radius=3, weight=0.5, color="#ffffff", fill=True,
            fill_color=STATUS_COLOURS.get(status, "#555555"), fill_opacity=0.9,
        ).add_to(m)  # fmt: skip
    m.fit_bounds([[miny, minx], [maxy, maxx]])
    fig = m.get_root()
    assert isinstance(fig, branca.element.Figure)  # a Map's root is its Figure
    fig.header.add_child(branca.element.Element(
        f'<title>{e(heading_text)}</title><link rel="icon" href="data:,"><style>{REPORT_CSS}</style>'
    ))  # fmt: skip
    out = fig.render()
    legend = "".join(
        f'<span><i style="background:{STATUS_COLOURS[s]}"></i>{e(status_name(s, lang))}</span>'
        for s in STATUS_ORDER
    )
    as_of = text("as_of", lang, when=f"{now:%d.%m.%Y %H:%M}")
    heading = f'<h1>{e(heading_text)}</h1><p class="meta">{e(as_of)}</p>'
    # The heading above the map, the legend and the tables below it.
    out = out.replace("<body>", f"<body>{heading}", 1)
    tables = tables_html(stats, lang)
    out = out.replace("</body>", f'<p class="legend">{legend}</p>{tables}</body>', 1)
    return out.replace("<html>", f'<html lang="{lang}">', 1)


# --- the PDF report -------------------------------------------------------------------------


def _rings(geometry: dict | None) -> list[list[tuple[float, float]]]:
    if not geometry:
        return []
    if geometry["type"] == "Polygon":
        polys = [geometry["coordinates"]]
    elif geometry["type"] == "MultiPolygon":
        polys = geometry["coordinates"]
    else:
        return []
    return [[(x, y) for x, y, *_ in ring] for poly in polys for ring in poly]


def _hex(colour: str) -> tuple[int, int, int]:
    return int(colour[1:3], 16), int(colour[3:5], 16), int(colour[5:7], 16)


def render_pdf(
    info: dict, stats: dict, pts: list[tuple[float, float, str]],
    now: dt.datetime | None = None, lang: str = "uk",
) -> bytes:  # fmt: skip
    """The report as PDF (fpdf2) in `lang`: a static map drawn from the ward's polygon and its
    appeals (lon/lat projected equirectangularly at the ward's latitude), and the tables."""
    from fpdf import FPDF
    from fpdf.fonts import FontFace

    now = now or dt.datetime.now(dt.UTC)
    lang = lang if lang in LANGUAGES else "uk"
    heading = title(info, lang)
    pdf = FPDF(format="A4")
    pdf.set_title(heading)
    pdf.set_lang(lang)
    pdf.set_creator("Hromada GIS")
    pdf.add_font("DejaVu", "", str(FONT))
    pdf.add_font("DejaVu", "B", str(FONT_BOLD if FONT_BOLD.exists() else FONT))
    pdf.set_auto_page_break(True, margin=15)
    pdf.add_page()
    pdf.set_font("DejaVu", "B", 15)
    pdf.multi_cell(
        0, 8, heading, new_x="LMARGIN", new_y="NEXT",
    )  # fmt: skip
    pdf.set_font("DejaVu", "", 9)
    pdf.cell(0, 6, text("as_of", lang, when=f"{now:%d.%m.%Y %H:%M}"))
    pdf.ln(8)

    # The map: a box 180 × 110 mm, the ward fitted in it.
    box_x, box_y, box_w, box_h = pdf.l_margin, pdf.get_y(), 180.0, 110.0
    pdf.set_draw_color(150, 150, 150)
    pdf.rect(box_x, box_y, box_w, box_h)
    minx, miny, maxx, maxy = info["bbox"]
    kx = math.cos(math.radians((miny + maxy) / 2))
    span_x, span_y = max((maxx - minx) * kx, 1e-9), max(maxy - miny, 1e-9)
    scale = min((box_w - 8) / span_x, (box_h - 8) / span_y)
    off_x = box_x + (box_w - span_x * scale) / 2
    off_y = box_y + (box_h - span_y * scale) / 2

    def project(lon: float, lat: float) -> tuple[float, float]:
        return off_x + (lon - minx) * kx * scale, off_y + (maxy - lat) * scale

    pdf.set_draw_color(138, 90, 158)
    pdf.set_fill_color(240, 232, 245)
    pdf.set_line_width(0.5)
    for ring in _rings(info.get("geometry")):
        pdf.polygon([project(x, y) for x, y in ring], style="DF")
    pdf.set_line_width(0.1)
    pdf.set_draw_color(255, 255, 255)
    for lon, lat, status in reversed(pts):  # the newest on top
        x, y = project(lon, lat)
        pdf.set_fill_color(*_hex(STATUS_COLOURS.get(status, "#555555")))
        pdf.circle(x, y, 0.9, style="F")
    pdf.set_y(box_y + box_h + 2)
    # The legend.
    pdf.set_font("DejaVu", "", 8)
    for s in STATUS_ORDER:
        x, y = pdf.get_x(), pdf.get_y()
        pdf.set_fill_color(*_hex(STATUS_COLOURS[s]))
        pdf.circle(x + 1.5, y + 2.5, 1.2, style="F")
        pdf.set_x(x + 4)
        name = status_name(s, lang)
        pdf.cell(pdf.get_string_width(name) + 6, 5, name)
    pdf.ln(8)
    pdf.set_fill_color(255, 255, 255)  # the points' colours stay out of the tables
    pdf.set_draw_color(150, 150, 150)

    pdf.set_font("DejaVu", "", 10)
    pdf.multi_cell(
        0, 6,
        text("totals", lang, total=stats["total"], open=stats["open"], overdue=stats["overdue"]),
        new_x="LMARGIN", new_y="NEXT",
    )  # fmt: skip
    pdf.ln(2)

    def table(caption: str, head: tuple[str, str, str], rows: list[tuple]) -> None:
        pdf.set_font("DejaVu", "B", 11)
        pdf.cell(0, 7, caption, new_x="LMARGIN", new_y="NEXT")
        pdf.set_font("DejaVu", "", 9)
        with pdf.table(col_widths=(110, 35, 35), text_align=("LEFT", "RIGHT", "RIGHT"),
                       line_height=5.5, width=180, align="LEFT",
                       headings_style=FontFace(emphasis="BOLD", fill_color=(235, 238, 241)),
                       ) as t:  # fmt: skip
            t.row(head)
            for row in rows:
                t.row([str(v) for v in row])
        pdf.ln(4)

    def head(*keys: str) -> tuple[str, str, str]:
        a, b, c = (text(k, lang) for k in keys)
        return a, b, c

    table(text("by_status", lang), head("status", "appeals", "overdue"),
          [(r["name"], r["count"], r["overdue"]) for r in stats["by_status"]])  # fmt: skip
    table(text("by_category", lang), head("category", "appeals", "overdue"),
          [(r["category"], r["count"], r["overdue"]) for r in stats["by_category"]])  # fmt: skip
    table(text("by_month", lang), head("month", "filed", "closed"),
          [(r["label"], r["count"], r["closed"]) for r in stats["by_month"]])  # fmt: skip
    return bytes(pdf.output())


def report_context(info: dict) -> dict[str, Any]:
    """The ward as the statistics' JSON shows it; `name_adds`: whether its name says more
    than its number (the cabinet's title shows the name only then)."""
    return {
        **{k: info[k] for k in ("number", "name", "geometry", "bbox")},
        "name_adds": name_adds(info.get("name"), info["number"]),
    }

"""The portal's pages (HTML). The map itself is webmap/static/js/map.js, which reads the layers
through /ogc like any other client."""

from __future__ import annotations

import functools
import json
from urllib.parse import quote, urlencode

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from fastapi.templating import Jinja2Templates
from jinja2 import pass_context
from markupsafe import Markup
from psycopg import OperationalError
from psycopg_pool import PoolTimeout

from api.deps import ConnDep, PoolDep, SettingsDep, data_generation
from api.policy import public
from api.security import cookie_name, current_principal
from api.urls import path_for
from gis import author_links, council_map, notify, reports
from gis import councils as councils_
from gis.errors import NotFound
from gis.intake import OPERATOR_ROLES
from gis.models import STATUS_NAMES, status_name
from gis.texts import tr
from layers import CORE_LAYERS, OSM_ATTRIBUTION
from layers.registry import THEMATIC_STYLE
from webmap import TEMPLATES_DIR, i18n

router = APIRouter(tags=["portal"], include_in_schema=False, dependencies=[public()])
templates = Jinja2Templates(directory=TEMPLATES_DIR)


def _script_json(value: object) -> Markup:
    """JSON for a <script type="application/json"> element: Cyrillic kept as it is (Jinja's
    tojson writes each letter as a 6-byte escape) and <, >, & escaped so the text cannot close
    the element."""
    text = json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    return Markup(text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026"))


templates.env.filters["script_json"] = _script_json


@pass_context
def _url_for(context: dict, name: str, /, **path_params: object) -> str:
    """The templates' url_for: root-relative paths (Starlette's would write the request's Host
    into every link and script of the page)."""
    return path_for(context["request"], name, **path_params)


templates.env.globals["url_for"] = _url_for


@functools.cache
def _catalogue_json(lang: str) -> Markup:
    """The scripts' catalogue of a language, serialised once (23 KB for English; nothing for
    Ukrainian, the source)."""
    messages = i18n.catalogue(lang).messages
    return _script_json(dict(messages)) if messages else Markup("")


LANG_COOKIE = "hromada_lang"
LANG_COOKIE_MAX_AGE = 365 * 24 * 3600


def page_language(request: Request) -> str:
    return i18n.negotiate(
        request.query_params.get("lang"),
        request.cookies.get(LANG_COOKIE),
        request.headers.get("accept-language"),
    )


def status_names(lang: str) -> dict[str, str]:
    return {status: status_name(status, lang) for status in STATUS_NAMES}


# "© OpenStreetMap contributors", credited on every map the portal draws (districts are OSM's).
OSM_CREDIT = OSM_ATTRIBUTION.replace(" (ODbL)", "")


def _map_base(settings) -> dict:
    """What every page with a map needs: OSM's credit and the online background, if any."""
    return {"attribution": OSM_CREDIT, "basemapUrl": settings.basemap_url}


def _appeal_tiles(request: Request) -> str:
    """The appeals' vector tiles as a {z}/{x}/{y} template (tiles/mvt.py)."""
    one = path_for(request, "tile", collection_id="appeals", z="0", x="0", y="0")
    return one.replace("/0/0/0.mvt", "/{z}/{x}/{y}.mvt")


def render(request: Request, template: str, context: dict) -> HTMLResponse:
    """A page in its language (webmap/i18n.py): the template's _(), and for the scripts the
    catalogue as JSON and the statuses' names in the page's config (gis/models.py holds them
    in both languages; portal.js reads them from there). A language chosen by the switch
    (?lang=) is kept in a cookie for the other pages."""
    lang = page_language(request)
    other = "en" if lang == "uk" else "uk"
    config = {**context.get("config", {}), "statusNames": status_names(lang)}
    response = templates.TemplateResponse(
        request,
        template,
        {
            **context,
            "config": config,
            "lang": lang,
            "_": i18n.catalogue(lang).gettext,
            "i18n_messages": _catalogue_json(lang),
            "other_lang": other,
            "other_lang_name": i18n.LANGUAGE_NAMES[other],
        },
        headers={"Content-Language": lang, "Vary": "Accept-Language, Cookie"},
    )
    if request.query_params.get("lang") in i18n.LANGUAGES:
        response.set_cookie(
            LANG_COOKIE, lang, max_age=LANG_COOKIE_MAX_AGE, samesite="lax", httponly=True
        )
    return response


def _council_title(request: Request, council: councils_.Council) -> str:
    """A council's name in the page's language (its English name when it has one)."""
    if page_language(request) == "en" and council.name_en:
        return council.name_en
    return council.name


HOME_CACHE_SIZE = 256


async def _home(request: Request) -> dict | None:
    """The maps' home (portal.homeView): {bbox: [w, s, e, n], centre: [lon, lat]} of the
    signed-in staff member's council, else — oblast staff, citizens, visitors — of the
    installation's territory (every current hromada; Kyiv's boundary in a one-council Kyiv
    install). Cached per generation of the hromadas and councils (they change on a
    boundaries' import). None while the database is down or no boundary is loaded: the
    script's fallback then."""
    pool = request.app.state.pool
    try:
        principal = await current_principal(request)
        ids = None if principal.oblast else tuple(principal.council_ids) or None
        listening = getattr(request.app.state, "layer_changes", None) is not None
        key = (ids, data_generation(request, ("hromadas", "councils")))
        cache = getattr(request.app.state, "portal_home_cache", None)
        if cache is None:
            cache = request.app.state.portal_home_cache = {}
        if listening and key in cache:
            return cache[key]
        async with pool.connection(timeout=2.0) as conn:
            home = await councils_.home_extent(conn, ids)
    except (OperationalError, PoolTimeout):
        return None
    if listening:
        if len(cache) >= HOME_CACHE_SIZE:
            cache.clear()
        cache[key] = home
    return home


async def _councils_if_reachable(pool: PoolDep) -> list[councils_.Council]:
    """The councils for the map's switch; none while the database is down, so that the map page
    is served anyway (its data come from the API, which answers 503 itself)."""
    try:
        async with pool.connection(timeout=2.0) as conn:
            return await councils_.list_public(conn)
    except (OperationalError, PoolTimeout):
        return []


@router.get("/", response_class=HTMLResponse, name="portal_home")
async def home(request: Request, settings: SettingsDep, pool: PoolDep) -> HTMLResponse:
    districts = CORE_LAYERS["districts"]
    config = {
        "districtsUrl": path_for(request, "ogc_items", collection_id=districts.id),
        "districtsStyle": districts.style.as_leaflet(),
        # Vector tiles of the appeals: clusters far out, points close in (tiles/mvt.py).
        "appealsTiles": _appeal_tiles(request),
        **_map_base(settings),
        "home": await _home(request),  # the map's home view
    }
    # Several councils (issue 17): the panel's «Громада» switch to each council's page.
    listed = await _councils_if_reachable(pool)
    switch = [{"slug": c.slug, "title": _council_title(request, c)} for c in listed]
    return render(
        request, "index.html", {"config": config, "councils": switch if len(switch) > 1 else []}
    )


@router.get("/h/{code}/", response_class=HTMLResponse, response_model=None, name="portal_council")
async def council_page(
    request: Request, code: str, conn: ConnDep, settings: SettingsDep
) -> HTMLResponse | RedirectResponse:
    """A council's public map (issue 17): the home page fitted to the council, its boundary
    highlighted, the list of appeals filtered `council=`; an occupied council's page says so
    and offers no filing. By slug; a KATOTTH code (or another case) → 308 to the slug's page;
    unknown → 404 `council_not_found`."""
    council = await councils_.resolve(conn, code)
    if code != council.slug:
        return RedirectResponse(path_for(request, "portal_council", code=council.slug), 308)
    extent = await council_map.extent(conn, council)
    districts = CORE_LAYERS["districts"]
    public = council.public()
    config = {
        "districtsUrl": path_for(request, "ogc_items", collection_id=districts.id),
        "districtsStyle": districts.style.as_leaflet(),
        "appealsTiles": _appeal_tiles(request),
        "council": {**public, "bbox": extent["bbox"] if extent else None},
        **_map_base(settings),
        "attribution": await council_map.attribution(conn),
    }
    title = _council_title(request, council)
    return render(request, "index.html", {"config": config, "council": {**public, "title": title}})


@router.get("/oblast", response_class=HTMLResponse, name="portal_oblast")
async def oblast_page(request: Request, settings: SettingsDep) -> HTMLResponse:
    """The oblast's councils (issue 17): every council's boundary, the temporarily occupied
    ones hatched and listed; oblast.js reads /api/v1/councils and the OGC 'hromadas' items.
    The boundaries' credit («© Мінрегіон» after its atlas was imported) comes with the list."""
    config = {
        "councilsUrl": path_for(request, "councils"),
        "hromadasUrl": path_for(request, "ogc_items", collection_id="hromadas") + "?limit=1000",
        "reportUrl": "/api/v1/reports/councils",
        **_map_base(settings),
    }
    return render(request, "oblast.html", {"config": config})


@router.get("/login", response_class=HTMLResponse, name="portal_login")
async def login_page(request: Request, settings: SettingsDep) -> HTMLResponse:
    """Sign-in for staff and citizens: the form posts JSON to /api/v1/auth/login (a cookie
    session), then goes to the cabinet."""
    config = {
        "loginUrl": "/api/v1/auth/login",
        "cabinetUrl": path_for(request, "portal_cabinet"),
    }
    return render(request, "login.html", {"config": config, "demo": settings.demo_mode})


@router.get("/cabinet", response_class=HTMLResponse, name="portal_cabinet")
async def cabinet_page(request: Request, settings: SettingsDep) -> HTMLResponse:
    """The signed-in user's page: who they are, their role and scope, their queue. The page
    itself holds no data; cabinet.js reads it from the API with the session cookie (and goes
    to /login when there is none)."""
    config = {
        "meUrl": "/api/v1/me",
        "queueUrl": "/api/v1/queue",
        "myAppealsUrl": "/api/v1/me/appeals",
        "logoutUrl": "/api/v1/auth/logout",
        "loginUrl": path_for(request, "portal_login"),
        **_map_base(settings),
        "home": await _home(request),  # the map's home view
    }
    return render(request, "cabinet.html", {"config": config})


def _account_page(request: Request, template: str, config: dict) -> HTMLResponse:
    config = {**config, "loginUrl": path_for(request, "portal_login")}
    return render(request, template, {"config": config})


@router.get("/register", response_class=HTMLResponse, name="portal_register")
async def register_page(request: Request) -> HTMLResponse:
    """A citizen signs up: the form posts JSON to /api/v1/auth/register, which mails a link to
    /account/confirm."""
    return _account_page(request, "register.html", {"registerUrl": "/api/v1/auth/register"})


@router.get("/account/confirm", response_class=HTMLResponse, name="portal_account_confirm")
async def confirm_page(request: Request) -> HTMLResponse:
    """The confirmation link's page. Its token is in the URL fragment, which never reaches the
    server; account.js reads it and POSTs it to /api/v1/auth/confirm."""
    return _account_page(request, "account_confirm.html", {"confirmUrl": "/api/v1/auth/confirm"})


@router.get("/account/reset", response_class=HTMLResponse, name="portal_account_reset")
async def reset_page(request: Request) -> HTMLResponse:
    """Forgot the password: without a token, a form asking for the mail with a link; with the
    link's #token=…, a form for the new password."""
    config = {
        "requestUrl": "/api/v1/auth/password-reset",
        "confirmUrl": "/api/v1/auth/password-reset/confirm",
    }
    return _account_page(request, "account_reset.html", config)


@router.get("/appeal/new", response_class=HTMLResponse, name="portal_appeal_new")
async def appeal_new_page(request: Request, settings: SettingsDep, conn: ConnDep) -> HTMLResponse:
    """File an appeal: pin it on the map (or find an address), pick the category, write the
    text, add photos; appeal_new.js reads the lists from the API and posts the form to
    /api/v1/appeals (with the session cookie and its CSRF token when signed in).
    `?council=<slug>` with several councils (issue 17): the council is named, its categories
    listed, «Без місця» offered (the submission then names it); an occupied one refuses."""
    districts = CORE_LAYERS["districts"]
    council = None
    ref = request.query_params.get("council")
    if ref and await councils_.only(conn) is None:
        try:
            found = await councils_.resolve(conn, ref)
        except NotFound:
            found = None  # an unknown name: the plain form (the point decides)
        if found is not None:
            council = {**found.public(), "title": _council_title(request, found)}
    config = {
        "districtsUrl": path_for(request, "ogc_items", collection_id=districts.id),
        "districtsStyle": districts.style.as_leaflet(),
        **_map_base(settings),
        "home": await _home(request),  # the map's home view
        "categoriesUrl": "/api/v1/categories"
        + (f"?council={quote(council['slug'])}" if council else ""),
        "categorySearchUrl": "/api/v1/categories/search",  # by the words people use ("яма")
        "council": council,
        "appealsUrl": "/api/v1/appeals",
        "nearbyUrl": "/api/v1/appeals/nearby",
        "reverseUrl": "/api/v1/geocode/reverse",
        "searchUrl": "/api/v1/geocode/search",
        "meUrl": "/api/v1/me",
        "loginUrl": path_for(request, "portal_login"),
        "cabinetUrl": path_for(request, "portal_cabinet"),
        "homeUrl": path_for(request, "portal_home"),  # /?number=… opens the appeal's card
        "textMax": settings.appeal_text_max_chars,
        "maxPhotos": settings.appeal_max_photos,
        "maxPhotoBytes": settings.appeal_max_photo_bytes,
        # How the author may hear of the appeal: e-mail; SMS and Viber where a gateway is set.
        "notifyChannels": notify.offered_channels(settings),
    }
    return render(request, "appeal_new.html", {"config": config, "council": council})


@router.get("/operator", response_class=HTMLResponse, name="portal_operator")
async def operator_page(request: Request, settings: SettingsDep) -> HTMLResponse:
    """The contact centre's intake of a call, by keyboard alone: the caller by phone or e-mail
    (their earlier appeals, a logged read), the channel, the address with its house number or
    no location, the category by the caller's words, nearby open duplicates, and the number
    and deadline to read back. operator.js calls the API with the session cookie."""
    districts = CORE_LAYERS["districts"]
    config = {
        "districtsUrl": path_for(request, "ogc_items", collection_id=districts.id),
        "districtsStyle": districts.style.as_leaflet(),
        "meUrl": "/api/v1/me",
        "callersUrl": "/api/v1/callers",
        "searchUrl": "/api/v1/geocode/search",
        "categorySearchUrl": "/api/v1/categories/search",
        "nearbyUrl": "/api/v1/appeals/nearby",
        "supportUrl": "/api/v1/appeals/{number}/support",
        "appealsUrl": "/api/v1/appeals",
        "roles": list(OPERATOR_ROLES),
        "textMax": settings.appeal_text_max_chars,
        "notifyChannels": notify.offered_channels(settings),  # the caller's choice of channel
        **_map_base(settings),
        "home": await _home(request),  # the map's home view
        "logoutUrl": "/api/v1/auth/logout",
        "loginUrl": path_for(request, "portal_login"),
    }
    # The caller's language for their messages, each named in itself (as the switch does).
    context = {"config": config, "language_names": i18n.LANGUAGE_NAMES}
    return render(request, "operator.html", context)


@router.get("/planner", response_class=HTMLResponse, name="portal_planner")
async def planner_page(request: Request, settings: SettingsDep) -> HTMLResponse:
    """The planner's view: every thematic and permit layer switchable with a legend, a
    feature's attributes on click (the permit status of advertising structures and kiosks),
    and each layer's freshness. planner.js reads the catalogue (/api/v1/layers) and the
    features (/ogc) with the session cookie, so signed-in staff also see internal layers."""
    config = {
        "layersUrl": path_for(request, "layer_catalogue"),
        "styles": {name: layer.style.as_leaflet() for name, layer in CORE_LAYERS.items()},
        "thematicStyle": THEMATIC_STYLE.as_leaflet(),
        "permitLayers": ["advertising_structures", "kiosks"],
        # The appeals are the public map's business (/): not listed here.
        "skipLayers": ["appeals"],
        **_map_base(settings),
        "home": await _home(request),  # the map's home view
        "homeUrl": path_for(request, "portal_home"),
        "loginUrl": path_for(request, "portal_login"),
        # planner_edit.js asks /me who it is (planners and admins edit) only with a session
        # cookie: the public has no /me call, no 401 in the console.
        "maybeSignedIn": cookie_name(request) in request.cookies,
        "meUrl": "/api/v1/me",
    }
    return render(request, "planner.html", {"config": config})


@router.get("/cabinet/appeals", response_class=HTMLResponse, name="portal_my_appeals")
async def my_appeals_page(request: Request) -> HTMLResponse:
    """A signed-in citizen's appeals with their statuses and answers; confirm or reject a
    result. my_appeals.js reads everything from the API with the session cookie."""
    config = {
        "meUrl": "/api/v1/me",
        "myAppealsUrl": "/api/v1/me/appeals",
        "appealsUrl": "/api/v1/appeals",
        "loginUrl": path_for(request, "portal_login"),
    }
    return render(request, "my_appeals.html", {"config": config})


async def _author_page(request: Request, conn, number: str, template: str) -> HTMLResponse:
    """An author's page opened from a notification's link (gis/author_links.py): the token
    (?t=) is checked here, and the page's buttons send it back in the body of their POST
    (api/routers/author.py). A token that is not this appeal's: the page says so, 403; no
    such appeal: 404."""
    token = request.query_params.get("t") or ""
    state = await author_links.page_state(conn, number, token)
    quoted = quote(number, safe="")
    config = {
        "number": number,
        "token": token if state["valid"] else "",
        "valid": state["valid"],
        "found": state["found"],
        "unsubscribed": state["unsubscribed"],
        "cardUrl": path_for(request, "public_appeal", number=quoted),
        "confirmUrl": path_for(request, "appeal_author_confirm", number=quoted),
        "rejectUrl": path_for(request, "appeal_author_reject", number=quoted),
        "unsubscribeUrl": path_for(request, "appeal_author_unsubscribe", number=quoted),
        "homeUrl": path_for(request, "portal_home"),
    }
    other = "en" if page_language(request) == "uk" else "uk"
    token = config["token"]  # a wrong token is not written back into the page
    query = "?" + urlencode({"t": token})
    links = {
        "card": path_for(request, "portal_author", number=quoted) + query,
        "unsubscribe": path_for(request, "portal_author_unsubscribe", number=quoted) + query,
        # The language switch keeps the token (the shared switch's ?lang= alone would drop it).
        "lang": "?" + urlencode({"t": token, "lang": other} if token else {"lang": other}),
        "map": path_for(request, "portal_home") + "?" + urlencode({"number": number}),
    }
    context = {"config": config, "number": number, "valid": state["valid"],
               "found": state["found"], "unsubscribed": state["unsubscribed"],
               "links": links}  # fmt: skip
    response = render(request, template, context)
    if not state["valid"]:
        response.status_code = 403 if state["found"] else 404
    return response


@router.get("/a/{number}", response_class=HTMLResponse, name="portal_author")
async def author_page(request: Request, number: str, conn: ConnDep) -> HTMLResponse:
    """The appeal's page for its author, from a notification's link (?t=TOKEN): the public
    card (status and 1551's result, the answer's text and photos) and, while the answer awaits
    the author (on_check), "Підтверджую виконання" / "Не виконано" (with a comment);
    #confirm and #reject bring the one or the other into focus. author.js reads the card
    from /api/v1/appeals/{number} and POSTs to /api/v1/appeals/{number}/author-…"""
    return await _author_page(request, conn, number, "author.html")


@router.get(
    "/a/{number}/unsubscribe", response_class=HTMLResponse, name="portal_author_unsubscribe"
)
async def author_unsubscribe_page(request: Request, number: str, conn: ConnDep) -> HTMLResponse:
    """One button: no more notifications of this appeal to its author (?t=TOKEN, POSTed in
    the body to /api/v1/appeals/{number}/author-unsubscribe)."""
    return await _author_page(request, conn, number, "author_unsubscribe.html")


@router.get("/cabinet/ward", response_class=HTMLResponse, name="portal_deputy")
async def deputy_page(request: Request, settings: SettingsDep) -> HTMLResponse:
    """The deputy cabinet: the deputy's ward on the map with its appeals (tiles filtered by
    ward), its statistics, its latest appeals and the printable report. The page holds no
    data; deputy.js reads /api/v1/me (a deputy: their ward) and /api/v1/wards/{number}/… with
    the session cookie. Operators, curators and administrators may pick any ward (?ward=N)."""
    config = {
        "meUrl": "/api/v1/me",
        "statisticsUrl": "/api/v1/wards/{number}/statistics",
        "reportHtmlUrl": "/api/v1/wards/{number}/report.html",
        "reportPdfUrl": "/api/v1/wards/{number}/report.pdf",
        "appealsTiles": _appeal_tiles(request),
        **_map_base(settings),
        "home": await _home(request),  # the map's home view
        "logoutUrl": "/api/v1/auth/logout",
        "loginUrl": path_for(request, "portal_login"),
        "homeUrl": path_for(request, "portal_home"),
        "cabinetUrl": path_for(request, "portal_cabinet"),
    }
    return render(request, "deputy.html", {"config": config})


@router.get("/dashboard", response_class=HTMLResponse, name="portal_dashboard")
async def dashboard_page(request: Request, settings: SettingsDep) -> HTMLResponse:
    """The dashboard of the reports (gis/reports.py), open to anyone: the public's city-wide
    figures for a visitor, a citizen or a planner; their scope for staff (their organisations
    or the city) and for deputies (their ward). The weekly series of received and closed, the
    appeals by kind, a choropleth of the districts or the wards by a chosen measure, a hexagon
    density map and the executors' table with its XLSX and CSV, all under the reports' filters,
    which stay in the page's address with the view's choices (shareable, printable). The page
    holds no data: dashboard.js reads /api/v1/reports/… (with the session cookie, if any)."""
    lang = page_language(request)
    config = {
        "meUrl": "/api/v1/me",
        # Without a session cookie the visitor is the public: no /me call, no 401 in the console.
        "maybeSignedIn": cookie_name(request) in request.cookies,
        "reportUrl": "/api/v1/reports/{name}",
        "districtsUrl": "/ogc/collections/districts/items?limit=100",
        "wardsUrl": "/ogc/collections/wards/items?limit=1000",
        "categoriesUrl": "/api/v1/categories",
        "channels": [
            {"code": code, "name": tr(name, lang)} for code, name in reports.CHANNEL_NAMES.items()
        ],
        "readers": list(reports.READERS),
        **_map_base(settings),
        "logoutUrl": "/api/v1/auth/logout",
        "loginUrl": path_for(request, "portal_login"),
        "cabinetUrl": path_for(request, "portal_cabinet"),
    }
    return render(request, "dashboard.html", {"config": config})


@router.get("/curator", response_class=HTMLResponse, name="portal_curator")
async def curator_page(request: Request, settings: SettingsDep) -> HTMLResponse:
    """The contact centre's curator: the queues with their counts (answers to check, appeals
    returned as not in competence, with no location, with no executor), an appeal's card with
    the answer's photos beside the appeal's, accept / return for rework, and a redirect helped
    by the routing dry run at the appeal's point; an appeal with no location gets its place
    (clicked on the map or found by its address) and then routing's choice there.
    curator.js reads /api/v1/curator/… with the session cookie."""
    districts = CORE_LAYERS["districts"]
    config = {
        "meUrl": "/api/v1/me",
        "countsUrl": "/api/v1/curator/queues",
        "queueUrl": "/api/v1/curator/queues/{queue}",
        "cardUrl": "/api/v1/curator/appeals/{number}",
        "checkUrl": "/api/v1/appeals/{number}/check",
        "redirectUrl": "/api/v1/appeals/{number}/redirect",
        "transferUrl": "/api/v1/appeals/{number}/transfer",  # to another council (art. 7)
        "councilsUrl": "/api/v1/councils",
        "locateUrl": "/api/v1/appeals/{number}/locate",
        "searchUrl": "/api/v1/geocode/search",
        "districtsUrl": path_for(request, "ogc_items", collection_id=districts.id),
        "districtsStyle": districts.style.as_leaflet(),
        "routeUrl": "/api/v1/route",
        "photoUrl": "/api/v1/photos/{sha256}",
        **_map_base(settings),
        "home": await _home(request),  # the map's home view
        "logoutUrl": "/api/v1/auth/logout",
        "loginUrl": path_for(request, "portal_login"),
        "cabinetUrl": path_for(request, "portal_cabinet"),
    }
    return render(request, "curator.html", {"config": config})


@router.get("/manager", response_class=HTMLResponse, name="portal_manager")
async def manager_page(request: Request, settings: SettingsDep) -> HTMLResponse:
    """The manager's АРМ: unexecuted appeals counted by sub-organisation (overdue, due within
    2 days, due later, under personal control, with a request for a longer term awaiting a
    decision), the list behind each count and its CSV, and an appeal's card with the request
    (granted or declined), resolutions (main executor, co-executors, each with a deadline and a
    text) and personal control; a map of the unexecuted appeals coloured by lateness.
    manager.js reads the API with the session cookie."""
    config = {
        "meUrl": "/api/v1/me",
        "summaryUrl": "/api/v1/manager/summary",
        "listUrl": "/api/v1/manager/appeals",
        "csvUrl": "/api/v1/manager/appeals.csv",
        "cardUrl": "/api/v1/queue/{number}",
        "executorsUrl": "/api/v1/me/executors",
        "resolutionsUrl": "/api/v1/appeals/{number}/resolutions",
        "delegateUrl": "/api/v1/appeals/{number}/delegate",
        "controlUrl": "/api/v1/appeals/{number}/control",
        "extendUrl": "/api/v1/appeals/{number}/extend",
        "declineUrl": "/api/v1/appeals/{number}/extension-decline",
        **_map_base(settings),
        "home": await _home(request),  # the map's home view
        "logoutUrl": "/api/v1/auth/logout",
        "loginUrl": path_for(request, "portal_login"),
        "cabinetUrl": path_for(request, "portal_cabinet"),
    }
    return render(request, "manager.html", {"config": config})


@router.get("/admin", response_class=HTMLResponse, name="portal_admin")
async def admin_page(request: Request, settings: SettingsDep) -> HTMLResponse:
    """The administrator's workstation: staff accounts (list by role, create bound to an
    organisation, a ward or the contact centre, change the role, deactivate, send a reset
    link), categories (deadline, active, keywords), routing rules (list, create, delete, the
    rule's territory on the map, the routing dry run at a clicked point), organisations with
    their territories (one replaced from a file, old and new outlines compared first).
    admin.js reads and changes everything through the admin API with the session cookie and
    its CSRF token; each change is audited there (gis/admin.py)."""
    config = {
        "meUrl": "/api/v1/me",
        "usersUrl": "/api/v1/users",
        "executorsUrl": "/api/v1/directory/executors",
        "categoriesUrl": "/api/v1/directory/categories",
        "categoryUrl": "/api/v1/categories/{id}",
        "rulesUrl": "/api/v1/routing-rules",
        "routeUrl": "/api/v1/route",
        "resetUrl": "/api/v1/auth/password-reset",
        "districtsUrl": path_for(request, "ogc_items", collection_id="districts"),
        "wardsUrl": path_for(request, "ogc_items", collection_id="wards"),
        "territoriesUrl": path_for(request, "ogc_items", collection_id="executor_territories"),
        "territoryUrl": "/api/v1/directory/territories/{code}",
        **_map_base(settings),
        "home": await _home(request),  # the map's home view
        "logoutUrl": "/api/v1/auth/logout",
        "loginUrl": path_for(request, "portal_login"),
        "cabinetUrl": path_for(request, "portal_cabinet"),
    }
    return render(request, "admin.html", {"config": config})

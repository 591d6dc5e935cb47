"""The portal's pages (HTML). The map itself is webmap/static/js/map.js, which reads the layers
through /ogc like any other client."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates

from api.deps import SettingsDep
from api.policy import public
from layers import CORE_LAYERS, OSM_ATTRIBUTION
from webmap import TEMPLATES_DIR

router = APIRouter(tags=["portal"], include_in_schema=False, dependencies=[public()])
templates = Jinja2Templates(directory=TEMPLATES_DIR)


@router.get("/", response_class=HTMLResponse, name="portal_home")
async def home(request: Request, settings: SettingsDep) -> HTMLResponse:
    districts = CORE_LAYERS["districts"]
    config = {
        "districtsUrl": str(request.url_for("ogc_items", collection_id=districts.id)),
        "districtsStyle": districts.style.as_leaflet(),
        "attribution": OSM_ATTRIBUTION.replace(" (ODbL)", ""),
        # An optional background tile URL ({z}/{x}/{y}); none by default, since the city's
        # offline deployment has no tile server. Read only if Settings declares it.
        "basemapUrl": settings.basemap_url,
    }
    return templates.TemplateResponse(request, "index.html", {"config": config})

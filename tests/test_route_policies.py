"""Every route declares who may call it. A new endpoint without a policy fails here."""

from api import create_app
from api.policy import iter_api_routes, route_policy
from gis.settings import Settings

# FastAPI's own documentation pages describe the API and carry no data.
DOCUMENTATION = {"/openapi.json", "/docs", "/docs/oauth2-redirect", "/redoc"}


def test_every_route_declares_a_policy():
    app = create_app(Settings(database_url="postgresql://nobody@127.0.0.1:1/none"))
    routes = [r for r in iter_api_routes(app) if r.path not in DOCUMENTATION]
    missing = [f"{sorted(r.methods)} {r.path}" for r in routes if route_policy(r) is None]
    assert not missing, f"routes without a declared policy: {missing}"
    assert {"/healthz", "/ogc/collections/{collection_id}/items", "/"} <= {r.path for r in routes}

"""HTTP layer of Hromada GIS: `create_app(settings)` builds the FastAPI application.

One router module per resource in api/routers; errors are mapped to HTTP in api/errors.py.
"""

from api.app import create_app

__all__ = ["create_app"]

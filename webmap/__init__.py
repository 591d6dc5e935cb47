"""The portal's browser side: Jinja templates and static files (our JS and CSS; third-party
libraries are installed into static/vendor/ from the npm registry by install-assets.sh)."""

from pathlib import Path

WEBMAP_DIR = Path(__file__).resolve().parent
TEMPLATES_DIR = WEBMAP_DIR / "templates"
STATIC_DIR = WEBMAP_DIR / "static"
VENDOR_DIR = STATIC_DIR / "vendor"

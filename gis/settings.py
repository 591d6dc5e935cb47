"""Typed settings, read from the environment (and a `.env` file if present).

Plain names (`DATABASE_URL`, `HOST`, `PORT`) are the contract the Makefile, the README and
docker-compose use; everything else lives under the `HROMADA_` prefix.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from pydantic import AliasChoices, Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

PROJECT_ROOT = Path(__file__).resolve().parent.parent
OSM_TILES = "https://tile.openstreetmap.org/{z}/{x}/{y}.png"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="HROMADA_", env_file=".env", extra="ignore")

    database_url: str | None = Field(
        default=None,
        validation_alias=AliasChoices("DATABASE_URL", "HROMADA_DATABASE_URL"),
        description="PostgreSQL+PostGIS URL; unset means the embedded cluster.",
    )
    host: str = Field(default="127.0.0.1", validation_alias=AliasChoices("HOST", "HROMADA_HOST"))
    port: int = Field(default=8000, validation_alias=AliasChoices("PORT", "HROMADA_PORT"))
    # The reverse proxies whose X-Forwarded-For and X-Forwarded-Proto are believed
    # (comma-separated addresses or networks, "*" for any): the client's address behind them
    # is what rate limits, lockouts and the personal-data access log see. Anyone else's
    # forwarded headers are ignored.
    forwarded_allow_ips: str = "127.0.0.1"

    # The embedded cluster (used only without DATABASE_URL).
    data_dir: Path = PROJECT_ROOT / ".hromada"
    embedded_port: int = 54329
    embedded_db: str = "hromada"

    # Point-in-time recovery (docs/PITR.md): when set, the embedded cluster archives every
    # WAL segment into this directory (archive_mode, archive_command; applied at its start).
    wal_archive_dir: Path | None = None

    # Where `hromada demo` finds the real Kyiv files.
    shared_data: Path = PROJECT_ROOT.parent / "shared" / "data"

    # A streaming read replica (issue 18; gis/replica.py): the reads that may lag a little
    # (tiles, OGC items, the public feed, reports, open data) go to it, writes and a user's
    # reads of their own fresh writes to the primary. The tile and count caches are dropped
    # once it has replayed a write, or after replica_invalidation_wait_seconds anyway (and
    # again when it has). Unset: every read from DATABASE_URL.
    database_replica_url: str | None = None
    replica_invalidation_wait_seconds: float = Field(default=5.0, gt=0, le=600)

    # Connection pool of the web app.
    pool_min_size: int = 1
    pool_max_size: int = 8
    db_connect_timeout: float = 3.0

    # The portal's online background: a raster tile URL template, OpenStreetMap's by default
    # (its usage policy suits a modest site; a city's busy portal points this at its own tile
    # server). "off" (or empty): no background — the portal's own layers work offline.
    basemap_url: str | None = OSM_TILES

    demo_mode: bool = True
    # Quiet by default (make run prints one line); set HROMADA_LOG_LEVEL=info for more.
    log_level: str = "warning"
    access_log: bool = False

    # Accounts and sessions (gis/accounts.py). Retention periods: a portal cookie session
    # lives session_ttl_hours, an API bearer token bearer_ttl_days; an e-mailed confirmation
    # link confirm_token_ttl_hours, a password-reset link reset_token_ttl_minutes. The author
    # data of an appeal closed more than personal_data_retention_days ago is anonymised by
    # gis.accounts.purge_expired (0: kept). From the login_max_failures-th wrong password for
    # an account from one client address, that address waits before its next try on it: 1 s,
    # then twice as long each time, at most login_lockout_minutes (other addresses, the
    # owner's among them, are not held back). cookie_secure: None = auto (Secure except over
    # plain http to localhost), True/False to force.
    session_ttl_hours: int = 12
    bearer_ttl_days: int = 30
    confirm_token_ttl_hours: int = 48
    reset_token_ttl_minutes: int = 30
    personal_data_retention_days: int = 5 * 365
    login_max_failures: int = 5
    login_lockout_minutes: int = 15
    cookie_secure: bool | None = None
    session_cookie_name: str = "hromada_session"

    # Mail (gis/mail.py). Unset smtp_host: `hromada run` starts a local SMTP server that keeps
    # the mails in <data_dir>/mail (a Maildir); in production point it at the city's relay.
    smtp_host: str | None = None
    smtp_port: int = 25
    smtp_starttls: bool = False
    smtp_user: str | None = None
    smtp_password: SecretStr | None = None  # never logged, never printed
    smtp_timeout: float = 10.0
    mail_from: str = "Hromada GIS <noreply@hromada.localhost>"
    # The service's public address: every absolute link it writes (mails, the OGC API, the
    # public feed, TileJSON) starts with it, never with the request's Host header (api/urls.py).
    public_base_url: str = "http://127.0.0.1:8000"

    # Rate limits (api/ratelimit.py), each applied per client IP and per account, as
    # "<count>/<second|minute|hour|day>"; for sign-in, per IP and counting only failures. The storage is per process by default; a deployment
    # with several workers points it at a shared one (redis://…, memcached://…).
    # Unset with web_processes > 1: `hromada run`/`serve` start a private redis-server
    # (gis/redis_server.py) and count there.
    rate_limits_enabled: bool = True
    rate_limit_storage: str = "memory://"
    rate_limit_login: str = "10/minute"
    rate_limit_register: str = "5/hour"
    rate_limit_submission: str = "20/hour"
    rate_limit_password_reset: str = "5/hour"
    rate_limit_author_link: str = "30/hour"  # an author's link: confirm, reject, unsubscribe
    rate_limit_open311: str = "60/minute"  # per Open311 key: the requests it files (POST)

    # Request size limits (api/limits.py), in bytes: JSON and forms; multipart uploads
    # (five photos of 10 MB and the form around them).
    max_json_bytes: int = 1024 * 1024
    max_upload_bytes: int = 5 * 10 * 1024 * 1024 + 1024 * 1024

    # Appeal intake (gis/intake.py, gis/photos.py): the longest text, how many photos and how
    # large each (Kyiv's 1551: up to 5 photos), and the largest image in pixels (a guard
    # against decompression bombs). Photos are stored under <data_dir>/photos.
    appeal_text_max_chars: int = 4000
    appeal_max_photos: int = 5
    appeal_max_photo_bytes: int = 10 * 1024 * 1024
    appeal_max_photo_pixels: int = 50_000_000
    # The files of a permit (gis/permit_documents.py): PDF, JPEG or PNG, at most this large
    # each; stored under <data_dir>/permit_documents.
    permit_document_max_bytes: int = 10 * 1024 * 1024
    # The lifecycle (gis/lifecycle.py): duplicates offered within this many metres; an answer
    # awaiting the author's confirmation closes automatically after this many days.
    appeal_duplicate_radius_m: float = 100.0
    appeal_confirm_days: int = 10
    # An appeal about advertising or a kiosk (categories.structure_layer) is linked to the
    # nearest registered structure within this many metres, else marked «no registered
    # structure nearby» (gis/structure_links.py).
    structure_link_distance_m: float = Field(default=50.0, gt=0, le=1000)

    # API processes behind the one address of `hromada run`/`serve` (uvicorn's workers on one
    # socket; each its own pool of pool_max_size connections, its own caches kept fresh by
    # layers/changes.py's LISTEN). More than one: rate limits counted in shared storage.
    web_processes: int = Field(default=1, ge=1, le=64)

    # Background jobs (gis/jobs.py, on procrastinate in the project's own database):
    # `hromada run` starts worker_processes workers beside the server (0: none, run
    # `hromada worker` elsewhere), each running up to worker_concurrency jobs at once.
    worker_processes: int = 1
    worker_concurrency: int = 4
    # A job whose worker sent no heartbeat for this long (the worker died) is run again.
    worker_stalled_after_seconds: float = 60.0
    # How often an idle worker looks for jobs whose time has come (a retry's delay, a deferred
    # job missed by LISTEN/NOTIFY); new jobs wake it at once.
    worker_poll_seconds: float = 5.0
    # How long a worker waits for a database connection (procrastinate's pool; psycopg_pool's
    # default) before it gives up and starts itself again (gis/jobs.run_worker).
    worker_pool_timeout_seconds: float = Field(default=30.0, gt=0)
    # gis/clock.py: added to the system time in this process (tests and drills only).
    clock_shift_seconds: float = 0.0

    # Notifications (gis/notify.py): a delivery is tried notify_max_attempts times, waiting
    # notify_retry_base_seconds × 2^attempt in between; then it is listed as failed for the
    # administrator. SMS and Viber go as JSON over HTTP to the city's gateway (unset: the
    # channel is not offered); the token goes in an Authorization header, never logged.
    notify_max_attempts: int = 8
    notify_retry_base_seconds: float = 30.0
    sms_gateway_url: str | None = None
    sms_gateway_token: SecretStr | None = None
    viber_gateway_url: str | None = None
    viber_gateway_token: SecretStr | None = None
    gateway_timeout: float = 10.0
    # The daily dispatch (gis/dispatch.py): a batch's delivery is tried dispatch_max_attempts
    # times, waiting dispatch_retry_base_seconds × 2^attempt in between; then it is flagged
    # as failed for the administrator (who may retry it).
    dispatch_max_attempts: int = 6
    dispatch_retry_base_seconds: float = 60.0

    # Vector tiles (tiles/): how many built tiles the server keeps in memory (0: no cache);
    # the most features a raw tile holds (the newest first); how long clients and proxies
    # may keep a tile, in seconds: tiles of appeals (which change every few minutes) and of
    # the other layers (which change with imports).
    tile_cache_size: int = 4096
    tile_cache_max_mb: int = 256  # and at most this many megabytes of them
    tile_max_features: int = 10_000
    tile_cache_max_age: int = 10
    tile_cache_max_age_static: int = 300
    # A caching reverse proxy (Debian's nginx, gis/proxy.py) that `hromada run`/`serve` start
    # in front of the service on this port (`--proxy-port`); unset: none. It keeps what the
    # service marks public, for the max-age the service gives (the tiles' above).
    proxy_port: int | None = Field(default=None, ge=1, le=65535)

    @field_validator("basemap_url", mode="before")
    @classmethod
    def _basemap_off(cls, value: object) -> object:
        if isinstance(value, str) and value.strip().lower() in ("", "off", "none"):
            return None
        return value


@lru_cache
def get_settings() -> Settings:
    return Settings()

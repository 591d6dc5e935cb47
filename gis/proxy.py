"""A caching reverse proxy in front of one `hromada run` (or `serve`): Debian's nginx.

Started only when configured (HROMADA_PROXY_PORT, or `--proxy-port`). Like the run's
redis-server (gis/redis_server.py) it is Debian's own program (package nginx-light), run from
the project's data directory (`<data_dir>/nginx`: nginx.conf written here, the cache, the
temporary files, error.log and the pid file), a child of the process that started it, told to
end with it (Linux's parent-death signal).

What it keeps is decided by the service's own headers, never by the proxy's configuration:

- only answers the service marks `Cache-Control: public, max-age=N` are kept, for N seconds
  (tiles of a role whose scope does not enter the key, the public feed, the public reports);
  `private` and `no-store` answers, and any answer that sets a cookie, are never kept (nginx's
  own rules for Cache-Control and Set-Cookie);
- a request that carries a session (the session cookie or an Authorization header) or a
  read-your-writes mark (api/reads.py: the `hromada_lsn` cookie or X-Hromada-LSN) goes past the
  cache and its answer is not kept: a signed-in member of staff, or a citizen who has just
  written, always gets the service's own answer and never a copy made for someone else;
- invalidation is by revalidation, not purge: the appeals' tiles say max-age=10
  (HROMADA_TILE_CACHE_MAX_AGE), and once that passes the proxy asks the service again with the
  kept copy's ETag in If-None-Match (`proxy_cache_revalidate on`): a 304 when no write changed
  the tile (the service's own tile cache answers it without the database), the new tile
  otherwise. A new appeal is therefore in everyone's tile through the proxy within max-age
  seconds. Debian's nginx has no purge module, and a purge would have to name every cached
  tile and filter combination a write touches; the revalidation needs nothing but the headers
  the service already sends. `proxy_cache_lock` makes one request per tile go to the service
  while the others wait for its answer.

Every answer carries `X-Cache-Status` (nginx's $upstream_cache_status: HIT, MISS, EXPIRED,
REVALIDATED, BYPASS…).
"""

from __future__ import annotations

import os
import socket
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

from gis import child_programs
from gis.embedded import free_port

DEBIAN_PACKAGE = "nginx-light"
INSTALL_HINT = f"sudo apt-get install -y {DEBIAN_PACKAGE}"
TEMP_DIRS = ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")


class ProxyError(RuntimeError):
    """nginx cannot be started; the message says what to do."""


def ensure_nginx() -> str:
    """The nginx program, installed from Debian first when we are root."""
    return child_programs.ensure_program(
        "nginx", "/usr/sbin/nginx", DEBIAN_PACKAGE, ProxyError,
        f"nginx is not installed. Run: {INSTALL_HINT} (or unset HROMADA_PROXY_PORT).",
    )  # fmt: skip


def listening(host: str, port: int, timeout: float = 0.5) -> bool:
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


@dataclass
class NginxProxy:
    """nginx in `base_dir` on `host`:`port` (a free one unless given), passing everything to
    the service at 127.0.0.1:`upstream_port` and keeping what the service lets it keep.
    `extra` is put into the server block as it is (the benchmark's static location)."""

    base_dir: Path
    upstream_port: int
    port: int = 0
    host: str = "127.0.0.1"
    upstream_host: str = "127.0.0.1"
    session_cookie: str = "hromada_session"
    max_body_bytes: int = 64 * 1024 * 1024
    cache_max_bytes: int = 1024 * 1024 * 1024
    workers: int | str = "auto"
    extra: str = ""
    process: subprocess.Popen | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        self.base_dir = Path(self.base_dir).resolve()
        self.port = self.port or free_port()

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def conf_path(self) -> Path:
        return self.base_dir / "nginx.conf"

    @property
    def error_log(self) -> Path:
        return self.base_dir / "error.log"

    def config(self) -> str:
        d = self.base_dir
        temp = "\n".join(f"    {name}_temp_path {d / 'tmp' / name};" for name in TEMP_DIRS)
        # As root, nginx's workers would run as `nobody` and could not write the cache under
        # the data directory: they run as its owner instead.
        user = ""
        if os.geteuid() == 0:
            import pwd

            user = f"user {pwd.getpwuid(d.stat().st_uid).pw_name};\n"
        cookie = self.session_cookie
        return f"""# Written by gis/proxy.py for this run; rewritten at each start.
{user}daemon off;
master_process on;
worker_processes {self.workers};
pid {d / "nginx.pid"};
error_log {self.error_log} warn;
events {{ worker_connections 4096; }}
http {{
    access_log off;
    server_tokens off;
{temp}
    types {{ application/vnd.mapbox-vector-tile mvt; application/json json; }}
    default_type application/octet-stream;
    sendfile on;
    tcp_nopush on;
    keepalive_requests 100000;
    proxy_cache_path {d / "cache"} levels=1:2 keys_zone=hromada:16m
                     max_size={self.cache_max_bytes} inactive=30m use_temp_path=off;
    upstream hromada {{
        server {self.upstream_host}:{self.upstream_port};
        keepalive 64;
    }}
    # Anything that names a caller: their session, or the mark of their own last write.
    map "$http_authorization$cookie_{cookie}$cookie_hromada_lsn$http_x_hromada_lsn"
        $hromada_personal {{
        default 1;
        "" 0;
    }}
    server {{
        listen {self.host}:{self.port} reuseport;
        client_max_body_size {self.max_body_bytes};
        location / {{
            proxy_pass http://hromada;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_set_header Host $http_host;
            proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
            proxy_set_header X-Forwarded-Proto $scheme;
            proxy_cache hromada;
            proxy_cache_key "$scheme$http_host$request_uri";
            proxy_cache_bypass $hromada_personal;
            proxy_no_cache $hromada_personal;
            proxy_cache_revalidate on;
            proxy_cache_lock on;
            proxy_cache_lock_timeout 5s;
            proxy_cache_use_stale error timeout http_502 http_503 http_504;
            add_header X-Cache-Status $upstream_cache_status always;
        }}
{self.extra}
    }}
}}
"""

    def start(self, timeout: float = 10.0) -> NginxProxy:
        program = ensure_nginx()
        for name in TEMP_DIRS:
            (self.base_dir / "tmp" / name).mkdir(parents=True, exist_ok=True)
        (self.base_dir / "cache").mkdir(parents=True, exist_ok=True)
        self.conf_path.write_text(self.config())
        command = [program, "-p", str(self.base_dir), "-c", str(self.conf_path),
                   "-e", str(self.error_log)]  # fmt: skip
        self.process = child_programs.spawn(command, stderr=subprocess.PIPE)
        deadline = time.monotonic() + timeout
        while not listening(self.host, self.port):
            if self.process.poll() is not None or time.monotonic() > deadline:
                err = self.process.stderr.read().decode(errors="replace") if (
                    self.process.poll() is not None and self.process.stderr
                ) else ""  # fmt: skip
                log = self.error_log.read_text(errors="replace") if self.error_log.exists() else ""
                self.stop()
                raise ProxyError(
                    f"nginx did not start on {self.host}:{self.port}: {(err or log)[-1000:].strip()}"
                )
            time.sleep(0.05)
        return self

    def is_running(self) -> bool:
        return (
            self.process is not None
            and self.process.poll() is None
            and listening(self.host, self.port)
        )

    def stop(self) -> None:
        process, self.process = self.process, None
        child_programs.stop(process)  # SIGTERM: nginx's fast shutdown, its workers with it

    def __enter__(self) -> NginxProxy:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def proxy_for(settings, upstream_port: int, port: int | None = None) -> NginxProxy:
    """The run's caching proxy, under the project's data directory, in front of the service
    at `upstream_port`, on `port` (HROMADA_PROXY_PORT) of the service's host."""
    wildcard = settings.host in ("0.0.0.0", "::", "")
    return NginxProxy(
        base_dir=Path(settings.data_dir) / "nginx",
        upstream_port=upstream_port,
        port=port or settings.proxy_port or 0,
        host="0.0.0.0" if wildcard else settings.host,
        upstream_host="127.0.0.1" if wildcard else settings.host,
        session_cookie=settings.session_cookie_name,
        max_body_bytes=settings.max_upload_bytes + 1024 * 1024,
    )

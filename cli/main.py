"""`hromada`: one command for the database, imports, the demo city and the server.

Each subcommand is a thin shell over the package that owns the work (gis, importers, api);
nothing here knows SQL.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
import time
from pathlib import Path
from typing import Any

from gis.settings import Settings, get_settings


def _url(settings: Settings) -> str:
    from gis.db import database_url

    return database_url(settings)


def cmd_db(args, settings: Settings) -> int:
    from gis.embedded import cluster_for

    if settings.database_url:
        print(f"DATABASE_URL is set; the embedded cluster is not used: {settings.database_url}")
        return 0
    cluster = cluster_for(settings)
    if args.action == "start":
        cluster.start()
        print(cluster.url)
    elif args.action == "stop":
        cluster.stop()
    elif args.action == "status":
        running = cluster.is_running()
        print(f"{'running' if running else 'stopped'}: {cluster.pgdata} ({cluster.url})")
        return 0 if running else 3
    elif args.action == "url":
        print(cluster.url)
    return 0


def cmd_migrate(args, settings: Settings) -> int:
    from gis.migrate import downgrade, upgrade

    url = _url(settings)
    if args.revision == "base" or args.down:
        downgrade(url, args.revision)
    else:
        upgrade(url, args.revision)
    return 0


def cmd_import(args, settings: Settings) -> int:
    from importers import ImportFailed, run_import

    url = _url(settings)
    try:
        report = run_import(
            url, Path(args.file), args.layer, key=args.key, source_crs=args.crs,
            lon=args.lon, lat=args.lat, wkt=args.wkt, title=args.title,
        )  # fmt: skip
    except ImportFailed as exc:
        print(f"import failed, nothing was changed: {exc}", file=sys.stderr)
        return 1
    print(report.summary())
    for line in report.messages():
        print(f"  {line}")
    return 0


def cmd_import_register(args, settings: Settings) -> int:
    """A register of advertising structures or kiosks (CSV or XLSX): the preview, or with
    --apply the import itself, through the planners' editing (importers/registers.py)."""
    import asyncio
    from types import SimpleNamespace

    import psycopg

    from gis.db import libpq_url
    from gis.error_messages import MESSAGES
    from gis.errors import DomainError
    from gis.texts import tr
    from importers import registers
    from importers.pipeline import import_actor

    path = Path(args.file)
    # The audit trail names the file and the OS user, as `hromada import` does.
    actor = SimpleNamespace(role="import", full_name=import_actor(path), email=None, user_id=None)

    async def main() -> registers.Result:
        table = registers.read_register(path.read_bytes(), path.name)
        crs = registers.read_crs(args.crs)
        url = libpq_url(_url(settings))
        async with await psycopg.AsyncConnection.connect(url, autocommit=True) as conn:
            return await registers.run(
                conn, args.layer, table, crs=crs, actor=actor, source=str(path),
                retire_missing=args.retire_missing, apply=args.apply,
            )  # fmt: skip

    try:
        result = asyncio.run(main())
    except OSError as exc:
        print(f"import failed, nothing was changed: {path}: {exc.strerror}", file=sys.stderr)
        return 1
    except DomainError as exc:
        text = tr(MESSAGES.get(exc.code) or MESSAGES["http_error"], "en", **exc.params)
        print(f"import failed, nothing was changed: {text}", file=sys.stderr)
        return 1
    for line in registers.summary(result):
        print(line)
    return 0


def cmd_load(args, settings: Settings) -> int:
    from importers import load_reference_data

    for report in load_reference_data(_url(settings), Path(args.data or settings.shared_data)):
        print(report.summary())
    return 0


def cmd_demo(args, settings: Settings) -> int:
    from importers.demo import accounts as demo_accounts
    from importers.demo import generate

    if args.what == "accounts":
        try:
            listed = demo_accounts.listing(_url(settings), args.seed)
        except ValueError as exc:
            print(f"hromada: {exc}", file=sys.stderr)
            return 1
        if not listed:
            print("no demo accounts: run `hromada demo` (demo mode only)", file=sys.stderr)
            return 1
        for account in listed:
            print(json.dumps(account.public(), ensure_ascii=False))
        return 0
    started = time.monotonic()
    if args.region != "kyiv":
        from importers.demo.region import generate_region

        codes = [c.strip() for c in (args.councils or "").split(",") if c.strip()] or None
        summary = generate_region(
            _url(settings), args.region, seed=args.seed,
            appeals=args.appeals if args.appeals is not None else 20_000,
            councils=codes, shared_dir=settings.shared_data,
        )  # fmt: skip
        made = demo_accounts.create(_url(settings), args.seed, demo_mode=settings.demo_mode)
        summary["demo_accounts"] = len(made)
        summary["seconds"] = round(time.monotonic() - started, 1)
        print(json.dumps(summary, ensure_ascii=False))
        return 0
    summary = generate(
        _url(settings), seed=args.seed,
        appeals=args.appeals if args.appeals is not None else 50_000,
        shared_dir=settings.shared_data, years=args.years,
    )  # fmt: skip
    made = demo_accounts.create(_url(settings), args.seed, demo_mode=settings.demo_mode)
    summary["demo_accounts"] = len(made)
    summary["seconds"] = round(time.monotonic() - started, 1)
    print(json.dumps(summary, ensure_ascii=False))
    return 0


def cmd_purge(args, settings: Settings) -> int:
    """Apply the retention periods (run it daily from cron or a systemd timer)."""
    import asyncio

    import psycopg

    from gis.accounts import purge_expired
    from gis.db import libpq_url

    async def purge() -> dict:
        async with await psycopg.AsyncConnection.connect(libpq_url(_url(settings))) as conn:
            async with conn.transaction():
                return await purge_expired(
                    conn, personal_data_retention_days=settings.personal_data_retention_days
                )

    print(json.dumps(asyncio.run(purge())))
    return 0


def cmd_audit(args, settings: Settings) -> int:
    """Walk the audit hash chains: OK, or the first broken event's id (exit 1)."""
    import psycopg

    from gis.audit import verify
    from gis.db import libpq_url

    with psycopg.connect(libpq_url(_url(settings))) as conn:
        outcome = verify(conn)
    if outcome["ok"]:
        print(f"audit: OK {json.dumps(outcome['events'])}")
        return 0
    broken = outcome["broken"]
    print(f"audit: BROKEN {broken} event_id={broken.event_id}")
    return 1


def cmd_partitions(args, settings: Settings) -> int:
    """Monthly partitions of appeals and appeal_events (gis/partitions.py): list, ensure
    (the next months, and months found in DEFAULT), detach YYYY-MM, attach YYYY-MM."""
    import psycopg

    from gis import partitions
    from gis.db import libpq_url

    try:
        with psycopg.connect(libpq_url(_url(settings)), autocommit=True) as conn:
            if args.action == "list":
                for p in partitions.listing(conn):
                    state = "" if p["attached"] else "  (detached)"
                    print(
                        f"{p['table']:14} {p['month']:8} {p['rows']:>10}  {p['partition']}{state}"
                    )
                return 0
            if args.action == "ensure":
                outcome = partitions.ensure(conn)
            elif args.month is None:
                raise partitions.PartitionError(f"partitions {args.action} needs YYYY-MM")
            else:
                month = partitions.parse_month(args.month)
                act = partitions.detach if args.action == "detach" else partitions.attach
                outcome = act(conn, month)
    except (partitions.PartitionError, psycopg.errors.ObjectNotInPrerequisiteState,
            psycopg.errors.CheckViolation) as exc:  # fmt: skip
        print(f"hromada: {exc}", file=sys.stderr)
        return 2
    print(json.dumps(outcome, ensure_ascii=False))
    return 0


def cmd_backup(args, settings: Settings) -> int:
    """The database (a snapshot) and the files its rows name, in one archive (gis/backup.py)."""
    from gis.backup import BackupError, backup

    try:
        summary = backup(_url(settings), settings.data_dir, Path(args.file))
    except BackupError as exc:
        print(f"hromada: {exc}", file=sys.stderr)
        return 2
    summary.pop("counts", None)
    print(json.dumps(summary, ensure_ascii=False))
    return 0


def cmd_restore(args, settings: Settings) -> int:
    """An archive of `hromada backup` into an empty database (--force: dropped and recreated)
    and data_dir; exit 1 when the counts differ or the audit chains do not verify."""
    from gis.backup import BackupError, restore

    try:
        summary = restore(_url(settings), settings.data_dir, Path(args.file), force=args.force)
    except BackupError as exc:
        print(f"hromada: {exc}", file=sys.stderr)
        return 2
    print(json.dumps(summary, ensure_ascii=False))
    return 0 if summary["audit_ok"] and not summary["counts_differ"] else 1


def cmd_jobs(args, settings: Settings) -> int:
    """autoclose: close appeals on check awaiting the author longer than the setting."""
    import asyncio

    import psycopg

    from gis.db import libpq_url
    from gis.lifecycle import autoclose

    days = args.days if args.days is not None else settings.appeal_confirm_days

    async def run() -> list:
        url = libpq_url(_url(settings))
        async with await psycopg.AsyncConnection.connect(url, autocommit=True) as conn:
            return await autoclose(conn, days=days, settings=settings)

    closed = asyncio.run(run())
    print(json.dumps({"job": "autoclose", "days": days, "closed": len(closed),
                      "numbers": closed[:100]}, ensure_ascii=False))  # fmt: skip
    return 0


def cmd_open311(args, settings: Settings) -> int:
    """Open311 keys: `key create NAME` prints the new key alone (it is shown this once),
    `key list` the applications, `key revoke NAME` revokes one."""
    import asyncio

    import psycopg

    from gis import open311_clients
    from gis.db import libpq_url
    from gis.errors import DomainError

    async def run():
        url = libpq_url(_url(settings))
        async with await psycopg.AsyncConnection.connect(url, autocommit=True) as conn:
            if args.action == "create":
                return await open311_clients.create_client(conn, args.name or "")
            if args.action == "revoke":
                return await open311_clients.revoke(conn, name=args.name or "")
            return await open311_clients.list_clients(conn)

    if args.action in ("create", "revoke") and not args.name:
        print(f"hromada open311 key {args.action}: NAME is required", file=sys.stderr)
        return 2
    try:
        out = asyncio.run(run())
    except DomainError as exc:
        from gis.error_messages import MESSAGES

        print(f"hromada: {MESSAGES.get(exc.code, exc.code).format(**exc.params)}", file=sys.stderr)
        return 1
    if args.action == "create":
        print(out["key"])
    elif args.action == "revoke":
        print(f"revoked: {out['name']} ({out['revoked_at']})", file=sys.stderr)
    else:
        for c in out:
            print(json.dumps(c, ensure_ascii=False))
    return 0


def cmd_structures(args, settings: Settings) -> int:
    """Link every appeal about advertising or kiosks to its nearest structure afresh."""
    import psycopg

    from gis.db import libpq_url
    from gis.structure_links import relink_all

    distance = args.distance if args.distance is not None else settings.structure_link_distance_m
    if not 0 < distance <= 1000:
        print("hromada structures link: --distance must be in (0, 1000] metres", file=sys.stderr)
        return 2
    with psycopg.connect(libpq_url(_url(settings))) as conn:
        counts = relink_all(conn, distance)
    print(json.dumps({"distance_m": distance, **counts}))
    return 0


def cmd_worker(args, settings: Settings) -> int:
    """Background workers alone (gis/jobs.py): run it on as many machines as the work needs;
    two workers never run the same job."""
    import asyncio

    from gis.jobs import make_app, run_worker

    app = make_app(settings, _url(settings))
    concurrency = args.concurrency or settings.worker_concurrency
    print(f"Hromada worker: {concurrency} jobs at once (Ctrl-C stops it)", flush=True)
    asyncio.run(run_worker(app, concurrency=concurrency, name=args.name))
    return 0


def _start_workers(settings: Settings, url: str) -> list:
    """`hromada run`'s workers, each a `hromada worker` process with this run's settings."""
    import subprocess

    env = {**os.environ, "HROMADA_DATABASE_URL": url,
           "HROMADA_PUBLIC_BASE_URL": settings.public_base_url}  # fmt: skip
    if settings.smtp_host:
        env.update(HROMADA_SMTP_HOST=settings.smtp_host, HROMADA_SMTP_PORT=str(settings.smtp_port),
                   HROMADA_SMTP_STARTTLS=str(settings.smtp_starttls).lower())  # fmt: skip
    command = [sys.executable, "-c", "from cli.main import main; raise SystemExit(main())",
               "worker"]  # fmt: skip
    return [subprocess.Popen(command, env=env) for _ in range(settings.worker_processes)]


def _stop_workers(workers: list) -> None:
    for worker in workers:
        if worker.poll() is None:
            worker.send_signal(signal.SIGTERM)
    for worker in workers:
        try:
            worker.wait(timeout=30)
        except Exception:  # a job that does not finish in time: stop it hard
            worker.kill()


# `hromada serve --processes N`: the settings this command changed (the database's URL, the
# public address, the local mail server, the run's redis), as JSON for the spawned processes.
_SERVE_OVERRIDES = "HROMADA_SERVE_OVERRIDES"


def serve_app():
    """The app of one of several API processes (uvicorn's factory, in each spawned worker):
    the settings of the environment with those `hromada serve` changed."""
    from api import create_app

    overrides = json.loads(os.environ.get(_SERVE_OVERRIDES) or "{}")
    return create_app(Settings(**overrides) if overrides else get_settings())


def cmd_serve(args, settings: Settings) -> int:
    """The portal and the API: one process, or `--processes N` (HROMADA_WEB_PROCESSES) uvicorn
    workers on one socket (the kernel hands each new connection to one of them, uvicorn
    restarts one that dies); their rate limits are then counted in a private redis-server
    (gis/redis_server.py) unless HROMADA_RATE_LIMIT_STORAGE names one."""
    import uvicorn

    from api.ratelimit import MEMORY, shared_storage_needed

    host, port = args.host or settings.host, args.port or settings.port
    processes = getattr(args, "processes", None) or settings.web_processes
    update: dict[str, object] = {"database_url": _url(settings)}
    # Links the service writes name the address it serves, unless one is configured.
    if "public_base_url" not in settings.model_fields_set:
        update["public_base_url"] = f"http://{host}:{port}"
    redis = proxy = None
    try:
        proxy_port = getattr(args, "proxy_port", None) or settings.proxy_port
        if proxy_port:  # a caching nginx in front (gis/proxy.py), only when configured
            from gis.proxy import proxy_for

            proxy = proxy_for(settings, port, proxy_port).start()
            print(f"Caching proxy (nginx): http://{host}:{proxy.port}/ in front of "
                  f"{host}:{port}", flush=True)  # fmt: skip
        if shared_storage_needed(settings, processes):
            from gis.redis_server import redis_for

            redis = redis_for(settings).start()
            update["rate_limit_storage"] = redis.url
            print(f"{processes} API processes; their rate limits are counted in redis-server "
                  f"at 127.0.0.1:{redis.port}", flush=True)  # fmt: skip
        elif processes > 1 and settings.rate_limit_storage.startswith(MEMORY):
            print(f"{processes} API processes with HROMADA_RATE_LIMIT_STORAGE={MEMORY}: each "
                  "counts its rate limits alone", file=sys.stderr, flush=True)  # fmt: skip
        settings = settings.model_copy(update=update)
        options: dict[str, Any] = dict(host=host, port=port, log_level=settings.log_level,
                       access_log=settings.access_log, proxy_headers=True,
                       forwarded_allow_ips=settings.forwarded_allow_ips)  # fmt: skip
        if processes == 1:
            from api import create_app

            uvicorn.run(create_app(settings), **options)
            return 0
        changed = {k for k in Settings.model_fields
                   if getattr(settings, k) != getattr(get_settings(), k)}  # fmt: skip
        os.environ[_SERVE_OVERRIDES] = settings.model_dump_json(include=changed)
        uvicorn.run("cli.main:serve_app", factory=True, workers=processes,
                    **options)  # fmt: skip
        return 0
    finally:
        if redis is not None:
            redis.stop()
        if proxy is not None:
            proxy.stop()


def _port_is_free(host: str, port: int) -> bool:
    import socket

    with socket.socket() as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError:
            return False
    return True


def _local_mail(settings: Settings, host: str, port: int):
    """Without HROMADA_SMTP_HOST, a local SMTP server keeps the mails in <data_dir>/mail."""
    from gis.mail import LocalSmtpServer

    update: dict[str, object] = {}
    if "public_base_url" not in settings.model_fields_set:
        update["public_base_url"] = f"http://{host}:{port}"
    if settings.smtp_host:
        return settings.model_copy(update=update), None
    server = LocalSmtpServer(maildir=settings.data_dir / "mail").start()
    update.update(smtp_host=server.host, smtp_port=server.port, smtp_starttls=False,
                  smtp_user=None)  # fmt: skip
    print(f"Mail (confirmations, password resets) goes to the Maildir {server.maildir}",
          flush=True)  # fmt: skip
    return settings.model_copy(update=update), server


def cmd_run(args, settings: Settings) -> int:
    """What `make run` does: database up, schema at head, demo city if empty, serve;
    on Ctrl-C the server stops, then the embedded cluster."""
    from gis.embedded import cluster_for
    from gis.migrate import upgrade
    from importers.demo import city_is_loaded, generate

    host, port = args.host or settings.host, args.port or settings.port
    if not _port_is_free(host, port):
        print(f"hromada: {host}:{port} is already in use (is another `make run` running?). "
              "Stop it, or choose another port: PORT=8001 make run", file=sys.stderr)  # fmt: skip
        return 2
    # Stop on exit only the cluster this run started, never one another process is using.
    cluster = None
    if not settings.database_url:
        cluster = cluster_for(settings)
        if cluster.is_running():
            cluster = None
    url = _url(settings)
    mail_server = None
    workers: list = []
    try:
        upgrade(url)
        if not city_is_loaded(url):
            print("Loading the demo city of Kyiv (first run only, about a minute)…", flush=True)
            generate(url, seed=args.seed, appeals=args.appeals, shared_dir=settings.shared_data)
        if settings.demo_mode:
            from importers.demo import accounts as demo_accounts

            demo_accounts.ensure(url, args.seed, demo_mode=True)
            print("Demo accounts (one per role): .venv/bin/hromada demo accounts", flush=True)
        settings, mail_server = _local_mail(settings, host, port)
        workers = _start_workers(settings, url)
        print(f"Hromada GIS: http://{host}:{port}/  (Ctrl-C stops it)", flush=True)
        # uvicorn shuts down gracefully on SIGINT and SIGTERM, then raises the signal again
        # with the handler it found: make SIGTERM (docker stop, systemd) and SIGHUP end like
        # Ctrl-C, so that `finally` stops the embedded database instead of the process dying
        # with it still running.
        for signum in (signal.SIGTERM, signal.SIGHUP):
            signal.signal(signum, lambda *_: (_ for _ in ()).throw(KeyboardInterrupt()))
        return cmd_serve(argparse.Namespace(host=host, port=port, processes=args.processes,
                                            proxy_port=getattr(args, "proxy_port", None)),
                         settings.model_copy(update={"database_url": url}))  # fmt: skip
    finally:
        _stop_workers(workers)
        if mail_server is not None:
            mail_server.stop()
        if cluster is not None:
            cluster.stop()
            print("The embedded database is stopped.", flush=True)


def cmd_texts(args, settings: Settings) -> int:
    """Every text a person reads, across the portal's and the server's catalogues (gis/texts.py):
    `missing` lists those without English, as file:line and the text (exit 1 when any)."""
    from gis import texts
    from webmap.i18n import PORTAL

    return texts.report([PORTAL, texts.SERVER], "en", verbose=args.unused)


PROCESSES_HELP = "API processes on the one address (HROMADA_WEB_PROCESSES, default 1)"
PROXY_HELP = "also a caching nginx in front on this port (HROMADA_PROXY_PORT; default none)"


def _positive(value: str) -> int:
    number = int(value)
    if number < 1:
        raise argparse.ArgumentTypeError("at least 1")
    return number


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="hromada", description="Hromada GIS: citizens' appeals on a map."
    )
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")

    s = sub.add_parser("run", help="migrate, load the demo city if empty, and serve (make run)")
    s.add_argument("--host"), s.add_argument("--port", type=int)
    s.add_argument("--seed", type=int, default=1551)
    s.add_argument("--appeals", type=int, default=50_000)
    s.add_argument("--processes", type=_positive, help=PROCESSES_HELP)
    s.add_argument("--proxy-port", type=int, help=PROXY_HELP)
    s.set_defaults(func=cmd_run)

    s = sub.add_parser("serve", help="serve the portal and the API (database must be migrated)")
    s.add_argument("--host"), s.add_argument("--port", type=int)
    s.add_argument("--processes", type=_positive, help=PROCESSES_HELP)
    s.add_argument("--proxy-port", type=int, help=PROXY_HELP)
    s.set_defaults(func=cmd_serve)

    s = sub.add_parser("purge", help="apply retention: old sessions, tokens, authors' data")
    s.set_defaults(func=cmd_purge)

    s = sub.add_parser("audit", help="verify the audit trail's hash chains")
    s.add_argument("action", choices=["verify"])
    s.set_defaults(func=cmd_audit)

    s = sub.add_parser("partitions", help="appeals by month: list | ensure | detach/attach YYYY-MM")
    s.add_argument("action", choices=["list", "ensure", "detach", "attach"])
    s.add_argument("month", nargs="?", help="YYYY-MM (detach, attach)")
    s.set_defaults(func=cmd_partitions)

    s = sub.add_parser("backup", help="the database and its photos and documents in one archive")
    s.add_argument("file")
    s.set_defaults(func=cmd_backup)

    s = sub.add_parser("restore", help="an archive of `hromada backup` into an empty database")
    s.add_argument("file")
    s.add_argument("--force", action="store_true",
                   help="drop and recreate the database when it is not empty")  # fmt: skip
    s.set_defaults(func=cmd_restore)

    s = sub.add_parser("jobs", help="run a scheduled job now, by hand (workers run them anyway)")
    s.add_argument("job", choices=["autoclose"])
    s.add_argument("--days", type=int, help="default: HROMADA_APPEAL_CONFIRM_DAYS")
    s.set_defaults(func=cmd_jobs)

    s = sub.add_parser("open311", help="Open311 keys: key create NAME | key list | key revoke NAME")
    s.add_argument("what", choices=["key"])
    s.add_argument("action", choices=["create", "list", "revoke"])
    s.add_argument("name", nargs="?", help="the client application's name")
    s.set_defaults(func=cmd_open311)

    s = sub.add_parser("structures", help="link appeals about advertising and kiosks afresh")
    s.add_argument("action", choices=["link"])
    s.add_argument("--distance", type=float, help="metres (HROMADA_STRUCTURE_LINK_DISTANCE_M)")
    s.set_defaults(func=cmd_structures)

    s = sub.add_parser("worker", help="run background jobs alone (hromada run starts its own)")
    s.add_argument("--concurrency", type=int, help="jobs at once (HROMADA_WORKER_CONCURRENCY)")
    s.add_argument("--name", help="the worker's name in the jobs' records")
    s.set_defaults(func=cmd_worker)

    s = sub.add_parser("db", help="the embedded PostgreSQL: start, stop, status, url")
    s.add_argument("action", choices=["start", "stop", "status", "url"])
    s.set_defaults(func=cmd_db)

    s = sub.add_parser("migrate", help="bring the schema to a revision (default: head)")
    s.add_argument("revision", nargs="?", default="head")
    s.add_argument("--down", action="store_true", help="downgrade to REVISION")
    s.set_defaults(func=cmd_migrate)

    s = sub.add_parser("import", help="import a GeoJSON, CSV, Shapefile or GeoPackage into a layer")
    s.add_argument("file")
    s.add_argument(
        "--layer",
        required=True,
        help="districts, hromadas, wards, streets, "
        "categories, advertising_structures, kiosks, or a thematic layer name",
    )
    s.add_argument("--key", help="property that identifies a feature across re-imports")
    s.add_argument("--crs", help="CRS of the file when it does not say (e.g. EPSG:5562)")
    s.add_argument("--lon", help="CSV: longitude (or easting) column")
    s.add_argument("--lat", help="CSV: latitude (or northing) column")
    s.add_argument("--wkt", help="CSV: WKT geometry column")
    s.add_argument("--title", help="title of a new thematic layer")
    s.set_defaults(func=cmd_import)

    s = sub.add_parser(
        "import-register",
        help="a register of advertising structures or kiosks (CSV, XLSX): preview, --apply",
    )
    s.add_argument("file")
    s.add_argument("--layer", required=True, choices=["advertising_structures", "kiosks"])
    s.add_argument("--crs", default="4326", help="EPSG code of the coordinates (default 4326)")
    s.add_argument("--retire-missing", action="store_true",
                   help="retire the structures the register no longer has")  # fmt: skip
    s.add_argument("--apply", action="store_true", help="apply (default: preview only)")
    s.set_defaults(func=cmd_import_register)

    s = sub.add_parser("load", help="import the real Kyiv files of shared/data")
    s.add_argument("--data", help="folder of the files (default: HROMADA_SHARED_DATA)")
    s.set_defaults(func=cmd_load)

    s = sub.add_parser("texts", help="the catalogues of every user-visible text: missing English")
    s.add_argument("action", choices=["missing"])
    s.add_argument("--unused", action="store_true", help="also list translations nothing uses")
    s.set_defaults(func=cmd_texts)

    s = sub.add_parser("demo", help="load the real Kyiv data and generate the demo city")
    s.add_argument("what", nargs="?", choices=["accounts"],
                   help="accounts: print the demo accounts as JSON lines")  # fmt: skip
    s.add_argument("--seed", type=int, default=1551)
    s.add_argument(
        "--appeals", type=int, default=None, help="how many appeals (Kyiv: 50000, a region: 20000)"
    )
    s.add_argument(
        "--years",
        type=_positive,
        default=None,
        help="the Kyiv demo's appeals span this many years (default: one per million appeals)",
    )
    s.add_argument(
        "--region",
        choices=("kyiv", "zaporizka"),
        default="kyiv",
        help="kyiv (one city council) or zaporizka (the oblast's 67 hromadas)",
    )
    s.add_argument(
        "--councils",
        default=None,
        help="a region's councils to build, KATOTTH codes separated by commas",
    )
    s.set_defaults(func=cmd_demo)
    return p


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    settings = get_settings()
    try:
        return args.func(args, settings) or 0
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:  # `hromada demo accounts | head`: the reader has had enough
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    except Exception as exc:  # one clear line for the person at the terminal
        from gis.embedded import EmbeddedDatabaseError
        from gis.redis_server import RedisServerError

        if isinstance(exc, (EmbeddedDatabaseError, RedisServerError)):
            print(f"hromada: {exc}", file=sys.stderr)
            return 2
        raise


if __name__ == "__main__":
    sys.exit(main())

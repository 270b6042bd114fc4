"""Builds the FastHTML app: database, engine, workflows, apps and static assets, for one Config."""
from __future__ import annotations

import asyncio
import errno
import json
import os

import apsw
from fasthtml.common import A, FastHTML, FtResponse, Main, P, Title, to_xml
from fastlite import NotFoundError
from loguru import logger
from python_multipart.exceptions import FormParserError
from starlette.responses import HTMLResponse
from starlette.staticfiles import StaticFiles

from . import layout, logs, recovery
from .app_files import FOLDER as APPS_FOLDER
from .app_files import AppFiles
from .apps import discover_apps
from .config import STATIC_DIR, Config
from .context import Context
from .engine import RunStore
from .engine.cards import message_card
from .engine.loader import WorkflowFiles, user_folder
from .engine.registry import add_workflow, check_names
from .engine.workflow import NotFound
from .files import storage_problem, storage_status
from .llm import services
from .security import SecurityMiddleware
from .workflows import BUILTIN_FOLDER, discover

UNREADABLE_BODY = (json.JSONDecodeError, UnicodeDecodeError, FormParserError)


def create_app(cfg: Config | None = None) -> FastHTML:
    cfg = cfg or Config()
    cfg.ensure_dirs()
    log_file = logs.log_to_file(cfg.data_dir)
    db = recovery.open_or_recover(cfg.db_path)
    ctx = Context(cfg=cfg, db=db, runs=RunStore(db))

    async def startup():
        # Work that needs the running loop, e.g. following exports a previous launch left unfinished.
        for hook in ctx.startup:
            result = hook()
            if asyncio.iscoroutine(result):
                await result

    async def shutdown():
        # Background work (export polling, LLM streams) stops here and resumes from the run's state next start.
        for hook in ctx.stopping:
            result = hook()
            if asyncio.iscoroutine(result):
                await result
        tasks = list(ctx.background)
        for task in tasks:
            task.cancel()
        if tasks:  # let cancelled work save its state (an interrupted chat answer) before the database closes
            await asyncio.wait(tasks, timeout=3)
        db.close()  # every thread's connection
        logs.stop_logging_to_file(cfg.data_dir)

    def error_page(req, exc):
        if req.scope["type"] == "websocket":
            raise exc  # a socket has no page to show; the server closes it (1011) as before
        # A record id that does not exist (never did, another tab deleted it, or beyond SQLite's 64-bit range)
        # is "not found", not a crash.
        status = 404 if isinstance(exc, (NotFoundError, OverflowError)) else getattr(exc, "status_code", 500)
        if isinstance(exc, OSError) and exc.errno == errno.ENAMETOOLONG:
            status = 404  # a name longer than the file system allows: no such file can exist

        if problem := storage_problem(exc):
            logger.warning("could not write while serving {}: {}", req.url.path, exc)
            card = message_card("Could not save", problem, cls="card-error")
            status = storage_status(exc)
        elif isinstance(exc, UNREADABLE_BODY):
            # Older python-fasthtml/starlette (nixpkgs ships them) let a malformed JSON or multipart body escape
            # the route; newer ones answer 400 themselves.
            status = 400
            card = message_card("Bad request", "The request's body could not be read; nothing was changed.",
                                cls="card-error")
        elif status == 413:  # a body past its limit, counted as it arrived (server.security)
            card = message_card("Too large", exc.detail, cls="card-error")
        elif status == 404:
            message = exc.detail if isinstance(exc, NotFound) else "There is nothing at this address."
            card = message_card("Not found", message, A("Back", href=getattr(exc, "back", "/")), cls="card-error")
        else:
            logger.opt(exception=exc).error("error serving {}", req.url.path)
            status = status if 400 <= status < 600 else 500
            # An exception in a user's workflow file (with --dev, also an app's) names its file and line; anything
            # else, the log.
            card = workflow_files.hook_problem(exc) or (app_files.hook_problem(exc) if dev else None) or message_card(
                "Something went wrong", "Pipedeck could not finish this request. Nothing was lost: "
                f"your runs are saved. Try again; if it persists, the details are in {log_file}.", cls="card-error")
        if layout.wants_fragment(req):
            return HTMLResponse(to_xml(card), status_code=status)
        try:
            return FtResponse(layout.page(ctx, "Error", card), status_code=status)
        except Exception:  # the page around the card needs the database; the card alone still says what happened
            logger.exception("could not render the page around an error card")
            return FtResponse((Title("Error · Pipedeck"), Main(card, cls="container")), status_code=status)

    # FastHTML's own app (not fast_app): fast_app adds a catch-all static route serving any file under a folder by
    # extension, which would shadow /download/... routes; a Starlette mount under /static is narrower and safe.
    app = FastHTML(hdrs=layout.head_html(cfg), default_hdrs=False, title="Pipedeck", on_startup=[startup], on_shutdown=[shutdown],
                   exception_handlers={404: error_page, 413: error_page, 500: error_page, NotFoundError: error_page,
                                       OverflowError: error_page, OSError: error_page, apsw.Error: error_page,
                                       **dict.fromkeys(UNREADABLE_BODY, error_page), Exception: error_page},
                   key_fname=str(cfg.data_dir / ".sesskey"), htmlkw={"lang": "en"}, canonical=False,
                   sess_cls=None)  # no route keeps a session: its middleware only cost every request time
    app.state.ctx = ctx
    # Host, Origin and launch-secret checks in front of every route, WebSockets included.
    app.add_middleware(SecurityMiddleware, cfg=cfg)
    os.chmod(cfg.data_dir / ".sesskey", 0o600)  # FastHTML writes its session key with the default umask
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    rt = app.route

    @rt("/healthz")
    def healthz():
        return "ok"

    dev = os.environ.get("PIPEDECK_DEV")  # set by `./pipedeck --dev`
    broken_apps: list | None = [] if dev else None  # with --dev a broken app shows its card and the rest starts
    workflow_classes, app_modules = discover(), discover_apps(broken_apps)
    check_names(workflow_classes, app_modules)
    for workflow_cls in workflow_classes:
        add_workflow(ctx, app, workflow_cls(ctx))
    # Background steps push their progress over the chat panel's WebSocket, open in every window.
    ctx.pushers.append(lambda *fts: services(ctx).hub.send(*fts))
    ctx.startup.append(ctx.jobs.resume_all)
    app_files = AppFiles(ctx, app)
    app_files.start(app_modules, broken_apps)
    recovery.register(ctx, rt)
    # Workflow files loaded at run time and reloaded when saved: the user's folder (and, with --dev, the built-ins
    # and the apps).
    workflow_files = WorkflowFiles(ctx, app, user_folder(cfg), BUILTIN_FOLDER if dev else None)
    if dev:
        workflow_files.also_watch(APPS_FOLDER, app_files.reload)
    workflow_files.start()
    return app

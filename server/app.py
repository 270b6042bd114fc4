"""Builds the FastHTML app: database, engine, workflows, apps and static assets, for one Config."""
from __future__ import annotations

import os
from functools import partial

from fasthtml.common import FastHTML

from . import layout, lifecycle, logs, recovery
from .app_files import FOLDER as APPS_FOLDER
from .app_files import AppFiles
from .bundles import static_mount
from .apps import discover_apps
from .config import Config
from .context import Context
from .engine import RunStore
from .engine.loader import WorkflowFiles, user_folder
from .engine.registry import add_workflow, check_names
from .error_pages import ErrorPages
from .llm import services
from .security import SecurityMiddleware
from .workflows import BUILTIN_FOLDER, discover


def create_app(cfg: Config | None = None) -> FastHTML:
    cfg = cfg or Config()
    cfg.ensure_dirs()
    log_file = logs.log_to_file(cfg.data_dir)
    db = recovery.open_or_recover(cfg.db_path)
    ctx = Context(cfg=cfg, db=db, runs=RunStore(db))
    errors = ErrorPages(ctx, log_file)
    # FastHTML's own app (not fast_app): fast_app adds a catch-all static route serving any file under a folder by
    # extension, which would shadow /download/... routes; a Starlette mount under /static is narrower and safe.
    app = FastHTML(hdrs=layout.head_html(cfg), default_hdrs=False, title="Pipedeck",
                   on_startup=[partial(lifecycle.start, ctx)], on_shutdown=[partial(lifecycle.stop, ctx)],
                   exception_handlers=errors.handlers(),
                   key_fname=str(cfg.data_dir / ".sesskey"), htmlkw={"lang": "en"}, canonical=False,
                   sess_cls=None)  # no route keeps a session: its middleware only cost every request time
    app.state.ctx = ctx
    # Host, Origin and launch-secret checks in front of every route, WebSockets included.
    app.add_middleware(SecurityMiddleware, cfg=cfg)
    os.chmod(cfg.data_dir / ".sesskey", 0o600)  # FastHTML writes its session key with the default umask
    app.router.routes.append(static_mount())
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
    # An exception in a user's workflow file (with --dev, also an app's) names its file and line on its card.
    errors.explainers.append(workflow_files.hook_problem)
    if dev:
        workflow_files.also_watch(APPS_FOLDER, app_files.reload)
        errors.explainers.append(app_files.hook_problem)
    workflow_files.start()
    return app

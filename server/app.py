"""Builds the FastHTML app: database, engine, workflows, apps and static assets, for one Config."""
from __future__ import annotations

from fasthtml.common import A, FastHTML, FtResponse, P
from loguru import logger
from starlette.staticfiles import StaticFiles

from . import layout
from .apps import discover_apps
from .config import STATIC_DIR, Config
from .context import Context, MenuEntry
from .db import open_db
from .engine import RunStore
from .engine.cards import message_card
from .workflows import discover

def create_app(cfg: Config | None = None) -> FastHTML:
    cfg = cfg or Config()
    cfg.ensure_dirs()
    db = open_db(cfg.db_path)
    ctx = Context(cfg=cfg, db=db, runs=RunStore(db))

    async def shutdown():
        # Background work (export polling, LLM streams) stops here and resumes from the run's state next start.
        for task in list(ctx.background):
            task.cancel()
        db.conn.close()

    def error_page(req, exc):
        status = getattr(exc, "status_code", 500)
        if status == 404:
            card = message_card("Not found", "There is nothing at this address.", A("Go home", href="/"), cls="card-error")
        else:
            logger.opt(exception=exc).error("error serving {}", req.url.path)
            status = status if 400 <= status < 600 else 500
            card = message_card("Something went wrong", "Pipedeck could not finish this request. Nothing was lost: "
                                "your runs are saved. Try again, and see the log in the data folder if it persists.",
                                cls="card-error")
        return FtResponse(layout.page(ctx, "Error", card), status_code=status)

    # FastHTML's own app (not fast_app): fast_app adds a catch-all static route serving any file under a folder by
    # extension, which would shadow /download/... routes; a Starlette mount under /static is narrower and safe.
    app = FastHTML(hdrs=layout.HEAD_HTML, default_hdrs=False, title="Pipedeck", on_shutdown=[shutdown],
                   exception_handlers={404: error_page, 500: error_page, Exception: error_page},
                   key_fname=str(cfg.data_dir / ".sesskey"), htmlkw={"lang": "en"}, canonical=False)
    app.state.ctx = ctx
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    rt = app.route

    @rt("/healthz")
    def healthz():
        return "ok"

    for workflow_cls in discover():
        workflow = workflow_cls(ctx)
        ctx.workflows[workflow.name] = workflow
        ctx.menu.append(MenuEntry(f"/{workflow.name}", workflow.title, "Workflows", workflow.order, workflow.description))
        workflow.register(rt)
    for module in discover_apps():
        module.register(ctx, rt)
    return app

"""One APIRouter per workflow. Each route looks its workflow up by name on every request (`ctx.workflows`), so a
workflow can be replaced at run time by putting a new instance there: its routes then serve the new code."""
from __future__ import annotations

import inspect

from fasthtml.common import APIRouter, HtmxHeaders, HtmxResponseHeaders, Redirect
from starlette.exceptions import HTTPException
from starlette.requests import Request

from ..db import store_get, store_set
from .cards import card_id, message_card
from .pipeline import FINALIZE
from .steps import Invalid


class NotFound(HTTPException):
    """A friendly 404: the app's error handler shows `message` as a card (alone for htmx, else in the page)."""

    def __init__(self, message: str, back: str = "/"):
        super().__init__(404, message)
        self.back = back


async def maybe_await(value):
    return await value if inspect.isawaitable(value) else value


def last_run_key(name: str) -> str:
    return f"last_run:{name}"


def actions(cls) -> dict[str, tuple[str, str]]:
    """A workflow class's extra routes: {method name: (path, methods)}, marked with `@action`."""
    return {attr: fn.action for attr, fn in inspect.getmembers(cls, inspect.isfunction) if hasattr(fn, "action")}


ROUTES = [("", "get", "landing"), ("/init", "post", "init"), ("/finalize", "post", "finalize"),
          ("/unfinalize", "post", "unfinalize"), ("/delete", "post", "delete_run"), ("/{step_id}", "get", "card"),
          ("/{step_id}/submit", "post", "submit"), ("/{step_id}/revert", "post", "revert"),
          ("/{step_id}/retry", "post", "retry")]


def build_router(wf) -> APIRouter:
    """The workflow's router: its `@action` routes first, then every card route (each a `CardRoutes` method)."""
    router, handlers = APIRouter(), CardRoutes(wf.name, wf.ctx, wf)
    for attr, (path, methods) in actions(type(wf)).items():
        handle = dispatcher(handlers.current, attr, getattr(type(wf), attr))
        router(f"/{wf.name}/{path}", methods=methods, name=attr)(handle)
    for path, methods, attr in ROUTES:
        router(f"/{wf.name}{path}", methods=methods, name=attr)(getattr(handlers, attr))
    return router


class CardRoutes:
    """The routes every workflow has; each finds the workflow by name when called, so a replaced one serves."""

    def __init__(self, name: str, ctx, wf):
        self.name, self.ctx, self.wf = name, ctx, wf

    def current(self):
        return self.ctx.workflows.get(self.name, self.wf)  # the registered one, which a reload may have replaced

    def missing(self, w, run_id: str):
        return message_card("No such run", f"There is no {w.title} run called “{run_id[:200]}” yet. "
                            "Type its id above to start it.", cls="card-error")

    def step_of(self, w, step_id: str, finalize_ok: bool = False):
        if step_id not in w.by_id and not (finalize_ok and step_id == FINALIZE):
            raise NotFound(f"{w.title} has no step “{step_id[:100]}”.", f"/{self.name}")
        return w.by_id.get(step_id)

    def load(self, w, run_id: str):
        return self.ctx.runs.get(self.name, run_id) if run_id else None

    def landing(self, pipeline_id: str = ""):
        w = self.current()
        run = self.load(w, pipeline_id or store_get(self.ctx.db, last_run_key(self.name), ""))
        return w.full_page(w.body(run.id if run else pipeline_id, chain=w.chain_start(run.id) if run else None))

    async def init(self, htmx: HtmxHeaders, pipeline_id: str = ""):
        w = self.current()
        try:
            run_id = w.clean_id(pipeline_id)
        except Invalid as e:
            body = w.body(pipeline_id[:2000], error=str(e))
            return body if htmx.request else w.full_page(body)
        self.ctx.runs.open(self.name, run_id)
        store_set(self.ctx.db, last_run_key(self.name), run_id)
        url = w.router.landing.to(pipeline_id=run_id)
        if not htmx.request:  # a plain form post (no JavaScript yet): show the run's page
            return Redirect(url)
        return w.body(run_id, chain=w.chain_start(run_id)), HtmxResponseHeaders(push_url=url)

    def finalize(self, pipeline_id: str = ""):
        return self.set_final(pipeline_id, True)

    def unfinalize(self, pipeline_id: str = ""):
        return self.set_final(pipeline_id, False)

    def set_final(self, run_id: str, final: bool):
        w = self.current()
        run = self.load(w, run_id)
        if run is None:
            return self.missing(w, run_id)
        w.set_final(run, final)
        return w.chain_start(run.id)  # every card re-renders, so revert controls appear or vanish together

    def delete_run(self, pipeline_id: str = ""):
        w = self.current()
        self.ctx.runs.delete(self.name, pipeline_id)
        return w.runs_list()

    # Card routes are async: their SQLite reads take microseconds, and a thread hop would cost more.
    # They take the request alone and read their three values from it: FastHTML's injection of each typed parameter
    # (`htmx: HtmxHeaders` reads 13 headers, a `str` one inspects its annotation) was a quarter of a card's time.
    async def card(self, req: Request):
        step_id, pipeline_id = req.path_params["step_id"], req.query_params.get("pipeline_id", "")
        htmx = bool(req.headers.get("hx-request"))  # what `HtmxHeaders.request` says
        w = self.current()
        self.step_of(w, step_id, finalize_ok=True)
        run = self.load(w, pipeline_id) or self.load(w, store_get(self.ctx.db, last_run_key(self.name), ""))
        shown = self.missing(w, pipeline_id) if run is None else w.card(run, step_id)
        return shown if htmx else w.full_page(w.body(run.id if run else pipeline_id, chain=shown))

    async def submit(self, req: Request):
        step_id, htmx = req.path_params["step_id"], bool(req.headers.get("hx-request"))
        w = self.current()
        step = self.step_of(w, step_id)
        form = await req.form()
        run_id = str(form.get("pipeline_id", ""))
        run = self.load(w, run_id)
        if not htmx:
            # A plain form post (before htmx took over the form): store it, then show the run's page.
            if run is not None:
                await self.answer(w, run, step, form)
            return Redirect(w.router.landing.to(pipeline_id=run_id))
        if run is None:
            return self.missing(w, run_id)
        if step_id != run.first_unfinished(w.step_ids) and not run.done(step_id) and not run.finalized:
            # An earlier step is missing: send the user back up the chain to it.
            return w.chain_start(run.id), HtmxResponseHeaders(retarget=f"#{self.name}-chain", reswap="innerHTML")
        shown, value, error = await self.answer(w, run, step, form)
        return w.card(shown or self.load(w, run.id), step_id, value=value, error=error)

    async def answer(self, w, run, step, form):
        """Check and store one answer: (the run as it now stands if known without reading it again, what to put back
        in the field and the message if it was refused)."""
        if run.done(step.id) or run.finalized or step.id != run.first_unfinished(w.step_ids):
            return run, None, None  # a repeated submit, or one out of order: the state already says what to show
        try:
            value = await maybe_await(w.submit(step, form, run))
        except Invalid as e:
            return None, step.raw(form), str(e)  # a workflow's check may await: the run is read again
        stored = w.store_answer(run, step, value)
        if stored is None:
            return None, None, None  # the run changed meanwhile (another tab): show it as it is now
        w.on_step_done(step, stored)
        # The stored run, as the write returned it, unless starting a background step wrote to it again.
        return None if w.start_next(run.id, step.id) else stored, None, None

    async def revert(self, step_id: str, pipeline_id: str = "", confirm: str = ""):
        w = self.current()
        self.step_of(w, step_id)
        run = self.load(w, pipeline_id)
        if run is None:
            return self.missing(w, pipeline_id)
        if run.done(step_id) and not run.finalized and w.later_answers(run, step_id) and not confirm:
            return w.ask_revert(run, step_id)  # into the card's footer: the answers below stay in view
        if not run.finalized:
            w.revert(run, step_id)
        # The button asked for its footer to be replaced; the reverted card replaces the whole step instead.
        return w.card(self.load(w, run.id), step_id), HtmxResponseHeaders(
            retarget=f"#{card_id(self.name, step_id)}", reswap="outerHTML")

    async def retry(self, step_id: str, pipeline_id: str = ""):
        w = self.current()
        step = self.step_of(w, step_id)
        run = self.load(w, pipeline_id)
        if run is None:
            return self.missing(w, pipeline_id)
        w.retry(step, run)
        return w.card(self.load(w, run.id), step_id)


def dispatcher(current, attr: str, fn):
    """A route handler with `fn`'s parameters (less `self`) that calls the current workflow's method `attr`."""
    sig = inspect.signature(fn, eval_str=True)

    async def handle(**kw):
        return await maybe_await(getattr(current(), attr)(**kw))

    handle.__signature__ = sig.replace(parameters=list(sig.parameters.values())[1:])
    handle.__name__ = attr
    return handle

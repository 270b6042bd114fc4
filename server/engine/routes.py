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


def build_router(wf) -> APIRouter:
    name, ctx = wf.name, wf.ctx
    router = APIRouter()

    def current():
        return ctx.workflows.get(name, wf)  # the registered one, which a reload may have replaced

    for attr, (path, methods) in actions(type(wf)).items():
        router(f"/{name}/{path}", methods=methods, name=attr)(dispatcher(current, attr, getattr(type(wf), attr)))

    def missing(w, run_id: str):
        return message_card("No such run", f"There is no {w.title} run called “{run_id[:200]}” yet. "
                            "Type its id above to start it.", cls="card-error")

    def step_of(w, step_id: str, finalize_ok: bool = False):
        if step_id not in w.by_id and not (finalize_ok and step_id == FINALIZE):
            raise NotFound(f"{w.title} has no step “{step_id[:100]}”.", f"/{name}")
        return w.by_id.get(step_id)

    def load(w, run_id: str):
        return ctx.runs.get(name, run_id) if run_id else None

    @router(f"/{name}", methods="get", name="landing")
    def landing(pipeline_id: str = ""):
        w = current()
        run = load(w, pipeline_id or store_get(ctx.db, last_run_key(name), ""))
        return w.full_page(w.body(run.id if run else pipeline_id, chain=w.chain_start(run.id) if run else None))

    @router(f"/{name}/init", methods="post", name="init")
    async def init(htmx: HtmxHeaders, pipeline_id: str = ""):
        w = current()
        try:
            run_id = w.clean_id(pipeline_id)
        except Invalid as e:
            body = w.body(pipeline_id[:2000], error=str(e))
            return body if htmx.request else w.full_page(body)
        ctx.runs.open(name, run_id)
        store_set(ctx.db, last_run_key(name), run_id)
        url = w.router.landing.to(pipeline_id=run_id)
        if not htmx.request:  # a plain form post (no JavaScript yet): show the run's page
            return Redirect(url)
        return w.body(run_id, chain=w.chain_start(run_id)), HtmxResponseHeaders(push_url=url)

    @router(f"/{name}/finalize", methods="post", name="finalize")
    def finalize(pipeline_id: str = ""):
        return set_final(pipeline_id, True)

    @router(f"/{name}/unfinalize", methods="post", name="unfinalize")
    def unfinalize(pipeline_id: str = ""):
        return set_final(pipeline_id, False)

    def set_final(run_id: str, final: bool):
        w = current()
        run = load(w, run_id)
        if run is None:
            return missing(w, run_id)
        w.set_final(run, final)
        return w.chain_start(run.id)  # every card re-renders, so revert controls appear or vanish together

    @router(f"/{name}/delete", methods="post", name="delete_run")
    def delete_run(pipeline_id: str = ""):
        w = current()
        ctx.runs.delete(name, pipeline_id)
        return w.runs_list()

    # Card routes are async: their SQLite reads take microseconds, and a thread hop would cost more.
    @router(f"/{name}/{{step_id}}", methods="get", name="card")
    async def card(htmx: HtmxHeaders, step_id: str, pipeline_id: str = ""):
        w = current()
        step_of(w, step_id, finalize_ok=True)
        run = load(w, pipeline_id) or load(w, store_get(ctx.db, last_run_key(name), ""))
        shown = missing(w, pipeline_id) if run is None else w.card(run, step_id)
        return shown if htmx.request else w.full_page(w.body(run.id if run else pipeline_id, chain=shown))

    @router(f"/{name}/{{step_id}}/submit", methods="post", name="submit")
    async def submit(req: Request, htmx: HtmxHeaders, step_id: str):
        w = current()
        step = step_of(w, step_id)
        form = await req.form()
        run_id = str(form.get("pipeline_id", ""))
        run = load(w, run_id)
        if not htmx.request:
            # A plain form post (before htmx took over the form): store it, then show the run's page.
            if run is not None:
                await answer(w, run, step, form)
            return Redirect(w.router.landing.to(pipeline_id=run_id))
        if run is None:
            return missing(w, run_id)
        if step_id != run.first_unfinished(w.step_ids) and not run.done(step_id) and not run.finalized:
            # An earlier step is missing: send the user back up the chain to it.
            return w.chain_start(run.id), HtmxResponseHeaders(retarget=f"#{name}-chain", reswap="innerHTML")
        value, error = await answer(w, run, step, form)
        return w.card(load(w, run.id), step_id, value=value, error=error)

    async def answer(w, run, step, form):
        """Check and store one answer: (what to put back in the field, the message) if it was refused."""
        if run.done(step.id) or run.finalized or step.id != run.first_unfinished(w.step_ids):
            return None, None  # a repeated submit, or one out of order: the state already says what to show
        try:
            value = await maybe_await(w.submit(step, form, run))
        except Invalid as e:
            return step.raw(form), str(e)
        if w.store_answer(run, step, value):
            w.on_step_done(step, load(w, run.id))
            w.start_next(run.id, step.id)
        return None, None

    @router(f"/{name}/{{step_id}}/revert", methods="post", name="revert")
    async def revert(step_id: str, pipeline_id: str = "", confirm: str = ""):
        w = current()
        step_of(w, step_id)
        run = load(w, pipeline_id)
        if run is None:
            return missing(w, pipeline_id)
        if run.done(step_id) and not run.finalized and w.later_answers(run, step_id) and not confirm:
            return w.ask_revert(run, step_id)  # into the card's footer: the answers below stay in view
        if not run.finalized:
            w.revert(run, step_id)
        # The button asked for its footer to be replaced; the reverted card replaces the whole step instead.
        return w.card(load(w, run.id), step_id), HtmxResponseHeaders(retarget=f"#{card_id(name, step_id)}",
                                                                      reswap="outerHTML")

    @router(f"/{name}/{{step_id}}/retry", methods="post", name="retry")
    async def retry(step_id: str, pipeline_id: str = ""):
        w = current()
        step = step_of(w, step_id)
        run = load(w, pipeline_id)
        if run is None:
            return missing(w, pipeline_id)
        w.retry(step, run)
        return w.card(load(w, run.id), step_id)

    return router


def dispatcher(current, attr: str, fn):
    """A route handler with `fn`'s parameters (less `self`) that calls the current workflow's method `attr`."""
    sig = inspect.signature(fn, eval_str=True)

    async def handle(**kw):
        return await maybe_await(getattr(current(), attr)(**kw))

    handle.__signature__ = sig.replace(parameters=list(sig.parameters.values())[1:])
    handle.__name__ = attr
    return handle

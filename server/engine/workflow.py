"""The Workflow base: a subclass declares its steps; the engine renders and routes every card."""
from __future__ import annotations

import inspect
from urllib.parse import urlencode

from fasthtml.common import H1, Button, Div, Footer, Form, HttpHeader, Input, Label, P, Redirect, Small
from starlette.exceptions import HTTPException
from starlette.requests import Request

from ..layout import icon, page
from ..db import store_get, store_set
from .cards import (card_id, form_card, locked_card, message_card, next_card, run_vals, wrap)
from .pipeline import FINALIZE, Run
from .steps import Invalid, Step

MAX_ID_LENGTH = 512


async def _maybe_await(value):
    return await value if inspect.isawaitable(value) else value


class Workflow:
    """Subclass, set `name`, `title`, `steps`; override the hooks below only where the workflow differs."""

    name: str = ""
    title: str = ""
    description: str = ""
    steps: list[Step] = []
    order: int = 50
    id_label = "Run id"
    id_example = "a name for this run"
    finalizable = True

    def __init__(self, ctx):
        self.ctx = ctx
        self.step_ids = [s.id for s in self.steps]
        self.by_id = {s.id: s for s in self.steps}

    # Hooks: what a particular workflow may change.

    def clean_id(self, raw: str) -> str:
        """Turn what the user typed into the run id, or raise Invalid."""
        value = (raw or "").strip()
        if not value:
            raise Invalid("Type an id for this run (anything memorable), then press Enter.")
        if len(value) > MAX_ID_LENGTH:
            raise Invalid(f"That id is {len(value):,} characters long; keep it under {MAX_ID_LENGTH}.")
        return value

    def form(self, step: Step, run: Run, error: str | None = None):
        """The card that asks for a step's data."""
        return form_card(self.name, step, run.id, error=error)

    async def submit(self, step: Step, form: dict, run: Run) -> dict:
        """Validate a submitted form; return the step's data or raise Invalid."""
        return {step.field: step.clean(form.get(step.field))}

    def summary(self, step: Step, run: Run):
        """What a finished step's locked card shows."""
        return P(str(run.get(step.id).get(step.field, "")))

    def final(self, run: Run):
        """What the run's last card shows once every step is done."""
        return P("Every step is done.")

    def on_step_done(self, step: Step, run: Run) -> None:
        """Side effects after a step is stored (narration, background work)."""

    def routes(self, rt) -> None:
        """Extra routes a workflow needs beyond its cards."""

    # Engine: the same for every workflow.

    def next_id(self, step_id: str) -> str | None:
        if step_id == FINALIZE:
            return None
        i = self.step_ids.index(step_id)
        if i + 1 < len(self.step_ids):
            return self.step_ids[i + 1]
        return FINALIZE if self.finalizable else None

    def chain_start(self, run_id: str):
        return next_card(self.name, self.step_ids[0], run_id)

    def card(self, run: Run, step_id: str, error: str | None = None):
        """The card for a step as the run's state says it should look, chaining on to the next."""
        first = run.first_unfinished(self.step_ids)
        if step_id == FINALIZE:
            return self.final_card(run) if first is None else self.card(run, first)
        step = self.by_id[step_id]
        if run.done(step_id):
            nxt = self.next_id(step_id)
            locked = locked_card(self.name, step, run.id, self.summary(step, run), revertible=not run.finalized)
            return wrap(self.name, step_id, locked, next_card(self.name, nxt, run.id) if nxt else None)
        if step_id != first:
            return self.card(run, first)
        return wrap(self.name, step_id, self.form(step, run, error))

    def final_card(self, run: Run):
        if run.finalized:
            action = Button("Unfinalize", cls="secondary", hx_post=f"/{self.name}/unfinalize",
                            hx_vals=run_vals(run.id), hx_target=f"#{self.name}-chain")
            state = Small("Finalized: this run is locked. Unfinalize to change it; nothing is lost.")
        else:
            action = Button("Finalize ", icon("lock"), hx_post=f"/{self.name}/finalize", hx_vals=run_vals(run.id),
                            hx_target=f"#{self.name}-chain")
            state = None
        return wrap(self.name, FINALIZE, message_card(
            "Finalized" if run.finalized else "All steps done", self.final(run), state, Footer(action),
            cls="card-final" + (" finalized" if run.finalized else "")))

    def id_form(self, value: str = "", error: str | None = None):
        return Form(
            Label(self.id_label, fr=f"{self.name}-pipeline-id"),
            Div(Input(name="pipeline_id", id=f"{self.name}-pipeline-id", value=value, placeholder=self.id_example,
                      maxlength=MAX_ID_LENGTH * 10, required=True, aria_invalid="true" if error else None),
                Button("Start / resume", type="submit"), role="group"),
            Small(error, cls="error", role="alert") if error else None,
            hx_post=f"/{self.name}/init", hx_target=f"#{self.name}-body", hx_swap="outerHTML",
            action=f"/{self.name}/init", method="post", cls="run-id")

    def body(self, run_id: str = "", error: str | None = None, chain=None):
        return Div(self.id_form(run_id, error), Div(chain, id=f"{self.name}-chain", cls="chain"),
                   id=f"{self.name}-body")

    def full_page(self, *content):
        return page(self.ctx, self.title, H1(self.title), P(self.description, cls="lead") if self.description else None,
                    *content, current=f"/{self.name}")

    def last_run_key(self) -> str:
        return f"last_run:{self.name}"

    def register(self, rt) -> None:
        name, runs = self.name, self.ctx.runs

        def load(run_id: str) -> Run | None:
            return runs.get(name, run_id) if run_id else None

        def missing_run(run_id: str):
            return message_card("No such run", f"There is no {self.title} run called “{run_id}” yet. "
                                "Type its id above to start it.", cls="card-error")

        @rt(f"/{name}", methods=["get"])
        def landing(pipeline_id: str = ""):
            run = load(pipeline_id)
            last = pipeline_id or store_get(self.ctx.db, self.last_run_key(), "")
            return self.full_page(self.body(last, chain=self.chain_start(run.id) if run else None))

        def landing_url(run_id: str) -> str:
            return f"/{name}?" + urlencode({"pipeline_id": run_id})

        @rt(f"/{name}/init", methods=["post"])
        async def init(req: Request, pipeline_id: str = ""):
            htmx = bool(req.headers.get("HX-Request"))
            try:
                run_id = self.clean_id(pipeline_id)
            except Invalid as e:
                body = self.body(pipeline_id[:MAX_ID_LENGTH], error=str(e))
                return body if htmx else self.full_page(body)
            runs.open(name, run_id)
            store_set(self.ctx.db, self.last_run_key(), run_id)
            if not htmx:  # a plain form post (no JavaScript yet): show the run's page
                return Redirect(landing_url(run_id))
            return self.body(run_id, chain=self.chain_start(run_id)), HttpHeader("HX-Push-Url", landing_url(run_id))

        @rt(f"/{name}/finalize", methods=["post"])
        def finalize(pipeline_id: str = ""):
            return set_final(pipeline_id, True)

        @rt(f"/{name}/unfinalize", methods=["post"])
        def unfinalize(pipeline_id: str = ""):
            return set_final(pipeline_id, False)

        def set_final(run_id: str, final: bool):
            run = load(run_id)
            if run is None:
                return missing_run(run_id)
            if final and run.first_unfinished(self.step_ids) is None:
                runs.set_step(name, run.id, FINALIZE, {"finalized": True}, requires=self.step_ids)
            elif not final:
                runs.clear(name, run.id, [FINALIZE])
            # Every card re-renders, so revert controls appear or vanish together.
            return self.chain_start(run.id)

        # Card routes are async: their SQLite reads take microseconds, and a thread hop would cost more.
        @rt(f"/{name}/{{step_id}}", methods=["get"])
        async def step_card(req: Request, step_id: str, pipeline_id: str = ""):
            if step_id not in self.by_id and step_id != FINALIZE:
                raise NotFound(f"{self.title} has no step “{step_id}”.", f"/{name}")
            run = load(pipeline_id) or load(store_get(self.ctx.db, self.last_run_key(), ""))
            if run is None:
                card = missing_run(pipeline_id)
            else:
                card = self.card(run, step_id)
            if req.headers.get("HX-Request"):
                return card
            return self.full_page(self.body(run.id if run else pipeline_id, chain=card))

        @rt(f"/{name}/{{step_id}}/submit", methods=["post"])
        async def submit(req: Request, step_id: str):
            form = dict(await req.form())
            run_id = str(form.get("pipeline_id", ""))
            run = load(run_id)
            if step_id not in self.by_id:
                raise NotFound(f"{self.title} has no step “{step_id}”.", f"/{name}")
            if not req.headers.get("HX-Request"):
                # A plain form post (before htmx took over the form): store it, then show the run's page.
                if run is not None:
                    await store_answer(run, step_id, form)
                return Redirect(landing_url(run_id))
            if run is None:
                return missing_run(run_id)
            if step_id != run.first_unfinished(self.step_ids) and not run.done(step_id) and not run.finalized:
                # An earlier step is missing: send the user back up the chain to it.
                return (self.chain_start(run.id), HttpHeader("HX-Retarget", f"#{name}-chain"),
                        HttpHeader("HX-Reswap", "innerHTML"))
            error = await store_answer(run, step_id, form)
            return self.card(load(run.id), step_id, error=error)

        async def store_answer(run: Run, step_id: str, form: dict) -> str | None:
            """Validate and store one step's answer; the error message if it was refused."""
            if run.done(step_id) or run.finalized or step_id != run.first_unfinished(self.step_ids):
                return None  # a repeated submit, or one out of order: the state already says what to show
            step = self.by_id[step_id]
            try:
                value = await _maybe_await(self.submit(step, form, run))
            except Invalid as e:
                return str(e)
            earlier = self.step_ids[:self.step_ids.index(step_id)]
            if runs.set_step(name, run.id, step_id, value, requires=earlier):
                self.on_step_done(step, load(run.id))
            return None

        @rt(f"/{name}/{{step_id}}/revert", methods=["post"])
        async def revert(step_id: str, pipeline_id: str = ""):
            run = load(pipeline_id)
            if step_id not in self.by_id:
                raise NotFound(f"{self.title} has no step “{step_id}”.", f"/{name}")
            if run is None:
                return missing_run(pipeline_id)
            if run.finalized:
                return self.card(run, step_id)
            later = self.step_ids[self.step_ids.index(step_id):] + [FINALIZE]
            runs.clear(name, run.id, later)
            return self.card(load(run.id), step_id)

        self.routes(rt)


class NotFound(HTTPException):
    """A friendly 404: the app's error handler shows `message` as a card (alone for htmx, else in the page)."""

    def __init__(self, message: str, back: str = "/"):
        super().__init__(404, message)
        self.back = back

"""The Workflow base: a subclass declares its steps; the engine renders every card and makes every change."""
from __future__ import annotations

from fasthtml.common import H1, Article, Button, Div, Footer, Form, Header, Input, Label, P, Small

from ..current_profile import current_profile
from ..layout import icon, page
from .background import progress_id
from .cards import (card_id, error_note, locked_card, message_card, next_card, revert_button, revert_question,
                    run_vals, runs_table,
                    step_header, wrap)
from .pipeline import ANY, FINALIZE, REFILL, Run
from .routes import NotFound, build_router  # noqa: F401 (NotFound: imported from here by the error handler)
from .steps import Invalid, Step

MAX_ID_LENGTH = 512


def action(path: str, methods: str = "get"):
    """Mark a workflow method as an extra route at /<workflow>/<path>; it is looked up by name on each request,
    so a workflow replaced at run time serves its new code."""
    def mark(fn):
        fn.action = (path, methods)
        return fn
    return mark


class Workflow:
    """Subclass, set `name`, `title`, `steps`; override the hooks below only where the workflow differs."""

    name: str = ""
    title: str = ""
    description: str = ""
    steps: list[Step] = []
    order: int = 50
    id_label = "Name this run"
    id_hint = "A new name starts a run; a name used before picks it up where you left off."
    id_example = "a name for this run"
    finalizable = True

    def __init__(self, ctx):
        self.ctx = ctx
        self.step_ids = [s.id for s in self.steps]
        self.by_id = {s.id: s for s in self.steps}
        self.router = build_router(self)
        self.links: dict[tuple, str] = {}  # see link()

    # Hooks: what a particular workflow may change.

    def clean_id(self, raw: str) -> str:
        """Turn what the user typed into the run id, or raise Invalid."""
        value = (raw or "").strip()
        if not value:
            raise Invalid("Type an id for this run (anything memorable), then press Enter.")
        if len(value) > MAX_ID_LENGTH:
            raise Invalid(f"That id is {len(value):,} characters long; keep it under {MAX_ID_LENGTH}.")
        return value

    async def submit(self, step: Step, form, run: Run):
        """Check a submitted form; return the value to store or raise Invalid (its kind's check by default)."""
        return step.clean(form)

    def form(self, step: Step, run: Run, value=None, error: str | None = None):
        """The card that asks for a step: its kind's field, pre-filled with `value`."""
        return self.form_card(step, run, step.control(value, invalid=bool(error)), error=error)

    def summary(self, step: Step, run: Run):
        """What a finished step's locked card shows."""
        return step.summary(run[step.id])

    def working(self, step: Step, run: Run, job):
        """What a background step's card shows below its progress: while it works, and after it stopped (`job` is
        then None if a restart interrupted it, else `job.error` says why)."""
        return Small(step.busy, aria_busy="true") if job and not (job.error or job.stopped) else None

    def final(self, run: Run):
        """What the run's last card shows once every step is done."""
        return P("Every step is done.")

    def on_step_done(self, step: Step, run: Run) -> None:
        """Side effects after a step is stored (narration)."""

    def retry(self, step: Step, run: Run) -> None:
        """The user asked to try a failed or interrupted background step again."""
        self.ctx.jobs.retry(self.name, run.id, step.id)
        if step.background and not run.done(step.id):
            self.ctx.jobs.ensure(self, run, step)

    # Cards.

    def url(self, step_id: str, run_id: str) -> str:
        return self.link("card", step_id=step_id, pipeline_id=run_id)

    def link(self, route: str, **kw) -> str:
        """`self.router.<route>.to(**kw)`, remembered: every card response asks for the same few URLs, and `.to()`
        (a regex substitution and a urlencode each) was a tenth of a card's time."""
        key = (route, *kw.items())
        url = self.links.get(key)
        if url is None:
            if len(self.links) >= 4096:  # bounded: a few entries per step and run shown
                self.links.clear()
            url = self.links[key] = getattr(self.router, route).to(**kw)
        return url

    def form_card(self, step: Step, run: Run, *fields, error=None, submit_label: str = "Next ▸", **form_kw):
        return Article(step_header(step), Form(
            *fields, error_note(error), Input(type="hidden", name="pipeline_id", value=run.id),
            Button(submit_label, type="submit"), hx_post=self.link("submit", step_id=step.id),
            hx_target=f"#{card_id(self.name, step.id)}", hx_swap="outerHTML",
            action=self.link("submit", step_id=step.id), method="post",
            aria_labelledby=f"label-{step.id}" if step.grouped else None, **form_kw), cls="card card-form")

    def chain_start(self, run_id: str):
        return next_card(self.name, self.step_ids[0], self.url(self.step_ids[0], run_id))

    def next_id(self, step_id: str) -> str | None:
        i = self.step_ids.index(step_id)
        return self.step_ids[i + 1] if i + 1 < len(self.step_ids) else FINALIZE if self.finalizable else None

    def later_answers(self, run: Run, step_id: str) -> int:
        return sum(run.done(s) for s in self.step_ids[self.step_ids.index(step_id) + 1:])

    def card(self, run: Run, step_id: str, value=None, error: str | None = None):
        """The card for a step as the run's state says it should look, chaining on to the next."""
        first = run.first_unfinished(self.step_ids)
        if step_id == FINALIZE:
            return self.final_card(run) if first is None else self.card(run, first)
        step = self.by_id[step_id]
        if run.done(step_id):
            nxt = self.next_id(step_id)
            revert = None if run.finalized else revert_button(self.link("revert", step_id=step_id), run.id)
            return wrap(self.name, step_id, locked_card(step, self.summary(step, run), revert), self.after(run, nxt))
        if step_id != first:
            return self.card(run, first)
        if step.background:
            return wrap(self.name, step_id, self.background_card(step, run))
        return wrap(self.name, step_id, self.form(step, run, run.refill(step_id) if value is None else value, error))

    def ask_revert(self, run: Run, step_id: str):
        return revert_question(self.router.revert.to(step_id=step_id), self.url(step_id, run.id),
                               f"#{card_id(self.name, step_id)}", run.id, self.later_answers(run, step_id))

    def after(self, run: Run, nxt: str | None):
        """What follows a finished card: the next finished card itself (a resumed run arrives in one response),
        else a card that loads itself, the chain reaction that walks on to the step waiting for an answer."""
        if nxt is None:
            return None
        if run.done(nxt) or (nxt == FINALIZE and run.first_unfinished(self.step_ids) is None):
            return self.card(run, nxt)
        return next_card(self.name, nxt, self.url(nxt, run.id))

    def background_card(self, step: Step, run: Run):
        job = self.ctx.jobs.get(self.name, run.id, step.id)
        if job and job.basis != self.basis(run, step.id):
            job = None  # made for answers since changed: its value will be refused, a new job starts
        interrupted = job is None and step.id in (run.get("working") or {}) and not step.resume
        if job is None and not interrupted:
            job = self.ctx.jobs.ensure(self, run, step)
        if interrupted or job.error or job.stopped:
            message = job.error if job else "This step was interrupted when the app stopped."
            retry = None if job and job.stopped else Footer(Button(
                "Try again", cls="retry", hx_post=self.router.retry.to(step_id=step.id), hx_vals=run_vals(run.id),
                hx_target=f"#{card_id(self.name, step.id)}", hx_swap="outerHTML"))
            return Article(Header(step.label), Div(*(job.progress if job else ()), id=progress_id(self.name, step.id)),
                           self.working(step, run, job), P(message, cls="error", role="alert") if message else None,
                           retry, cls="card card-error card-working")
        poll = Div(hx_get=self.url(step.id, run.id), hx_trigger="every 1s",
                   hx_target=f"#{card_id(self.name, step.id)}", hx_swap="outerHTML", cls="poll push-poll")
        return Article(Header(step.label), Div(*job.progress, id=progress_id(self.name, step.id)),
                       self.working(step, run, job), poll, cls="card card-working")

    def final_card(self, run: Run):
        verb = "unfinalize" if run.finalized else "finalize"
        label = ("Unfinalize",) if run.finalized else ("Finalize ", icon("lock"))
        action_ = Button(*label, cls="secondary" if run.finalized else None,
                         hx_post=getattr(self.router, verb).to(), hx_vals=run_vals(run.id),
                         hx_target=f"#{self.name}-chain")
        state = Small("Finalized: this run is locked. Unfinalize to change it; nothing is lost.") if run.finalized \
            else None
        return wrap(self.name, FINALIZE, message_card(
            "Finalized" if run.finalized else "All steps done", self.final(run), state, Footer(action_),
            cls="card-final" + (" finalized" if run.finalized else "")))

    def id_form(self, value: str = "", error: str | None = None):
        return Form(
            Label(self.id_label, fr=f"{self.name}-pipeline-id"),
            Div(Input(name="pipeline_id", id=f"{self.name}-pipeline-id", value=value, placeholder=self.id_example,
                      maxlength=MAX_ID_LENGTH * 10, required=True, aria_invalid="true" if error else None,
                      aria_describedby=f"{self.name}-pipeline-hint"),
                Button("Start / resume", type="submit"), role="group"),
            Small(self.id_hint, id=f"{self.name}-pipeline-hint"), error_note(error),
            hx_post=self.router.init.to(), hx_target=f"#{self.name}-body", hx_swap="outerHTML",
            action=self.router.init.to(), method="post", cls="run-id")

    def body(self, run_id: str = "", error: str | None = None, chain=None):
        return Div(self.id_form(run_id, error), Div(chain, id=f"{self.name}-chain", cls="chain"), self.runs_list(),
                   id=f"{self.name}-body")

    def runs_list(self):
        profile = current_profile(self.ctx.db)
        return runs_table(self.name, self.ctx.runs.list(self.name, profile.id if profile else None), self.step_ids,
                          lambda run_id: self.router.landing.to(pipeline_id=run_id), self.router.delete_run.to())

    def full_page(self, *content):
        return page(self.ctx, self.title, H1(self.title), P(self.description, cls="lead") if self.description else None,
                    *content, current=f"/{self.name}")

    # Changes: every one is a single guarded write (RunStore.change).

    def basis(self, run: Run, step_id: str) -> dict:
        """The earlier steps' values, which a later value is valid for."""
        return {s: run[s] for s in self.step_ids[:self.step_ids.index(step_id)] if run.done(s)}

    def store_answer(self, run: Run, step: Step, value) -> Run | None:
        """The run with this answer stored, or None if its state refused it (RunStore.change)."""
        earlier = self.step_ids[:self.step_ids.index(step.id)]
        return self.ctx.runs.change(self.name, run.id, put={step.id: value}, remove=[f"{REFILL}.{step.id}"],
                                    present=dict.fromkeys(earlier, ANY), absent=(step.id, FINALIZE))

    def store_result(self, run_id: str, step: Step, value, basis: dict) -> Run | None:
        """A background value, kept only while every earlier answer is still the one it was made from."""
        stored = self.ctx.runs.change(self.name, run_id, put={step.id: value},
                                      remove=[f"working.{step.id}", f"{REFILL}.{step.id}"], present=basis,
                                      absent=(step.id, FINALIZE))
        if stored:
            self.on_step_done(step, stored)
            self.start_next(run_id, step.id)
        return stored

    def start_next(self, run_id: str, step_id: str) -> bool:
        """A background step right after a stored one starts at once, not when its card is first shown; whether the
        next step is one (its start may have written to the run)."""
        nxt = self.by_id.get(self.next_id(step_id))
        if not (nxt and nxt.background):
            return False  # the run is read only when there is a background step to start: not on every answer
        run = self.ctx.runs.get(self.name, run_id)
        if run.first_unfinished(self.step_ids) == nxt.id:
            self.ctx.jobs.ensure(self, run, nxt)
        return True

    def revert(self, run: Run, step_id: str) -> Run | None:
        """Clear a step and every later one; their answers are kept as the fields' pre-filled values."""
        i = self.step_ids.index(step_id)
        cleared = [s for s in self.step_ids[i:] if run.done(s)]
        kept = {f"{REFILL}.{s}": run[s] for s in cleared if not self.by_id[s].background}
        return self.ctx.runs.change(self.name, run.id, put=kept,
                                    remove=[*cleared, *(f"working.{s}" for s in self.step_ids[i:])],
                                    present={s: run[s] for s in cleared}, absent=(FINALIZE,))

    def set_final(self, run: Run, final: bool) -> Run | None:
        if final:
            return self.ctx.runs.change(self.name, run.id, put={FINALIZE: {"finalized": True}},
                                        present=dict.fromkeys(self.step_ids, ANY))
        return self.ctx.runs.change(self.name, run.id, remove=[FINALIZE])


"""Background steps: the engine runs a workflow's producer off the request, pushes its progress to the open card and
stores its value through the same guarded write as an answer, refused if the answers it used changed meanwhile."""
from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass

from fasthtml.common import Div
from loguru import logger

from .cards import card_id
from .pipeline import now
from .steps import Invalid, Stopped

PUSH_EVERY = 0.1  # seconds between progress pushes; a token stream would otherwise send one message per token


@dataclass
class Job:
    basis: dict  # the earlier answers the producer was given; its value is stored only while they still hold
    task: asyncio.Task | None = None
    progress: tuple = ()
    error: str = ""
    stopped: bool = False  # stopped where only the user can move it on: no retry offered
    pushed: float = 0.0
    push_due: bool = False


def progress_id(workflow: str, step_id: str) -> str:
    return f"{card_id(workflow, step_id)}-progress"


class Jobs:
    """Every background step running in this process, by (workflow, run id, step id)."""

    def __init__(self, ctx):
        self.ctx = ctx
        self.jobs: dict[tuple[str, str, str], Job] = {}

    def get(self, workflow: str, run_id: str, step_id: str) -> Job | None:
        return self.jobs.get((workflow, run_id, step_id))

    def ensure(self, wf, run, step) -> Job | None:
        """The job producing this step for the run's current answers, started if none is running for them."""
        key, basis = (wf.name, run.id, step.id), wf.basis(run, step.id)
        job = self.jobs.get(key)
        if job and job.basis == basis:
            return job
        try:
            asyncio.get_running_loop()
        except RuntimeError:  # called outside the server (a unit test): the next card view starts it
            return None
        if job and job.task:
            job.task.cancel()  # made for answers the user has since changed
        job = self.jobs[key] = Job(basis)
        # Marked in the run first, so a restart knows the step was being worked on.
        wf.ctx.runs.change(wf.name, run.id, put={f"working.{step.id}": {"started": now()}}, present=basis,
                           absent=(step.id,))
        job.task = self.ctx.spawn(self.run(wf.name, run.id, step.id, job))
        return job

    def retry(self, workflow: str, run_id: str, step_id: str) -> None:
        """Forget a failed or interrupted job, so the card starts a new one."""
        job = self.jobs.pop((workflow, run_id, step_id), None)
        if job and job.task:
            job.task.cancel()

    async def run(self, name: str, run_id: str, step_id: str, job: Job) -> None:
        wf = self.ctx.workflows[name]
        run, step = wf.ctx.runs.get(name, run_id), wf.by_id[step_id]

        def progress(*fts):
            """Show `fts` in the open card; pushed at most every PUSH_EVERY seconds, the latest always last."""
            job.progress = fts
            if not job.push_due:
                job.push_due = True
                wait = max(0.0, job.pushed + PUSH_EVERY - time.monotonic())
                self.ctx.spawn(self.push_progress(name, step_id, job, wait))

        try:
            value = await getattr(wf, step.producer)(run, progress)
        except Stopped as e:
            job.error, job.stopped = str(e), True
        except Invalid as e:
            job.error = str(e)
        except asyncio.CancelledError:
            raise
        except Exception:
            logger.exception("background step {}/{} failed for {}", name, step_id, run_id)
            job.error = "Something went wrong while working on this step; see the log. Try again."
        else:
            stored = wf.store_result(run_id, step, value, job.basis)
            if self.jobs.get((name, run_id, step_id)) is job:
                del self.jobs[(name, run_id, step_id)]
            if not stored:
                logger.info("discarded {}/{} for {}: its answers changed meanwhile", name, step_id, run_id)
                return
        await self.push_card(wf, run_id, step_id)

    async def push_progress(self, name: str, step_id: str, job: Job, wait: float) -> None:
        await asyncio.sleep(wait)
        job.push_due, job.pushed = False, time.monotonic()
        await self.push(Div(*job.progress, id=progress_id(name, step_id), hx_swap_oob="true"))

    async def push_card(self, wf, run_id: str, step_id: str) -> None:
        """Send the step's card as it is now to every open window; one showing it swaps it in."""
        run = wf.ctx.runs.get(wf.name, run_id)
        if run is not None:
            await self.push(wf.card(run, step_id)(hx_swap_oob="true"))

    async def push(self, *fts) -> None:
        for pusher in self.ctx.pushers:
            try:
                await pusher(*fts)
            except Exception:
                logger.exception("could not push to the open windows")

    async def resume_all(self) -> None:
        """At start-up: start again every resumable background step a previous launch left working."""
        for wf in list(self.ctx.workflows.values()):
            for step in (s for s in wf.steps if s.background and s.resume):
                rows = self.ctx.db.query(
                    "SELECT id FROM pipeline WHERE workflow = ? AND json_type(data, ?) IS NOT NULL "
                    "AND json_type(data, ?) IS NULL", [wf.name, f'$.working."{step.id}"', f'$."{step.id}"'])
                for row in rows:
                    run = self.ctx.runs.get(wf.name, row["id"])
                    if run.first_unfinished(wf.step_ids) == step.id:
                        self.ensure(wf, run, step)

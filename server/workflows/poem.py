"""Poem: four answers, then the local LLM writes a short poem, streamed into the last card."""
from __future__ import annotations

from dataclasses import dataclass

from fasthtml.common import Article, Button, Div, Footer, Header, P, Small

from ..engine import Step, Workflow
from ..engine.cards import card_id, run_vals, step_url
from ..llm import LLMUnavailable, services

POLL = "250ms"  # how often the poem card refreshes while the LLM writes


@dataclass
class Draft:
    text: str = ""
    error: str = ""
    finished: bool = False


def prompt(name: str, color: str, time: str, feeling: str) -> str:
    return (f"Write a short poem of four to eight lines for {name}. Its colour is {color}, it is set in the "
            f"{time}, and it feels {feeling}. Reply with the poem only, no title.")


class Poem(Workflow):
    name = "poem"
    title = "Poem"
    description = "Four answers, then the local LLM writes you a short poem."
    order = 20
    id_example = "e.g. birthday-poem"
    steps = [
        Step("step_01", "Who is the poem for?", field="name", example="Ada", max_length=100),
        Step("step_02", "Pick a colour", field="color", options=("red", "orange", "yellow", "green", "blue", "violet")),
        Step("step_03", "Pick a time of day", field="time", options=("dawn", "morning", "noon", "dusk", "night")),
        Step("step_04", "Pick a feeling", field="feeling",
             options=("joyful", "calm", "wistful", "hopeful", "mysterious")),
        Step("step_05", "Your poem", field="poem"),
    ]

    def __init__(self, ctx):
        super().__init__(ctx)
        self.drafts: dict[str, Draft] = {}  # run id -> the poem being written now

    def answers(self, run) -> tuple[str, str, str, str]:
        return (run.get("step_01")["name"], run.get("step_02")["color"], run.get("step_03")["time"],
                run.get("step_04")["feeling"])

    def form(self, step, run, error=None):
        if step.id != "step_05":
            return super().form(step, run, error)
        draft = self.drafts.get(run.id)
        if draft is None:
            draft = self.drafts[run.id] = Draft()
            self.ctx.spawn(self.write(run, draft))
        if draft.finished and draft.error:
            return Article(Header(step.label), P(draft.text, cls="poem-text") if draft.text else None,
                           P(draft.error, cls="error", role="alert"),
                           Footer(Button("Try again", hx_post="/poem/retry", hx_vals=run_vals(run.id),
                                         hx_target=f"#{card_id(self.name, step.id)}", hx_swap="outerHTML")),
                           cls="card card-error poem-waiting")
        # Re-fetch this card until the poem is stored; then the engine shows it locked, with the final card.
        return Article(Header(step.label), P(draft.text, cls="poem-text"),
                       Small("The local LLM is writing…", cls="muted", aria_busy="true"),
                       hx_get=step_url(self.name, step.id, run.id), hx_trigger=f"load delay:{POLL}",
                       hx_target=f"#{card_id(self.name, step.id)}", hx_swap="outerHTML", cls="card poem-writing")

    async def write(self, run, draft: Draft) -> None:
        llm = services(self.ctx).llm
        messages = [{"role": "user", "content": prompt(*self.answers(run))}]
        try:
            status = await llm.status()
            if not status.ready:
                raise LLMUnavailable(status.problem)
            async for part in llm.chat(messages):
                draft.text += part.message.content or ""
            if not draft.text.strip():
                raise LLMUnavailable("The LLM answered with nothing.")
            self.ctx.runs.set_step(self.name, run.id, "step_05", {"poem": draft.text.strip()})
            self.ctx.narrate(f"The poem for {self.answers(run)[0]} is written; finalize it or ask for a new one.")
            self.drafts.pop(run.id, None)
        except LLMUnavailable as e:
            draft.error = f"This step needs the local LLM. {e}"
        finally:
            draft.finished = True

    def routes(self, rt):
        @rt("/poem/retry", methods=["post"])
        async def retry(pipeline_id: str = ""):
            run = self.ctx.runs.get(self.name, pipeline_id)
            if run is None:
                return P("There is no such poem run.", cls="error")
            self.drafts.pop(run.id, None)
            return self.card(run, "step_05")

    def on_step_done(self, step, run):
        said = run.get(step.id).get(step.field, "")
        notes = {"step_01": f"A poem for {said} is begun: next, its colour.",
                 "step_02": f"The poem will be {said}; next, the time of day.",
                 "step_03": f"The poem is set at {said}; next, how it should feel.",
                 "step_04": f"The poem should feel {said}. The local LLM now writes it."}
        if step.id in notes:
            self.ctx.narrate(notes[step.id])

    def summary(self, step, run):
        if step.id == "step_05":
            return P(run.get("step_05")["poem"], cls="poem-text")
        return super().summary(step, run)

    def final(self, run):
        name, color, time, feeling = self.answers(run)
        again = None if run.finalized else Button(
            "New poem", cls="secondary", hx_post=f"/{self.name}/step_05/revert", hx_vals=run_vals(run.id),
            hx_target=f"#{card_id(self.name, 'step_05')}", hx_swap="outerHTML")
        return Div(P(f"A {feeling} poem for {name}, in {color}, at {time}."), again)

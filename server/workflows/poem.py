"""Poem: four answers, then the local LLM writes a short poem, streamed into the last card."""
from __future__ import annotations

from fasthtml.common import Button, Div, P

from ..engine import Background, Choice, Invalid, Text, Workflow
from ..engine.cards import card_id, run_vals
from ..llm import LLMUnavailable, services

NEEDS_LLM = "This step needs the local LLM."
NOTES = {"name": "A poem for {} is begun: next, its colour.", "color": "The poem will be {}; next, the time of day.",
         "time": "The poem is set at {}; next, how it should feel.",
         "feeling": "The poem should feel {}. The local LLM now writes it.",
         "poem": "The poem for {} is written; finalize it or ask for a new one."}


def prompt(name: str, color: str, time: str, feeling: str) -> str:
    return (f"Write a short poem of four to eight lines for {name}. Its colour is {color}, it is set in the "
            f"{time}, and it feels {feeling}. Reply with the poem only, no title.")


class Poem(Workflow):
    name = "poem"
    title = "Poem"
    description = "Four answers, then the local LLM writes you a short poem."
    order = 20
    id_example = "e.g. birthday-poem"
    steps = [Text("name", "Who is the poem for?", example="Ada", max_length=100),
             Choice("color", "Pick a colour", ("red", "orange", "yellow", "green", "blue", "violet")),
             Choice("time", "Pick a time of day", ("dawn", "morning", "noon", "dusk", "night")),
             Choice("feeling", "Pick a feeling", ("joyful", "calm", "wistful", "hopeful", "mysterious")),
             Background("poem", "Your poem", producer="write", busy="The local LLM is writing…")]

    async def write(self, run, progress) -> str:
        """The poem for the four answers, streamed into the card as the LLM writes it."""
        llm, text = services(self.ctx).llm, ""
        try:
            status = await llm.status()
            if not status.ready:
                raise LLMUnavailable(status.problem)
            async for part in llm.chat([{"role": "user", "content": prompt(*(run[s] for s in self.step_ids[:4]))}]):
                text += part.message.content or ""
                progress(P(text, cls="poem-text"))
        except LLMUnavailable as e:
            raise Invalid(f"{NEEDS_LLM} {e}") from None
        if not text.strip():
            raise Invalid(f"{NEEDS_LLM} The LLM answered with nothing.")
        return text.strip()

    def on_step_done(self, step, run):
        self.ctx.narrate(NOTES[step.id].format(run["name"] if step.id == "poem" else run[step.id]))

    def summary(self, step, run):
        return P(run["poem"], cls="poem-text") if step.id == "poem" else super().summary(step, run)

    def final(self, run):
        again = None if run.finalized else Button(
            "New poem", cls="secondary", hx_post=self.router.revert.to(step_id="poem"), hx_vals=run_vals(run.id),
            hx_target=f"#{card_id(self.name, 'poem')}", hx_swap="outerHTML")
        return Div(P(f"A {run['feeling']} poem for {run['name']}, in {run['color']}, at {run['time']}."), again)

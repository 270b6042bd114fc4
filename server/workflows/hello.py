"""Hello, the Bridge of Death: the smallest complete workflow. Copy this file to start your own."""
from fasthtml.common import P, Strong

from ..engine import Choice, Text, Workflow


class Hello(Workflow):
    name = "hello"
    title = "Hello — the Bridge of Death"
    description = "Answer me these questions three, ere the other side you see."
    order = 10
    id_example = "e.g. lancelot"
    steps = [Text("name", "What… is your name?", example="Sir Lancelot of Camelot"),
             Text("quest", "What… is your quest?", example="To seek the Holy Grail"),
             Choice("color", "What… is your favourite colour?", ("red", "blue", "green", "yellow"))]

    def on_step_done(self, step, run):
        self.ctx.narrate(f"The bridgekeeper heard the answer to “{step.label}”")

    def final(self, run):
        name = run["name"]
        if run["color"] == "blue":
            return P(Strong(f"Right. Off you go, {name}."), " You may cross the Bridge of Death.", cls="verdict pass")
        return P(Strong("Auuuuuuuugh!"), f" {name} is cast into the Gorge of Eternal Peril.", cls="verdict fail")

"""The card components every workflow shares: form, locked summary, revert, chain link, errors."""
from __future__ import annotations

import json
from urllib.parse import urlencode

from fasthtml.common import Article, Button, Div, Footer, Form, Header, Input, Label, Option, P, Select, Small


def card_id(workflow: str, step_id: str) -> str:
    return f"{workflow}-{step_id}"


def step_url(workflow: str, step_id: str, run_id: str) -> str:
    return f"/{workflow}/{step_id}?" + urlencode({"pipeline_id": run_id})


def run_vals(run_id: str) -> str:
    return json.dumps({"pipeline_id": run_id})


def next_card(workflow: str, step_id: str, run_id: str):
    """An empty card that loads itself: the chain reaction that walks a run down to its first unfinished step."""
    return Div(id=card_id(workflow, step_id), hx_get=step_url(workflow, step_id, run_id),
               hx_trigger="load", hx_swap="outerHTML", cls="card-loading", aria_busy="true")


def wrap(workflow: str, step_id: str, card, after=None):
    # Later cards live inside earlier ones, so replacing a card replaces everything after it.
    return Div(card, after, id=card_id(workflow, step_id), cls="step")


def error_note(message: str | None):
    return Small(message, cls="error", role="alert") if message else None


def field_input(step, value: str = "", invalid: bool = False):
    common = dict(name=step.field, id=f"field-{step.field}", required=True, data_autofocus=True)
    if invalid:
        common["aria_invalid"] = "true"
    if step.options:
        opts = [Option("Choose…", value="", disabled=True, selected=not value)]
        opts += [Option(o.capitalize(), value=o, selected=o == value) for o in step.options]
        return Select(*opts, **common)
    return Input(type="text", value=value, placeholder=step.example, maxlength=step.max_length, **common)


def form_card(workflow: str, step, run_id: str, *body, error: str | None = None, submit_label: str = "Next ▸", **form_kw):
    """A step's question; `body` replaces the default single field."""
    fields = body or (field_input(step, invalid=bool(error)),)
    return Article(
        Header(Label(step.label, fr=f"field-{step.field}") if not body else step.label),
        Form(*fields, error_note(error), Input(type="hidden", name="pipeline_id", value=run_id),
             Button(submit_label, type="submit"),
             hx_post=f"/{workflow}/{step.id}/submit", hx_target=f"#{card_id(workflow, step.id)}",
             hx_swap="outerHTML", action=f"/{workflow}/{step.id}/submit", method="post", **form_kw),
        cls="card card-form")


def revert_button(workflow: str, step_id: str, run_id: str):
    return Button("↶ Revert", cls="outline secondary revert", title="Clear this step and every later one",
                  hx_post=f"/{workflow}/{step_id}/revert", hx_vals=run_vals(run_id),
                  hx_target=f"#{card_id(workflow, step_id)}", hx_swap="outerHTML")


def locked_card(workflow: str, step, run_id: str, summary, revertible: bool = True):
    return Article(Header(step.label), Div(summary, cls="summary"),
                   Footer(revert_button(workflow, step.id, run_id)) if revertible else None,
                   cls="card card-locked")


def message_card(title: str, *body, cls: str = ""):
    return Article(Header(title), *[P(b) if isinstance(b, str) else b for b in body], cls=f"card {cls}".strip())

"""The card components every workflow shares: form, locked summary, revert, chain link, errors, the runs table."""
from __future__ import annotations

import json
from html import escape

from fasthtml.common import (FT, A, Article, Button, Div, Footer, Header, Label, P, Safe, Small, Span, Table, Tbody, Td,
                             Th, Thead, Tr, to_xml)

from .steps import field_id


def card_id(workflow: str, step_id: str) -> str:
    return f"{workflow}-{step_id}"


def run_vals(run_id: str, **more) -> str:
    return json.dumps({"pipeline_id": run_id, **more})


def next_card(workflow: str, step_id: str, url: str):
    """An empty card that loads itself: the chain reaction that walks a run down to its first unfinished step."""
    # Written as escaped markup, not an FT: it is in every card response, and building FTs was most of their time.
    return Safe(f'<div id="{escape(card_id(workflow, step_id))}" hx-get="{escape(url)}" hx-trigger="load" '
                'hx-swap="outerHTML" class="card-loading" aria-busy="true"></div>')


def wrap(workflow: str, step_id: str, card, after=None):
    # Later cards live inside earlier ones, so replacing a card replaces everything after it.
    # The FT built directly, as Div(...) would build it: Div's keyword handling took 15 µs, a third of a card.
    return FT("div", (card, after), {"id": card_id(workflow, step_id), "class": "step"})


def error_note(message: str | None):
    return Small(message, cls="error", role="alert") if message else None


def step_header(step):
    """The card's title; for a single field it is the field's label, for a group it names the fieldset."""
    if getattr(step, "grouped", False):
        return Header(Span(step.label, id=f"label-{step.id}"))
    return Header(Label(step.label, fr=field_id(step.id)))


def revert_button(url: str, run_id: str):
    """Clears this step, its answer back in the field; the server asks first if later steps hold answers."""
    return Safe(f'<button hx-post="{escape(url)}" hx-vals="{escape(run_vals(run_id))}" hx-target="closest footer" '
                'hx-swap="outerHTML" class="outline secondary revert" title="Change this answer">↶ Revert</button>')


def revert_question(url: str, card_url: str, target: str, run_id: str, later: int):
    """The locked card's footer, asking before a revert clears `later` answers (they come back pre-filled)."""
    return Footer(Div(
        P(f"This clears {later} later answer{'s' if later != 1 else ''}. Their answers come back pre-filled as you "
          "go through them again.", cls="question", role="alert"),
        Button("Clear and go back", cls="secondary confirm-revert", hx_post=url,
               hx_vals=run_vals(run_id, confirm="1"), hx_target=target, hx_swap="outerHTML"), " ",
        Button("Keep them", cls="outline secondary", hx_get=card_url, hx_target=target, hx_swap="outerHTML")))


def locked_card(step, summary, revert=None):
    # Escaped markup like next_card: a resumed run shows every finished card in one response.
    footer = f"<footer>{revert}</footer>" if revert else ""
    return Safe(f'<article class="card card-locked"><header>{escape(step.label)}</header>'
                f'<div class="summary">{to_xml(summary, indent=False)}</div>{footer}</article>')


def message_card(title: str, *body, cls: str = ""):
    return Article(Header(title), *[P(b) if isinstance(b, str) else b for b in body], cls=f"card {cls}".strip())


def runs_table(workflow: str, runs, step_ids: list[str], open_url, delete_url: str):
    """Every run of a workflow, the last changed first: one click resumes, delete asks first."""
    if not runs:
        return Div(P("No runs yet for this profile: type a name above to start one.", cls="muted"), id=f"{workflow}-runs")
    rows = [Tr(Td(A(r.id, href=open_url(r.id), cls="open-run")), Td(r.progress(step_ids), cls="progress"),
               Td(Span(r.get("updated", "").replace("T", " ")[:16], title=r.get("updated", "")), cls="changed"),
               Td("Finalized" if r.finalized else "", cls="state"),
               Td(Button("Delete", cls="outline secondary small delete-run", hx_post=delete_url,
                         hx_vals=run_vals(r.id), hx_target=f"#{workflow}-runs", hx_swap="outerHTML",
                         hx_confirm=f"Delete the run “{r.id[:80]}”? Its answers are gone for good; "
                                    "files it made stay.", aria_label=f"Delete {r.id[:80]}")))
            for r in runs]
    return Div(Table(Thead(Tr(Th("Run"), Th("Progress"), Th("Last change"), Th(""), Th(""))), Tbody(*rows)),
               id=f"{workflow}-runs", cls="runs")

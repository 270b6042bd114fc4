"""How chat messages look: the raw text travels as text, the browser renders it as sanitised Markdown."""
from __future__ import annotations

from fasthtml.common import Details, Div, Small, Span, Summary

from .chat import INTERRUPTED, ChatMessage

LABELS = {"user": "You", "assistant": "Assistant", "narration": "Pipedeck", "tool": "Action", "error": "Problem"}


def message_id(mid: int) -> str:
    return f"msg-{mid}"


def message_view(m: ChatMessage, oob: bool = False):
    """One message. `.src` holds the text exactly as written (escaped by FT); chat.js renders it into `.md`, which
    the final swap of a streamed answer keeps (hx-preserve), so the words already drawn stay while the rest is added."""
    note = Small("answer interrupted", cls="interrupted-note") if m.status == INTERRUPTED else None
    return Div(Small(LABELS.get(m.role, m.role), cls="who"),
               Div(thinking_view(m.id, m.thinking) if m.thinking else None, cls="thinking-slot")
               if m.role == "assistant" else None,
               Div(m.content, cls="src", hidden=True), Div(cls="md", id=f"md-{m.id}", hx_preserve=True), note,
               id=message_id(m.id), cls=f"msg {m.role} {m.status}", data_status=m.status,
               hx_swap_oob="true" if oob else None)


def thinking_view(mid: int, text: str):
    """A thinking model's reasoning, folded: plain text, opened on demand."""
    return Details(Summary("Reasoning"), Div(text, cls="think-text"), cls="thinking", id=f"think-{mid}")


def thought(mid: int, text: str, first: bool = False):
    """Reasoning that arrived since the last send: the first part brings the folded box, the rest append to it."""
    if first:
        return Div(thinking_view(mid, text), hx_swap_oob=f"beforeend:#{message_id(mid)} .thinking-slot")
    return Span(text, hx_swap_oob=f"beforeend:#think-{mid} .think-text")


def appended(mid: int, text: str):
    """Tokens that arrived since the last send, appended to the message's text."""
    return Span(text, hx_swap_oob=f"beforeend:#{message_id(mid)} .src")


def removed(mid: int):
    return Div(id=message_id(mid), hx_swap_oob="delete")


def added(m: ChatMessage):
    return Div(message_view(m), hx_swap_oob="beforeend:#chat-log")


def tasks_changed():
    """Tell an open tasks screen to reload its list (a tool changed the tasks); chat.js does the reload."""
    return Div(id="chat-effects", data_effect="tasks-changed", hx_swap_oob="true", hidden=True)

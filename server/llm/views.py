"""How chat messages look: the raw text travels as text, the browser renders it as sanitised Markdown."""
from __future__ import annotations

from fasthtml.common import Div, Small, Span

from .chat import INTERRUPTED, ChatMessage

LABELS = {"user": "You", "assistant": "Assistant", "narration": "Pipedeck", "tool": "Action", "error": "Problem"}


def message_id(mid: int) -> str:
    return f"msg-{mid}"


def message_view(m: ChatMessage, oob: bool = False):
    """One message. `.src` holds the text exactly as written (escaped by FT); chat.js renders it into `.md`."""
    note = Small("answer interrupted", cls="interrupted-note") if m.status == INTERRUPTED else None
    return Div(Small(LABELS.get(m.role, m.role), cls="who"),
               Div(m.content, cls="src", hidden=True), Div(cls="md"), note,
               id=message_id(m.id), cls=f"msg {m.role} {m.status}", data_status=m.status,
               hx_swap_oob="true" if oob else None)


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

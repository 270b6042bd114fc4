"""The chat panel beside every screen: the stored conversation, a box to write in, answers streamed over a WebSocket."""
import os

from fasthtml.common import H2, APIRouter, Button, Div, Form, Header, P, Section, Small, Textarea

from ..llm import services
from ..llm.views import message_view

ORDER = 80  # after tasks: the LLM's tools act on the task list that app creates
MAX_MESSAGE = 8000
# How often a panel rechecks Ollama (a cached answer, so cheap), to notice it coming back; tests shorten it.
STATUS_EVERY = os.environ.get("PIPEDECK_LLM_RECHECK", "5") + "s"


def status_view(status):
    if status is None:
        return Small("Checking the local LLM…", cls="muted")
    if status.ready:
        tools = None if status.tools else Small(" — tools are off for this model (it cannot act on your tasks)",
                                                cls="tools-off")
        return Small(f"Local LLM: {status.model}", tools, cls="llm-online")
    return P(status.problem, cls="llm-offline", role="status")


def chat_log(llm):
    """The conversation; chat.js opens it at the newest message and keeps it there while the user reads there."""
    return Div(Div(*[message_view(m) for m in llm.store.history()], id="chat-log", aria_live="polite",
                   tabindex="0", aria_label="Conversation"),
               Button("New messages ↓", type="button", id="chat-more", cls="secondary small", hidden=True),
               cls="chat-log-wrap")


def register(ctx, rt):
    llm = services(ctx)
    ar = APIRouter()

    def panel():
        return Section(
            Header(H2("Assistant"),
                   Button("Clear", cls="outline secondary small", hx_post="/chat/clear", hx_target="#chat-log",
                          hx_swap="innerHTML", hx_confirm="Clear the whole conversation? This cannot be undone.")),
            Div(status_view(llm.llm.cached_status()), id="llm-status", hx_get="/chat/status",
                hx_trigger=f"load, every {STATUS_EVERY}", hx_swap="innerHTML"),
            chat_log(llm),
            Form(Textarea(name="msg", rows=2, maxlength=MAX_MESSAGE, required=True, aria_label="Message",
                          placeholder="Ask the local LLM…",  # the whole hint did not fit a narrow panel's two lines
                          title="Enter sends; Shift+Enter starts a new line"),
                 Button("Send", type="submit"), id="chat-form", ws_send=True),
            Div(id="chat-effects", hidden=True),
            id="chat", cls="chat-panel", hx_ext="ws", ws_connect="/chat/ws")

    ctx.side_panels.append(panel)

    @ar("/chat/status")
    async def chat_status():
        return status_view(await llm.llm.status())

    @ar("/chat/clear", methods=["post"])
    async def clear():
        await llm.assistant.clear()
        await llm.hub.send(Div(id="chat-log", hx_swap_oob="innerHTML"))  # other open windows empty too
        return ""

    async def joined(ws):
        llm.hub.join(ws)

    async def left(ws):
        llm.hub.leave(ws)

    @ar.ws("/chat/ws", conn=joined, disconn=left)
    async def chat_ws(msg: str = ""):
        text = msg.strip()
        if text:
            await llm.assistant.user_says(text[:MAX_MESSAGE])

    return ar

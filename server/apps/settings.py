"""Settings: the Ollama address, the installed models and the one to use, pulling a model; where data lives."""
import asyncio

from fasthtml.common import (H1, H2, A, APIRouter, Article, Button, Code, Div, Form, Input, Label, Li, P, Progress,
                              Small, Ul)

from ..botify.token import load_token
from ..context import MenuEntry
from ..engine.cards import error_note
from ..files import human_size
from ..layout import page
from ..llm import DEFAULT_MODEL, services
from ..llm.host import BadAddress
from ..llm.pull import Puller

ORDER = 90
MODEL_NAME_MAX = 200
ADDRESS_MAX = 300


def host_form(llm, error=None, saved="", typed=None):
    host, problem = llm.host_and_problem()
    return Form(Label("Ollama address", fr="ollama-host"),
                Div(Input(name="address", id="ollama-host", value=host if typed is None else typed,
                          placeholder=llm.configured_host, maxlength=ADDRESS_MAX,
                          aria_invalid="true" if error else None, aria_describedby="host-help"),
                    Button("Save", type="submit"), role="group"),
                error_note(error or problem),
                Small(f"Saved: {saved}." if saved else "http or https, a host and a port; "
                      "without a port, 11434 as Ollama uses. Empty: back to OLLAMA_HOST.",
                      cls="muted", id="host-help"),
                hx_post="/settings/ollama-host", hx_swap="outerHTML", id="host-form")


def thinking_form(llm):
    return Form(Label(Input(type="checkbox", role="switch", name="show", value="on", checked=llm.show_thinking,
                            hx_post="/settings/thinking", hx_trigger="change", hx_target="#thinking-form",
                            hx_swap="outerHTML"),
                      "Let thinking models reason before they answer (shown folded in the chat)"),
                id="thinking-form")


def models_view(status):
    if not status.online:
        body = P(status.problem, cls="llm-offline")
    elif not status.models:
        body = P(f"No model installed yet. Pull one below ({DEFAULT_MODEL} is small and quick).")
    else:
        items = [Li(Label(Input(type="radio", name="model", value=m, checked=m == status.model,
                                hx_post="/settings/model", hx_trigger="change", hx_target="#models",
                                hx_swap="outerHTML"), m)) for m in status.models]
        body = Div(Ul(*items, cls="plain-list"),
                   Small(f"Chats use {status.model}." if status.model else "Pick the model chats should use.",
                         cls="muted"),
                   P(f"{status.model} takes no tools: the assistant cannot act on your tasks with it.",
                     cls="muted tools-off") if status.model and not status.tools else None)
    return Div(body, id="models")


def models_loader(oob=False):
    # Loads the list after the page is shown: the screen never waits on Ollama.
    return Div(P("Checking Ollama…", cls="muted"), id="models", hx_get="/settings/models", hx_trigger="load",
               hx_swap="outerHTML", hx_swap_oob="true" if oob else None)


def pull_view(puller, error=None):
    p = puller.progress
    controls = Form(Div(Input(name="model", value=p.model if p else DEFAULT_MODEL, aria_label="Model to pull",
                              maxlength=MODEL_NAME_MAX),
                        Button("Pull", type="submit", disabled=puller.running), role="group"),
                    hx_post="/settings/pull", hx_target="#pull", hx_swap="outerHTML")
    if p is None or error:
        return Div(controls, error_note(error), id="pull")
    if not p.finished:
        bar = Div(Progress(value=p.completed, max=p.total or None, aria_label=f"Pulling {p.model}"),
                  Small(f"Downloading {p.model} — {p.percent}% ({human_size(p.completed)} of "
                        f"{human_size(p.total)})" if p.total else p.status),
                  Button("Cancel", cls="secondary small", hx_post="/settings/pull/cancel", hx_target="#pull",
                         hx_swap="outerHTML", hx_sync="#pull:replace"), cls="pull-progress")
        # Poll while the download runs; the finished view has no trigger, so polling stops by itself.
        return Div(controls, bar, id="pull", hx_get="/settings/pull", hx_trigger="every 500ms",
                   hx_swap="outerHTML")
    note = error_note(p.error) if p.error else Small(f"{p.model} is installed.", cls="pull-done")
    return Div(controls, note, id="pull")


def botify_view(cfg):
    # Only whether a token is stored and whose it is; the token itself never leaves its file.
    saved = load_token(cfg.data_dir)
    state = f"Connected as {saved.get('username') or 'an unknown user'}." if saved else "No token stored."
    return Article(H2("Botify"), P(state, " ", A("Connect to Botify", href="/botify"), " to change it."),
                   id="botify-status")


def register(ctx, rt):
    llm = services(ctx).llm
    puller = Puller(llm, ctx.spawn)
    ctx.menu.append(MenuEntry("/settings", "Settings", "Settings", 90, "The local LLM, its models, and where data lives."))

    ar = APIRouter()

    @ar("/settings", methods=["get"])
    def index():
        cfg = ctx.cfg
        return page(ctx, "Settings", H1("Settings"),
                    Article(H2("Local LLM (Ollama)"), host_form(llm),
                            models_loader(), thinking_form(llm),
                            H2("Pull a model"), pull_view(puller)),
                    botify_view(ctx.cfg),
                    Article(H2("Folders"), P("Data (the database): ", Code(str(cfg.data_dir))),
                            P("Downloads (what workflows make): ", Code(str(cfg.downloads_dir)))),
                    current="/settings")

    @ar("/settings/models", methods=["get"])
    async def models():
        return models_view(await llm.status())

    @ar("/settings/model", methods=["post"])
    async def choose(model: str = ""):
        if model in (await llm.status()).models:
            llm.choose_model(model)
        return models_view(await llm.status())

    @ar("/settings/ollama-host", methods=["post"])
    def set_host(address: str = ""):  # not `host`: FastHTML would fill that from the Host header
        try:
            saved = llm.set_host(address[:ADDRESS_MAX])  # empty: back to OLLAMA_HOST or the default
        except BadAddress as e:
            return host_form(llm, str(e), typed=address[:ADDRESS_MAX])  # the typed text stays, to be corrected
        return host_form(llm, saved=saved), models_loader(oob=True)

    @ar("/settings/thinking", methods=["post"])
    def set_thinking(show: str = ""):
        llm.set_show_thinking(show == "on")
        return thinking_form(llm)

    pull_routes(ar, puller)
    return ar


def pull_routes(ar, puller):
    """Start a pull, follow it, cancel it: one download at a time, whichever window started it."""

    @ar("/settings/pull", methods=["post"])
    async def pull(model: str = ""):
        model = model.strip()
        if not model or len(model) > MODEL_NAME_MAX or " " in model:
            return pull_view(puller, "Type a model name such as " + DEFAULT_MODEL)
        puller.start(model)
        return pull_view(puller)

    @ar("/settings/pull", methods=["get"])
    def pull_state():
        view = pull_view(puller)
        p = puller.progress
        if p and p.finished and not p.error:
            return view, models_loader(oob=True)
        return view

    @ar("/settings/pull/cancel", methods=["post"])
    async def cancel():
        if puller.running:
            task = puller.task
            puller.cancel()
            await asyncio.wait([task])
        return pull_view(puller)

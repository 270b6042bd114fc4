"""Connect to Botify: paste a token, verified against the profile call, kept owner-only in the data folder."""
from __future__ import annotations

from fasthtml.common import H1, APIRouter, Article, Button, Div, Footer, Header, HtmxHeaders, P, Redirect, Strong

from ..botify.client import BotifyClient, BotifyError
from ..botify.jobs import ANALYSIS, DEPTH, EXPORT, FIELDS
from ..botify.token import forget_token, load_token, save_token
from ..botify.ui import connect_form
from ..context import MenuEntry
from ..engine.cards import card_id, next_card
from ..layout import page, toast

ORDER = 40
MAX_TOKEN = 512
WORKFLOW = "linkgraph"
WORKFLOW_STEPS = (ANALYSIS, DEPTH, FIELDS, EXPORT)  # cards that may ask for the token


async def verify(base_url: str, token: str) -> str:
    """The username the token belongs to; BotifyError when Botify refuses it or cannot be reached."""
    async with BotifyClient(base_url, token) as api:
        profile = await api.profile()
    username = ((profile or {}).get("data") or {}).get("username") if isinstance(profile, dict) else None
    if not username:
        raise BotifyError("Botify answered the profile call without a username; is BOTIFY_API_URL right?")
    return str(username)


def clean_token(raw: str) -> str:
    token = (raw or "").strip()
    if not token:
        raise BotifyError("Paste your Botify API token first.")
    if len(token) > MAX_TOKEN or any(c.isspace() for c in token):
        raise BotifyError("That does not look like a Botify API token (one word of letters and digits).")
    return token


def register(ctx, rt):
    ctx.menu.append(MenuEntry("/botify", "Connect to Botify", "Settings", ORDER,
                              "Your Botify API token, for the link-graph workflow."))

    def status():
        saved = load_token(ctx.cfg.data_dir)
        if not saved:
            return Div(Article(Header("Connect to Botify"), connect_form(), cls="card card-form"), id="botify-connect")
        return Div(Article(Header("Connected to Botify"),
                           P("Hello, ", Strong(saved["username"], cls="botify-user"), ". Your token is stored in the "
                             "data folder, readable only by you."),
                           Footer(Button("Forget token", cls="secondary", hx_post="/botify/forget",
                                         hx_target="#botify-connect", hx_swap="outerHTML",
                                         hx_confirm="Forget the stored Botify token?")),
                           cls="card"), id="botify-connect")

    ar = APIRouter()

    @ar("/botify", methods=["get"])
    def connect_page():
        return page(ctx, "Connect to Botify", H1("Connect to Botify"), status(), current="/botify")

    @ar("/botify/connect", methods=["post"])
    async def connect(htmx: HtmxHeaders, token: str = "", pipeline_id: str = "", step: str = ANALYSIS):
        htmx = bool(htmx.request)
        in_workflow = htmx and step in WORKFLOW_STEPS and pipeline_id and ctx.runs.get(WORKFLOW, pipeline_id)
        try:
            username = await verify(ctx.cfg.botify_api_url, clean_token(token))
        except BotifyError as e:
            if in_workflow:
                form = connect_form(str(e), pipeline_id=pipeline_id, step=step, target=f"#{card_id(WORKFLOW, step)}")
                return Div(Article(Header("Connect to Botify"), form, cls="card card-form"),
                           id=card_id(WORKFLOW, step), cls="step")
            body = Div(Article(Header("Connect to Botify"), connect_form(str(e)), cls="card card-form"),
                       id="botify-connect")
            return body if htmx else page(ctx, "Connect to Botify", H1("Connect to Botify"), body, current="/botify")
        save_token(ctx.cfg.data_dir, clean_token(token), username)
        ctx.narrate(f"Connected to Botify as {username}.")
        stored = toast(f"Botify token stored (connected as {username}).")
        if in_workflow:
            return next_card(WORKFLOW, step, ctx.workflows[WORKFLOW].url(step, pipeline_id)), stored
        return (status(), stored) if htmx else Redirect("/botify")

    @ar("/botify/forget", methods=["post"])
    def forget(htmx: HtmxHeaders):
        forget_token(ctx.cfg.data_dir)
        ctx.narrate("The Botify token was forgotten.")
        return status() if htmx.request else Redirect("/botify")

    return ar

"""The page shell: head assets, the sidebar, the content column, the collapsible Assistant panel, toasts."""
from __future__ import annotations

import json

from loguru import logger

from fasthtml.common import (H2, A, Article, Aside, Button, Dialog, Div, Form, Header, HtmxResponseHeaders, HttpHeader,
                             Input, Kbd, Li, Link, Main, Meta, Nav, NotStr, Option, P, Script, Select, Span, Strong,
                             Title, Ul, to_xml)
from fasthtml.svg import Svg, Use

from .bundles import ICON_PREFIX, inline_sprite
from .current_profile import active_profiles, current_profile
from .db import store_get, store_set
from .files import folder_fault, storage_fault
from .security import csrf_token

HEAD = [
    Meta(name="viewport", content="width=device-width, initial-scale=1"),
    # Error answers (404 card, disk-full card) are swapped in like any other, so the user sees what went wrong.
    Meta(name="htmx-config", content='{"includeIndicatorStyles": false, "allowScriptTags": false, "allowEval": false, "responseHandling": '
         '[{"code": "204", "swap": false}, {"code": "[23]..", "swap": true}, '
         '{"code": "[45]..", "swap": true, "error": true}]}'),
    # pico + app.css + chat.css, htmx + its ws extension + marked + DOMPurify, app.js + markdown.js + chat.js
    # (server/bundles.py): three requests instead of ten before the page counts as loaded.
    Link(rel="stylesheet", href="/static/bundle/head.css"),
    Link(rel="icon", href="/static/icon.svg", type="image/svg+xml"),
    Script(src="/static/bundle/head.js"),
    Script(src="/static/bundle/page.js", defer=True),
]


class SharedMarkup(NotStr):
    """Pre-rendered markup that never changes: FastHTML deep-copies the app's head on every request, card fragments
    included; this one is handed out as it is (a str cannot change) instead of copied."""

    def __deepcopy__(self, memo):
        return self


def head_html(cfg) -> tuple:
    """The head, with this launch's CSRF token for the page's scripts (app.js sends it with every request)."""
    token = Meta(name="pipedeck-token", content=csrf_token(cfg))
    return (SharedMarkup("".join(to_xml(h) for h in (*HEAD, token))),)

LAST_CHOICE = "menu:last"
ASSISTANT = "shell:assistant"  # "open" or "collapsed": the user's last choice on a wide window
GROUPS = ("Workflows", "Tools", "Settings")
SPRITE = SharedMarkup(inline_sprite())  # in every full page, so an icon costs no request


def icon(name: str, label: str | None = None):
    """A Lucide icon from the sprite inlined in the page (no emoji font needed); decorative unless it has a label."""
    return Svg(Use(href=f"#{ICON_PREFIX}{name}"), cls="icon", aria_hidden=None if label else "true",
               role="img" if label else None, aria_label=label)


def toast(text: str, kind: str = "ok") -> HttpHeader:
    """A response header that makes static/app.js show a short notice, for an action that finished elsewhere."""
    return HtmxResponseHeaders(trigger=json.dumps({"pd-toast": {"text": text, "kind": kind}}))


def menu_group(entry) -> str:
    return "Tools" if entry.group == "Apps" else entry.group


def profile_chooser(ctx):
    """The current profile, chosen here for every screen (tasks are listed under it)."""
    profiles = active_profiles(ctx.db)
    if not profiles:
        return P(A("Add a profile", href="/profiles"), cls="profile-chooser")
    current = current_profile(ctx.db)
    options = [Option(p.menu_name, value=p.id, selected=p.id == current.id) for p in profiles]
    return Form(Select(*options, name="pid", aria_label="Current profile", hx_post="/profiles/current",
                       hx_trigger="change", hx_swap="none"),
                cls="profile-chooser", title="The current profile (client)")


def menu(ctx, current: str | None):
    groups: dict[str, list] = {g: [] for g in GROUPS}
    for entry in sorted(ctx.menu, key=lambda e: (e.order, e.label)):
        link = A(entry.label, href=entry.path, title=entry.label, aria_current="page" if entry.path == current else None)
        groups.setdefault(menu_group(entry), []).append(Li(link))
    sections = [Div(H2(group), Ul(*links, aria_label=group), cls="menu-group") for group, links in groups.items()
                if links]
    return Nav(A(icon("house"), Strong("Pipedeck"), href="/", cls="brand"),
               Button(icon("search"), Span("Go to…"), Kbd("Ctrl K"), type="button", cls="outline secondary switch",
                      data_switcher_open=True, title="Go to any workflow, app or recent run (Ctrl+K)"),
               profile_chooser(ctx), *sections, cls="app-menu sidebar", id="app-menu", aria_label="Main")


def switcher():
    # Filled and filtered by the server (/switcher); static/app.js opens it on Ctrl+K and moves the selection.
    return Dialog(Form(Input(type="search", name="q", placeholder="Go to a workflow, app or recent run…",
                             aria_label="Go to", autocomplete="off", hx_get="/switcher",
                             hx_trigger="input changed delay:80ms", hx_target="#switcher-results"),
                       Ul(id="switcher-results", role="listbox", aria_label="Matches"), method="dialog"),
                  id="switcher", cls="switcher")


def assistant(panels, open_: bool):
    return Aside(Button(icon("panel-right-close"), icon("message-square"), type="button",
                        cls="assistant-toggle secondary outline", aria_controls="side",
                        aria_expanded="true" if open_ else "false", aria_label="Show or hide the Assistant"),
                 Div(*panels, cls="side-panels"), id="side", cls="side")


def remember_choice(ctx, path: str | None):
    """Remember the menu choice; with a full or read-only data folder the page still shows, with a notice instead."""
    try:
        if path and store_get(ctx.db, LAST_CHOICE) != path:
            store_set(ctx.db, LAST_CHOICE, path)
        fault = folder_fault(ctx.cfg.data_dir)
    except Exception as exc:
        if (fault := storage_fault(exc)) is None:
            raise
        logger.warning("could not remember the menu choice: {}", exc)
    if fault is None:
        return None
    where = ctx.cfg.data_dir
    text = (f"The disk is full ({where}): pages still show, but nothing can be saved until some space is freed."
            if fault == "full" else
            f"The data folder is read-only ({where}): pages still show, but nothing can be saved until it is "
            "writable again.")
    return Article(Header("Pipedeck cannot save changes right now"), P(text), cls="card card-error storage-notice",
                   role="alert")


def last_choice(ctx) -> str | None:
    return store_get(ctx.db, LAST_CHOICE)


def wants_fragment(req) -> bool:
    """Scripts (htmx, fetch) put an answer into the page: they get the card alone; a navigation, the full page."""
    if req.headers.get("hx-request"):
        return True
    if mode := req.headers.get("sec-fetch-mode"):
        return mode != "navigate"
    # A client that does not say: a GET, or anything asking for HTML, loads a page; other calls get the card.
    return req.method != "GET" and "text/html" not in req.headers.get("accept", "")


def page(ctx, title: str, *content, current: str | None = None, wide: bool = False):
    """A full screen; `current` is the menu path, remembered as the user's last choice. `wide` content (the graph
    viewer, big tables) starts with the Assistant collapsed, whatever the user chose elsewhere."""
    notice = remember_choice(ctx, current)
    panels = [panel() for panel in ctx.side_panels]
    state = "collapsed" if wide or store_get(ctx.db, ASSISTANT) == "collapsed" else "open"
    return (Title(f"{title} · Pipedeck"),
            Div(menu(ctx, current),
                Main(Div(notice, *content, id="content", cls="content"), cls="main"),
                assistant(panels, state == "open") if panels else None,
                Div(id="toasts", cls="toasts", role="status", aria_live="polite"),
                switcher(), SPRITE,
                cls="shell" + (" wide" if wide else ""), data_assistant=state if panels else "none"))

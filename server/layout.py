"""The page shell: head assets, the menu, the content column and the side panel."""
from __future__ import annotations

from fasthtml.common import (A, Article, Aside, Div, Header, Li, Link, Main, Meta, Nav, NotStr, P, Script, Strong, Title,
                             Ul, to_xml)
from loguru import logger

from .db import store_get, store_set
from .files import folder_fault, storage_fault
from .security import csrf_token

HEAD = (
    Meta(name="viewport", content="width=device-width, initial-scale=1"),
    # Error answers (404 card, disk-full card) are swapped in like any other, so the user sees what went wrong.
    Meta(name="htmx-config", content='{"includeIndicatorStyles": false, "allowScriptTags": false, "allowEval": false, "responseHandling": '
         '[{"code": "204", "swap": false}, {"code": "[23]..", "swap": true}, '
         '{"code": "[45]..", "swap": true, "error": true}]}'),
    Link(rel="stylesheet", href="/static/vendor/pico.min.css"),
    Link(rel="stylesheet", href="/static/app.css"),
    Link(rel="icon", href="/static/icon.svg", type="image/svg+xml"),
    Script(src="/static/vendor/htmx.min.js"),
    Script(src="/static/vendor/htmx-ext-ws.min.js"),
    Script(src="/static/vendor/Sortable.min.js"),
    Script(src="/static/vendor/marked.min.js"),
    Script(src="/static/vendor/purify.min.js"),
    Script(src="/static/app.js", defer=True),
    Script(src="/static/markdown.js", defer=True),
    Script(src="/static/chat.js", defer=True),
)


def head_html(cfg) -> tuple:
    """The head, with this launch's CSRF token for the page's scripts (app.js sends it with every request)."""
    token = Meta(name="pipedeck-token", content=csrf_token(cfg))
    # FastHTML deep-copies its head elements on every request; one pre-rendered string copies for free.
    return (NotStr("".join(to_xml(h) for h in (*HEAD, token))),)

LAST_CHOICE = "menu:last"


def menu(ctx, current: str | None):
    groups: dict[str, list] = {}
    for entry in sorted(ctx.menu, key=lambda e: (e.group != "Workflows", e.order, e.label)):
        link = A(entry.label, href=entry.path, aria_current="page" if entry.path == current else None)
        groups.setdefault(entry.group, []).append(Li(link))
    items = [Li(A(Strong("Pipedeck"), href="/", cls="brand"))]
    for group, links in groups.items():
        items.append(Li(Ul(*links, cls="menu-group", aria_label=group)))
    return Nav(Ul(*items), cls="app-menu container-fluid")


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


def page(ctx, title: str, *content, current: str | None = None):
    """A full screen; `current` is the menu path, remembered as the user's last choice."""
    notice = remember_choice(ctx, current)
    panels = [panel() for panel in ctx.side_panels]
    return (Title(f"{title} · Pipedeck"),
            menu(ctx, current),
            Main(Div(notice, *content, id="content", cls="content"),
                 Aside(*panels, id="side", cls="side") if panels else None,
                 cls="container-fluid layout"))

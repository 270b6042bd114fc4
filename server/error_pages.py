"""The card every exception a route lets out becomes: a status that says what happened and a way forward,
swapped into the page for htmx, a full page for a navigation."""
from __future__ import annotations

import errno
import json
from collections.abc import Callable

import apsw
from fasthtml.common import A, FtResponse, Main, Title, to_xml
from fastlite import NotFoundError
from loguru import logger
from python_multipart.exceptions import FormParserError
from starlette.responses import HTMLResponse

from . import layout
from .engine.cards import message_card
from .engine.workflow import NotFound
from .files import storage_problem, storage_status

UNREADABLE_BODY = (json.JSONDecodeError, UnicodeDecodeError, FormParserError)
# What FastHTML hands to the error page: these statuses and every exception a route lets out.
HANDLED = (404, 413, 500, NotFoundError, OverflowError, OSError, apsw.Error, *UNREADABLE_BODY, Exception)


class ErrorPages:
    """One handler for every status and exception in HANDLED. `explainers` turn an exception raised in a file the
    user can fix (a workflow, with --dev an app) into a card naming its file and line."""

    def __init__(self, ctx, log_file):
        self.ctx, self.log_file = ctx, log_file
        self.explainers: list[Callable] = []

    def handlers(self) -> dict:
        return dict.fromkeys(HANDLED, self)

    def __call__(self, req, exc):
        if req.scope["type"] == "websocket":
            raise exc  # a socket has no page to show; the server closes it (1011) as before
        status, card = self.card(req, exc)
        if layout.wants_fragment(req):
            return HTMLResponse(to_xml(card), status_code=status)
        try:
            return FtResponse(layout.page(self.ctx, "Error", card), status_code=status)
        except Exception:  # the page around the card needs the database; the card alone still says what happened
            logger.exception("could not render the page around an error card")
            return FtResponse((Title("Error · Pipedeck"), Main(card, cls="container")), status_code=status)

    def card(self, req, exc) -> tuple[int, object]:
        # A record id that does not exist (never did, another tab deleted it, or beyond SQLite's 64-bit range)
        # is "not found", not a crash.
        status = 404 if isinstance(exc, (NotFoundError, OverflowError)) else getattr(exc, "status_code", 500)
        if isinstance(exc, OSError) and exc.errno == errno.ENAMETOOLONG:
            status = 404  # a name longer than the file system allows: no such file can exist
        if problem := storage_problem(exc):
            logger.warning("could not write while serving {}: {}", req.url.path, exc)
            return storage_status(exc), message_card("Could not save", problem, cls="card-error")
        if isinstance(exc, UNREADABLE_BODY):
            # Older python-fasthtml/starlette (nixpkgs ships them) let a malformed JSON or multipart body escape
            # the route; newer ones answer 400 themselves.
            return 400, message_card("Bad request", "The request's body could not be read; nothing was changed.",
                                     cls="card-error")
        if status == 413:  # a body past its limit, counted as it arrived (server.security)
            return 413, message_card("Too large", exc.detail, cls="card-error")
        if status == 404:
            message = exc.detail if isinstance(exc, NotFound) else "There is nothing at this address."
            return 404, message_card("Not found", message, A("Back", href=getattr(exc, "back", "/")), cls="card-error")
        logger.opt(exception=exc).error("error serving {}", req.url.path)
        status = status if 400 <= status < 600 else 500
        explained = next((card for explain in self.explainers if (card := explain(exc)) is not None), None)
        return status, explained or message_card(
            "Something went wrong", "Pipedeck could not finish this request. Nothing was lost: "
            f"your runs are saved. Try again; if it persists, the details are in {self.log_file}.", cls="card-error")

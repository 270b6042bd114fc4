"""Every page's CSS and scripts served as a few joined files: Chromium opens six connections to a host, so ten small
files made four wait behind the others before the page could load. The source files stay separate for readers."""
from __future__ import annotations

import hashlib
import re
from pathlib import Path

from starlette.responses import Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from .config import STATIC_DIR

# Joined in this order, as the page listed them. `head.js` runs where it stands (page scripts call htmx as they load);
# `page.js` is deferred (it reads the page's markup).
BUNDLES = {
    "head.css": ("vendor/pico.min.css", "app.css", "chat.css"),
    "head.js": ("vendor/htmx.min.js", "vendor/htmx-ext-ws.min.js", "vendor/marked.min.js", "vendor/purify.min.js"),
    "page.js": ("app.js", "markdown.js", "chat.js"),
}
SPRITE = STATIC_DIR / "vendor" / "lucide" / "sprite.svg"
ICON_PREFIX = "icon-"  # the inlined symbols' ids, kept apart from the page's own ids


class Bundle:
    """One joined file, rebuilt when a part changed (editing app.css with --dev shows on the next load)."""

    def __init__(self, name: str, parts: tuple[str, ...], folder: Path = STATIC_DIR):
        self.paths = [folder / part for part in parts]
        self.media = "text/css" if name.endswith(".css") else "text/javascript"
        self.stamp: tuple = ()
        self.body, self.etag = b"", ""

    def current(self) -> tuple[bytes, str]:
        stamp = tuple(p.stat().st_mtime_ns for p in self.paths)
        if stamp != self.stamp:
            # A newline (and `;` for scripts) between parts: a file ending without one must not run into the next.
            sep = b"\n" if self.media == "text/css" else b";\n"
            self.body = sep.join(p.read_bytes() for p in self.paths)
            self.etag, self.stamp = f'"{hashlib.sha1(self.body).hexdigest()[:16]}"', stamp
        return self.body, self.etag

    async def respond(self, request) -> Response:
        body, etag = self.current()
        headers = {"etag": etag, "cache-control": "no-cache"}  # the browser asks again, and gets 304 when unchanged
        if request.headers.get("if-none-match") == etag:
            return Response(status_code=304, headers=headers)
        return Response(body, media_type=self.media, headers=headers)


def static_mount() -> Mount:
    """/static: the joined files under /static/bundle/, every source file as it is."""
    bundles = [Route(f"/bundle/{name}", Bundle(name, parts).respond) for name, parts in BUNDLES.items()]
    return Mount("/static", routes=[*bundles, Mount("/", StaticFiles(directory=STATIC_DIR))], name="static")


def inline_sprite(path: Path = SPRITE) -> str:
    """The icon sprite as hidden markup for the page itself: fetched as a file, Chromium asked for it only after
    layout, a last request before the page counted as loaded."""
    svg = path.read_text(encoding="utf-8")
    svg = svg[svg.index("?>") + 2:].strip()  # no XML declaration inside HTML
    svg = re.sub(r'\bid="', f'id="{ICON_PREFIX}', svg)
    return svg.replace("<svg ", '<svg hidden aria-hidden="true" ', 1)

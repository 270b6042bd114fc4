"""An ASGI front that listens before the app exists: requests wait until the app is built and started.

The window can then ask for the home page the moment it appears, with no holding page in between: one page load
and one Chromium renderer, instead of a "Starting…" document and a second renderer for the app's own site."""
from __future__ import annotations

import asyncio
import html
import threading

# A navigation still waiting after this long gets a self-refreshing notice, so a slow first start (a database
# being recovered) never looks like a hung window; the refresh asks again and waits again.
HOLD_SECONDS = 2.0
HOLDING_PAGE = ("<!doctype html><html><head><meta http-equiv='refresh' content='1'><title>Pipedeck</title></head>"
                "<body style='margin:0;height:100vh;display:grid;place-items:center;font:16px system-ui,sans-serif;"
                "color:#667;background:#fff'>Starting Pipedeck…</body></html>").encode()


class Gate:
    """`Gate()` is served at once; `open(app)` (from any thread) lets requests through, `fail(message)` refuses them."""

    def __init__(self):
        self.app = None
        self.error: str | None = None
        self._lock = threading.Lock()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._built: asyncio.Event | None = None
        self._started: asyncio.Event | None = None

    def open(self, app) -> None:
        self._settle(app=app)

    def fail(self, message: str) -> None:
        self._settle(error=message)

    def _settle(self, app=None, error: str | None = None) -> None:
        with self._lock:
            self.app, self.error = app, error
            loop, built = self._loop, self._built
        if loop is not None:
            try:
                loop.call_soon_threadsafe(built.set)
            except RuntimeError:  # the server already stopped (the window was closed while the app was built)
                pass

    async def __call__(self, scope, receive, send):
        if scope["type"] == "lifespan":
            return await self._lifespan(scope, receive, send)
        # The server serves only after its lifespan start-up, so _started exists by the first request.
        if not self._started.is_set() and not await self._wait_started(scope, send):
            return
        if self.app is None:
            return await _refuse(scope, send, self.error or "Pipedeck could not start.")
        await self.app(scope, receive, send)

    async def _wait_started(self, scope, send) -> bool:
        """True once the app runs; False when a navigation got the holding page instead."""
        if not _is_navigation(scope):
            await self._started.wait()
            return True
        try:
            await asyncio.wait_for(asyncio.shield(self._started.wait()), HOLD_SECONDS)
            return True
        except asyncio.TimeoutError:
            await _respond(send, 200, HOLDING_PAGE, "text/html; charset=utf-8")
            return False

    async def _lifespan(self, scope, receive, send) -> None:
        """Tell the server it may serve now, and run the app's own start-up and shut-down once it is built."""
        await receive()  # lifespan.startup
        with self._lock:
            self._loop = asyncio.get_running_loop()
            self._built, self._started = asyncio.Event(), asyncio.Event()
            if self.app is not None or self.error is not None:
                self._built.set()
        await send({"type": "lifespan.startup.complete"})
        inbox: asyncio.Queue = asyncio.Queue()
        stopped = asyncio.Event()
        inner = asyncio.create_task(self._run_app_lifespan(scope, inbox, stopped))
        await receive()  # lifespan.shutdown
        if self._started.is_set() and self.app is not None:
            await inbox.put({"type": "lifespan.shutdown"})
            await stopped.wait()
        inner.cancel()
        await send({"type": "lifespan.shutdown.complete"})

    async def _run_app_lifespan(self, scope, inbox: asyncio.Queue, stopped: asyncio.Event) -> None:
        await self._built.wait()
        if self.app is None:
            self._started.set()  # waiting requests are refused with the error
            return

        async def app_send(message):
            kind = message["type"]
            if kind == "lifespan.startup.failed":
                self.app, self.error = None, f"Pipedeck could not start: {message.get('message', '')}"
            if kind.startswith("lifespan.startup"):
                self._started.set()
            elif kind.startswith("lifespan.shutdown"):
                stopped.set()

        await inbox.put({"type": "lifespan.startup"})
        try:
            await self.app(scope, inbox.get, app_send)
        finally:
            self._started.set()
            stopped.set()


def _is_navigation(scope) -> bool:
    """A page load (the window's, a browser tab's), as opposed to a script's call or a health check."""
    accept = dict(scope.get("headers", [])).get(b"accept", b"")
    return scope["type"] == "http" and scope["method"] == "GET" and b"text/html" in accept


async def _respond(send, status: int, body: bytes, content_type: str) -> None:
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", content_type.encode()), (b"cache-control", b"no-store")]})
    await send({"type": "http.response.body", "body": body})


async def _refuse(scope, send, message: str) -> None:
    if scope["type"] == "websocket":
        await send({"type": "websocket.close", "code": 1011})
        return
    if scope["type"] == "http":
        body = f"<!doctype html><title>Pipedeck</title><p>{html.escape(message)}</p>".encode()
        await _respond(send, 503, body, "text/html; charset=utf-8")

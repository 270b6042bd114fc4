"""Talking to Ollama: a short, cached status check, chat and pull streams, the chosen model and address."""
from __future__ import annotations

import asyncio
import functools
import time
from dataclasses import dataclass, field

from typing import TYPE_CHECKING

from ..db import store_get, store_set
from .host import checked_host, parse_host
from .models import Capabilities, full_name
from .stream import Refused, chat_stream

if TYPE_CHECKING:
    import ollama
# `ollama` itself (with pydantic, a quarter of a second) is imported on the first pull only; chats read the wire.
# httpx on the first status check, after the first page is shown (it also loads its command line: rich, pygments).

DEFAULT_MODEL = "qwen2.5:0.5b"  # ~400 MB: small enough to pull quickly, good enough for narration and tools
HOST_KEY, MODEL_KEY, THINKING_KEY = "llm:host", "llm:model", "llm:show-thinking"
STATUS_TTL = 2.0  # seconds a status answer is reused, so every page and poll stays cheap
CHECK_TIMEOUT = 1.5


def tls(host: str):
    """The TLS context for a client of `host`, one for every client: building one reads the CA bundle (~50 ms, on the
    event loop), which a status check every STATUS_TTL seconds did while cards were being answered. Over http (Ollama's
    default) no TLS is spoken and no bundle is read (1.4 MiB, on the home page's first status check): that context
    verifies and trusts nothing, so no https answer could ever be accepted through it."""
    return _ca_context() if host.lower().startswith("https:") else _no_ca_context()


@functools.cache
def _ca_context():
    import httpx

    return httpx.create_ssl_context()


@functools.cache
def _no_ca_context():
    import ssl

    return ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)  # verifies certificates and host names; no authority loaded


class LLMUnavailable(RuntimeError):
    """Ollama cannot answer: not running, unreachable, or no model installed. The message is for the user."""


@dataclass
class Status:
    host: str
    online: bool = False
    version: str = ""
    models: list[str] = field(default_factory=list)
    model: str | None = None  # the model chats will use, when one is installed
    error: str = ""
    capabilities: frozenset | None = None  # what /api/show says the model can do; None when the server does not say
    host_problem: str = ""  # why the saved address was refused (the configured one is used instead)

    @property
    def tools(self) -> bool:
        """Whether chats send tools: Ollama answers 400 "... does not support tools" to models without them."""
        return self.capabilities is None or "tools" in self.capabilities

    @property
    def thinks(self) -> bool:
        return self.capabilities is not None and "thinking" in self.capabilities

    @property
    def ready(self) -> bool:
        return self.online and self.model is not None

    @property
    def problem(self) -> str:
        """What stops the LLM from answering, in words for the panel; empty when ready."""
        if not self.online:
            return (f"Local LLM offline — start Ollama (run “ollama serve”) or set its address in Settings. "
                    f"Tried {self.host}.")
        if not self.models:
            return f"Ollama is running but has no model. Pull one in Settings (e.g. {DEFAULT_MODEL})."
        if self.model is None:
            return "The chosen model is not installed. Pick another one in Settings."
        return ""


class LLM:
    """One per app. Every call opens its own short-lived client, so a changed address applies at once."""

    def __init__(self, ctx):
        self.ctx = ctx
        self._status: Status | None = None
        self._checked = 0.0
        self._check_lock = asyncio.Lock()
        self._client: httpx.AsyncClient | None = None
        self._client_host = ""
        self.capabilities = Capabilities()

    @property
    def configured_host(self) -> str:
        """OLLAMA_HOST (or the default), read as Ollama's own client reads it."""
        return checked_host(self.ctx.cfg.ollama_host)[0]

    def host_and_problem(self) -> tuple[str, str]:
        """The address in use and, if the saved one is unusable (saved by an older version), why it is ignored."""
        saved = store_get(self.ctx.db, HOST_KEY)
        if not saved:
            return self.configured_host, ""
        host, problem = checked_host(saved, self.configured_host)
        return host, (f"The saved address “{saved}” is not usable ({problem}) so {host} is used." if problem else "")

    @property
    def host(self) -> str:
        return self.host_and_problem()[0]

    def set_host(self, host: str) -> str:
        """Save an address (empty: back to OLLAMA_HOST); BadAddress, with the reason, when it is not usable."""
        host = parse_host(host) if host.strip() else ""
        store_set(self.ctx.db, HOST_KEY, host)
        self.forget_status()
        return host or self.configured_host

    @property
    def show_thinking(self) -> bool:
        return store_get(self.ctx.db, THINKING_KEY) != "off"

    def set_show_thinking(self, on: bool) -> None:
        store_set(self.ctx.db, THINKING_KEY, "on" if on else "off")

    @property
    def chosen_model(self) -> str:
        return store_get(self.ctx.db, MODEL_KEY) or DEFAULT_MODEL

    def choose_model(self, name: str) -> None:
        store_set(self.ctx.db, MODEL_KEY, full_name(name))
        self.forget_status()

    def forget_status(self) -> None:
        self._status, self._checked = None, 0.0

    def cached_status(self) -> Status | None:
        """The last check's answer for the current address, without checking (for pages that must not wait)."""
        return self._status if self._status and self._status.host == self.host else None

    def _fresh_status(self) -> Status | None:
        """The last answer while it is fresh and for the current address (a changed address is checked anew)."""
        fresh = time.monotonic() - self._checked < STATUS_TTL
        return self._status if self._status and fresh and self._status.host == self.host else None

    def reused_status(self) -> Status | None:
        """What `status()` would answer right now without checking (a fresh answer, no check under way), else None."""
        return None if self._check_lock.locked() else self._fresh_status()

    async def status(self) -> Status:
        """Ollama's state, checked at most every few seconds and never waiting more than CHECK_TIMEOUT."""
        async with self._check_lock:  # concurrent pages share one check
            if known := self._fresh_status():
                return known
            self._status = await self._check()
            self._checked = time.monotonic()
            return self._status

    async def _check(self) -> Status:
        import httpx

        host, problem = self.host_and_problem()
        status = Status(host=host, host_problem=problem)
        try:
            async with httpx.AsyncClient(base_url=status.host, timeout=CHECK_TIMEOUT, verify=tls(status.host)) as http:
                tags = (await http.get("/api/tags")).raise_for_status().json()
                status.version = (await http.get("/api/version")).json().get("version", "")
                status.online = True
                status.models = sorted(m.get("model") or m.get("name") for m in tags.get("models", []))
                status.model = self._pick(status.models)
                if status.model:
                    status.capabilities = await self.capabilities.get(http, status.model)
        except (httpx.HTTPError, ValueError) as e:
            status.online, status.error = False, str(e) or type(e).__name__
        return status

    def _pick(self, installed: list[str]) -> str | None:
        chosen = full_name(self.chosen_model)  # "llama3.2" is installed as "llama3.2:latest"
        match = next((m for m in installed if full_name(m) == chosen), None)
        if match is None and store_get(self.ctx.db, MODEL_KEY) is None and installed:
            match = installed[0]  # nothing picked yet: any installed model beats none
        return match

    async def require(self) -> Status:
        status = await self.status()
        if not status.ready:
            raise LLMUnavailable(status.problem)
        return status

    async def chat(self, messages: list[dict], tools: list[dict] | None = None):
        """Yield Ollama's streamed chat parts (see stream.py); LLMUnavailable when it cannot start.

        Tools go only to models that take them, and a thinking model is told whether to think (Settings);
        its reasoning arrives in `part.message.thinking`, apart from the answer in `part.message.content`."""
        # A known-good status is trusted here, however old: a broken stream forgets it, and checking before every
        # answer would add two round trips to the first token.
        status = self.cached_status()
        if status is None or not status.ready:
            status = await self.require()
        tools = tools if tools and status.tools else None
        think = self.show_thinking if status.thinks else None  # `think` to a model that cannot think is a 400
        try:
            async for part in self._stream(status, messages, tools, think):
                yield part
        except Refused as e:
            if not (tools and "does not support tools" in e.error):
                self.forget_status()
                raise LLMUnavailable(f"Ollama refused the request: {e.error}") from e
            # An Ollama whose /api/show did not list capabilities: learn it from the refusal, ask again without.
            self.capabilities.without(status.host, status.model, "tools")
            self.forget_status()
            async for part in self._stream(status, messages, None, think):
                yield part

    async def _stream(self, status: Status, messages: list[dict], tools, think):
        import httpx

        body = {"model": status.model, "messages": messages}
        body |= {"tools": tools} if tools else {}
        body |= {} if think is None else {"think": think}
        try:
            async for part in chat_stream(self.client_for(status.host), body):
                yield part
        except (httpx.HTTPError, ConnectionError) as e:
            self.forget_status()
            raise LLMUnavailable(f"The connection to Ollama broke ({type(e).__name__}). "
                                 "Is it still running?") from e
        except ValueError as e:  # a line that is not JSON: not an Ollama at this address
            self.forget_status()
            raise LLMUnavailable(f"Ollama's answer could not be read ({e}).") from e

    def client_for(self, host: str) -> httpx.AsyncClient:
        """One client per address, kept: a new one costs milliseconds (TLS setup) before the first token."""
        import httpx

        if self._client is None or self._client_host != host:
            # The previous client is left to the garbage collector: a stream may still be reading from it.
            self._client = httpx.AsyncClient(base_url=host, timeout=httpx.Timeout(300, connect=CHECK_TIMEOUT),
                                             verify=tls(host))
            self._client_host = host
        return self._client

    async def pull(self, model: str):
        """Yield Ollama's pull progress parts (status, total, completed)."""
        import httpx
        import ollama

        # The connections are ours to close: ollama 0.6 (nixpkgs) has no AsyncClient.close(), and the client hands
        # its keyword arguments to httpx (ollama-python's README), so it gets a transport we close ourselves.
        transport = httpx.AsyncHTTPTransport(verify=tls(self.host))
        client = ollama.AsyncClient(host=self.host, timeout=httpx.Timeout(None, connect=CHECK_TIMEOUT),
                                    transport=transport)
        try:
            async for part in await client.pull(model, stream=True):
                yield part
        finally:
            await transport.aclose()
            self.capabilities.forget()
            self.forget_status()

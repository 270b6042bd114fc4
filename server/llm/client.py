"""Talking to Ollama: a short, cached status check, chat and pull streams, the chosen model and address."""
from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field

from typing import TYPE_CHECKING

from ..db import store_get, store_set

if TYPE_CHECKING:
    import ollama
# `ollama` itself (with pydantic, a quarter of a second) is imported on the first chat or pull, not at every start;
# httpx on the first status check, after the first page is shown (it also loads its command line: rich, pygments).

DEFAULT_MODEL = "qwen2.5:0.5b"  # ~400 MB: small enough to pull quickly, good enough for narration and tools
HOST_KEY, MODEL_KEY = "llm:host", "llm:model"
STATUS_TTL = 2.0  # seconds a status answer is reused, so every page and poll stays cheap
CHECK_TIMEOUT = 1.5


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

    @property
    def ready(self) -> bool:
        return self.online and self.model is not None

    @property
    def problem(self) -> str:
        """What stops the LLM from answering, in words for the panel; empty when ready."""
        if not self.online:
            return (f"Local LLM offline — start Ollama (`ollama serve`) or set its address in Settings. "
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
        self._client: ollama.AsyncClient | None = None
        self._client_host = ""

    @property
    def host(self) -> str:
        return store_get(self.ctx.db, HOST_KEY) or self.ctx.cfg.ollama_host

    def set_host(self, host: str) -> None:
        host = host.strip()
        if host and not host.startswith(("http://", "https://")):
            host = "http://" + host
        store_set(self.ctx.db, HOST_KEY, host)
        self.forget_status()

    @property
    def chosen_model(self) -> str:
        return store_get(self.ctx.db, MODEL_KEY) or DEFAULT_MODEL

    def choose_model(self, name: str) -> None:
        store_set(self.ctx.db, MODEL_KEY, name)
        self.forget_status()

    def forget_status(self) -> None:
        self._status, self._checked = None, 0.0

    def cached_status(self) -> Status | None:
        """The last check's answer for the current address, without checking (for pages that must not wait)."""
        return self._status if self._status and self._status.host == self.host else None

    async def status(self) -> Status:
        """Ollama's state, checked at most every few seconds and never waiting more than CHECK_TIMEOUT."""
        async with self._check_lock:  # concurrent pages share one check
            fresh = time.monotonic() - self._checked < STATUS_TTL
            if self._status and fresh and self._status.host == self.host:  # a changed address is checked anew
                return self._status
            self._status = await self._check()
            self._checked = time.monotonic()
            return self._status

    async def _check(self) -> Status:
        import httpx

        status = Status(host=self.host)
        try:
            async with httpx.AsyncClient(base_url=status.host, timeout=CHECK_TIMEOUT) as http:
                tags = (await http.get("/api/tags")).raise_for_status().json()
                status.version = (await http.get("/api/version")).json().get("version", "")
        except (httpx.HTTPError, ValueError) as e:
            status.error = str(e) or type(e).__name__
            return status
        status.online = True
        status.models = sorted(m.get("model") or m.get("name") for m in tags.get("models", []))
        chosen = self.chosen_model
        if chosen in status.models:
            status.model = chosen
        elif store_get(self.ctx.db, MODEL_KEY) is None and status.models:
            status.model = status.models[0]  # nothing picked yet: any installed model beats none
        return status

    async def require(self) -> Status:
        status = await self.status()
        if not status.ready:
            raise LLMUnavailable(status.problem)
        return status

    async def chat(self, messages: list[dict], tools: list[dict] | None = None):
        """Yield Ollama's streamed ChatResponse parts; LLMUnavailable when it cannot start."""
        # A known-good status is trusted here, however old: a broken stream forgets it, and checking before every
        # answer would add two round trips to the first token.
        import httpx
        import ollama

        status = self.cached_status()
        if status is None or not status.ready:
            status = await self.require()
        client = self.client_for(status.host)
        try:
            # The stream connects on its first part, so every failure surfaces inside this loop.
            async for part in await client.chat(model=status.model, messages=messages, tools=tools or None,
                                                stream=True):
                yield part
        except (httpx.HTTPError, ConnectionError) as e:
            self.forget_status()
            raise LLMUnavailable(f"The connection to Ollama broke ({type(e).__name__}). "
                                 "Is it still running?") from e
        except ollama.ResponseError as e:
            self.forget_status()
            raise LLMUnavailable(f"Ollama refused the request: {e.error}") from e

    def client_for(self, host: str) -> ollama.AsyncClient:
        """One client per address, kept: a new one costs milliseconds (TLS setup) before the first token."""
        import httpx
        import ollama

        if self._client is None or self._client_host != host:
            # The previous client is left to the garbage collector: a stream may still be reading from it.
            self._client = ollama.AsyncClient(host=host, timeout=httpx.Timeout(300, connect=CHECK_TIMEOUT))
            self._client_host = host
        return self._client

    async def pull(self, model: str):
        """Yield Ollama's pull progress parts (status, total, completed)."""
        import httpx
        import ollama

        client = ollama.AsyncClient(host=self.host, timeout=httpx.Timeout(None, connect=CHECK_TIMEOUT))
        try:
            async for part in await client.pull(model, stream=True):
                yield part
        finally:
            # ollama 0.6 (nixpkgs) has no AsyncClient.close(); its httpx client is closed directly there.
            await (client.close() if hasattr(client, "close") else client._client.aclose())
            self.forget_status()

"""Ollama's streamed chat read straight off the wire (docs/api.md "Generate a chat completion": NDJSON lines).

The parts look like ollama-python's ChatResponse where the app reads them (`part.message.content`, `.thinking`,
`.tool_calls[i].function.name/.arguments`, `part.done`), without building a pydantic model per token: on a fast
model that validation was a fifth of the app's time per token."""
from __future__ import annotations

import json
from types import SimpleNamespace
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import httpx  # annotations only: httpx is imported by the client that makes the calls


class Refused(Exception):
    """Ollama answered with an error: a 4xx/5xx before streaming, or an `error` line inside the stream."""

    def __init__(self, error: str, status_code: int):
        super().__init__(error)
        self.error, self.status_code = error, status_code


class Message:
    __slots__ = ("role", "content", "thinking", "tool_calls")

    def __init__(self, m: dict):
        self.role = m.get("role", "assistant")
        self.content = m.get("content") or ""
        self.thinking = m.get("thinking") or None
        calls = m.get("tool_calls") or ()
        self.tool_calls = [SimpleNamespace(function=SimpleNamespace(name=c["function"].get("name", ""),
                                                                   arguments=c["function"].get("arguments") or {}))
                           for c in calls if isinstance(c, dict) and isinstance(c.get("function"), dict)] or None


class ChatPart:
    __slots__ = ("message", "done", "done_reason")

    def __init__(self, line: dict):
        self.message = Message(line.get("message") or {})
        self.done = bool(line.get("done"))
        self.done_reason = line.get("done_reason")


def _error_text(body: bytes) -> str:
    try:
        return str(json.loads(body).get("error") or body.decode(errors="replace"))
    except (ValueError, AttributeError):
        return body.decode(errors="replace")[:300]


async def chat_stream(http: httpx.AsyncClient, body: dict):
    """Yield ChatParts of one streamed /api/chat answer; Refused for Ollama's errors, httpx errors as they come."""
    async with http.stream("POST", "/api/chat", json={**body, "stream": True}) as response:
        if response.status_code != 200:
            raise Refused(_error_text(await response.aread()), response.status_code)
        pending = b""
        async for chunk in response.aiter_bytes():
            *lines, pending = (pending + chunk).split(b"\n")
            for line in lines:
                if line.strip():
                    yield _part(line, response.status_code)
        if pending.strip():
            yield _part(pending, response.status_code)


# A str decoder: json.loads on bytes first guesses each line's encoding, which took longer than the parse (measured:
# 7.1 us a line against 4.2 us decoding UTF-8 first); Ollama's NDJSON is UTF-8 (json.loads would accept it too).
_decode = json.JSONDecoder().decode


def _part(line: bytes, status_code: int) -> ChatPart:
    data = _decode(line.decode("utf-8", "surrogatepass"))
    if "error" in data:  # the server failed mid-answer: ollama-python raises ResponseError here too
        raise Refused(str(data["error"]), status_code)
    return ChatPart(data)

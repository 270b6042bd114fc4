"""A fake Ollama speaking the real HTTP API on 127.0.0.1: version, tags, chat (NDJSON stream, tool calls), pull.

Run as its own process (`python -m tests.fakes.ollama --port N`) so a test can kill it like a real server;
`FakeOllama` starts it, and `configure(...)` changes its behaviour through POST /_fake/config:
tokens (filler tokens after the reply), delay (seconds per token), break_after (drop the connection after
that many tokens), reply (fixed reply text), pull_steps / pull_delay (download progress), models (installed).
"""
from __future__ import annotations

import argparse
import asyncio
import json
import re
import subprocess
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

from aiohttp import web

ROOT = Path(__file__).resolve().parents[2]
DEFAULTS = {"tokens": 0, "delay": 0.0, "break_after": None, "reply": None, "pull_steps": 5, "pull_delay": 0.05,
            "models": ["qwen2.5:0.5b"], "tool_calls": True}
TOOL_PATTERNS = [  # what a user types that makes the fake model call a tool, as a real model would
    (re.compile(r"\badd (?:a )?task:?\s*(.+)", re.I), "add_task", lambda m: {"text": m.group(1).strip()}),
    (re.compile(r"\b(?:complete|finish|done with) task:?\s*(.+)", re.I), "complete_task",
     lambda m: {"task": m.group(1).strip()}),
    (re.compile(r"\blist (?:my )?tasks\b", re.I), "list_tasks", lambda m: {}),
]


def now() -> str:
    return datetime.now(timezone.utc).isoformat()


def model_entry(name: str) -> dict:
    return {"name": name, "model": name, "modified_at": now(), "size": 397821319,
            "digest": "a8b0c5157701" + "0" * 52,
            "details": {"parent_model": "", "format": "gguf", "family": "qwen2", "families": ["qwen2"],
                        "parameter_size": "494.03M", "quantization_level": "Q4_K_M"}}


def reply_tokens(cfg: dict, messages: list[dict]) -> list[str]:
    last = messages[-1] if messages else {"role": "user", "content": ""}
    if cfg["reply"] is not None:
        text = cfg["reply"]
    elif last.get("role") == "tool":
        text = f"Done. {last.get('content', '')}"
    else:
        text = f"You said: {last.get('content', '')}"
    words = re.findall(r"\S+\s*|\s+", text)
    return words + [f" tok{i}" for i in range(cfg["tokens"])]


def tool_call_for(cfg: dict, body: dict) -> dict | None:
    messages = body.get("messages") or []
    if not cfg["tool_calls"] or not body.get("tools") or not messages or messages[-1].get("role") != "user":
        return None
    offered = {t.get("function", {}).get("name") for t in body["tools"]}
    for pattern, name, args in TOOL_PATTERNS:
        if name in offered and (m := pattern.search(messages[-1].get("content", ""))):
            return {"function": {"name": name, "arguments": args(m)}}
    return None


def chunk(model: str, content: str, done: bool = False, **extra) -> bytes:
    msg = {"role": "assistant", "content": content, **extra.pop("message_extra", {})}
    line = {"model": model, "created_at": now(), "message": msg, "done": done, **extra}
    return (json.dumps(line) + "\n").encode()


class Fake:
    def __init__(self):
        self.cfg = dict(DEFAULTS)
        self.installed = list(self.cfg["models"])
        self.requests: list[dict] = []

    async def version(self, request):
        return web.json_response({"version": "0.6.5"})

    async def tags(self, request):
        return web.json_response({"models": [model_entry(m) for m in self.installed]})

    async def config(self, request):
        update = await request.json()
        self.cfg.update(update)
        if "models" in update:
            self.installed = list(update["models"])
        return web.json_response({**self.cfg, "requests": self.requests})

    async def chat(self, request):
        body = await request.json()
        self.requests.append(body)
        model = body.get("model", "")
        if model not in self.installed:
            return web.json_response({"error": f'model "{model}" not found, try pulling it first'}, status=404)
        stream = body.get("stream", True)
        call = tool_call_for(self.cfg, body)
        tokens = [] if call else reply_tokens(self.cfg, body.get("messages") or [])
        final = {"done_reason": "stop", "total_duration": 1000, "load_duration": 10, "prompt_eval_count": 10,
                 "prompt_eval_duration": 100, "eval_count": len(tokens), "eval_duration": 1000}
        if not stream:
            extra = {"message_extra": {"tool_calls": [call]}} if call else {}
            return web.Response(body=chunk(model, "".join(tokens), True, **final, **extra),
                                content_type="application/json")
        resp = web.StreamResponse(headers={"Content-Type": "application/x-ndjson"})
        await resp.prepare(request)
        try:
            await self.stream_chat(request, resp, model, call, tokens, final)
        except ConnectionError:  # the client went away mid-answer, as the app's tests make it do
            pass
        return resp

    async def stream_chat(self, request, resp, model, call, tokens, final):
        if call:
            await resp.write(chunk(model, "", message_extra={"tool_calls": [call]}))
        delay, brk = self.cfg["delay"], self.cfg["break_after"]
        batch = []
        for i, tok in enumerate(tokens):
            if brk is not None and i >= brk:
                await resp.write(b"".join(batch))
                request.transport.close()  # the server died mid-answer
                return
            batch.append(chunk(model, tok))
            if delay or len(batch) >= 64:
                await resp.write(b"".join(batch))
                batch = []
                await asyncio.sleep(delay)
        await resp.write(b"".join(batch) + chunk(model, "", True, **final))
        await resp.write_eof()

    async def pull(self, request):
        body = await request.json()
        name = body.get("model") or body.get("name") or ""
        resp = web.StreamResponse(headers={"Content-Type": "application/x-ndjson"})
        await resp.prepare(request)

        async def send(obj):
            await resp.write((json.dumps(obj) + "\n").encode())

        await send({"status": "pulling manifest"})
        if name.startswith("missing"):
            await send({"error": "pull model manifest: file does not exist"})
            return resp
        total, steps = 397_821_319, max(1, int(self.cfg["pull_steps"]))
        digest = "sha256:a8b0c5157701" + "0" * 52
        for k in range(steps + 1):
            await send({"status": f"pulling {digest[7:19]}", "digest": digest, "total": total,
                        "completed": total * k // steps})
            await asyncio.sleep(self.cfg["pull_delay"])
        for status in ("verifying sha256 digest", "writing manifest"):
            await send({"status": status})
        if name not in self.installed:
            self.installed.append(name)
        await send({"status": "success"})
        await resp.write_eof()
        return resp


def make_app() -> web.Application:
    fake = Fake()
    app = web.Application()
    app.add_routes([web.get("/api/version", fake.version), web.get("/api/tags", fake.tags),
                    web.post("/api/chat", fake.chat), web.post("/api/pull", fake.pull),
                    web.post("/_fake/config", fake.config), web.get("/", lambda r: web.Response(text="Ollama is running"))])
    return app


class FakeOllama:
    """The fake as a subprocess on a fixed port, so it can be killed and started again at the same address."""

    def __init__(self, port: int | None = None, **config):
        from tests.support import free_port
        self.port = port or free_port()
        self.config = config
        self.proc: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> "FakeOllama":
        import httpx
        self.proc = subprocess.Popen([sys.executable, "-m", "tests.fakes.ollama", "--port", str(self.port)], cwd=ROOT)
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            try:
                httpx.get(self.url + "/api/version", timeout=0.5)
                break
            except httpx.HTTPError:
                time.sleep(0.05)
        else:
            self.stop()
            raise RuntimeError("fake Ollama did not start")
        if self.config:
            self.configure(**self.config)
        return self

    def configure(self, **changes) -> dict:
        import httpx
        return httpx.post(self.url + "/_fake/config", json=changes, timeout=5).json()

    def requests(self) -> list[dict]:
        return self.configure()["requests"]

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(5)
        self.proc = None

    def kill(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(5)
        self.proc = None


if __name__ == "__main__":
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, required=True)
    web.run_app(make_app(), host="127.0.0.1", port=ap.parse_args().port, print=None)

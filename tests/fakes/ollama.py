"""A fake Ollama speaking the real HTTP API on 127.0.0.1: version, tags, show, chat (NDJSON stream, tool calls,
thinking), pull (several layers). Each behaviour follows ollama/ollama (docs/api.md, server/routes.go,
server/images.go, server/download.go) and says which line it follows.

Run as its own process (`python -m tests.fakes.ollama --port N`) so a test can kill it like a real server;
`FakeOllama` starts it, and `configure(...)` changes its behaviour through POST /_fake/config:
tokens (filler tokens after the reply), delay (seconds per token), break_after (drop the connection after
that many tokens), reply (fixed reply text), thinking (reasoning text a thinking model streams first),
pull_steps / pull_delay (download progress), models (installed), capabilities (model name -> capability list),
show_capabilities (False: an older server whose /api/show has no capabilities field).
"""
from __future__ import annotations

import argparse
import asyncio
import hashlib
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
            "models": ["qwen2.5:0.5b"], "tool_calls": True, "thinking": "Let me think about that.",
            "capabilities": {}, "show_capabilities": True}
# What the library's models declare in /api/show (ollama.com/library pages; server/images.go Capabilities()):
# gemma3 has no tool template, qwen3 and deepseek-r1 think; others here take tools.
FAMILY_CAPABILITIES = {"gemma3": ["completion", "vision"], "qwen3": ["completion", "tools", "thinking"],
                       "deepseek-r1": ["completion", "thinking"]}
DEFAULT_CAPABILITIES = ["completion", "tools"]
TOOL_PATTERNS = [  # what a user types that makes the fake model call a tool, as a real model would
    (re.compile(r"\badd (?:a )?task:?\s*(.+)", re.I), "add_task", lambda m: {"text": m.group(1).strip()}),
    (re.compile(r"\b(?:complete|finish|done with) task:?\s*(.+)", re.I), "complete_task",
     lambda m: {"task": m.group(1).strip()}),
    (re.compile(r"\blist (?:my )?tasks\b", re.I), "list_tasks", lambda m: {}),
]
# Like a real manifest (server/images.go PullModel): a large weights layer, small template/license/params layers
# and the config blob, pulled one after another; digests are made up here, sizes are qwen2.5:0.5b's.
LAYERS = [("sha256:" + hashlib.sha256(f"fake layer {i}".encode()).hexdigest(), size)
          for i, size in enumerate((397_807_936, 68, 1_482, 11_343, 490))]


def full_name(name: str) -> str:
    """A model name with its tag: server/internal model.ParseName fills in `latest` (docs/api.md "Model names")."""
    name = name.strip()
    return name if ":" in name.rsplit("/", 1)[-1] else f"{name}:latest"


def now() -> str:
    return datetime.now(timezone.utc).isoformat()


def model_entry(name: str) -> dict:
    # GET /api/tags lists each model under its full name, `:latest` included (docs/api.md "List Local Models").
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


def error(status: int, text: str) -> web.Response:
    return web.json_response({"error": text}, status=status)


class Fake:
    def __init__(self):
        self.cfg = dict(DEFAULTS)
        self.installed = [full_name(m) for m in self.cfg["models"]]
        self.requests: list[dict] = []

    def capabilities(self, name: str) -> list[str]:
        if name in self.cfg["capabilities"]:
            return self.cfg["capabilities"][name]
        return FAMILY_CAPABILITIES.get(name.split(":")[0], DEFAULT_CAPABILITIES)

    async def version(self, request):
        return web.json_response({"version": "0.12.6"})

    async def tags(self, request):
        return web.json_response({"models": [model_entry(m) for m in self.installed]})

    async def config(self, request):
        update = await request.json()
        if update.pop("reset", False):  # back to the defaults, nothing recorded: a test starts from a known fake
            self.__init__()
        self.cfg.update(update)
        if "models" in update:
            self.installed = [full_name(m) for m in update["models"]]
        return web.json_response({**self.cfg, "requests": self.requests})

    async def show(self, request):
        body = await request.json()
        name = full_name(body.get("model") or body.get("name") or "")
        if name not in self.installed:  # server/routes.go ShowHandler: os.IsNotExist -> 404 "model '%s' not found"
            return error(404, f"model '{body.get('model')}' not found")
        shown = {"modelfile": f"FROM {name}\n", "parameters": "", "template": "{{ .Prompt }}",
                 "details": model_entry(name)["details"], "model_info": {"general.architecture": "qwen2"},
                 "modified_at": now()}
        if self.cfg["show_capabilities"]:  # docs/api.md "Show Model Information": capabilities: [...]
            shown["capabilities"] = self.capabilities(name)
        return web.json_response(shown)

    def refusal(self, body: dict) -> web.Response | None:
        """The checks server/routes.go ChatHandler makes before it streams anything."""
        name = full_name(body.get("model", ""))
        if name not in self.installed:  # routes.go handleScheduleError: os.ErrNotExist -> 404
            return error(404, f'model "{body.get("model", "")}" not found, try pulling it first')
        caps = self.capabilities(name)
        if body.get("tools") and "tools" not in caps:
            # images.go CheckCapabilities + routes.go scheduleRunner: "%s %w" with the model's full name -> 400
            return error(400, f"registry.ollama.ai/library/{name} does not support tools")
        if body.get("think") and "thinking" not in caps:  # routes.go ChatHandler: "%q does not support thinking"
            return error(400, f'"{body.get("model")}" does not support thinking')
        return None

    def thinks(self, body: dict) -> bool:
        # routes.go ChatHandler: a thinking model thinks unless the request says `think: false`.
        caps = self.capabilities(full_name(body.get("model", "")))
        return "thinking" in caps and body.get("think") is not False

    async def chat(self, request):
        body = await request.json()
        self.requests.append(body)
        if (refused := self.refusal(body)) is not None:
            return refused
        model = body["model"]  # the answer names the model as the request did (routes.go: resp.Model = req.Model)
        stream = body.get("stream", True)
        call = tool_call_for(self.cfg, body)
        tokens = [] if call else reply_tokens(self.cfg, body.get("messages") or [])
        thinking = re.findall(r"\S+\s*", self.cfg["thinking"]) if self.thinks(body) and not call else []
        final = {"done_reason": "stop", "total_duration": 1000, "load_duration": 10, "prompt_eval_count": 10,
                 "prompt_eval_duration": 100, "eval_count": len(tokens), "eval_duration": 1000}
        if not stream:
            extra = {"tool_calls": [call]} if call else {}
            extra |= {"thinking": "".join(thinking)} if thinking else {}
            return web.Response(body=chunk(model, "".join(tokens), True, **final, message_extra=extra),
                                content_type="application/json")
        resp = web.StreamResponse(headers={"Content-Type": "application/x-ndjson"})
        await resp.prepare(request)
        try:
            await self.stream_chat(request, resp, model, call, thinking, tokens, final)
        except ConnectionError:  # the client went away mid-answer, as the app's tests make it do
            pass
        return resp

    async def stream_chat(self, request, resp, model, call, thinking, tokens, final):
        if call:
            await resp.write(chunk(model, "", message_extra={"tool_calls": [call]}))
        for word in thinking:  # docs/api.md: message.thinking carries the reasoning, content stays empty meanwhile
            await resp.write(chunk(model, "", message_extra={"thinking": word}))
            await asyncio.sleep(self.cfg["delay"])
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
        name = full_name(body.get("model") or body.get("name") or "")
        resp = web.StreamResponse(headers={"Content-Type": "application/x-ndjson"})
        await resp.prepare(request)

        async def send(obj):
            await resp.write((json.dumps(obj) + "\n").encode())

        await send({"status": "pulling manifest"})  # images.go PullModel: first message
        if name.startswith("missing"):
            await send({"error": "pull model manifest: file does not exist"})
            return resp
        steps = max(1, int(self.cfg["pull_steps"]))
        for digest, total in LAYERS:  # images.go PullModel: downloadBlob for each layer in turn
            for k in range(steps + 1 if total > 100_000 else 2):
                # download.go: "pulling %s" with digest[7:19], and that layer's own total and completed bytes
                await send({"status": f"pulling {digest[7:19]}", "digest": digest, "total": total,
                            "completed": total * k // steps if total > 100_000 else total * k})
                await asyncio.sleep(self.cfg["pull_delay"])
        # images.go PullModel, then docs/api.md "Pull a Model": the final responses
        for status in ("verifying sha256 digest", "writing manifest", "removing any unused layers"):
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
                    web.post("/api/chat", fake.chat), web.post("/api/pull", fake.pull), web.post("/api/show", fake.show),
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

    def reset(self, **changes) -> dict:
        return self.configure(reset=True, **changes)

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

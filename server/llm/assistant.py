"""Answers in the chat: stream the model's reply to every panel as it arrives, run the tools it calls, keep it all."""
from __future__ import annotations

import asyncio
import time

from loguru import logger

from .chat import DONE, INTERRUPTED, STREAMING, ChatStore
from .client import LLM, LLMUnavailable
from .hub import Hub
from .tools import TOOLS, TaskTools
from .views import added, appended, message_view, removed, tasks_changed

SYSTEM = ("You are the assistant inside Pipedeck, a desktop app of step-by-step data workflows. "
          "Answer briefly in Markdown. Use the task tools when the user asks about their to-do list.")
SAVE_EVERY = 0.3  # seconds between saves of a streaming answer: a killed process loses at most this much
# At least a frame between sends: a browser shows at most one update per frame, and each message costs it work.
SEND_GAP = 1 / 60
MAX_TOOL_ROUNDS = 4
TASK_TOOLS = {"add_task", "complete_task"}


class Assistant:
    def __init__(self, llm: LLM, store: ChatStore, hub: Hub, tools: TaskTools | None, spawn):
        self.llm, self.store, self.hub, self.tools, self.spawn = llm, store, hub, tools, spawn
        self.turn = asyncio.Lock()  # one answer at a time, so messages never interleave
        self.answers: set[asyncio.Task] = set()

    async def post(self, role: str, content: str, status: str = DONE):
        msg = self.store.add(role, content, status)
        await self.hub.send(added(msg))
        return msg

    async def user_says(self, text: str) -> None:
        await self.post("user", text)
        task = self.spawn(self.answer())
        self.answers.add(task)
        task.add_done_callback(self.answers.discard)

    async def answer(self) -> None:
        async with self.turn:
            messages = [{"role": "system", "content": SYSTEM}, *self.store.context()]
            for _ in range(MAX_TOOL_ROUNDS):
                text, calls = await self.stream_reply(messages, tools=TOOLS if self.tools else None)
                if not calls:
                    return
                messages.append({"role": "assistant", "content": text or "", "tool_calls": calls})
                for call in calls:
                    messages.append({"role": "tool", "tool_name": call["function"]["name"],
                                     "content": await self.run_tool(call["function"])})

    async def run_tool(self, fn: dict) -> str:
        name, args = fn.get("name", ""), fn.get("arguments") or {}
        result = self.tools.run(name, args)
        shown = ", ".join(f"{k}: {v}" for k, v in args.items()) if isinstance(args, dict) else str(args)
        await self.post("tool", f"**{name}**({shown})\n\n{result}")
        if name in TASK_TOOLS:
            await self.hub.send(tasks_changed())
        return result

    async def explain(self, messages: list[dict]) -> None:
        """A short answer without tools (narration); silent when the LLM is not there."""
        async with self.turn:
            if (await self.llm.status()).ready:
                await self.stream_reply(messages, tools=None, quiet=True)

    async def stream_reply(self, messages: list[dict], tools=None, quiet: bool = False) -> tuple[str, list]:
        """Stream one reply into a new message; returns its text and any tool calls.

        The reader appends tokens; a separate sender forwards whatever has arrived since its last send, so a fast
        model is never slowed by the sockets and each send carries every token that queued up meanwhile."""
        msg = await self.post("assistant", "", STREAMING)
        parts: list[str] = []  # a list, not a growing string: appending stays cheap however long the answer
        calls, failure = [], None
        arrived = asyncio.Event()
        finished = False

        async def sender():
            sent, saved_at = 0, time.monotonic()
            while True:
                await arrived.wait()
                arrived.clear()
                last = finished  # read before sending: once the reader has finished, `parts` is complete
                if len(parts) > sent:
                    chunk, sent = "".join(parts[sent:]), len(parts)
                    await self.hub.send(appended(msg.id, chunk))
                if time.monotonic() - saved_at > SAVE_EVERY:
                    self.store.save(msg.id, "".join(parts))
                    saved_at = time.monotonic()
                if last:
                    return
                await asyncio.sleep(SEND_GAP)

        relay = asyncio.create_task(sender())
        self.store.live[msg.id] = parts
        try:
            async for part in self.llm.chat(messages, tools):
                m = part.message
                if m.content:
                    parts.append(m.content)
                    arrived.set()
                for call in m.tool_calls or ():
                    calls.append({"function": {"name": call.function.name, "arguments": dict(call.function.arguments)}})
        except LLMUnavailable as e:
            failure = str(e)
        except asyncio.CancelledError:
            failure = "stopped"
            raise
        finally:
            finished = True
            arrived.set()
            if failure == "stopped":
                relay.cancel()
            else:
                await relay
            text = "".join(parts)
            await self.finish(msg, text, calls, failure, quiet)
        return text, calls

    async def finish(self, msg, text: str, calls: list, failure: str | None, quiet: bool) -> None:
        if not text and (calls or failure):
            self.store.delete(msg.id)  # nothing was said: an empty bubble would only confuse
            await self.hub.send(removed(msg.id))
        else:
            final = self.store.save(msg.id, text, INTERRUPTED if failure else DONE)
            await self.hub.send(message_view(final, oob=True))
        if failure and failure != "stopped" and not quiet:
            logger.info("chat answer failed: {}", failure)
            await self.post("error", failure)

    async def clear(self) -> None:
        answers = list(self.answers)
        for task in answers:
            task.cancel()
        await asyncio.gather(*answers, return_exceptions=True)  # let them save before the rows go
        self.store.clear()

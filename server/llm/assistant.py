"""Answers in the chat: stream the model's reply to every panel as it arrives, run the tools it calls, keep it all."""
from __future__ import annotations

import asyncio
import time

from loguru import logger

from .chat import DONE, INTERRUPTED, STREAMING, ChatStore
from .client import LLM, LLMUnavailable
from .hub import Hub
from .tools import TOOLS, TaskTools
from .turns import NARRATION, USER, Turns
from .views import added, appended, message_view, removed, tasks_changed, thought

SYSTEM = ("You are the assistant inside Pipedeck, a desktop app of step-by-step data workflows. "
          "Answer briefly in Markdown. Use the task tools when the user asks about their to-do list.")
SAVE_EVERY = 0.3  # seconds between saves of a streaming answer: a killed process loses at most this much
# At least a frame between sends: a browser shows at most one update per frame, and each message costs it work.
SEND_GAP = 1 / 60
MAX_TOOL_ROUNDS = 4
TASK_TOOLS = {"add_task", "complete_task"}


class Reply:
    """One answer as it streams in: lists, not growing strings, so appending stays cheap however long it gets."""

    def __init__(self):
        self.parts: list[str] = []
        self.thinking: list[str] = []  # a thinking model's reasoning, shown folded above the answer
        self.calls: list[dict] = []
        self.arrived = asyncio.Event()
        self.finished = False

    def take(self, m) -> None:
        if m.content:
            self.parts.append(m.content)
            self.arrived.set()
        elif m.thinking:
            self.thinking.append(m.thinking)
            self.arrived.set()
        for call in m.tool_calls or ():
            self.calls.append({"function": {"name": call.function.name, "arguments": dict(call.function.arguments)}})


class Assistant:
    def __init__(self, llm: LLM, store: ChatStore, hub: Hub, tools: TaskTools | None, spawn):
        self.llm, self.store, self.hub, self.tools, self.spawn = llm, store, hub, tools, spawn
        self.turns = Turns()  # one answer at a time, so messages never interleave; users' answers first
        self.answers: set[asyncio.Task] = set()
        self.narrating: asyncio.Task | None = None  # the narration reply being streamed, stopped for a user

    async def post(self, role: str, content: str, status: str = DONE):
        msg = self.store.add(role, content, status)
        if self.hub.clients:  # drawn only for an open panel: with none, every narrated answer paid for the markup
            await self.hub.send(added(msg))
        return msg

    async def user_says(self, text: str) -> None:
        msg = await self.post("user", text)
        # Each message gets its own answer, in order; a narration reply under way stops so the user never waits.
        task = self.spawn(self.answer(msg.id))
        self.answers.add(task)
        task.add_done_callback(self.answers.discard)
        if self.narrating is not None and not self.narrating.done():
            self.narrating.cancel()

    async def answer(self, upto: int) -> None:
        async with self.turns.take(USER):
            messages = [{"role": "system", "content": SYSTEM}, *self.store.context(upto)]
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

    async def explain(self, take) -> bool:
        """A short answer without tools (narration), after every user's answer; silent when the LLM is not there.

        `take()` is called once the turn comes and returns the messages to send (None: nothing left to say), so
        a burst of narration that queued meanwhile is folded into this one reply. False when a user's message
        stopped the reply: the caller says it again later."""
        known = self.llm.reused_status()
        if known is not None and not known.ready and not (self.turns.busy or self.turns.waiting):
            # Ollama is not there (asked moments ago): what the turn would do, without the turn and a task (a third
            # of each narrated answer's time on the server's loop while Ollama is off).
            take()
            return True
        async with self.turns.take(NARRATION):
            messages = take()
            if not messages:
                return True
            self.narrating = asyncio.ensure_future(self._narrate(messages))
            try:
                await asyncio.gather(self.narrating, return_exceptions=True)  # cancelled by a user: not an error
                return not self.narrating.cancelled()
            finally:
                self.narrating = None

    async def _narrate(self, messages: list[dict]) -> None:
        if (await self.llm.status()).ready:
            await self.stream_reply(messages, tools=None, quiet=True)

    async def stream_reply(self, messages: list[dict], tools=None, quiet: bool = False) -> tuple[str, list]:
        """Stream one reply into a new message; returns its text and any tool calls.

        The reader appends tokens; a separate sender forwards whatever has arrived since its last send, so a fast
        model is never slowed by the sockets and each send carries every token that queued up meanwhile. The
        empty bubble is stored and shown while Ollama starts, not before: the first token comes no later."""
        reply = Reply()
        posting = asyncio.ensure_future(self.post("assistant", "", STREAMING))
        relay = asyncio.create_task(self.relay(posting, reply))
        failure = None
        waiting = True  # for the first token
        try:
            async for part in self.llm.chat(messages, tools):
                reply.take(part.message)
                if waiting and reply.arrived.is_set():
                    # One read from Ollama holds many lines, parsed here without giving the loop a turn: let the
                    # relay send the first token now, not after the whole read (measured: 2-8 ms later at full speed).
                    waiting = False
                    await asyncio.sleep(0)
        except LLMUnavailable as e:
            failure = str(e)
        except asyncio.CancelledError:
            failure = "stopped"
            raise
        finally:
            reply.finished = True
            reply.arrived.set()
            if failure == "stopped":
                relay.cancel()
            else:
                await relay
            text = "".join(reply.parts)
            await self.finish(await posting, text, "".join(reply.thinking), reply.calls, failure, quiet)
        return text, reply.calls

    async def relay(self, posting: asyncio.Future, reply: "Reply") -> None:
        """Send what arrived since the last send, at most once a frame; save now and then."""
        msg = await posting
        self.store.live[msg.id] = reply.parts
        sent, thought_sent, saved_at = 0, 0, time.monotonic()
        while True:
            await reply.arrived.wait()
            reply.arrived.clear()
            last = reply.finished  # read before sending: once the reader has finished, `parts` is complete
            if len(reply.thinking) > thought_sent:
                await self.hub.send(thought(msg.id, "".join(reply.thinking[thought_sent:]), first=not thought_sent))
                thought_sent = len(reply.thinking)
            if len(reply.parts) > sent:
                chunk, sent = "".join(reply.parts[sent:]), len(reply.parts)
                await self.hub.send(appended(msg.id, chunk))
            if time.monotonic() - saved_at > SAVE_EVERY:
                self.store.save(msg.id, "".join(reply.parts), thinking="".join(reply.thinking))
                saved_at = time.monotonic()
            if last:
                return
            await asyncio.sleep(SEND_GAP)

    async def finish(self, msg, text: str, thinking: str, calls: list, failure: str | None, quiet: bool) -> None:
        # Nothing was said, or a narration reply a user's message stopped (it is said again after the answer).
        if (not text and (calls or failure)) or (quiet and failure == "stopped"):
            self.store.delete(msg.id)  # an empty or cut bubble would only confuse
            await self.hub.send(removed(msg.id))
        else:
            final = self.store.save(msg.id, text, INTERRUPTED if failure else DONE, thinking=thinking)
            await self.hub.send(message_view(final, oob=True))
        if failure and failure != "stopped" and not quiet:
            logger.info("chat answer failed: {}", failure)
            await self.post("error", failure)

    async def clear(self) -> None:
        answers = list(self.answers) + ([self.narrating] if self.narrating else [])
        for task in answers:
            task.cancel()
        await asyncio.gather(*answers, return_exceptions=True)  # let them save before the rows go
        self.store.clear()

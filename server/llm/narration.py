"""Narration: workflows say what is happening; the chat shows it, in the order it was said, never slowing a card."""
from __future__ import annotations

import asyncio

from loguru import logger

PROMPT = ("You narrate what the Pipedeck app is doing for its user. In one or two short, friendly sentences, "
          "explain this event; no preamble: ")
PROMPT_MANY = ("You narrate what the Pipedeck app is doing for its user. In one or two short, friendly sentences, "
               "explain these events together, the last one most; no preamble:\n")


def prompt(texts: list[str]) -> list[dict]:
    """One request for everything said since the last explanation: a burst of narration gets one reply."""
    content = PROMPT + texts[0] if len(texts) == 1 else PROMPT_MANY + "\n".join(f"- {t}" for t in texts)
    return [{"role": "user", "content": content}]


class Narrator:
    """`ctx.narrators` calls this with each text; one worker posts them at once, in order, another explains them."""

    def __init__(self, assistant, spawn):
        self.assistant, self.spawn = assistant, spawn
        self.loop: asyncio.AbstractEventLoop | None = None
        self.queue: asyncio.Queue | None = None
        self.worker: asyncio.Task | None = None
        self.explainer: asyncio.Task | None = None
        self.unexplained: list[str] = []
        self.taken: list[str] = []  # what the reply under way explains

    def __call__(self, text: str) -> None:
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:  # called from a worker thread (a sync route): hand it to the server's loop
            if self.loop is None:
                logger.warning("narration before the server loop started: {}", text)
                return
            self.loop.call_soon_threadsafe(self.enqueue, text)
            return
        if loop is not self.loop:
            self.bind(loop)
        self.enqueue(text)

    def bind(self, loop: asyncio.AbstractEventLoop) -> None:
        self.loop, self.queue, self.worker, self.explainer = loop, asyncio.Queue(), None, None
        self.unexplained = []

    def enqueue(self, text: str) -> None:
        self.queue.put_nowait(text)
        if self.worker is None or self.worker.done():
            self.worker = self.spawn(self.work())

    async def work(self) -> None:
        while not self.queue.empty():
            text = self.queue.get_nowait()
            try:
                await self.assistant.post("narration", text)
            except Exception:
                logger.exception("narration failed: {}", text)
                continue
            self.unexplained.append(text)
            if self.explainer is None or self.explainer.done():
                self.explainer = self.spawn(self.explain())

    async def explain(self) -> None:
        while self.unexplained:
            try:
                if not await self.assistant.explain(self.take):
                    self.unexplained = self.taken + self.unexplained  # stopped for a user: said again, folded
            except Exception:
                logger.exception("narration reply failed")
                self.unexplained = []  # never retried in a loop

    def take(self) -> list[dict] | None:
        self.taken, self.unexplained = self.unexplained, []
        return prompt(self.taken) if self.taken else None

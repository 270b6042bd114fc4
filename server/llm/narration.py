"""Narration: workflows say what is happening; the chat shows it, in the order it was said, never slowing a card."""
from __future__ import annotations

import asyncio

from loguru import logger

PROMPT = ("You narrate what the Pipedeck app is doing for its user. In one or two short, friendly sentences, "
          "explain this event; no preamble: ")


class Narrator:
    """`ctx.narrators` calls this with each text; one worker posts them one after another."""

    def __init__(self, assistant, spawn):
        self.assistant, self.spawn = assistant, spawn
        self.loop: asyncio.AbstractEventLoop | None = None
        self.queue: asyncio.Queue | None = None
        self.worker: asyncio.Task | None = None

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
        self.loop, self.queue, self.worker = loop, asyncio.Queue(), None

    def enqueue(self, text: str) -> None:
        self.queue.put_nowait(text)
        if self.worker is None or self.worker.done():
            self.worker = self.spawn(self.work())

    async def work(self) -> None:
        while not self.queue.empty():
            text = self.queue.get_nowait()
            try:
                await self.assistant.post("narration", text)
                await self.assistant.explain([{"role": "user", "content": PROMPT + text}])
            except Exception:
                logger.exception("narration failed: {}", text)

"""Whose turn it is to speak in the chat: one answer at a time, the user's answers before narration's."""
from __future__ import annotations

import asyncio
import heapq
import itertools
from contextlib import asynccontextmanager

USER, NARRATION = 0, 1  # lower goes first; within one kind, first come first served


class Turns:
    def __init__(self):
        self.busy = False
        self.waiting: list[tuple[int, int, asyncio.Future]] = []
        self.order = itertools.count()

    def waiting_users(self) -> bool:
        return any(kind == USER and not fut.done() for kind, _, fut in self.waiting)

    @asynccontextmanager
    async def take(self, kind: int):
        await self._acquire(kind)
        try:
            yield
        finally:
            self._release()

    async def _acquire(self, kind: int) -> None:
        if not self.busy and not self.waiting:
            self.busy = True
            return
        fut = asyncio.get_running_loop().create_future()
        heapq.heappush(self.waiting, (kind, next(self.order), fut))
        try:
            await fut
        except asyncio.CancelledError:
            if fut.done() and not fut.cancelled():
                self._release()  # handed the turn just as it was cancelled: pass it on
            raise

    def _release(self) -> None:
        while self.waiting:
            _, _, fut = heapq.heappop(self.waiting)
            if not fut.done():
                fut.set_result(None)  # the turn passes straight on; `busy` stays True
                return
        self.busy = False

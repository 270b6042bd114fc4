"""What happens when the server starts serving and when it stops: the hooks workflows and apps registered on the
context, then background work cancelled so it can save its state before the database closes."""
from __future__ import annotations

import asyncio

from . import logs


async def start(ctx) -> None:
    # Work that needs the running loop, e.g. following exports a previous launch left unfinished.
    for hook in ctx.startup:
        result = hook()
        if asyncio.iscoroutine(result):
            await result


async def stop(ctx) -> None:
    # Background work (export polling, LLM streams) stops here and resumes from the run's state next start.
    for hook in ctx.stopping:
        result = hook()
        if asyncio.iscoroutine(result):
            await result
    tasks = list(ctx.background)
    for task in tasks:
        task.cancel()
    if tasks:  # let cancelled work save its state (an interrupted chat answer) before the database closes
        await asyncio.wait(tasks, timeout=3)
    ctx.db.close()  # every thread's connection
    logs.stop_logging_to_file(ctx.cfg.data_dir)

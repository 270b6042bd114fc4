"""What every route and workflow shares in one running app: config, database, run store, narration."""
from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import Callable

from loguru import logger

from .config import Config
from .engine.background import Jobs
from .engine.pipeline import RunStore


@dataclass
class MenuEntry:
    path: str
    label: str
    group: str  # "Workflows" or "Apps"
    order: int = 50
    description: str = ""


@dataclass
class Context:
    cfg: Config
    db: object
    runs: RunStore
    menu: list[MenuEntry] = field(default_factory=list)
    workflows: dict = field(default_factory=dict)
    narrators: list[Callable[[str], None]] = field(default_factory=list)
    side_panels: list[Callable[[], object]] = field(default_factory=list)
    background: set = field(default_factory=set)
    startup: list[Callable[[], object]] = field(default_factory=list)  # run (awaited if async) once serving starts
    # run (awaited if async) first at shutdown, before background work is cancelled: stops what cancelling cannot
    # reach (a thread)
    stopping: list[Callable[[], object]] = field(default_factory=list)
    pushers: list[Callable[..., object]] = field(default_factory=list)  # async: send HTML to every open window
    jobs: object = None  # the engine's background steps (engine.background.Jobs)

    def __post_init__(self):
        self.jobs = self.jobs or Jobs(self)

    def narrate(self, text: str) -> None:
        """Tell the chat panel what is happening; never blocks a card."""
        for narrator in self.narrators:
            try:
                narrator(text)
            except Exception:
                logger.exception("narration failed")

    def spawn(self, coro) -> asyncio.Task:
        """Run long work in the background and keep a handle, so shutdown can cancel it."""
        task = asyncio.get_running_loop().create_task(coro)
        self.background.add(task)
        task.add_done_callback(self.background.discard)
        return task

"""Pulling a model: one download at a time, its progress kept for the settings screen to show, cancellable."""
from __future__ import annotations

import asyncio
from dataclasses import dataclass, field


@dataclass
class Progress:
    model: str
    status: str = "starting"
    completed: int = 0
    total: int = 0
    error: str = ""
    finished: bool = False
    layers: dict = field(default_factory=dict)  # digest -> (total, completed): Ollama reports each layer apart

    def update(self, part) -> None:
        """Fold one progress part into overall bytes across every layer seen so far (server/download.go)."""
        self.status = part.status or self.status
        digest = getattr(part, "digest", None)
        if digest and part.total:
            self.layers[digest] = (part.total, part.completed or 0)
            self.total = sum(total for total, _ in self.layers.values())
            self.completed = sum(done for _, done in self.layers.values())

    @property
    def percent(self) -> int:
        return int(100 * self.completed / self.total) if self.total else 0


class Puller:
    def __init__(self, llm, spawn):
        self.llm, self.spawn = llm, spawn
        self.progress: Progress | None = None
        self.task: asyncio.Task | None = None

    @property
    def running(self) -> bool:
        return self.task is not None and not self.task.done()

    def start(self, model: str) -> Progress:
        if not self.running:
            self.progress = Progress(model)
            self.task = self.spawn(self._pull(self.progress))
        return self.progress

    async def _pull(self, p: Progress) -> None:
        import httpx  # both loaded by the client's pull already; imported here for their error types
        import ollama

        try:
            async for part in self.llm.pull(p.model):
                p.update(part)
            if p.status != "success":
                p.error = f"Ollama stopped before the download finished (last: {p.status})."
        except ollama.ResponseError as e:
            p.error = f"Ollama could not pull {p.model}: {e.error}"
        except (httpx.HTTPError, ConnectionError) as e:
            p.error = f"Could not reach Ollama at {self.llm.host} ({type(e).__name__}). Is it running?"
        except asyncio.CancelledError:
            p.error = "Cancelled. Ollama keeps what it downloaded; pulling again resumes."
        finally:
            p.finished = True
            self.llm.forget_status()

    def cancel(self) -> None:
        if self.running:
            self.task.cancel()

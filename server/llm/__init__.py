"""The local LLM: Ollama client, stored conversation, streaming answers, narration and the tools it may use."""
from __future__ import annotations

from .assistant import Assistant
from .chat import ChatStore
from .client import DEFAULT_MODEL, LLM, LLMUnavailable, Status
from .hub import Hub
from .narration import Narrator
from .tools import TaskTools

__all__ = ["DEFAULT_MODEL", "LLM", "LLMUnavailable", "Status", "Assistant", "services"]


class Services:
    """Everything LLM-related one app shares; made once per Context, on first use."""

    def __init__(self, ctx):
        from ..apps.tasks import TaskList
        self.llm = LLM(ctx)
        self.store = ChatStore(ctx.db)
        self.hub = Hub()
        tasks = getattr(ctx, "task_list", None) or TaskList(ctx)
        self.assistant = Assistant(self.llm, self.store, self.hub, TaskTools(tasks), ctx.spawn)
        self.narrator = Narrator(self.assistant, ctx.spawn)
        ctx.narrators.append(self.narrator)


def services(ctx) -> Services:
    if getattr(ctx, "llm_services", None) is None:
        ctx.llm_services = Services(ctx)
    return ctx.llm_services

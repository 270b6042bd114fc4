"""What the LLM may do in the app, as Ollama tool definitions, acting on the current profile's tasks."""
from __future__ import annotations

import json
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # only named: with --dev a broken apps/tasks.py must not stop the server's start
    from ..apps.tasks import TaskList


def _tool(name: str, description: str, **params: str) -> dict:
    props = {p: {"type": "string", "description": d} for p, d in params.items()}
    return {"type": "function", "function": {"name": name, "description": description,
                                             "parameters": {"type": "object", "properties": props,
                                                            "required": list(params)}}}


TOOLS = [
    _tool("list_tasks", "List the user's tasks for the current profile, with their ids and whether they are done."),
    _tool("add_task", "Add a task to the user's to-do list.", text="what needs doing"),
    _tool("complete_task", "Mark one of the user's tasks as done.",
          task="the task's id number, or words from its text"),
]


class ToolError(ValueError):
    """A tool call the app refused; the message goes back to the model and into the chat."""


class TaskTools:
    def __init__(self, tasks: TaskList):
        self.tasks = tasks

    def run(self, name: str, args: dict | str | None) -> str:
        """Do what the model asked; a sentence saying what happened (also when it could not)."""
        if isinstance(args, str):  # some models send arguments as a JSON string
            try:
                args = json.loads(args or "{}")
            except ValueError:
                args = {}
        args = args or {}
        try:
            if name == "list_tasks":
                return self.list_tasks()
            if name == "add_task":
                return self.add_task(str(args.get("text", "")))
            if name == "complete_task":
                return self.complete_task(str(args.get("task", args.get("id", ""))))
            raise ToolError(f"There is no tool called {name!r}.")
        except (ToolError, ValueError) as e:
            return f"Could not {name.replace('_', ' ')}: {e}"

    def _profile(self):
        profile = self.tasks.current_profile()
        if profile is None:
            raise ToolError("no profile is active; activate one on the Profiles screen")
        return profile

    def list_tasks(self) -> str:
        profile = self._profile()
        items = self.tasks.for_profile(profile.id)
        if not items:
            return f"{profile.menu_name} has no tasks."
        lines = [f"- #{t.id} {t.text}" + (" (done)" if t.done else "") for t in items]
        return f"Tasks for {profile.menu_name}:\n" + "\n".join(lines)

    def add_task(self, text: str) -> str:
        task = self.tasks.add(self._profile().id, text)
        return f"Added task #{task.id}: {task.text}"

    def complete_task(self, which: str) -> str:
        items = self.tasks.for_profile(self._profile().id)
        which = which.strip().lstrip("#")
        match = next((t for t in items if which.isdigit() and t.id == int(which)), None)
        if match is None:
            words = which.lower()
            match = next((t for t in items if words and words in t.text.lower()), None)
        if match is None:
            raise ToolError(f"no task matches {which!r}")
        self.tasks.set_done(match.id, True)
        return f"Marked task #{match.id} done: {match.text}"

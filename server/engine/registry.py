"""Putting workflows into the app: their routers, menu entries and the checks that keep names apart."""
from __future__ import annotations

import inspect
from pathlib import Path

from ..context import MenuEntry


class NameClash(SystemExit):
    """Two parts of the app want the same address; start-up stops and names both files."""


def source(obj) -> str:
    try:
        return str(Path(inspect.getfile(obj)))
    except TypeError:
        return repr(obj)


def check_names(workflow_classes, app_modules) -> None:
    """A workflow must not share its name with an app (or another workflow): one would silently shadow the other."""
    seen: dict[str, str] = {}
    for module in app_modules:
        seen[module.__name__.rsplit(".", 1)[-1]] = source(module)
    for cls in workflow_classes:
        if cls.name in seen:
            raise NameClash(f"The workflow “{cls.name}” in {source(cls)} has the same name as {seen[cls.name]}; "
                            "rename one of them.")
        seen[cls.name] = source(cls)


def check_routes(workflows: dict, module, routes) -> None:
    """An app's new routes must not sit under a workflow's address."""
    for route in routes:
        path = getattr(route, "path", "")
        for name, wf in workflows.items():
            if path == f"/{name}" or path.startswith(f"/{name}/"):
                raise NameClash(f"The app {source(module)} serves {path}, which belongs to the workflow “{name}” "
                                f"in {source(type(wf))}; rename one of them.")


def add_workflow(ctx, app, wf) -> None:
    """Register (or, with the same name, replace) a workflow: its routes look it up in ctx.workflows."""
    fresh = wf.name not in ctx.workflows
    ctx.workflows[wf.name] = wf
    ctx.menu[:] = [e for e in ctx.menu if e.path != f"/{wf.name}"]
    ctx.menu.append(MenuEntry(f"/{wf.name}", wf.title, "Workflows", wf.order, wf.description))
    if fresh:
        wf.router.to_app(app)

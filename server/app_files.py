"""The apps (server/apps/*.py) put into the running app. Each app's share is remembered (its routes, menu entries and
side panels), so that with `--dev` a saved app file replaces exactly that share in place: its routes serve the new
code from the same place in the route table, its open pages re-render, and a broken file shows its problem card at
the app's addresses while everything else keeps working. The file watching is the workflow loader's."""
from __future__ import annotations

import asyncio
import dataclasses
import importlib
import json
import re
import traceback
from dataclasses import dataclass, field
from pathlib import Path

from fasthtml.common import APIRouter, Div
from starlette.routing import Route

from .context import MenuEntry
from .engine.loader import Problem, problem_from, problem_screen, run_file
from .engine.registry import NameClash, check_routes
from .layout import wants_fragment

FOLDER = Path(__file__).resolve().parent / "apps"
PACKAGE = "server.apps"
PROBLEMS = "/app-problem"


def publish(path: Path, module) -> None:
    """Make a reloaded module the package's attribute, so `from . import tasks` in another app gets the new one."""
    setattr(importlib.import_module(PACKAGE), path.stem, module)


@dataclass
class Share:
    """What one app module added to the running app."""
    routes: list = field(default_factory=list)
    menu: list = field(default_factory=list)
    panels: list = field(default_factory=list)


def page_pattern(path: str) -> str:
    """A route's path as a regular expression a browser can test `location.pathname` with."""
    parts = re.split(r"(\{[^}]*\})", path)
    return "^" + "".join((".*" if p.endswith(":path}") else "[^/]+") if p.startswith("{") else re.escape(p)
                         for p in parts) + "$"


def rerender_signal(routes) -> Div:
    """Pushed to every window: an open page at one of these routes fetches itself again and swaps in its content
    and menu (static/dev.js); the chat panel and its socket stay."""
    patterns = sorted({page_pattern(r.path) for r in routes if isinstance(r, Route) and "GET" in (r.methods or ())})
    return Div(Div(hidden=True, data_dev_rerender=json.dumps(patterns)), hx_swap_oob="beforeend:body")


def app_problem(path: Path, exc: BaseException) -> Problem:
    """Where the app file `path` broke; a syntax error in a module it imports (apps/insights.py) names that file."""
    if isinstance(exc, SyntaxError) and exc.filename:
        path = Path(exc.filename)
    return dataclasses.replace(problem_from(path, exc), kind="app")


def module_users(modules: dict, name: str) -> list[Path]:
    """The app files whose module refers to module `name` (`from . import insights`) or to something defined there."""
    return [path for path, module in modules.items() if module.__name__ != name and any(
        getattr(v, "__name__", None) == name or getattr(v, "__module__", None) == name for v in vars(module).values())]


class AppFiles:
    """The app files, by path: what each one added to the app, and its module serving now."""

    def __init__(self, ctx, app):
        self.ctx, self.app = ctx, app
        self.shares: dict[Path, Share] = {}
        self.modules: dict[Path, object] = {}  # app file -> its module serving now (the last one that loaded)
        self.broken_files: set[Path] = set()  # app files showing their problem card

    def start(self, modules, failed: list[tuple[Path, BaseException]] | None = None) -> None:
        """Register the apps. With `failed` (`--dev`: the files that could not be imported), an app that cannot
        start shows its card until it is saved again; without, it stops the start."""
        for module in modules:
            path = Path(module.__file__).resolve()
            share, exc = self.added(lambda: self.register(module))
            if exc is not None:
                if failed is None:
                    raise exc
                self.take_out(share)
                failed.append((path, exc))
                continue
            self.shares[path], self.modules[path] = share, module
        for path, exc in failed or []:
            self.swap(path, problem=app_problem(path, exc))

    def register(self, module) -> None:
        before = set(map(id, self.app.routes))
        if router := module.register(self.ctx, self.app.route):  # apps converted to APIRouter hand theirs back
            router.to_app(self.app)
        check_routes(self.ctx.workflows, module, [r for r in self.app.routes if id(r) not in before])

    def added(self, add) -> tuple[Share, BaseException | None]:
        """Call `add`, which adds to the app; what it added (also when it failed part-way) and what it raised."""
        seen = [set(map(id, xs)) for xs in (self.app.routes, self.ctx.menu, self.ctx.side_panels)]
        try:
            add()
            exc = None
        except (Exception, NameClash) as e:  # NameClash is a SystemExit: start-up stops, a reload shows it
            exc = e
        now = (self.app.routes, self.ctx.menu, self.ctx.side_panels)
        return Share(*[[x for x in xs if id(x) not in ids] for xs, ids in zip(now, seen)]), exc

    def take_out(self, share: Share) -> tuple[int, list[int]]:
        """Remove the share from the app; where its first route and its panels were."""
        routes, panels = self.app.routes, self.ctx.side_panels
        at = next((i for i, r in enumerate(routes) if any(r is s for s in share.routes)), len(routes))
        slots = [i for i, p in enumerate(panels) if any(p is s for s in share.panels)]
        routes[:] = [r for r in routes if not any(r is s for s in share.routes)]
        self.ctx.menu[:] = [e for e in self.ctx.menu if not any(e is s for s in share.menu)]
        panels[:] = [p for p in panels if not any(p is s for s in share.panels)]
        return at, slots

    def put_in(self, share: Share, at: int, slots: list[int]) -> None:
        """Put the share where the one it replaces was: route order decides which route answers a path."""
        routes = [r for r in self.app.routes if not any(r is s for s in share.routes)]
        self.app.routes[:] = routes[:at] + share.routes + routes[at:]
        self.ctx.menu[:] = [e for e in self.ctx.menu if not any(e is s for s in share.menu)] + share.menu
        panels = [p for p in self.ctx.side_panels if not any(p is s for s in share.panels)]
        for i, panel in enumerate(share.panels):
            panels.insert(slots[i] if i < len(slots) else len(panels), panel)
        self.ctx.side_panels[:] = panels

    def broken(self, path: Path, old: Share, problem: Problem) -> Share:
        """The old share with every page and call answering the problem card; its sockets and panels stay, so the
        chat keeps working while chat.py is being fixed. An app that never served gets a menu entry to the card."""
        current = old.menu[0].path if old.menu else f"{PROBLEMS}/{path.stem}"

        def show(req):
            # A call from the page gets the card in its place; a page, also one re-rendering itself (into #content)
            if wants_fragment(req) and req.headers.get("hx-target") != "content":
                return problem.card()
            return problem_screen(self.ctx, path.stem, problem, current)

        http = [(r.path, sorted(r.methods or ()), r.name) for r in old.routes if isinstance(r, Route)]
        router = APIRouter()
        for where, methods, name in http or [(current, ["GET"], "problem")]:
            router(where, methods=methods, name=name)(show)
        share, _ = self.added(lambda: router.to_app(self.app))
        for entry in old.menu:
            entry.label = entry.label if entry.label.startswith("⚠") else f"⚠ {entry.label}"
        menu = old.menu or [MenuEntry(current, f"⚠ {path.name}", "Apps", 99, problem.message)]
        return Share(share.routes + [r for r in old.routes if not isinstance(r, Route)], menu, old.panels)

    def swap(self, path: Path, module=None, problem: Problem | None = None) -> list:
        """Serve `module` (or, with a problem, the card) in place of the file's share; the routes before and after."""
        old = self.shares.get(path, Share())
        at, slots = self.take_out(old)
        if module is not None:
            share, exc = self.added(lambda: self.register(module))
            if exc is not None:
                self.take_out(share)
                problem = app_problem(path, exc)
        if problem is not None:
            share = self.broken(path, old, problem)
            self.broken_files.add(path)
        else:
            self.broken_files.discard(path)
            self.modules[path] = module
            publish(path, module)
        self.put_in(share, at, slots)
        self.shares[path] = share
        return old.routes + share.routes

    def hook_problem(self, exc: BaseException):
        """The card for an exception a request met in an app file's code (`--dev`), else None."""
        frames = [f for f in traceback.extract_tb(exc.__traceback__) if Path(f.filename).resolve().parent == FOLDER]
        if not frames:
            return None
        return Problem(Path(frames[-1].filename), frames[-1].lineno, f"{type(exc).__name__}: {exc}", "app").card()

    def load(self, path: Path):
        try:
            return run_file(path, f"{PACKAGE}.{path.stem}", PACKAGE), None
        except Exception as exc:
            return None, app_problem(path, exc)

    async def reload(self, path: Path) -> None:
        """A saved app file serves at once; a helper module (no `register`) reloads with every app that uses it."""
        path = path.resolve()
        if not path.exists():
            old = self.shares.pop(path, Share())
            self.take_out(old)
            self.modules.pop(path, None)
            self.broken_files.discard(path)
            await self.ctx.jobs.push(rerender_signal(old.routes))
            return
        module, problem = await asyncio.to_thread(self.load, path)
        name = f"{PACKAGE}.{path.stem}"
        if module is not None and not hasattr(module, "register"):  # a helper such as insights.py
            publish(path, module)
            if path in self.shares:  # it could not be imported at start
                old = self.shares.pop(path)
                self.take_out(old)
                self.broken_files.discard(path)
                await self.ctx.jobs.push(rerender_signal(old.routes))
            for user in {*module_users(self.modules, name), *self.broken_files}:  # these may have broken on it
                await self.reload(user)
            return
        if problem is not None and path not in self.shares:  # a helper that broke: the apps using it show where
            users = module_users(self.modules, name)
            for user in users:
                await self.ctx.jobs.push(rerender_signal(self.swap(user, problem=problem)))
            if users:
                return
        await self.ctx.jobs.push(rerender_signal(self.swap(path, module, problem)))
        if path not in self.broken_files:
            for other in set(self.broken_files):  # an app that imports this one broke at start: try it again
                await self.reload(other)

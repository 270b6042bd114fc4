"""Workflow files loaded at run time: the user's `workflows/` folder in the data folder (and, with `--dev`, the
built-in ones), reloaded in place when saved. A broken file shows an error card and harms nothing else."""
from __future__ import annotations

import asyncio
import functools
import re
import sys
import traceback
import types
from dataclasses import dataclass
from pathlib import Path

from fasthtml.common import H1, Code, Div, P, Pre, Script
from loguru import logger

from ..context import MenuEntry
from ..layout import menu, page
from .cards import message_card
from .registry import add_workflow, source
from .routes import NotFound, actions
from .steps import Invalid
from .workflow import Workflow

USER_PACKAGE = "pipedeck_user_workflows"  # user files get module names of their own, apart from the app's
PROBLEMS = "/workflow-problem"
USER_FOLDER = "workflows"


def user_folder(cfg) -> Path:
    """`workflows/` in the data folder: `data/` from a checkout, the XDG data folder's with `nix run`."""
    return cfg.data_dir / USER_FOLDER


@dataclass
class Problem:
    """Why a workflow file could not be used: shown as a card naming the file, the line and the message."""
    file: Path
    line: int | None
    message: str
    kind: str = "workflow"  # or "app"

    @property
    def where(self) -> str:
        return f"{self.file}, line {self.line}" if self.line else str(self.file)

    def card(self):
        return message_card(f"This {self.kind} has a problem", P(Code(self.where)), Pre(self.message, cls="problem"),
                            f"Fix the file and save it: the {self.kind} comes back at once. The rest of Pipedeck "
                            "keeps working.", cls="card-error card-problem")


def problem_from(path: Path, exc: BaseException) -> Problem:
    """The line of `path` where `exc` arose (a syntax error's own line, else the file's last frame)."""
    if isinstance(exc, SyntaxError) and exc.filename == str(path):
        return Problem(path, exc.lineno, f"{type(exc).__name__}: {exc.msg}")
    frames = [f for f in traceback.extract_tb(exc.__traceback__) if f.filename == str(path)]
    return Problem(path, frames[-1].lineno if frames else None, f"{type(exc).__name__}: {exc}")


def line_of(path: Path, pattern: str) -> int | None:
    lines = path.read_text(encoding="utf-8").splitlines()
    return next((i for i, text in enumerate(lines, 1) if re.match(pattern, text)), None)


def module_name(path: Path, builtin: bool) -> str:
    return f"server.workflows.{path.stem}" if builtin else f"{USER_PACKAGE}.{path.stem}"


def run_file(path: Path, name: str, package: str) -> types.ModuleType:
    """Run the file as a fresh module `name` in `package` and return it (raising what the file raises); on failure
    the module that was there stays. Compiled from the text each time: a cached .pyc could be stale after two saves
    within one second."""
    module = types.ModuleType(name)
    module.__file__, module.__package__ = str(path), package
    code = compile(path.read_text(encoding="utf-8"), str(path), "exec")
    before = sys.modules.get(name)
    sys.modules[name] = module  # dataclasses and inspect look the module up while it runs
    try:
        exec(code, module.__dict__)
    except BaseException:
        if before is None:
            sys.modules.pop(name, None)
        else:
            sys.modules[name] = before
        raise
    return module


def load_class(path: Path, name: str) -> type[Workflow]:
    """Run the file and return the Workflow subclass it defines."""
    # As if in server/workflows/: a copy of a built-in file works unchanged (`from ..engine import ...`).
    module = run_file(path, name, "server.workflows")
    found = [obj for obj in vars(module).values() if isinstance(obj, type) and issubclass(obj, Workflow)
             and obj is not Workflow and obj.__module__ == name and obj.name]
    if len(found) != 1:
        raise LookupError(f"The file must define one Workflow subclass with a `name`; it defines {len(found)}.")
    return found[0]


def problem_screen(ctx, stem: str, problem: Problem, current: str | None = None):
    """The page of a file that has a problem: its name as heading, then the card."""
    return page(ctx, f"{stem}.py", H1(f"⚠ {stem}.py"), Div(problem.card(), id=f"{stem}-body"), current=current)


class Broken(Workflow):
    """Stands in at a workflow's address while its file is broken: every view is the problem card."""

    def __init__(self, ctx, name: str, title: str, problem: Problem):
        self.name, self.title, self.problem, self.steps = name, f"⚠ {title}", problem, []
        super().__init__(ctx)

    def body(self, run_id: str = "", error: str | None = None, chain=None):
        return Div(self.problem.card(), id=f"{self.name}-body")

    def chain_start(self, run_id: str):
        return None

    def card(self, run, step_id: str, value=None, error: str | None = None):
        return self.problem.card()


def guarded(fn, problem_in):
    """`fn`, a producer, with an exception from the workflow file's code turned into the card's message."""
    @functools.wraps(fn)
    async def producer(self, run, progress):
        try:
            return await fn(self, run, progress)
        except (Invalid, asyncio.CancelledError):
            raise
        except Exception as exc:
            if (problem := problem_in(exc)) is None:
                raise
            raise Invalid(f"{problem.where}: {problem.message}") from exc
    producer.guarded = True
    return producer


def reload_signal(ctx, name: str):
    """Pushed to every window: an open page of workflow `name` fetches itself again, for the run its id field
    names, and swaps in its content and menu (the chat panel and its socket stay); other pages ignore it."""
    fetch = Div(hx_get=f"/{name}", hx_trigger="load", hx_include=f"#{name}-pipeline-id", hx_select="#content",
                hx_target="#content", hx_swap="outerHTML", cls="reloading")
    return (Div(fetch, hx_swap_oob=f"beforeend:#{name}-body"),
            menu(ctx, f"/{name}")(hx_swap_oob=f"outerHTML:body:has(#{name}-body) nav.app-menu"))


class WorkflowFiles:
    """The workflow files loaded at run time, by path: the workflow each serves, or why it cannot."""

    def __init__(self, ctx, app, folder: Path, builtin_folder: Path | None = None):
        self.ctx, self.app, self.folder, self.builtin_folder = ctx, app, folder, builtin_folder
        self.served: dict[Path, str] = {}  # file -> the name of the workflow it serves
        self.titles: dict[str, str] = {}
        self.problems: dict[Path, Problem] = {}
        self.taken: dict[str, str] = {}  # names a user file may not take -> what holds them
        self.watched = {folder: self.reload, **({builtin_folder: self.reload} if builtin_folder else {})}

    def start(self) -> None:
        """Load every file in the folder (after the built-in workflows and apps), then watch once serving."""
        self.folder.mkdir(parents=True, exist_ok=True)
        for name, wf in self.ctx.workflows.items():
            self.taken[name] = f"the built-in workflow “{wf.title}” ({source(type(wf))})"
            if self.builtin_folder:
                self.served[Path(source(type(wf)))] = name
        for route in self.app.routes:
            first = getattr(route, "path", "").split("/")[1:2]
            if first and first[0] and "{" not in first[0]:
                self.taken.setdefault(first[0], f"the app's own address /{first[0]}")
        self.app.route(f"{PROBLEMS}/{{stem}}")(self.problem_page)
        for path in sorted(self.folder.glob("*.py")):
            self.apply(path, self.load(path))
        self.ctx.startup.append(self.start_watching)
        if self.builtin_folder:  # --dev: the page reloads itself after the server restarted (static/dev.js)
            self.ctx.side_panels.append(lambda: Script(src="/static/dev.js"))

    def builtin(self, path: Path) -> bool:
        return self.builtin_folder is not None and path.parent == self.builtin_folder

    def load(self, path: Path) -> type[Workflow] | Problem:
        try:
            cls = load_class(path, module_name(path, self.builtin(path)))
        except Exception as exc:
            return problem_from(path, exc)
        if self.builtin(path):
            return cls
        return self.refusal(path, cls) or cls

    def refusal(self, path: Path, cls) -> Problem | None:
        """Why a user's workflow class cannot be served as it is: its name, or no steps."""
        other = next((str(p) for p, n in self.served.items() if n == cls.name and p != path), None)
        if holder := self.taken.get(cls.name) or other:
            why = f"The name “{cls.name}” is already taken by {holder}. Give this workflow another `name`."
        elif not re.fullmatch(r"[A-Za-z0-9_-]{1,64}", cls.name):
            why = f"The name “{cls.name[:80]}” is its address in the app: use letters, digits, - and _ only."
        elif not cls.steps:
            return Problem(path, line_of(path, r"\s*steps\s*="), "The workflow declares no `steps`.")
        else:
            return None
        return Problem(path, line_of(path, r"\s*name\s*="), why)

    def apply(self, path: Path, result) -> list[str]:
        """Serve what loading `path` gave; the names whose open pages must show it."""
        old = self.served.get(path)
        if not isinstance(result, Problem):
            try:
                self.guard_producers(result)
                wf = result(self.ctx)
            except Exception as exc:
                result = problem_from(path, exc)
        if isinstance(result, Problem):
            where = f" line {result.line}" if result.line else ""
            logger.warning("workflow file {}{}: {}", path, where, result.message)
            self.problems[path] = result
            self.menu_problem(path, old)
            if old:
                add_workflow(self.ctx, self.app, Broken(self.ctx, old, self.titles[old], result))
            return [old] if old else []
        self.problems.pop(path, None)
        self.menu_problem(path, None)
        if old and old != wf.name:
            self.retire(old, Problem(path, None, f"This workflow is now called “{wf.name}”."))
        before = self.ctx.workflows.get(wf.name)
        add_workflow(self.ctx, self.app, wf)
        if before is not None and set(actions(type(wf))) - set(actions(type(before))):
            wf.router.to_app(self.app)  # a new @action: its route is added; the routes already there stay first
        self.served[path], self.titles[wf.name] = wf.name, wf.title
        return [n for n in (wf.name, old) if n]

    def forget(self, path: Path) -> list[str]:
        """The file was deleted or renamed away: its workflow leaves the menu."""
        self.problems.pop(path, None)
        self.menu_problem(path, None)
        name = self.served.pop(path, None)
        if name:
            self.retire(name, Problem(path, None, "This workflow's file was removed."))
        return [name] if name else []

    def retire(self, name: str, why: Problem) -> None:
        # Its routes stay registered (Starlette cannot remove them); they show why it is gone.
        add_workflow(self.ctx, self.app, Broken(self.ctx, name, self.titles.get(name, name), why))
        self.ctx.menu[:] = [e for e in self.ctx.menu if e.path != f"/{name}"]

    def menu_problem(self, path: Path, served: str | None) -> None:
        """A file that never loaded gets a menu entry of its own, leading to its problem card."""
        self.ctx.menu[:] = [e for e in self.ctx.menu if e.path != f"{PROBLEMS}/{path.stem}"]
        if path in self.problems and not served:
            self.ctx.menu.append(MenuEntry(f"{PROBLEMS}/{path.stem}", f"⚠ {path.name}", "Workflows", 99,
                                           self.problems[path].message))

    def problem_page(self, stem: str):
        problem = next((p for path, p in self.problems.items() if path.stem == stem), None)
        if problem is None:
            raise NotFound(f"No workflow file “{stem[:100]}.py” has a problem now.")
        return problem_screen(self.ctx, stem, problem, f"{PROBLEMS}/{stem}")

    def problem_in(self, exc: BaseException) -> Problem | None:
        """Where in a loaded file's code (a hook) `exc` arose, else None; the menu entry is marked with ⚠ until
        the file is saved again."""
        files = {str(p): p for p in self.served}
        frames = [f for f in traceback.extract_tb(exc.__traceback__) if f.filename in files]
        if not frames:
            return None
        path = files[frames[-1].filename]
        for entry in self.ctx.menu:
            if entry.path == f"/{self.served[path]}" and not entry.label.startswith("⚠"):
                entry.label = f"⚠ {entry.label}"
        return Problem(path, frames[-1].lineno, f"{type(exc).__name__}: {exc}")

    def hook_problem(self, exc: BaseException):
        """The problem card for an exception a request met in a loaded file's code, else None."""
        problem = self.problem_in(exc)
        return problem.card() if problem else None

    def guard_producers(self, cls) -> None:
        """A background step's producer that fails in the file's code says where, in its card (with Try again)."""
        for step in cls.steps:
            fn = getattr(cls, step.producer, None) if step.background else None
            if fn is not None and not getattr(fn, "guarded", False):
                setattr(cls, step.producer, guarded(fn, self.problem_in))

    async def reload(self, path: Path) -> None:
        if path.exists():
            result = await asyncio.to_thread(self.load, path)
            names = self.apply(path, result)
        else:
            names = self.forget(path)
        for name in names:
            await self.ctx.jobs.push(*reload_signal(self.ctx, name))

    def also_watch(self, folder: Path, reload) -> None:
        """Send the saved `*.py` files of `folder` to `reload` (a coroutine function taking the path) as well."""
        self.watched[folder] = reload

    def start_watching(self) -> None:
        self.stop_watching = asyncio.Event()
        watcher = self.ctx.spawn(self.watch())

        async def stop() -> None:
            # watchfiles watches in a worker thread that a cancelled task leaves behind. It must have returned
            # before the interpreter ends: older builds (nixpkgs' 1.1) crash the exiting process (SIGSEGV/SIGABRT)
            # when that thread is still inside the Rust watcher. The stop event ends its wait within one step.
            self.stop_watching.set()
            await asyncio.wait([watcher], timeout=3)

        self.ctx.stopping.append(stop)

    async def watch(self) -> None:
        """Reload each saved file within a fraction of a second; other workflows and their jobs are untouched."""
        from watchfiles import awatch

        wanted = (lambda _change, p: p.endswith(".py") and not Path(p).name.startswith((".", "_")))
        async for changes in awatch(*self.watched, watch_filter=wanted, step=20, debounce=400, recursive=False,
                                    stop_event=self.stop_watching):
            for path in sorted({Path(p) for _, p in changes}):
                try:
                    await self.watched.get(path.parent, self.reload)(path)
                except Exception:
                    logger.exception("could not reload {}", path)

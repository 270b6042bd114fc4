"""Tasks: a to-do list per profile, reordered by drag and drop (priority is the list order)."""
from fasthtml.common import H1, A, APIRouter, Button, Div, Form, Hidden, Input, Li, P, Script, Span, Strong, Ul

from ..context import MenuEntry
from ..current_profile import choose_profile, current_profile
from ..db import Profile, Task
from ..engine.cards import error_note
from ..layout import icon, page

ORDER = 30
# Drag-and-drop reordering, loaded here only: no other page needs it (every page had parsed it at start-up).
SORTABLE = Script(src="/static/vendor/Sortable.min.js")
MAX_TEXT = 500


def clean_text(text: str) -> str:
    text = (text or "").strip()
    if not text:
        raise ValueError("A task needs some text.")
    if len(text) > MAX_TEXT:
        raise ValueError(f"Keep a task under {MAX_TEXT} characters (this one has {len(text):,}).")
    return text


class TaskList:
    """Task operations shared by the screen and the LLM's tools."""

    def __init__(self, ctx):
        self.ctx = ctx
        self.tasks = ctx.db.create(Task, pk="id")
        self.profiles = ctx.db.create(Profile, pk="id")

    def current_profile(self) -> Profile | None:
        return current_profile(self.ctx.db)

    def choose_profile(self, pid: int) -> None:
        choose_profile(self.ctx.db, pid)

    def for_profile(self, profile_id: int) -> list[Task]:
        return self.tasks(where="profile_id = ?", where_args=[profile_id], order_by="priority, id")

    def add(self, profile_id: int, text: str) -> Task:
        last = max((t.priority for t in self.for_profile(profile_id)), default=-1)
        return self.tasks.insert(Task(id=None, profile_id=profile_id, text=clean_text(text), done=0, priority=last + 1))

    def rename(self, tid: int, text: str) -> Task:
        return self.tasks.update(id=tid, text=clean_text(text))

    def set_done(self, tid: int, done: bool) -> Task:
        return self.tasks.update(id=tid, done=int(done))

    def delete(self, tid: int) -> None:
        self.tasks.delete(tid)

    def reorder(self, ids: list[int]) -> None:
        with self.ctx.db.conn:
            for priority, tid in enumerate(ids):
                self.ctx.db.execute("UPDATE task SET priority = ? WHERE id = ?", [priority, tid])


def item(t: Task):
    return Li(
        Hidden(name="id", value=t.id),
        Span(icon("grip-vertical"), cls="handle", title="Drag to reorder"),
        Input(type="checkbox", checked=bool(t.done), aria_label=f"Done: {t.text}",
              hx_post=f"/tasks/{t.id}/toggle", hx_target=f"#task-{t.id}", hx_swap="outerHTML"),
        Span(t.text, cls="task-text" + (" done" if t.done else ""), title="Click to rename",
             hx_get=f"/tasks/{t.id}/edit", hx_target=f"#task-{t.id}", hx_swap="outerHTML"),
        Button(icon("x"), cls="outline secondary small", aria_label=f"Delete: {t.text}",
               hx_delete=f"/tasks/{t.id}", hx_target=f"#task-{t.id}", hx_swap="outerHTML",
               hx_confirm="Delete this task?"),
        id=f"task-{t.id}", cls="task")


def add_form(error=None, text=""):
    return Form(Div(Input(name="text", placeholder="What needs doing?", value=text, maxlength=MAX_TEXT,
                          aria_label="New task", aria_invalid="true" if error else None, data_autofocus=True),
                    Button("Add"), role="group"), error_note(error),
                hx_post="/tasks", hx_target="#task-add", hx_swap="outerHTML", id="task-add")


def task_list(items: list[Task]):
    # SortableJS moves the items; the form's "end" trigger posts the ids in their new order.
    return Form(Ul(*map(item, items), cls="plain-list"), id="task-list", cls="sortable",
                hx_post="/tasks/reorder", hx_trigger="end", hx_swap="none")


def edit_form(t: Task, error: str = "", text: str | None = None):
    """Rename mode: Enter saves; Escape presses Cancel (static/app.js: any form's [data-cancel])."""
    tid = t.id
    return Li(Form(Div(Input(name="text", value=t.text if text is None else text, maxlength=MAX_TEXT,
                             data_autofocus=True, aria_label="Task text", aria_invalid="true" if error else None),
                       Button("Save"),
                       Button("Cancel", type="button", cls="secondary", data_cancel=True,
                              hx_get=f"/tasks/{tid}", hx_target=f"#task-{tid}", hx_swap="outerHTML"),
                       role="group"), error_note(error or None),
                   hx_put=f"/tasks/{tid}", hx_target=f"#task-{tid}", hx_swap="outerHTML"),
              id=f"task-{tid}", cls="task editing")


def register(ctx, rt):
    tasks = ctx.task_list = TaskList(ctx)
    ctx.menu.append(MenuEntry("/tasks", "Tasks", "Tools", 10, "A to-do list for the current profile."))
    ar = APIRouter()

    @ar("/tasks", methods=["get"])
    def index():
        profile = tasks.current_profile()
        if profile is None:
            return page(ctx, "Tasks", H1("Tasks"), P("No active profile. ", A("Add or activate one", href="/profiles"),
                                                     " to keep tasks."), current="/tasks")
        return page(ctx, "Tasks", H1("Tasks"),
                    P("For ", Strong(profile.menu_name, cls="task-profile"),
                      " (the current profile: change it in the sidebar).", cls="lead"),
                    add_form(), task_list(tasks.for_profile(profile.id)), SORTABLE, current="/tasks")

    @ar("/tasks", methods=["post"])
    def add(text: str = ""):
        profile = tasks.current_profile()
        if profile is None:
            return add_form("Activate a profile first.", text)
        try:
            t = tasks.add(profile.id, text)
        except ValueError as e:
            return add_form(str(e), text[:MAX_TEXT * 4])
        return add_form(), Ul(item(t), hx_swap_oob="beforeend:#task-list ul")

    @ar("/tasks/{tid}/toggle", methods=["post"])
    def toggle(tid: int):
        return item(tasks.set_done(tid, not tasks.tasks[tid].done))

    @ar("/tasks/{tid}", methods=["get"])
    def show(tid: int):
        return item(tasks.tasks[tid])

    @ar("/tasks/{tid}/edit", methods=["get"])
    def edit(tid: int):
        return edit_form(tasks.tasks[tid])

    @ar("/tasks/{tid}", methods=["put"])
    def rename(tid: int, text: str = ""):
        try:
            return item(tasks.rename(tid, text))
        except ValueError as e:
            return edit_form(tasks.tasks[tid], str(e), text[:MAX_TEXT * 4])

    @ar("/tasks/{tid}", methods=["delete"])
    def delete(tid: int):
        tasks.delete(tid)
        return ""

    @ar("/tasks/reorder", methods=["post"])
    def reorder(id: list[int] = None):
        tasks.reorder(id or [])
        return ""

    return ar

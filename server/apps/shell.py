"""The shell's own routes: the quick switcher (Ctrl+K), the Assistant panel's remembered state, the current
profile chosen in the sidebar."""
from __future__ import annotations

from fasthtml.common import A, APIRouter, HtmxResponseHeaders, Li, Small, Span
from starlette.responses import Response

from ..current_profile import active_profiles, choose_profile
from ..db import store_set
from ..layout import ASSISTANT, GROUPS, menu_group
from ..runs_recent import recent_runs

ORDER = 5
MAX_QUERY = 200
SHOWN = 12


def rank(q: str, label: str, description: str) -> int | None:
    """How well a screen matches: its label starts with the words, holds them, or only its description does."""
    words, label = q.lower().split(), label.lower()
    if all(w in label for w in words):
        return 0 if label.startswith(q.lower()) else 1
    return 2 if all(w in f"{label} {description.lower()}" for w in words) else None


def result(label: str, href: str, kind: str, detail: str = ""):
    return Li(A(Span(label, cls="label"), Small(kind + (f" · {detail}" if detail else ""), cls="muted"), href=href,
                role="option", tabindex="-1"))


def register(ctx, rt):
    ar = APIRouter()

    @ar("/switcher", methods=["get"])
    def switcher(q: str = ""):
        q = q.strip()[:MAX_QUERY]
        ranked = [(rank(q, e.label, e.description), e) for e in ctx.menu]
        order = sorted((r for r in ranked if r[0] is not None),
                       key=lambda r: (r[0], GROUPS.index(menu_group(r[1])), r[1].order, r[1].label))
        screens = [result(e.label, e.path, menu_group(e)) for _, e in order]
        titles = {name: w.title for name, w in ctx.workflows.items()}
        runs = [result(r.id, r.href, "Recent run", titles.get(r.workflow, r.workflow))
                for r in recent_runs(ctx.db, titles, q)]
        found = (screens + runs)[:SHOWN]
        return tuple(found) if found else Li(Small("Nothing matches.", cls="muted"), cls="empty")

    @ar("/profiles/current", methods=["post"])
    def choose(pid: int):
        if any(p.id == pid for p in active_profiles(ctx.db)):
            choose_profile(ctx.db, pid)
        # Every screen shows the current profile (sidebar, tasks): reload the one the user is on.
        return HtmxResponseHeaders(refresh="true")

    @ar("/shell/assistant", methods=["post"])
    def assistant(state: str = ""):
        if state in ("open", "collapsed"):
            store_set(ctx.db, ASSISTANT, state)
        return Response(status_code=204)

    return ar

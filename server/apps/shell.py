"""The shell's own routes: the quick switcher (Ctrl+K) and the Assistant panel's remembered state."""
from __future__ import annotations

from fasthtml.common import A, APIRouter, Li, Small, Span
from starlette.responses import Response

from ..db import store_set
from ..layout import ASSISTANT, menu_group
from ..runs_recent import recent_runs

ORDER = 5
MAX_QUERY = 200
SHOWN = 12


def matches(q: str, *texts: str) -> bool:
    words = q.lower().split()
    haystack = " ".join(texts).lower()
    return all(w in haystack for w in words)


def result(label: str, href: str, kind: str, detail: str = ""):
    return Li(A(Span(label, cls="label"), Small(kind + (f" · {detail}" if detail else ""), cls="muted"), href=href,
                role="option", tabindex="-1"))


def register(ctx, rt):
    ar = APIRouter()

    @ar("/switcher", methods=["get"])
    def switcher(q: str = ""):
        q = q.strip()[:MAX_QUERY]
        screens = [result(e.label, e.path, menu_group(e)) for e in sorted(ctx.menu, key=lambda e: (e.order, e.label))
                   if matches(q, e.label, e.description)]
        titles = {name: w.title for name, w in ctx.workflows.items()}
        runs = [result(r.id, r.href, "Recent run", titles.get(r.workflow, r.workflow))
                for r in recent_runs(ctx.db, titles, q)]
        found = (screens + runs)[:SHOWN]
        return tuple(found) if found else Li(Small("Nothing matches.", cls="muted"), cls="empty")

    @ar("/shell/assistant", methods=["post"])
    def assistant(state: str = ""):
        if state in ("open", "collapsed"):
            store_set(ctx.db, ASSISTANT, state)
        return Response(status_code=204)

    return ar

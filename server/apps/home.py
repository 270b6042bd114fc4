"""The home screen: every workflow and app, with the user's last choice first."""
from fasthtml.common import H1, A, APIRouter, Article, Div, Header, P, Small

from ..layout import last_choice, menu_group, page


def register(ctx, rt):
    ar = APIRouter()

    @ar("/", methods=["get"])
    def home():
        last = last_choice(ctx)
        by_path = {e.path: e for e in ctx.menu}
        cont = by_path.get(last)
        tiles = [Article(Header(A(e.label, href=e.path)), P(e.description) if e.description else None,
                         Small(menu_group(e)), cls="tile" + (" last" if e.path == last else ""))
                 for e in sorted(ctx.menu, key=lambda e: (e.group != "Workflows", e.order, e.label))]
        return page(ctx, "Home", H1("Pipedeck"),
                    P("Continue where you left off: ", A(cont.label, href=cont.path, cls="continue")) if cont else
                    P("Pick a workflow to start. Every run is saved as you go; type its id again to resume."),
                    Div(*tiles, cls="tiles"))

    return ar

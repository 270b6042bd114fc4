"""The home screen: every workflow and app, with the user's last choice first."""
from fasthtml.common import H1, A, Article, Div, Header, P, Small

from ..layout import last_choice, page


def register(ctx, rt):
    @rt("/")
    def home():
        last = last_choice(ctx)
        by_path = {e.path: e for e in ctx.menu}
        cont = by_path.get(last)
        tiles = [Article(Header(A(e.label, href=e.path)), P(e.description) if e.description else None,
                         Small(e.group), cls="tile" + (" last" if e.path == last else ""))
                 for e in sorted(ctx.menu, key=lambda e: (e.group != "Workflows", e.order, e.label))]
        return page(ctx, "Home", H1("Pipedeck"),
                    P("Continue where you left off: ", A(cont.label, href=cont.path, cls="continue")) if cont else
                    P("Pick a workflow to start. Every run is saved as you go; type its id again to resume."),
                    Div(*tiles, cls="tiles"))

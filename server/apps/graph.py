"""Link graphs: the list of every graph on disk and the in-app WebGL viewer (data streamed as typed arrays)."""
from __future__ import annotations

import asyncio
from datetime import datetime
from pathlib import Path

from fasthtml.common import H1, APIRouter, Code, P, Small, to_xml
from loguru import logger
from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, Response

from ..context import MenuEntry
from ..engine.workflow import NotFound
from ..files import UnsafePath, atomic_write
from ..graph import views
from . import insights
from ..graph.catalog import FOLDER, graph_files, list_graphs, viewer_url
from ..graph.cache import ARRAYS, GraphFiles, cached_header, signature
from ..layout import page

# The array side (server.graph.convert and .nodes: numpy, pyarrow) is imported inside the handlers that need it,
# on first use: most launches never open a graph, and those imports would add a third of a second to every start.

ORDER = 30
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
MAX_PNG = 64 << 20
BINARY = {"Content-Type": "application/octet-stream", "Cache-Control": "no-cache"}


class Conversions:
    """One worker-thread conversion per graph at a time; a failure is remembered until the CSV changes."""

    def __init__(self, ctx):
        self.ctx = ctx
        self.running: dict[Path, asyncio.Task] = {}
        self.failed: dict[Path, tuple[dict, str]] = {}

    def failure(self, files: GraphFiles) -> str | None:
        sig, message = self.failed.get(files.links, (None, None))
        return message if sig == signature(files) else None

    def start(self, files: GraphFiles) -> None:
        if files.links in self.running:
            return
        self.failed.pop(files.links, None)
        task = self.ctx.spawn(self._run(files))
        self.running[files.links] = task

    async def _run(self, files: GraphFiles) -> None:
        sig = signature(files)
        try:
            from ..graph.convert import convert
            header = await asyncio.to_thread(convert, files)
            logger.info("graph {} converted: {} nodes, {} edges in {}s", files.links.name, header["nodes"],
                        header["edges"], header["seconds"])
        except Exception as e:
            logger.opt(exception=e).warning("graph {} could not be converted", files.links.name)
            self.failed[files.links] = (sig, f"Reading {files.links.name} failed: {e}")
        finally:
            self.running.pop(files.links, None)


def save_image(files: GraphFiles, image: bytes) -> Path:
    """Beside the CSVs, named for the graph and the moment; a second save in the same second gets a suffix."""
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    target, n = files.links.with_name(f"{files.stem}_graph_{stamp}.png"), 1
    while target.exists():
        n += 1
        target = files.links.with_name(f"{files.stem}_graph_{stamp}-{n}.png")
    atomic_write(target, image)
    return target


class Graphs:
    """Finding a graph on disk and answering for it: the viewer, its arrays, search and node cards."""

    def __init__(self, ctx):
        self.ctx, self.downloads = ctx, ctx.cfg.downloads_dir
        self.conversions = Conversions(ctx)

    def locate(self, org: str, project: str, slug: str) -> GraphFiles | None:
        try:
            files = graph_files(self.downloads, org, project, slug)
        except UnsafePath:
            return None
        return files if files.links.is_file() else None

    def missing(self, org: str, project: str, slug: str):
        raise NotFound(f"There is no link graph “{project} · {slug}” of {org} in the downloads folder. "
                       "The list shows every graph on disk.", "/graph")

    def ready(self, org: str, project: str, slug: str) -> tuple[GraphFiles, dict] | None:
        files = self.locate(org, project, slug)
        header = cached_header(files) if files else None
        return (files, header) if header else None

    async def ready_or_wait(self, files: GraphFiles, poll: str):
        """The header when the cache is ready; else (None, the converting card, starting a conversion, or the
        error)."""
        header = await asyncio.to_thread(cached_header, files)
        if header is not None:
            return header, None
        if message := self.conversions.failure(files):
            return None, views.failed_card(message)
        self.conversions.start(files)
        return None, views.converting_card(poll)

    async def body(self, org: str, project: str, slug: str, files: GraphFiles):
        """The viewer when the cache is ready, else the converting card or the error."""
        header, waiting = await self.ready_or_wait(files, viewer_url(org, project, slug))
        if waiting is not None:
            return waiting
        return await asyncio.to_thread(self.render_viewer, org, project, slug, files, header)

    def render_viewer(self, org: str, project: str, slug: str, files: GraphFiles, header: dict):
        from ..graph.nodes import node_table
        table = node_table(files, header) if header["nodes"] else None
        return views.viewer(viewer_url(org, project, slug), header, table, files.links.name, files.meta.name)

    def column_data(self, org: str, project: str, slug: str, name: str) -> bytes | None:
        from ..graph.nodes import column_bytes, node_table
        found = self.ready(org, project, slug)
        kinds = {c["name"]: c["kind"] for c in found[1]["columns"]} if found else {}
        return column_bytes(node_table(*found), name, kinds[name]) if name in kinds else None

    def search_nodes(self, org: str, project: str, slug: str, q: str, details: bool) -> list | dict | None:
        """The matching pages; with `details`, also the first one's card, so the viewer needs one round trip."""
        from ..graph.nodes import node_details, node_table, search_index
        from ..graph.search import search
        found = self.ready(org, project, slug)
        if not found:
            return None
        table = node_table(*found)
        hits = search(table, search_index(*found), q[:2000])
        if not details:
            return hits
        card = views.node_card(node_details(table, hits[0]["id"]), hits[0]["id"], found[1]["nodes"]) if hits else ""
        return {"hits": hits, "card": to_xml(card) if hits else ""}

    def node_card(self, org: str, project: str, slug: str, index: int):
        from ..graph.nodes import node_details, node_table
        found = self.ready(org, project, slug)
        details = node_details(node_table(*found), index) if found else None
        return views.node_card(details, index, found[1]["nodes"]) if details is not None else None


def register(ctx, rt):
    ctx.menu.append(MenuEntry("/graph", "Link graphs", "Apps", ORDER, "Every downloaded link graph, drawn in the app."))
    graphs, ar = Graphs(ctx), APIRouter()
    screen_routes(ctx, ar, graphs)
    data_routes(ar, graphs)
    insights.routes(ctx, ar, graphs)
    return ar


def screen_routes(ctx, ar, graphs: Graphs):
    """The pages: the list of graphs, a graph's viewer (or its converting card), and saving the drawing as PNG."""

    @ar("/graph", methods=["get"])
    def index():
        return page(ctx, "Link graphs", H1("Link graphs"),
                    P("Every link graph in the downloads folder. Open one to see it drawn; nothing leaves this "
                      "machine.", cls="lead"),
                    views.graph_list(list_graphs(graphs.downloads), f"{graphs.downloads / FOLDER}"),
                    current="/graph", wide=True)

    @ar("/graph/{org}/{project}/{slug}", methods=["get"])
    async def viewer(org: str, project: str, slug: str):
        files = graphs.locate(org, project, slug)
        if files is None:
            return graphs.missing(org, project, slug)
        content = await graphs.body(org, project, slug, files)
        return page(ctx, f"{project} · {slug}", views.viewer_title(org, project, slug), content,
                    views.help_details(), *views.ASSETS, current="/graph", wide=True)

    @ar("/graph/{org}/{project}/{slug}/status", methods=["get"])
    async def status(org: str, project: str, slug: str):
        files = graphs.locate(org, project, slug)
        if files is None:
            return views.failed_card("The links file is no longer in the downloads folder.")
        return await graphs.body(org, project, slug, files)

    @ar("/graph/{org}/{project}/{slug}/png", methods=["post"])
    async def save_png(req: Request, org: str, project: str, slug: str):
        files = graphs.locate(org, project, slug)
        if files is None:
            return Response("No such graph.", status_code=404)
        refused = Small("That was not a PNG image of a sensible size; nothing was saved.", cls="error")
        if int(req.headers.get("content-length") or 0) > MAX_PNG:
            return refused
        image = await req.body()
        if not image.startswith(PNG_MAGIC) or len(image) > MAX_PNG:
            return refused
        target = await asyncio.to_thread(save_image, files, image)
        shown = target.relative_to(graphs.downloads)
        return Small("Saved ", Code(str(shown)), " in the downloads folder.", cls="saved", data_path=str(shown))


def data_routes(ar, graphs: Graphs):
    """What the viewer's script fetches: the typed arrays, a metadata column, search hits and a page's card."""

    @ar("/graph/{org}/{project}/{slug}/data/{name}", methods=["get"])
    def data(org: str, project: str, slug: str, name: str):
        found = graphs.ready(org, project, slug)
        if found is None or name not in ARRAYS:
            return Response("not found", status_code=404)
        return FileResponse(found[0].array(name), headers=BINARY)

    @ar("/graph/{org}/{project}/{slug}/column/{name}", methods=["get"])
    async def column(org: str, project: str, slug: str, name: str):
        data = await asyncio.to_thread(graphs.column_data, org, project, slug, name)
        return Response("not found", status_code=404) if data is None else Response(data, headers=BINARY)

    @ar("/graph/{org}/{project}/{slug}/search", methods=["get"])
    async def find(org: str, project: str, slug: str, q: str = "", details: bool = False):
        hits = await asyncio.to_thread(graphs.search_nodes, org, project, slug, q, details)
        return JSONResponse([], status_code=404) if hits is None else JSONResponse(hits)

    @ar("/graph/{org}/{project}/{slug}/node/{index}", methods=["get"])
    def node(org: str, project: str, slug: str, index: int):
        card = graphs.node_card(org, project, slug, index)
        return Response("not found", status_code=404) if card is None else card

"""Files the workflows made: the Downloads screen, and serving them from the downloads folder only (never to
other web origins)."""
from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from urllib.parse import quote

from fasthtml.common import H1, A, APIRouter, Button, Code, Div, P, Small, Span, Table, Tbody, Td, Th, Thead, Tr
from starlette.responses import FileResponse

from ..context import MenuEntry
from ..engine.cards import message_card
from ..engine.workflow import NotFound
from ..files import UnsafePath, human_size, inside
from ..ft import EMPTY
from ..graph.catalog import FOLDER, viewer_url
from ..layout import icon, page

ORDER = 90
SHOWN = 1000


@dataclass(frozen=True)
class Produced:
    relative: str  # inside the downloads folder, with forward slashes
    size: int
    modified: float

    @property
    def folder(self) -> str:
        return self.relative.rpartition("/")[0]

    @property
    def name(self) -> str:
        return self.relative.rpartition("/")[2]

    @property
    def href(self) -> str:
        return "/downloads/file/" + quote(self.relative)

    @property
    def graph(self) -> str | None:
        """The viewer's address when this is a link graph's links file."""
        parts = self.relative.split("/")
        if len(parts) == 4 and parts[0] == FOLDER and self.name.startswith(parts[2] + "_") \
                and self.name.endswith("_links.csv"):
            slug = self.name[len(parts[2]) + 1:-len("_links.csv")]
            return viewer_url(parts[1], parts[2], slug) if slug else None
        return None


def produced_files(downloads: Path) -> list[Produced]:
    """Every finished file under the downloads folder, newest first; hidden files and folders (temporary
    `.part` files, the graph cache) are not the workflows' product."""
    root = Path(downloads)
    found = []
    for path in root.rglob("*") if root.is_dir() else ():
        relative = path.relative_to(root)
        if any(part.startswith(".") for part in relative.parts) or not path.is_file():
            continue
        st = path.stat()
        found.append(Produced(relative.as_posix(), st.st_size, st.st_mtime))
    return sorted(found, key=lambda f: (-f.modified, f.relative))


def is_file(path: Path) -> bool:
    try:
        return path.is_file()
    except OSError:  # e.g. a name too long for the file system: it names no file
        return False


def file_row(f: Produced):
    # The words hide on a narrow window (app.css); the title and aria-label still name each action.
    actions = [Button(icon("folder-open"), Span("Open folder", cls="label"), type="button", title="Open folder",
                      aria_label="Open folder", cls="outline secondary small", data_open_folder=f.folder or EMPTY),
               A(icon("download"), Span("Save as", cls="label"), href=f.href, download=f.name, role="button",
                 title="Save as", aria_label="Save as", cls="outline secondary small")]
    if f.graph:
        actions.append(A(icon("waypoints"), Span("View graph", cls="label"), href=f.graph, role="button",
                         title="View graph", aria_label="View graph", cls="outline small"))
    return Tr(Td(Small(f.folder + "/", cls="muted") if f.folder else None, Code(f.name), cls="file-name"),
              Td(human_size(f.size), cls="num"), Td(datetime.fromtimestamp(f.modified).strftime("%Y-%m-%d %H:%M")),
              Td(Div(*actions, cls="actions")))


def files_table(files: list[Produced], downloads: Path):
    if not files:
        return message_card("Nothing downloaded yet", f"Files that workflows produce appear here, from {downloads}.",
                            A("Open the Link graph workflow", href="/linkgraph"))
    more = P(f"The {SHOWN:,} newest of {len(files):,} files are shown.", cls="muted") if len(files) > SHOWN else None
    return Div(Table(Thead(Tr(Th("File"), Th("Size"), Th("Date"), Th(""))),
                     Tbody(*map(file_row, files[:SHOWN])), cls="downloads striped"), more, cls="table-scroll")


def register(ctx, rt):
    ctx.menu.append(MenuEntry("/downloads", "Downloads", "Tools", 35, "Every file the workflows produced."))
    downloads = ctx.cfg.downloads_dir
    ar = APIRouter()

    @ar("/downloads", methods=["get"])
    async def index():
        files = await asyncio.to_thread(produced_files, downloads)
        return page(ctx, "Downloads", H1("Downloads"),
                    P("Everything the workflows produced, newest first, in ", Code(str(downloads)), ".", cls="lead"),
                    Div(Button(icon("folder-open"), "Open the downloads folder", type="button",
                               cls="outline secondary", data_open_folder=EMPTY),
                        Button(icon("copy"), "Copy its path", type="button", cls="outline secondary",
                               data_copy=str(downloads)), cls="actions"),
                    files_table(files, downloads), current="/downloads", wide=True)

    def serve(path: Path, filename: str):
        # Temporary `.part` files are unfinished; only complete files are offered.
        if filename.startswith(".") or not is_file(path):
            raise NotFound(f"There is no file “{filename}” in the downloads folder.", "/downloads")
        # No Access-Control-Allow-Origin: a page in the user's browser on another site must not read their exports.
        return FileResponse(path, filename=filename, media_type="text/csv" if filename.endswith(".csv") else None)

    @ar("/downloads/file/{relative:path}", methods=["get"])
    def download_any(relative: str):
        parts = relative.split("/")
        try:
            path = inside(downloads, *parts)
        except UnsafePath:
            raise NotFound("There is no such file in the downloads folder.", "/downloads")
        if any(p.startswith(".") for p in parts):
            raise NotFound("There is no such file in the downloads folder.", "/downloads")
        return serve(path, parts[-1])

    @ar("/download/{org}/{project}/{filename}", methods=["get"])
    def download(org: str, project: str, filename: str):
        try:
            path = inside(downloads, FOLDER, org, project, filename)
        except UnsafePath:
            raise NotFound("There is no such file in the downloads folder.")
        return serve(path, filename)

    return ar

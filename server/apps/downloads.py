"""Files the workflows made, served from the downloads folder only (and never to other web origins)."""
from __future__ import annotations

from starlette.responses import FileResponse

from ..engine.workflow import NotFound
from ..files import UnsafePath, inside

ORDER = 90


def register(ctx, rt):
    @rt("/download/{org}/{project}/{filename}", methods=["get"])
    def download(org: str, project: str, filename: str):
        try:
            path = inside(ctx.cfg.downloads_dir, "link-graph", org, project, filename)
        except UnsafePath:
            raise NotFound("There is no such file in the downloads folder.")
        # Temporary `.part` files are unfinished; only complete files are offered.
        if filename.startswith(".") or not path.is_file():
            raise NotFound(f"There is no file “{filename}” for {org}/{project} in the downloads folder.")
        # No Access-Control-Allow-Origin: a page in the user's browser on another site must not read their exports.
        return FileResponse(path, filename=filename, media_type="text/csv" if filename.endswith(".csv") else None)

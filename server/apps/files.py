""""Open folder" buttons: reveal a folder of the downloads in the system's file manager.

A button `Button("Open folder", data_open_folder="<folder relative to the downloads folder>")` is wired by
static/app.js to POST here; it works the same in the native window and in a browser on this machine."""
from __future__ import annotations

import asyncio
import os
import shlex
import sys

from fasthtml.common import APIRouter
from starlette.responses import PlainTextResponse, Response

from ..files import UnsafePath, inside

ORDER = 91


def opener_command() -> list[str]:
    """The desktop's "open this" command; PIPEDECK_OPENER replaces it (tests record what would be opened)."""
    if env := os.environ.get("PIPEDECK_OPENER"):
        return shlex.split(env)
    return ["open"] if sys.platform == "darwin" else ["xdg-open"]


def downloads_folder(ctx, relative: str):
    """The folder asked for, inside the downloads folder (UnsafePath if it would leave it)."""
    relative = relative.strip().rstrip("/")
    # An absolute path ("/etc") splits into an empty first part, which inside() refuses.
    return inside(ctx.cfg.downloads_dir, *relative.split("/")) if relative else ctx.cfg.downloads_dir.resolve()


def register(ctx, rt):
    ar = APIRouter()

    @ar("/open-folder", methods=["post"])
    async def open_folder(path: str = ""):
        try:
            folder = downloads_folder(ctx, path)
        except UnsafePath:
            return PlainTextResponse("Only folders inside the downloads folder can be opened.", status_code=400)
        if not folder.is_dir():
            return PlainTextResponse(f"The folder {path or 'downloads'} does not exist yet.", status_code=404)
        command = opener_command()
        try:
            proc = await asyncio.create_subprocess_exec(*command, str(folder), stdin=asyncio.subprocess.DEVNULL,
                                                        stdout=asyncio.subprocess.DEVNULL,
                                                        stderr=asyncio.subprocess.DEVNULL, start_new_session=True)
        except OSError:
            return PlainTextResponse(f"Could not open the folder: `{command[0]}` is not available on this machine. "
                                     f"It is {folder}", status_code=503)
        # Some file managers keep the opener running; waiting in the background reaps it without holding the request.
        ctx.spawn(proc.wait())
        return Response(status_code=204)

    return ar

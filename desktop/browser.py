"""Open the app in the user's browser without showing the launch secret to other local users.

A browser's command line (and environment) can be read by anyone on the machine (`ps`), so the bootstrap URL never
goes there. As Jupyter does, the browser is given an owner-only local HTML file that redirects to the URL.
"""
from __future__ import annotations

import html
import webbrowser
from pathlib import Path
from urllib.parse import quote

from server.config import Config
from server.files import atomic_write

OPENER_NAME = "open-in-browser.html"


def opener_path(cfg: Config) -> Path:
    # The data folder is owner-only (0700) and outlives a temporary folder a browser sandbox may not see.
    return cfg.data_dir / OPENER_NAME


def write_opener(cfg: Config, path: str = "/") -> Path:
    """The redirect file for this launch (landing on `path`), mode 0600, written atomically so a browser never reads
    half of it."""
    target = cfg.bootstrap_url + ("" if path == "/" else "&next=" + quote(path, safe="/")) if cfg.auth \
        else cfg.base_url + path
    url = html.escape(target, quote=True)
    page = (f'<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
            f'<meta name="referrer" content="no-referrer">'
            f'<meta http-equiv="refresh" content="0;url={url}"><title>Opening Pipedeck…</title></head>'
            f'<body><p>Opening Pipedeck… If nothing happens, <a href="{url}">open it here</a>.</p></body></html>')
    path = opener_path(cfg)
    atomic_write(path, page, mode=0o600)
    return path


def open_in_browser(cfg: Config, path: str = "/") -> bool:
    """Show the app (at `path`) in the default browser; the browser's argv carries only the redirect file's path."""
    return webbrowser.open(write_opener(cfg, path).as_uri())


def remove_opener(cfg: Config) -> None:
    # The file holds this launch's secret: gone with the launch (the next launch has another secret anyway).
    opener_path(cfg).unlink(missing_ok=True)

"""What the page may ask of the native window (`window.pywebview.api.*`): save a file, open a link outside, close
the window (Ctrl+W) or quit (Ctrl+Q)."""
from __future__ import annotations

import webbrowser
from pathlib import Path
from urllib.parse import unquote, urljoin, urlsplit

from loguru import logger

from server.config import Config
from server.files import atomic_path


def safe_filename(name: str, href: str) -> str:
    """A bare file name for the Save-as dialog: the link's `download` name, else the URL's last part."""
    for candidate in (name, unquote(urlsplit(href).path.rsplit("/", 1)[-1])):
        candidate = Path(str(candidate).replace("\\", "/")).name.strip()
        if candidate and candidate not in (".", ".."):
            return candidate
    return "download"


def fetch_to(cfg: Config, href: str, target: Path) -> None:
    """Stream any same-origin URL into `target`, through loopback with this launch's own session."""
    import httpx  # on first use: with its command line (rich, pygments) it costs start-up time

    url = urljoin(cfg.base_url + "/", href)
    if not url.startswith(cfg.base_url + "/"):
        raise ValueError("only Pipedeck's own files can be saved")
    with httpx.Client(headers={"Origin": cfg.base_url}, timeout=60, follow_redirects=True) as client:
        client.get(cfg.bootstrap_url)  # sets the session cookie the way the window got it
        with client.stream("GET", url) as response:
            response.raise_for_status()
            with open(target, "wb") as f:
                for chunk in response.iter_bytes(1 << 16):
                    f.write(chunk)


class WindowApi:
    """Exposed to the page by pywebview; each call runs in its own thread, so blocking here is fine."""

    def __init__(self, cfg: Config):
        self._cfg = cfg
        self._window = None  # set once the window exists; underscore names are not exposed to the page

    def _save_dialog(self, filename: str) -> Path | None:
        import webview

        start = Path.home() / "Downloads"
        chosen = self._window.create_file_dialog(webview.FileDialog.SAVE, directory=str(start if start.is_dir()
                                                 else Path.home()), save_filename=filename)
        if not chosen:
            return None
        return Path(chosen if isinstance(chosen, str) else chosen[0])

    def save_as(self, href: str, filename: str = "") -> dict:
        """Ask where to save the linked file, then copy it there; returns {"saved", "path"|"error"} for the page."""
        from httpx import HTTPError

        name = safe_filename(filename, href)
        target = self._save_dialog(name)
        if target is None:
            return {"saved": False}
        try:
            with atomic_path(target, mode=0o644) as tmp:
                # Through the server, so the file is exactly what the link serves (and its path checks apply).
                fetch_to(self._cfg, href, tmp)
        except (OSError, ValueError, HTTPError) as e:
            logger.warning("could not save {} to {}: {}", urlsplit(href).path, target, e)
            return {"saved": False, "error": f"Could not save {target.name}: {e}"}
        logger.info("saved {} to {}", urlsplit(href).path, target)
        return {"saved": True, "path": str(target)}

    def open_external(self, url: str) -> bool:
        """Open a web address in the system's browser (only http/https/mailto: nothing that runs a program)."""
        if urlsplit(url).scheme not in ("http", "https", "mailto"):
            return False
        return webbrowser.open(url)

    def open_in_browser(self, path: str) -> bool:
        """"Open in your browser" (the graph viewer where the window has no WebGL): this page in the user's browser,
        signed in through the owner-only redirect file, never a secret on a command line."""
        from .browser import open_in_browser

        if not path.startswith("/") or path.startswith("//"):
            return False
        return open_in_browser(self._cfg, path)

    def close(self) -> None:
        """Ctrl+W: close this window (the last one closed stops Pipedeck, as the close button does)."""
        logger.info("Ctrl+W: closing the window")
        close_and_wait([self._window])

    def quit(self) -> None:
        """Ctrl+Q: close every window, which ends the GUI loop; the server then shuts down and the process exits 0."""
        import webview

        logger.info("Ctrl+Q: quitting")
        close_and_wait(list(webview.windows))


def close_and_wait(windows: list) -> None:
    # pywebview hands a call's return value back to its window from this (non-daemon) thread: were the window still
    # closing then, the hand-over would wait for it forever and keep the process from exiting. Once `closed` is set,
    # the window is gone and the hand-over is skipped.
    for window in windows:
        window.destroy()
    for window in windows:
        window.events.closed.wait(5)

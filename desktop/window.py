"""The native window: pywebview with the Qt backend (QtWebEngine), on the server running in this process."""
from __future__ import annotations

import html
import os
import signal
import socket
import sys
import threading

from loguru import logger

from server.config import STATIC_DIR, Config

from . import chromium, graphics, pyside_scan, window_state
from .window_api import WindowApi

TITLE = "Pipedeck"
ICON = STATIC_DIR / "icon.svg"


def _display_reachable() -> str | None:
    """Why no window can open on this display, or None when one can (Qt would abort the process instead)."""
    if sys.platform == "darwin" or os.environ.get("WAYLAND_DISPLAY"):
        return None
    display = os.environ.get("DISPLAY", "")
    if not display:
        return "there is no graphical display (DISPLAY and WAYLAND_DISPLAY are not set)"
    host, _, rest = display.rpartition(":")
    number = rest.split(".")[0]
    try:
        if host in ("", "unix"):
            with socket.socket(socket.AF_UNIX) as s:
                s.settimeout(2)
                s.connect(f"/tmp/.X11-unix/X{number}")
        else:
            socket.create_connection((host, 6000 + int(number)), timeout=2).close()
    except (OSError, ValueError):
        return f"the X display {display} does not answer"
    return None


def unavailable() -> str | None:
    """Why the window toolkit cannot start here (missing Qt WebEngine or display), or None if it can."""
    _prepare_qt_environment()  # before Qt loads: some settings are read as soon as its libraries are
    try:
        # webview first: once PySide6 is loaded, its import hook reads the source of every module imported after it
        # (webview brings bottle, 4,000 lines: ~0.15 s of start-up).
        import webview  # noqa: F401
        import PySide6

        pyside_scan.install()  # before the rest of Qt and the app are imported (desktop/pyside_scan.py)
        import PySide6.QtWebEngineWidgets  # noqa: F401  (also loads the system GL/X libraries it needs)
    except ImportError as e:
        return f"the window toolkit (pywebview with Qt WebEngine) could not load: {e}"
    return _display_reachable()


def _prepare_qt_environment() -> None:
    # Qt is the one backend Pipedeck is built and tested with (PyPI wheels, and what nixpkgs' pywebview uses);
    # without this pywebview would first try GTK for webview.screens and print a traceback when it is missing.
    os.environ["PYWEBVIEW_GUI"] = graphics.toolkit()  # Cocoa on macOS, Qt elsewhere (desktop/graphics.py)
    chromium.prepare()


def _screens() -> list[tuple[int, int, int, int]]:
    import webview

    try:
        return [(s.x, s.y, s.width, s.height) for s in webview.screens]
    except Exception:
        return []


class NativeWindows:
    """Every window of this process; the geometry of the last one closed is remembered for the next launch."""

    def __init__(self, cfg: Config):
        self.cfg = cfg
        self.state = window_state.load(cfg.data_dir)
        self.stopping = threading.Event()
        self.screens: list[tuple[int, int, int, int]] | None = None
        self.app_shown = False

    def open(self, first: bool = False):
        """A new window on the app. The first asks for the page before the app is built: the server's port is bound
        and its gate holds the request, so the page loads once, in one renderer, with no holding page first."""
        import webview

        if self.screens is None:
            self.screens = _screens()  # read once, on the GUI thread, before the loop starts
        state = self.state.clamped(self.screens)
        api = WindowApi(self.cfg)
        # A window opened later by a second launch is offset, so it does not hide exactly behind the first.
        offset = 0 if first else 32 * len(webview.windows)
        window = webview.create_window(
            TITLE, self.cfg.bootstrap_url, js_api=api,
            width=state.width, height=state.height,
            x=None if state.x is None else state.x + offset, y=None if state.y is None else state.y + offset,
            min_size=window_state.MIN_SIZE, text_select=True, zoomable=True)
        api._window = window
        position = {"x": state.x, "y": state.y}
        window.events.moved += lambda x, y: position.update(x=x, y=y)
        window.events.closing += lambda: self._remember(window, position)
        window.events.loaded += self._loaded
        return window

    def _loaded(self, window) -> None:
        # The app's own page is the one worth reporting: a slow start may show the gate's holding page first, at
        # the launch address, which the app itself answers with a redirect home.
        url = window.get_current_url() or ""
        if not self.app_shown and url.startswith(self.cfg.base_url) and "/auth?" not in url:
            self.app_shown = True
            logger.info("window loaded")

    def _remember(self, window, position: dict) -> None:
        # Runs on the GUI thread while the window still exists, so its size can be read directly.
        try:
            self.state = window_state.WindowState(window.width, window.height, position["x"], position["y"])
            window_state.save(self.cfg.data_dir, self.state)
        except Exception:
            logger.exception("could not remember the window's geometry")

    def close_all(self) -> None:
        import webview

        self.stopping.set()
        for window in list(webview.windows):
            window.destroy()

    def show_another(self) -> str:
        """A later launch asked to see the app: one more window on this process's server."""
        if self.stopping.is_set():
            return "none"
        self.open()
        return "window"


def _close_on_signals(windows: NativeWindows) -> tuple[socket.socket, socket.socket]:
    """SIGTERM/SIGINT close every window, which ends the GUI loop and lets the normal shutdown run.

    Qt's event loop runs in C++ and Python signal handlers would wait for it; the wakeup fd is written by the
    C-level handler at once, and a thread watching it closes the windows through pywebview (thread-safe)."""
    reader, writer = socket.socketpair()
    writer.setblocking(False)
    signal.set_wakeup_fd(writer.fileno())
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: None)

    def watch():
        try:
            if reader.recv(1):
                logger.info("signal received: closing the window")
                windows.close_all()
        except OSError:
            pass

    threading.Thread(target=watch, name="pipedeck-signals", daemon=True).start()
    return reader, writer


def _error_html(message: str) -> str:
    return ("<!doctype html><html><body style='font:16px system-ui,sans-serif;padding:2rem'><h1>Pipedeck could not "
            f"start</h1><p>{html.escape(message)}</p><p>Close this window and try again.</p></body></html>")


def run(cfg: Config, windows: NativeWindows, startup) -> None:
    """Run the GUI loop until every window is closed (or a signal closes them); the first window shows the app
    as soon as the app answers (`startup`, the server starting in another thread, reports errors)."""
    import webview

    webview.settings["OPEN_EXTERNAL_LINKS_IN_BROWSER"] = True
    first = windows.open(first=True)  # loads pywebview's Qt backend and creates the QApplication
    startup.may_build.set()  # the app is built while Qt sets up the web view (desktop/launch.py, Startup)
    reader, writer = _close_on_signals(windows)

    def show_app_when_ready():
        startup.done.wait()
        if windows.stopping.is_set():
            windows.close_all()
        elif startup.error:
            first.load_html(_error_html(startup.error))

    try:
        # private_mode: nothing of the page's storage outlives the launch; the session secret is per launch anyway.
        webview.start(show_app_when_ready, gui=graphics.toolkit(), icon=str(ICON), private_mode=True)
    finally:
        signal.set_wakeup_fd(-1)
        reader.close()
        writer.close()

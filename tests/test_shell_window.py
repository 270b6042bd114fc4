"""The shell in the real native window under Xvfb: screenshots at the default and the minimum size, Ctrl+W closes a
window, Ctrl+Q quits with exit code 0 (real X key presses, through the page and pywebview's js_api)."""
from __future__ import annotations

import os
import subprocess
import sys

import pytest

from tests.graph_support import write_site_graph
from tests.support import ROOT, require
from tests.window_support import ARTIFACTS, CdpPage, WindowProcess, Xvfb, wait_for, x_windows

pytestmark = pytest.mark.timeout(240)


@pytest.fixture(scope="module")
def display():
    xvfb = Xvfb(require("Xvfb", "to show the native window on a virtual display (Debian package xvfb)"))
    require("xdotool", "to find, resize and type into the native window (Debian package xdotool)")
    require("import", "to screenshot the native window (Debian package imagemagick)")
    yield xvfb.display
    xvfb.stop()


@pytest.fixture(scope="module")
def app(display, tmp_path_factory):
    base = tmp_path_factory.mktemp("shell-window")
    write_site_graph(base / "downloads", pages=300, edges=1500)
    proc = WindowProcess(display, base / "data", base / "downloads").start()
    yield proc
    proc.stop()


@pytest.fixture(scope="module")
def window_page(app):
    page = CdpPage(app.cdp_port, app.url)
    yield page
    page.close()


def xdo(display: str, *args: str) -> str:
    return subprocess.run(["xdotool", *args], env={**os.environ, "DISPLAY": display}, capture_output=True, text=True,
                          check=True, timeout=15).stdout


def shoot_window(display: str, window: int, name: str) -> int:
    """The window alone as a PNG under test-artifacts/; returns its number of colours (a blank one has few)."""
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / f"window-{name}.png"
    env = {**os.environ, "DISPLAY": display}

    def taken():
        subprocess.run(["import", "-window", str(window), str(path)], env=env, check=True, timeout=30)
        colours = int(subprocess.run(["identify", "-format", "%k", str(path)], capture_output=True, text=True,
                                     check=True, timeout=30).stdout)
        return colours if colours > 50 else 0
    return wait_for(taken, 15, f"a painted window for {name}")


def painted(page) -> None:
    # Qt paints a swapped page a moment after the DOM changes: two frames and a little more.
    page.eval("new Promise(r => requestAnimationFrame(() => requestAnimationFrame(() => setTimeout(r, 700))))")


def visit(page, app, path: str, ready: str) -> None:
    page.eval(f"location.href = {app.url + path!r}")
    page.wait(f"location.pathname === {path!r} && document.readyState === 'complete' && !!document.querySelector({ready!r})",
              30)
    painted(page)


@pytest.mark.parametrize("size", [(1200, 820), (720, 480)])
def test_screens_fit_the_window_at_default_and_minimum_size(app, display, window_page, size):
    window = x_windows(display)[0]
    xdo(display, "windowsize", "--sync", str(window), str(size[0]), str(size[1]))
    window_page.wait(f"innerWidth === {size[0]} && innerHeight === {size[1]}")
    label = f"{size[0]}x{size[1]}"
    for name, path, ready in (("home", "/", ".tiles"), ("workflow", "/hello", "#hello-pipeline-id"),
                              ("graph-viewer", "/graph/acme/shop/20240101", ".graph-view[data-state=ready]")):
        visit(window_page, app, path, ready)  # the viewer: after its first frames are drawn, not an empty canvas
        # The page never scrolls; the chat box (opened on a narrow window) and the sidebar stay inside it.
        assert window_page.eval("document.scrollingElement.scrollHeight <= innerHeight")
        assert window_page.eval("document.querySelector('nav.sidebar').getBoundingClientRect().width <= 200")
        assert shoot_window(display, window, f"{name}-{label}")
    visit(window_page, app, "/hello", "#hello-pipeline-id")
    if size[0] < 900:
        window_page.click(".assistant-toggle")
    window_page.wait("""(() => { const r = document.querySelector('#chat-form textarea').getBoundingClientRect();
        return r.height > 0 && r.bottom <= innerHeight && r.right <= innerWidth; })()""")


def press_in_window(display: str, window: int, keys: str) -> None:
    """A real key press in a window: focus it and click into its page first, as a user would."""
    xdo(display, "windowfocus", "--sync", str(window))
    xdo(display, "mousemove", "--window", str(window), "300", "35", "click", "1")  # on the page's heading
    xdo(display, "key", "--clearmodifiers", keys)


def pages_ready(app) -> int:
    """How many of the window's pages are the app with pywebview's js_api in place."""
    import httpx

    targets = httpx.get(f"http://127.0.0.1:{app.cdp_port}/json", timeout=10).json()
    ready = 0
    for t in targets:
        if t["type"] == "page" and t["url"].startswith(app.url):
            page = CdpPage.__new__(CdpPage)
            from websockets.sync.client import connect
            with connect(t["webSocketDebuggerUrl"], max_size=None, open_timeout=10) as page.ws:
                page.next_id = 0
                ready += bool(page.eval("!!(window.pywebview && window.pywebview.api && window.pywebview.api.quit)"))
    return ready


def test_ctrl_w_closes_a_window_and_ctrl_q_quits_with_exit_0(app, display):
    second = subprocess.run([sys.executable, "-m", "desktop", "--data-dir", str(app.data_dir),
                             "--downloads-dir", str(app.downloads_dir)], cwd=ROOT, env=app.env,
                            capture_output=True, text=True, timeout=60)
    assert second.returncode == 0, second.stderr
    windows = wait_for(lambda: len(x_windows(display)) == 2 and x_windows(display), what="a second window")
    newest = max(windows)
    wait_for(lambda: pages_ready(app) == 2, 30, "both windows' pages with pywebview's api")
    press_in_window(display, newest, "ctrl+w")
    wait_for(lambda: x_windows(display) == [min(windows)], what="Ctrl+W to close that window")
    assert app.proc.poll() is None, "closing one window stopped the app"

    press_in_window(display, min(windows), "ctrl+q")
    wait_for(lambda: app.proc.poll() is not None, 20, "Ctrl+Q to quit:\n" + app.text())
    assert app.wait() == 0, app.text()
    assert "Ctrl+Q: quitting" in app.text() and "Pipedeck stopped." in app.text()
    assert (app.data_dir / "pipedeck.log").exists()
    assert "Ctrl+Q: quitting" in (app.data_dir / "pipedeck.log").read_text()

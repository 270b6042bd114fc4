"""The real native window (pywebview + Qt WebEngine) under Xvfb, driven through QtWebEngine's DevTools port."""
from __future__ import annotations

import base64
import json
import os
import socket
import subprocess
import sys

import pytest

from desktop import window_state
from tests.graph_support import write_site_graph
from tests.support import ROOT, require
from tests.test_graph_browser import COUNT_COLOURS
from tests.window_support import (CdpPage, WindowProcess, Xvfb, close_window, crop, own_output, recorder, screenshot,
                                  wait_for, x_geometry, x_position, x_windows)

pytestmark = pytest.mark.timeout(180)


@pytest.fixture(scope="module")
def display():
    xvfb = Xvfb(require("Xvfb", "to show the native window on a virtual display (Debian package xvfb)"))
    require("xdotool", "to find and resize the native window (Debian package xdotool)")
    require("import", "to screenshot the native window (Debian package imagemagick)")
    yield xvfb.display
    xvfb.stop()


@pytest.fixture(scope="module")
def app(display, tmp_path_factory):
    """One window process for the module; the last test closes it the way a user does."""
    base = tmp_path_factory.mktemp("window")
    browser_cmd, browser_log = recorder(base, "browser")
    opener_cmd, opener_log = recorder(base, "opener")
    proc = WindowProcess(display, base / "data", base / "downloads",
                         env={"BROWSER": f"{browser_cmd} %s", "PIPEDECK_OPENER": opener_cmd}).start()
    proc.browser_log, proc.opener_log = browser_log, opener_log
    yield proc
    proc.stop()


@pytest.fixture(scope="module")
def window_page(app):
    """The page inside the real window, over QtWebEngine's DevTools port."""
    page = CdpPage(app.cdp_port, app.url)
    yield page
    page.close()


def test_window_opens_on_home_page(app, display, window_page):
    assert x_windows(display), "no visible window titled Pipedeck"
    assert window_page.url() == app.url + "/"
    assert window_page.eval("document.querySelector('h1').textContent") == "Pipedeck"
    assert window_page.eval("document.title").endswith("Pipedeck")
    window_page.wait("window.pywebview && typeof window.pywebview.api.save_as === 'function'")
    path, colours = screenshot(display, "window-home")
    print(f"\nscreenshot of the native window: {path} ({colours} colours)")
    assert colours > 50, "the screenshot looks blank"


def test_window_walks_first_hello_step(window_page, app):
    window_page.click("nav a[href='/hello']")
    window_page.wait("location.pathname === '/hello' && document.readyState === 'complete'")
    window_page.type("input[name=pipeline_id]", "window-run")
    window_page.press_enter()
    window_page.type("input[name=name]", "Sir Robin")
    window_page.press_enter()
    window_page.wait("!!document.querySelector('input[name=quest]')")
    assert "Sir Robin" in window_page.eval("document.querySelector('.card-locked').textContent")
    # Qt paints the swapped card a moment after the DOM changes; wait two frames and a little more for the screen.
    window_page.eval("new Promise(r => requestAnimationFrame(() => requestAnimationFrame(() => setTimeout(r, 500))))")
    path, _ = screenshot(app.env["DISPLAY"], "window-hello-step")
    print(f"\nscreenshot after the first Hello step: {path}")


def test_links_to_other_sites_open_in_system_browser(window_page, app):
    before = window_page.url()
    window_page.eval("""(() => { const a = document.createElement('a'); a.id = 'ext'; a.textContent = 'token page';
        a.href = 'https://app.botify.com/account'; document.querySelector('main').append(a); })()""")
    window_page.click("#ext")
    wait_for(lambda: app.browser_log.exists(), what="the system browser to be asked")
    assert app.browser_log.read_text().split() == ["https://app.botify.com/account"]
    assert window_page.url() == before, "the window left the app"


def test_download_link_saves_through_native_dialog(window_page, app, tmp_path):
    export = app.downloads_dir / "link-graph" / "acme" / "shop" / "links.csv"
    export.parent.mkdir(parents=True)
    export.write_text("source,target\nhttps://a.example/,https://a.example/b\n")
    # The link a workflow offers for its export (server/apps/downloads.py serves it, behind the session secret).
    window_page.eval("""(() => { const a = document.createElement('a'); a.id = 'dl'; a.textContent = 'Download';
        a.href = '/download/acme/shop/links.csv'; a.download = 'links.csv'; document.querySelector('main').append(a); })()""")
    window_page.click("#dl")
    env = {**os.environ, "DISPLAY": app.env["DISPLAY"]}
    dialog = wait_for(lambda: x_windows(app.env["DISPLAY"], "Save"), what="the Save-as dialog")[0]
    target = tmp_path / "saved" / "acme-links.csv"
    target.parent.mkdir()
    # The dialog opens with the file name selected: type the full path over it and press Enter, as a user would.
    subprocess.run(["xdotool", "windowfocus", "--sync", str(dialog)], env=env, check=True)
    subprocess.run(["xdotool", "key", "--window", str(dialog), "ctrl+a"], env=env, check=True)
    subprocess.run(["xdotool", "type", "--delay", "5", str(target)], env=env, check=True)
    subprocess.run(["xdotool", "key", "Return"], env=env, check=True)
    wait_for(target.exists, what="the saved file")
    assert target.read_bytes() == export.read_bytes()
    window_page.wait(f"document.querySelector('#dl + .file-note')?.textContent === {json.dumps(f'Saved to {target}')}")
    assert not list(target.parent.glob(".*.part")), "a temporary file was left behind"


def test_open_folder_button_reveals_downloads_folder(window_page, app):
    (app.downloads_dir / "link-graph" / "acme").mkdir(parents=True, exist_ok=True)
    window_page.eval("""(() => { const b = document.createElement('button'); b.id = 'of'; b.textContent = 'Open';
        b.dataset.openFolder = 'link-graph/acme'; document.querySelector('main').append(b); })()""")
    window_page.click("#of")
    wait_for(lambda: app.opener_log.exists(), what="the file manager to be asked")
    assert app.opener_log.read_text().split() == [str((app.downloads_dir / "link-graph" / "acme").resolve())]


def test_graph_viewer_draws_with_webgl_in_the_window(window_page, app, display):
    """Under software GL (Xvfb here) Chromium blocklists WebGL unless the window lifts the blocklist."""
    write_site_graph(app.downloads_dir, pages=600, edges=3000)
    window_page.eval("location.href = '/graph'")
    window_page.wait("location.pathname === '/graph' && !!document.querySelector('a.graph-open')")
    window_page.eval("document.querySelector('a.graph-open').click()")
    state = window_page.wait("['ready', 'nowebgl', 'failed'].includes(document.querySelector('.graph-view')?.dataset.state)"
                             " && document.querySelector('.graph-view').dataset.state", timeout=90)
    log = (app.data_dir / "pipedeck.log").read_text() if (app.data_dir / "pipedeck.log").exists() else ""
    assert state == "ready", f"viewer {state}; the app's log:\n{log[-3000:]}\nits terminal:\n{app.text()[-3000:]}"
    assert window_page.eval("!!document.createElement('canvas').getContext('webgl')"), "WebGL is off in the window"
    window_page.eval("document.querySelector('.graph-panel').style.visibility = 'hidden'")
    window_page.eval("new Promise(r => setTimeout(r, 1500))")  # a few frames of the layout
    # The part of the canvas inside the window (it may reach below the fold).
    x, y, w, h = window_page.eval("""(() => { const c = document.querySelector('#graph-canvas canvas');
        c.scrollIntoView({block: 'end'}); const r = c.getBoundingClientRect();
        const top = Math.max(r.top, 0), bottom = Math.min(r.bottom, innerHeight);
        return [r.left, top, r.width, bottom - top].map(Math.round); })()""")
    wx, wy = x_position(display, x_windows(display)[0])
    path, _ = screenshot(display, "window-graph")
    canvas = crop(path, "window-graph-canvas", (wx + x, wy + y, w, h))
    window_page.eval("document.querySelector('.graph-panel').style.visibility = ''")
    colours = window_page.eval("[...document.querySelectorAll('#graph-legend li[data-colour]')].map(li => li.dataset.colour)")
    png = base64.b64encode(canvas.read_bytes()).decode()
    counts = window_page.eval(f"({COUNT_COLOURS})({json.dumps([png, colours])})")
    print(f"\nscreenshot of the graph viewer in the window: {path}; legend colour pixels {dict(zip(colours, counts))}")
    assert colours and all(n >= 5 for n in counts), dict(zip(colours, counts))


def test_second_launch_opens_window_on_running_server(app, display):
    assert len(x_windows(display)) == 1
    second = subprocess.run([sys.executable, "-m", "desktop", "--data-dir", str(app.data_dir),
                             "--downloads-dir", str(app.downloads_dir)], cwd=ROOT, env=app.env,
                            capture_output=True, text=True, timeout=60)
    assert second.returncode == 0, second.stderr
    assert f"already running on {app.url}" in second.stdout
    assert "Pipedeck ready" not in second.stdout, "the second launch started a server"
    windows = wait_for(lambda: len(x_windows(display)) == 2 and x_windows(display), what="a second window")
    # Closing that extra window leaves the app (and the first window) running.
    close_window(display, max(windows))
    wait_for(lambda: len(x_windows(display)) == 1, what="the extra window to close")
    assert app.proc.poll() is None
    with socket.create_connection(("127.0.0.1", app.port), timeout=2):
        pass


def test_closing_window_stops_app_exit_0_and_remembers_size(app, display):
    window = x_windows(display)[0]
    env = {**os.environ, "DISPLAY": display}
    subprocess.run(["xdotool", "windowsize", "--sync", str(window), "1000", "700"], env=env, check=True, timeout=10)
    close_window(display, window)
    assert app.wait(15) == 0, app.text()
    assert "Pipedeck stopped." in app.text()
    foreign = [line for line in app.text().splitlines() if not own_output(line)]
    assert not foreign, "Qt or Chromium printed to the terminal without --verbose:\n" + "\n".join(foreign[:20])
    with pytest.raises(OSError):
        socket.create_connection(("127.0.0.1", app.port), timeout=2).close()
    saved = json.loads((app.data_dir / "window.json").read_text())
    assert (saved["width"], saved["height"]) == (1000, 700)
    assert not (app.data_dir / "pipedeck.sock").exists()


def test_next_launch_reopens_at_remembered_size_and_sigterm_exits_0_and_verbose_shows_qt_logs(app, display):
    window_state.save(app.data_dir, window_state.WindowState(900, 640, 40, 30))
    proc = WindowProcess(display, app.data_dir, app.downloads_dir, args=("--verbose",)).start()
    try:
        window = wait_for(lambda: x_windows(display), what="the window")[0]
        assert x_geometry(display, window) == (900, 640)
        proc.proc.terminate()
        assert proc.wait(15) == 0, proc.text()
    finally:
        proc.stop()
    assert "Pipedeck stopped." in proc.text()
    # Under Xvfb, Qt and Chromium always have something to say about the GL they found.
    assert [line for line in proc.text().splitlines() if not own_output(line)], proc.text()


def test_without_display_falls_back_to_browser_with_clear_message(tmp_path):
    browser_cmd, browser_log = recorder(tmp_path, "browser")
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY")}
    env["BROWSER"] = f"{browser_cmd} %s"
    proc = subprocess.Popen([sys.executable, "-m", "desktop", "--data-dir", str(tmp_path / "data"),
                             "--downloads-dir", str(tmp_path / "downloads")],
                            cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        wait_for(browser_log.exists, what="the browser fallback")
    finally:
        proc.terminate()
        out, err = proc.communicate(timeout=15)
    assert proc.returncode == 0, err
    assert "cannot open its window: there is no graphical display" in err
    assert "--browser" in err and "Traceback" not in err
    # An owner-only redirect page, not the bootstrap URL: a browser's command line is readable by every local user.
    assert browser_log.read_text().startswith("file://")


def test_save_as_offers_only_a_bare_file_name():
    from desktop.window_api import safe_filename

    assert safe_filename("../../etc/passwd", "/download/a/b/x.csv") == "passwd"
    assert safe_filename("", "/download/a/b/links%20all.csv?x=1") == "links all.csv"
    assert safe_filename("..", "/") == "download"

"""Graphics on any Linux and the toolkit per platform (desktop/graphics.py).

GL is made unavailable to Qt the way nixpkgs' Qt meets a distribution other than NixOS: libglvnd loads, but
every GL vendor library it looks for (libGLX_mesa, libGLX_indirect, libEGL_mesa) fails to load. Empty files of
those names first on LD_LIBRARY_PATH, and no EGL vendor directory, do exactly that under Xvfb.
"""
from __future__ import annotations

import os
import re
import subprocess
import sys

import pytest

from desktop import graphics
from server.logs import log_path
from tests.support import ROOT
from tests.test_window import display  # noqa: F401  (the module's Xvfb, the tools required)
from tests.window_support import WindowProcess, screenshot, wait_for, x_windows

pytestmark = pytest.mark.timeout(180)
PROBE = "import json, os; from desktop import graphics; why = graphics.prepare_qt(); " \
        "print(json.dumps([why, {k: os.environ.get(k) for k in ('QT_XCB_GL_INTEGRATION', 'QT_QUICK_BACKEND', " \
        "'QTWEBENGINE_CHROMIUM_FLAGS')}]))"


@pytest.fixture(scope="module")
def no_gl(tmp_path_factory) -> dict:
    """Environment in which libglvnd finds no GL driver (see the module docstring)."""
    libs = tmp_path_factory.mktemp("no-gl")
    for name in ("libGLX_mesa.so.0", "libGLX_indirect.so.0", "libEGL_mesa.so.0"):
        (libs / name).write_bytes(b"")
    path = os.pathsep.join(filter(None, [str(libs), os.environ.get("LD_LIBRARY_PATH")]))
    # No EGL vendor either (nix/checks.nix names Mesa's by file: that name is replaced by one that does not exist).
    return {"LD_LIBRARY_PATH": path, "__EGL_VENDOR_LIBRARY_DIRS": str(libs / "none"),
            "__EGL_VENDOR_LIBRARY_FILENAMES": str(libs / "none.json")}


def log_text(data_dir) -> str:
    return log_path(data_dir).read_text() if log_path(data_dir).exists() else ""


def probe(display: str, extra: dict) -> tuple[subprocess.CompletedProcess, list]:
    import json
    env = {k: v for k, v in os.environ.items() if k not in ("QT_XCB_GL_INTEGRATION", "QT_QUICK_BACKEND",
                                                            "QTWEBENGINE_CHROMIUM_FLAGS", "PIPEDECK_GL")}
    env.update({"DISPLAY": display, **extra})
    env.pop("WAYLAND_DISPLAY", None)
    proc = subprocess.run([sys.executable, "-c", PROBE], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    return proc, json.loads(proc.stdout)


@pytest.mark.parametrize("platform, expected", [("darwin", "cocoa"), ("linux", "qt"), ("freebsd14", "qt")])
def test_toolkit_is_cocoa_on_macos_and_qt_elsewhere(platform, expected):
    assert graphics.toolkit(platform) == expected


def test_macos_checks_cocoa_and_never_asks_qt(monkeypatch):
    monkeypatch.setattr(sys, "platform", "darwin")
    monkeypatch.setattr(graphics, "cocoa_unavailable", lambda: "cocoa says no")
    asked = []
    assert graphics.unavailable(lambda: asked.append("qt")) == "cocoa says no" and asked == []


def test_missing_pyobjc_is_named_as_the_reason(monkeypatch):
    monkeypatch.setitem(sys.modules, "AppKit", None)  # an import of it now fails, as where pyobjc is missing
    why = graphics.cocoa_unavailable()
    assert why.startswith("the window toolkit (pywebview with Cocoa/WebKit through pyobjc) could not load")


def test_working_gl_keeps_hardware_rendering(display):
    proc, (why, env) = probe(display, {})
    assert why is None and env == {"QT_XCB_GL_INTEGRATION": None, "QT_QUICK_BACKEND": None,
                                   "QTWEBENGINE_CHROMIUM_FLAGS": None}
    assert proc.stderr == ""


def test_broken_gl_switches_qt_to_software_and_logs_why(display, no_gl):
    proc, (why, env) = probe(display, {**no_gl, "QTWEBENGINE_CHROMIUM_FLAGS": "--no-sandbox"})
    assert why is None
    assert env == {"QT_XCB_GL_INTEGRATION": "none", "QT_QUICK_BACKEND": "software",
                   "QTWEBENGINE_CHROMIUM_FLAGS": "--no-sandbox --disable-gpu"}
    lines = proc.stderr.strip().splitlines()  # loguru's own sink here (the launch sends it to the log file)
    assert len(lines) == 1 and "OpenGL does not work here" in lines[0] and "nixGL" in lines[0]


def test_unloadable_gl_libraries_send_the_app_to_the_browser_with_the_reason(monkeypatch):
    def no_library(name, *a, **kw):
        raise OSError(f"{name}: cannot open shared object file")

    monkeypatch.setattr(graphics.ctypes, "CDLL", no_library)
    monkeypatch.delenv("QT_XCB_GL_INTEGRATION", raising=False)
    monkeypatch.delenv("PIPEDECK_GL", raising=False)
    why = graphics.prepare_qt()
    assert why.startswith("the GL libraries could not load (libX11.so.6: cannot open shared object file")


def test_window_opens_in_software_where_gl_is_broken_and_would_abort_without_the_probe(display, no_gl, tmp_path):
    # PIPEDECK_GL=on skips the probe: Qt meets the broken GL and aborts, as it does for nixpkgs' Qt off NixOS.
    forced = WindowProcess(display, tmp_path / "forced-data", tmp_path / "forced-downloads",
                           env={**no_gl, "PIPEDECK_GL": "on"})
    with pytest.raises(AssertionError, match="the window process ended"):
        forced.start()
    assert forced.proc.returncode != 0 and "Could not initialize GLX" in forced.text()
    app = WindowProcess(display, tmp_path / "data", tmp_path / "downloads", env=no_gl).start()
    try:
        wait_for(lambda: x_windows(display), what="the window on the display")
        path, colours = screenshot(display, "window-software-gl")
        print(f"\nscreenshot of the window drawn in software: {path} ({colours} colours)")
        assert colours > 50, "the software-rendered window looks blank"
    finally:
        app.stop()
    # The window works, so the terminal says nothing about it; the log file says why it is drawn in software.
    assert not app.seen("OpenGL"), app.text()
    assert re.search("OpenGL does not work here .*drawing the window in software", log_text(app.data_dir))
    verbose = WindowProcess(display, tmp_path / "data", tmp_path / "downloads", env=no_gl, args=("--verbose",))
    try:
        assert verbose.start().seen("OpenGL does not work here .*drawing the window in software")
    finally:
        verbose.stop()

"""Fixtures that arrange real parts: data folders, the server process, Debian's chromium."""
from __future__ import annotations

import pytest

from tests.support import CHROMIUM, ServerProcess, require


@pytest.fixture
def dirs(tmp_path):
    """A data folder and a downloads folder of the test's own."""
    data, downloads = tmp_path / "data", tmp_path / "downloads"
    return data, downloads


@pytest.fixture
def server(dirs):
    """The app served by its own process on a free loopback port."""
    proc = ServerProcess(*dirs).start()
    yield proc
    proc.stop()


@pytest.fixture(scope="module")
def shared_server(tmp_path_factory):
    """One server for a whole test module, where the tests do not disturb each other."""
    base = tmp_path_factory.mktemp("shared")
    proc = ServerProcess(base / "data", base / "downloads").start()
    yield proc
    proc.stop()


# Module scope, not session: Playwright's sync API keeps an event loop running in the main thread while it is
# open, and pytest-asyncio cannot start async tests under it; closing it after each module frees the thread.
@pytest.fixture(scope="module")
def browser():
    require(CHROMIUM, "for browser tests (Debian package chromium)")
    from playwright.sync_api import expect, sync_playwright

    # Assertions wait up to 10 s (Playwright's default is 5): CI runs the suite twice on 2 cores, and a loaded machine
    # once took longer than 5 s to answer a keystroke's request.
    expect.set_options(timeout=10_000)
    with sync_playwright() as pw:
        # As root in CI chromium's sandbox cannot start; background networking is off because
        # this machine's network is closed and chromium would retry it endlessly.
        b = pw.chromium.launch(executable_path=CHROMIUM, args=[
            "--no-sandbox", "--disable-background-networking", "--disable-component-update", "--disable-sync",
            "--no-first-run", "--disable-quic", "--use-gl=angle", "--use-angle=swiftshader",
            "--enable-unsafe-swiftshader"])
        yield b
        b.close()


@pytest.fixture
def page(browser, server):
    """A fresh browser tab that has opened the app the way the window does (bootstrap URL first)."""
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    p = context.new_page()
    p.set_default_timeout(15000)
    p.goto(server.ready_url)
    yield p
    context.close()

"""`--dev`: a saved built-in workflow re-renders in place (apps: test_user_workflows_dev_apps.py); a change elsewhere
in server/ restarts the server and the open page reconnects and reloads. Files are saved with their own content, so
the checkout is left as it was."""
from __future__ import annotations

import pytest
from playwright.sync_api import expect

from desktop import dev
from tests.llm_support import open_tab
from tests.support import ROOT, ServerProcess, require
from tests.window_support import CdpPage, WindowProcess, Xvfb


@pytest.fixture(scope="module")
def app(tmp_path_factory):
    base = tmp_path_factory.mktemp("dev")
    srv = ServerProcess(base / "data", base / "downloads", args=("--dev",)).start()
    yield srv
    srv.stop()


def resave(path) -> None:
    path.write_bytes(path.read_bytes())


def mark(page) -> None:
    page.wait_for_function("() => !!document.body && document.body.dataset.push === 'up'")
    page.evaluate("window.sameDocument = true; document.getElementById('content').dataset.old = '1'")


def test_workflow_and_app_files_reload_in_place_and_other_server_code_restarts():
    server = ROOT / "server"
    assert not dev.restarts_server(str(server / "workflows" / "hello.py"))
    assert not dev.restarts_server(str(server / "apps" / "tasks.py"))
    assert dev.restarts_server(str(server / "apps" / "__init__.py"))  # which modules are apps
    assert dev.restarts_server(str(server / "layout.py"))
    assert dev.restarts_server(str(server / "engine" / "loader.py"))


@pytest.mark.browser
def test_a_saved_built_in_workflow_re_renders_in_place(browser, app):
    with open_tab(browser, app, "/hello") as page:
        mark(page)
        resave(ROOT / "server" / "workflows" / "hello.py")
        expect(page.locator("#content[data-old]")).to_have_count(0)  # its content was fetched again
        expect(page.locator("h1")).to_have_text("Hello — the Bridge of Death")
        assert page.evaluate("window.sameDocument") is True
    assert not any("restarted" in line for line in app.output)


@pytest.mark.browser
def test_other_server_code_restarts_the_server_and_the_page_reloads(browser, app):
    with open_tab(browser, app, "/hello") as page:
        mark(page)
        resave(ROOT / "server" / "layout.py")  # not an app: those reload in place
        page.wait_for_function("() => !window.sameDocument && !!document.body && document.body.dataset.push === 'up'", timeout=30000)
        expect(page.locator("h1")).to_have_text("Hello — the Bridge of Death")
        page.fill("#hello-pipeline-id", "after-restart")
        page.press("#hello-pipeline-id", "Enter")
        expect(page.locator("input[name=name]")).to_be_visible()
    assert any("Pipedeck restarted" in line for line in app.output)


@pytest.mark.timeout(180)
def test_the_native_window_reloads_its_page_after_a_restart(tmp_path):
    xvfb = Xvfb(require("Xvfb", "to show the native window on a virtual display (Debian package xvfb)"))
    # PIPEDECK_DEV is what `--dev` sets; the window process is started the way the window tests start it.
    window = WindowProcess(xvfb.display, tmp_path / "data", tmp_path / "downloads", env={dev.ENV: "1"})
    try:
        window.start(120)
        page = CdpPage(window.cdp_port, window.url)
        page.call("Page.navigate", url=window.url + "/hello")
        page.wait("!!document.body && document.body.dataset.push === 'up'")
        page.eval("window.sameDocument = true")
        resave(ROOT / "server" / "layout.py")  # not an app: those reload in place
        page.wait("!window.sameDocument && !!document.body && document.body.dataset.push === 'up' && !!document.querySelector('h1')",
                  timeout=40)
        assert window.seen("Pipedeck restarted")
        page.close()
    finally:
        window.stop()
        xvfb.stop()

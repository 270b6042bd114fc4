""""Open folder" buttons: POST /open-folder opens a folder inside the downloads folder, and nothing else."""
from __future__ import annotations

import pytest

from tests.support import ServerProcess
from tests.window_support import recorder, wait_for


@pytest.fixture(scope="module")
def opener_server(tmp_path_factory):
    base = tmp_path_factory.mktemp("open-folder")
    command, log = recorder(base, "opener")
    proc = ServerProcess(base / "data", base / "downloads", env={"PIPEDECK_OPENER": command}).start()
    proc.opener_log = log
    (proc.downloads_dir / "link-graph" / "acme" / "shop").mkdir(parents=True)
    yield proc
    proc.stop()


def opened(server) -> list[str]:
    return server.opener_log.read_text().split() if server.opener_log.exists() else []


def test_open_folder_opens_a_downloads_subfolder(opener_server):
    response = opener_server.client().post("/open-folder", data={"path": "link-graph/acme/shop"})
    assert response.status_code == 204
    target = str((opener_server.downloads_dir / "link-graph" / "acme" / "shop").resolve())
    assert wait_for(lambda: target in opened(opener_server), what="the opener to run")


@pytest.mark.parametrize("path", ["../data", "/etc", "link-graph/../../data", "link-graph\\..\\..", "a\x00b"])
def test_open_folder_refuses_paths_outside_downloads(opener_server, path):
    before = opened(opener_server)
    response = opener_server.client().post("/open-folder", data={"path": path})
    assert response.status_code == 400
    assert "inside the downloads folder" in response.text
    assert opened(opener_server) == before


def test_open_folder_says_when_the_folder_does_not_exist_yet(opener_server):
    response = opener_server.client().post("/open-folder", data={"path": "link-graph/nobody"})
    assert response.status_code == 404 and "does not exist yet" in response.text


def test_open_folder_button_in_browser_posts_and_shows_errors(opener_server, browser):
    context = browser.new_context()
    page = context.new_page()
    page.goto(opener_server.ready_url)
    page.evaluate("""() => { for (const [id, path] of [['ok', 'link-graph/acme'], ['bad', 'link-graph/none']]) {
        const b = document.createElement('button'); b.id = id; b.textContent = id; b.dataset.openFolder = path;
        document.querySelector('main').append(b); } }""")
    page.click("#ok")
    target = str((opener_server.downloads_dir / "link-graph" / "acme").resolve())
    assert wait_for(lambda: target in opened(opener_server), what="the opener to run")
    page.click("#bad")
    page.wait_for_selector("#bad + .file-note")
    assert "does not exist yet" in page.text_content("#bad + .file-note")
    context.close()

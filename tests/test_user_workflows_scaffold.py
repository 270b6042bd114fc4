"""`pipedeck new-workflow`: the starter file it writes appears in a running app and passes a full run in the
browser (the local LLM faked); it never overwrites; the folder is the data folder's, also under `nix run`."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from playwright.sync_api import expect

from server import config
from server.engine.loader import user_folder
from tests.fakes.ollama import FakeOllama
from tests.llm_support import llm_server, open_tab, send
from tests.support import ROOT


def new_workflow(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "desktop", "new-workflow", *args], cwd=ROOT, capture_output=True,
                          text=True, timeout=60)


@pytest.fixture(scope="module")
def fake():
    f = FakeOllama(reply="People want light shoes that last.", tokens=0).start()
    yield f
    f.stop()


@pytest.fixture(scope="module")
def app(tmp_path_factory, fake):
    srv = llm_server(tmp_path_factory.mktemp("scaffold"), fake.url).start()
    yield srv
    srv.stop()


def submit(page, step: str) -> None:
    page.locator(f"#keyword_notes-{step} button[type=submit]").click()
    expect(page.locator(f"#keyword_notes-{step} > .card-locked")).to_be_visible()


@pytest.mark.browser
def test_the_scaffold_appears_in_the_running_app_and_passes_a_full_run(browser, app):
    made = new_workflow("Keyword notes", "--data-dir", str(app.data_dir))
    path = app.data_dir / "workflows" / "keyword_notes.py"
    assert made.returncode == 0 and made.stdout.strip() == str(path)
    with open_tab(browser, app, "/") as page:
        page.get_by_role("list", name="Workflows").get_by_role("link", name="Keyword notes").click()
        page.fill("#keyword_notes-pipeline-id", "shoes")
        page.press("#keyword_notes-pipeline-id", "Enter")
        page.fill("input[name=keyword]", "x")
        page.press("input[name=keyword]", "Enter")
        expect(page.locator("#keyword_notes-keyword .error")).to_have_text("A keyword has at least two letters.")
        page.fill("input[name=keyword]", "Running shoes")
        submit(page, "keyword")
        page.fill("textarea[name=notes]", "Reviews rank high.")
        submit(page, "notes")
        page.select_option("select[name=intent]", "buy")
        submit(page, "intent")
        page.get_by_label("Title").check()
        submit(page, "places")
        page.fill("input[name=volume]", "1200")
        submit(page, "volume")
        page.get_by_label("No").check()
        submit(page, "brand")
        final = page.locator(".keyword_notes-final")
        saved = app.downloads_dir / "keyword_notes" / "running-shoes.md"
        expect(final).to_contain_text("People want light shoes that last.")
        expect(final).to_contain_text(str(saved))
        page.get_by_role("button", name="Finalize").click()
        expect(page.locator(".card-final.finalized")).to_be_visible()
    assert saved.read_text() == "# Running shoes\n\nReviews rank high.\n\nPeople want light shoes that last.\n"


def test_an_existing_file_is_never_overwritten(tmp_path):
    assert new_workflow("Keyword notes", "--data-dir", str(tmp_path)).returncode == 0
    path = tmp_path / "workflows" / "keyword_notes.py"
    path.write_text("# mine\n")
    again = new_workflow("Keyword notes", "--data-dir", str(tmp_path))
    assert again.returncode == 1 and "exists already" in again.stdout
    assert path.read_text() == "# mine\n"
    assert [p.name for p in path.parent.iterdir()] == ["keyword_notes.py"]


def test_a_title_without_letters_is_refused(tmp_path):
    refused = new_workflow("!!!", "--data-dir", str(tmp_path))
    assert refused.returncode == 1 and "no usable file name" in refused.stdout


def test_under_nix_run_the_folder_is_in_the_xdg_data_folder(tmp_path, monkeypatch):
    monkeypatch.delenv("PIPEDECK_DATA_DIR", raising=False)
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    monkeypatch.setattr(config, "ROOT", Path("/nix/store/0123456789abcdfghijklmnpqrsvwxyz-pipedeck-0.1.0/share"))
    assert user_folder(config.Config()) == tmp_path / "xdg" / "pipedeck" / "data" / "workflows"


@pytest.mark.browser
def test_a_chat_answer_streams_on_while_a_workflow_reloads(browser, app, fake):
    path = app.data_dir / "workflows" / "streaming_notes.py"
    assert new_workflow("Streaming notes", "--data-dir", str(app.data_dir)).returncode == 0
    fake.configure(reply=None, tokens=30, delay=0.1)  # three seconds: the save lands mid-answer
    try:
        with open_tab(browser, app, "/") as page:
            page.get_by_role("list", name="Workflows").get_by_role("link", name="Streaming notes").click()
            page.wait_for_function("() => !!document.body && document.body.dataset.push === 'up'")
            send(page, "Keep talking")
            answer = page.locator("#chat-log .msg.assistant").last
            expect(answer).to_contain_text("tok2")  # streaming has begun
            path.write_text(path.read_text().replace('title = "Streaming notes"', 'title = "Streaming notes, edited"'))
            expect(page.locator("h1")).to_have_text("Streaming notes, edited")
            expect(answer).to_have_class("msg assistant done", timeout=20000)
            expect(answer.locator(".md")).to_contain_text("tok29")
    finally:
        fake.configure(reply="People want light shoes that last.", tokens=0, delay=0)


@pytest.mark.browser
def test_another_workflows_background_step_carries_on_through_a_reload(browser, app, fake):
    path = app.data_dir / "workflows" / "keyword_notes.py"
    fake.configure(reply=None, tokens=30, delay=0.1)  # three seconds of poem: the save lands while it is written
    try:
        with open_tab(browser, app, "/poem") as page:
            page.fill("#poem-pipeline-id", "through-a-reload")
            page.press("#poem-pipeline-id", "Enter")
            page.fill("input[name=name]", "Ada")
            page.press("input[name=name]", "Enter")
            for field, value in (("color", "blue"), ("time", "dawn"), ("feeling", "calm")):
                page.select_option(f"select[name={field}]", value)
                page.locator(f"#poem-{field} button[type=submit]").click()
            expect(page.locator("#poem-poem .card-working .poem-text")).to_contain_text("tok1")
            path.write_text(path.read_text().replace('title = "Keyword notes"', 'title = "Keyword notes, again"'))
            poem = page.locator("#poem-poem .card-locked .poem-text")
            expect(poem).to_contain_text("tok29", timeout=20000)
    finally:
        fake.configure(reply="People want light shoes that last.", tokens=0, delay=0)

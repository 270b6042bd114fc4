"""User workflows in the data folder's workflows/, as a person writes them: a copy of Hello edited while its page
is open, broken files that show where they broke, and the app around them that keeps working."""
from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest
from playwright.sync_api import expect

from tests.llm_support import open_tab
from tests.support import ROOT, ServerProcess

pytestmark = pytest.mark.browser

HELLO = (ROOT / "server" / "workflows" / "hello.py").read_text()
BRIDGE = (HELLO.replace("from ..engine", "from server.engine").replace('name = "hello"', 'name = "bridge"')
          .replace('title = "Hello — the Bridge of Death"', 'title = "The Other Bridge"'))
HORSE = '             Text("horse", "What… is your horse?", example="Two coconuts"),\n'


@pytest.fixture(scope="module")
def app(tmp_path_factory):
    base = tmp_path_factory.mktemp("user")
    (base / "data" / "workflows").mkdir(parents=True)
    (base / "data" / "workflows" / "bridge.py").write_text(BRIDGE)
    srv = ServerProcess(base / "data", base / "downloads").start()
    yield srv
    srv.stop()


def folder(app) -> Path:
    return app.data_dir / "workflows"


def answer(page, field: str, value: str) -> None:
    page.fill(f"input[name={field}]", value)
    page.press(f"input[name={field}]", "Enter")
    expect(page.locator(".card-locked .summary", has_text=value)).to_be_visible()


def stored(app, workflow: str, run_id: str) -> dict:
    with sqlite3.connect(app.data_dir / "pipedeck.db") as db:
        return json.loads(db.execute("SELECT data FROM pipeline WHERE workflow=? AND id=?", [workflow, run_id])
                          .fetchone()[0])


def menu_link(page, name: str):
    return page.get_by_role("list", name="Workflows").get_by_role("link", name=name)


def line_of(text: str, part: str) -> int:
    return next(i for i, line in enumerate(text.splitlines(), 1) if part in line)


def push_is_up(page) -> None:
    page.wait_for_function("() => !!document.body && document.body.dataset.push === 'up'")


def test_copied_hello_reloads_its_title_and_a_new_step_while_the_page_is_open(browser, app):
    with open_tab(browser, app, "/bridge") as page:
        expect(page.locator("h1")).to_have_text("The Other Bridge")
        page.fill("#bridge-pipeline-id", "arthur")
        page.press("#bridge-pipeline-id", "Enter")
        answer(page, "name", "Arthur, King of the Britons")
        answer(page, "quest", "To seek the Holy Grail")
        expect(page.locator("select[name=color]")).to_be_visible()
        push_is_up(page)
        page.evaluate("window.sameDocument = true")

        edited = BRIDGE.replace("The Other Bridge", "The Bridge, Renamed")
        edited = edited.replace('             Choice("color"', HORSE + '             Choice("color"')
        (folder(app) / "bridge.py").write_text(edited)

        expect(page.locator("h1")).to_have_text("The Bridge, Renamed")
        expect(page.locator("input[name=horse]")).to_be_visible()  # the new step is the next to answer
        expect(page.locator(".card-locked .summary")).to_have_count(2)  # stored answers kept
        assert page.evaluate("window.sameDocument") is True  # re-rendered in place, not a page load
        expect(menu_link(page, "The Bridge, Renamed")).to_be_visible()
        answer(page, "horse", "Two coconuts")
        page.select_option("select[name=color]", "blue")
        page.click("#bridge-color button[type=submit]")
        expect(page.locator(".verdict")).to_contain_text("You may cross")

        # A step taken out is ignored: its stored answer stays in the run but no card shows it.
        (folder(app) / "bridge.py").write_text(edited.replace(
            '             Text("quest", "What… is your quest?", example="To seek the Holy Grail"),\n', ""))
        expect(page.locator(".card-locked .summary")).to_have_count(3)
        expect(page.locator(".verdict")).to_contain_text("You may cross")
        assert stored(app, "bridge", "arthur")["quest"] == "To seek the Holy Grail"
    (folder(app) / "bridge.py").write_text(BRIDGE)


def test_breaking_an_open_workflow_shows_the_card_and_fixing_it_brings_it_back(browser, app):
    path = folder(app) / "bridge.py"
    with open_tab(browser, app, "/bridge") as page:
        page.fill("#bridge-pipeline-id", "bedevere")
        page.press("#bridge-pipeline-id", "Enter")
        answer(page, "name", "Sir Bedevere")
        push_is_up(page)
        path.write_text(BRIDGE.replace("from server.engine import", "from server.engine import NoSuchThing,"))
        card = page.locator(".card-problem")
        expect(card).to_contain_text(f"{path}, line {line_of(BRIDGE, 'import Choice')}")
        expect(card).to_contain_text("ImportError: cannot import name 'NoSuchThing'")
        page.goto(app.url + "/poem")  # the rest of the app is unharmed; the menu marks the broken one
        expect(page.locator("#poem-pipeline-id")).to_be_visible()
        expect(menu_link(page, "⚠ The Other Bridge")).to_be_visible()
        page.go_back()
        push_is_up(page)
        path.write_text(BRIDGE)
        expect(page.locator("input[name=quest]")).to_be_visible()
        expect(page.locator(".card-locked .summary", has_text="Sir Bedevere")).to_be_visible()


def test_an_exception_in_a_hook_names_the_file_and_line(browser, app):
    path = folder(app) / "failing.py"
    text = BRIDGE.replace('name = "bridge"', 'name = "failing"').replace(
        "    def final(self, run):\n", "    def final(self, run):\n        return 1 / 0\n")
    path.write_text(text)
    with open_tab(browser, app, "/") as page:
        page.goto(app.url + "/")
        page.goto(app.url + "/failing")
        page.fill("#failing-pipeline-id", "robin")
        page.press("#failing-pipeline-id", "Enter")
        answer(page, "name", "Sir Robin")
        answer(page, "quest", "To seek the Holy Grail")
        page.select_option("select[name=color]", "yellow")
        page.click("#failing-color button[type=submit]")
        card = page.locator(".card-problem")
        expect(card).to_contain_text(f"{path}, line {line_of(text, '1 / 0')}")
        expect(card).to_contain_text("ZeroDivisionError: division by zero")
        page.goto(app.url + "/hello")
        expect(menu_link(page, "⚠ The Other Bridge")).to_be_visible()
    path.unlink()


HALF_TYPED = '"""A workflow half typed."""\nsteps = [\n'
MY_HELLO = HELLO  # copied unchanged: its relative import works, its name is taken


@pytest.mark.parametrize("file, text, line, message", [
    ("oops.py", HALF_TYPED, 2, "SyntaxError: '[' was never closed"),
    ("my_hello.py", MY_HELLO, line_of(MY_HELLO, "name = "),
     "The name “hello” is already taken by the built-in workflow"),
])
def test_a_broken_file_shows_its_card_and_the_app_keeps_working(browser, app, file, text, line, message):
    path = folder(app) / file
    path.write_text(text)
    with open_tab(browser, app, "/") as page:
        menu_link(page, f"⚠ {file}").click()
        card = page.locator(".card-problem")
        expect(card).to_contain_text(f"{path}, line {line}")
        expect(card).to_contain_text(message)
        page.goto(app.url + "/hello")
        expect(page.locator("h1")).to_have_text("Hello — the Bridge of Death")
        page.goto(app.url + "/bridge")
        expect(page.locator("#bridge-pipeline-id")).to_be_visible()
        path.unlink()  # a file taken away leaves the menu (the menu is drawn with each page)
        entry = menu_link(page, f"⚠ {file}")
        for _ in range(50):
            page.goto(app.url + "/")
            if entry.count() == 0:
                break
            page.wait_for_timeout(200)
        expect(entry).to_have_count(0)

"""`--dev` and the apps (server/apps/*.py): a saved app re-renders its open page in place while the server, its chat
stream and its socket carry on; a broken app shows where it broke and the rest keeps working; fixing it brings it
back. The server runs from a copy of the code, so the tests edit that copy and never the checkout."""
from __future__ import annotations

import re
import time

import pytest
from playwright.sync_api import expect

from tests.llm_support import fake  # noqa: F401 (the module's fake Ollama)
from tests.llm_support import FAST_RECHECK, open_tab, send
from tests.support import ServerProcess, code_copy


@pytest.fixture(scope="module")
def app(tmp_path_factory, fake):
    base = tmp_path_factory.mktemp("devapps")
    srv = ServerProcess(base / "data", base / "downloads", env={"OLLAMA_HOST": fake.url, **FAST_RECHECK},
                        args=("--dev",), root=code_copy(base / "code")).start()
    yield srv
    srv.stop()


def app_file(app, name: str):
    return app.root / "server" / "apps" / name


def line_of(text: str, part: str) -> int:
    return next(i for i, line in enumerate(text.splitlines(), 1) if part in line)


def watch_the_page(page) -> None:
    """Mark the document and its content, and count the chat socket's closes from here on."""
    page.wait_for_function("() => !!document.body && document.body.dataset.push === 'up'")
    page.evaluate("""() => {
        window.sameDocument = true; window.socketCloses = 0;
        document.addEventListener('htmx:wsClose', () => window.socketCloses++);
        document.getElementById('content').dataset.old = '1';
    }""")


@pytest.mark.browser
def test_a_saved_app_re_renders_its_open_page_while_a_chat_answer_streams_on(browser, app, fake):
    path = app_file(app, "tasks.py")
    original = path.read_text()
    pid = app.proc.pid
    fake.configure(tokens=120, delay=0.03, reply=None)
    with open_tab(browser, app, "/tasks") as page:
        expect(page.locator("h1")).to_have_text("Tasks")
        watch_the_page(page)
        send(page, "Tell me a long story")
        answer = page.locator("#chat-log .msg.assistant").last
        expect(answer.locator(".md")).to_contain_text("tok3")
        try:
            path.write_text(original.replace('H1("Tasks")', 'H1("To do")')
                            .replace("What needs doing?", "What needs doing next?"))
            expect(page.locator("h1")).to_have_text("To do")
            expect(page.locator("#task-add input[name=text]")).to_have_attribute("placeholder", "What needs doing next?")
            expect(page.locator("#content[data-old]")).to_have_count(0)  # the content was fetched again
            assert page.evaluate("window.sameDocument") is True  # in place, not a page load
            expect(answer).to_have_class("msg assistant done", timeout=20000)  # the stream went on to its end
            expect(answer.locator(".md")).to_contain_text("tok119")
            assert page.evaluate("window.socketCloses") == 0
            page.fill("#task-add input[name=text]", "Find a shrubbery")  # the new code serves the calls too
            page.press("#task-add input[name=text]", "Enter")
            expect(page.locator("#task-list .task-text", has_text="Find a shrubbery")).to_be_visible()
        finally:
            path.write_text(original)
        expect(page.locator("h1")).to_have_text("Tasks")
    assert app.proc.pid == pid and app.proc.poll() is None
    assert not any("restarted" in line for line in app.output)


@pytest.mark.browser
def test_a_broken_app_shows_where_it_broke_the_rest_keeps_working_and_fixing_it_brings_it_back(browser, app, fake):
    path = app_file(app, "tasks.py")
    original = path.read_text()
    fake.configure(tokens=3, delay=0, reply=None)
    with open_tab(browser, app, "/tasks") as page:
        page.fill("#task-add input[name=text]", "Cut down a tree with a herring")
        page.press("#task-add input[name=text]", "Enter")
        expect(page.locator("#task-list .task-text", has_text="herring")).to_be_visible()
        watch_the_page(page)
        try:
            path.write_text(original.replace("def clean_text(text: str) -> str:", "def clean_text(text: str) -> str"))
            card = page.locator(".card-problem")
            expect(card).to_contain_text(f"{path}, line {line_of(original, 'def clean_text')}")
            expect(card).to_contain_text("SyntaxError")
            expect(card).to_contain_text("This app has a problem")
            expect(page.get_by_role("list", name="Tools").get_by_role("link", name="⚠ Tasks")).to_be_visible()
            assert page.evaluate("window.sameDocument") is True

            send(page, "Still there?")  # the chat beside it works
            expect(page.locator("#chat-log .msg.assistant").last).to_have_class("msg assistant done")
            page.goto(app.url + "/profiles")  # and so do the other apps
            expect(page.locator("h1")).to_have_text("Profiles")
            page.goto(app.url + "/tasks")  # the broken app's address shows its card, also on a fresh load
            expect(page.locator(".card-problem")).to_contain_text("tasks.py")
            watch_the_page(page)
        finally:
            path.write_text(original)
        expect(page.locator("#task-list .task-text", has_text="herring")).to_be_visible()
        expect(page.get_by_role("list", name="Tools").get_by_role("link", name="Tasks", exact=True)).to_be_visible()
        assert page.evaluate("window.sameDocument") is True and page.evaluate("window.socketCloses") == 0


def test_a_broken_helper_module_shows_its_card_in_the_apps_that_use_it(app):
    path = app_file(app, "insights.py")  # no register(): apps/graph.py imports it
    original = path.read_text()
    client = app.client()
    try:
        path.write_text(original + "\nbroken = (\n")
        wait_for(lambda: re.search(rf"{re.escape(str(path))}, line \d+", client.get("/graph").text))
        assert client.get("/profiles").status_code == 200
    finally:
        path.write_text(original)
    wait_for(lambda: "card-problem" not in (text := client.get("/graph").text) and "<h1>Link graphs</h1>" in text)
    assert not any("restarted" in line for line in app.output)


def wait_for(check, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, "the change did not show in time"
        time.sleep(0.05)


def test_an_exception_in_an_app_names_its_file_and_line(app):
    path = app_file(app, "tasks.py")
    original = path.read_text()
    failing = original.replace("        profile = tasks.current_profile()\n        if profile is None:\n            return page(",
                                "        profile = tasks.current_profile()\n        1 / 0\n        if profile is None:\n"
                                "            return page(", 1)
    assert failing != original
    try:
        path.write_text(failing)
        wait_for(lambda: f"{path}, line {line_of(failing, '1 / 0')}" in text_of(app, "/tasks"))
        assert "ZeroDivisionError: division by zero" in text_of(app, "/tasks")
    finally:
        path.write_text(original)
    wait_for(lambda: 'placeholder="What needs doing?"' in text_of(app, "/tasks"))


def text_of(app, path: str) -> str:
    client = app.client()  # a new connection: the server closes one that met an exception
    try:
        return client.get(path).text
    finally:
        client.close()


def test_apps_broken_at_start_show_their_cards_and_saving_the_fixes_brings_them_back(tmp_path):
    root = code_copy(tmp_path / "code")
    tasks, insights = root / "server" / "apps" / "tasks.py", root / "server" / "apps" / "insights.py"
    tasks_text, insights_text = tasks.read_text(), insights.read_text()
    tasks.write_text(tasks_text.replace("def clean_text(text: str) -> str:", "def clean_text(text: str) -> str"))
    insights.write_text(insights_text + "\nbroken = (\n")  # apps/graph.py imports it
    srv = ServerProcess(tmp_path / "data", tmp_path / "downloads", args=("--dev",), root=root).start()
    try:
        client = srv.client()
        home = client.get("/").text
        assert "⚠ tasks.py" in home and "⚠ graph.py" in home  # each leads to its card
        assert f"{tasks}, line {line_of(tasks_text, 'def clean_text')}" in client.get("/app-problem/tasks").text
        assert re.search(rf"{re.escape(str(insights))}, line \d+", client.get("/app-problem/graph").text)
        assert client.get("/profiles").status_code == 200  # the other apps started

        insights.write_text(insights_text)
        wait_for(lambda: "<h1>Link graphs</h1>" in client.get("/graph").text)
        tasks.write_text(tasks_text)
        wait_for(lambda: 'placeholder="What needs doing?"' in client.get("/tasks").text)
        home = client.get("/").text
        assert "⚠" not in home and ">Tasks<" in home and ">Link graphs<" in home
    finally:
        srv.stop()

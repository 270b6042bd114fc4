"""Shared arrangements for the LLM tests: the app pointed at a fake Ollama, and a browser tab on it."""
from __future__ import annotations

from contextlib import contextmanager

import pytest
from playwright.sync_api import TimeoutError as PlaywrightTimeoutError
from playwright.sync_api import expect

from tests.fakes.ollama import FakeOllama
from tests.support import ServerProcess

FAST_RECHECK = {"PIPEDECK_LLM_RECHECK": "1"}


def llm_server(base, fake_url: str) -> ServerProcess:
    return ServerProcess(base / "data", base / "downloads", env={"OLLAMA_HOST": fake_url, **FAST_RECHECK})


@pytest.fixture(scope="module")
def fake():
    """A fake Ollama of the test module's own (import it into the module to use it)."""
    f = FakeOllama().start()
    yield f
    f.stop()


SIZES = [(1200, 820), (720, 480)]  # the window's default size and its minimum


@contextmanager
def open_tab(browser, server: ServerProcess, path: str = "/", size: tuple[int, int] = (1280, 900)):
    context = browser.new_context(viewport={"width": size[0], "height": size[1]})
    page = context.new_page()
    page.set_default_timeout(15000)
    page.goto(server.ready_url)
    page.goto(server.url + path)
    if size[0] < 900:  # narrow windows start with the Assistant put away: open it as a user would
        page.click(".assistant-toggle")
        expect(page.locator("#chat-form textarea[name=msg]")).to_be_visible()
    try:
        yield page
    finally:
        context.close()


def send(page, text: str) -> None:
    page.fill("#chat-form textarea[name=msg]", text)
    page.press("#chat-form textarea[name=msg]", "Enter")
    expect(page.locator("#chat-log .msg.user").last).to_contain_text(text.split("\n")[0])


def watch_answer(page) -> None:
    """Record the length of the newest answer's rendered text each time the page changes."""
    page.evaluate("""() => {
        window.seenLengths = [];
        new MutationObserver(() => {
            const md = [...document.querySelectorAll('#chat-log .msg.assistant .md')].pop();
            if (md) window.seenLengths.push(md.textContent.length);
        }).observe(document.getElementById('chat-log'), {subtree: true, childList: true, characterData: true});
    }""")


NEWEST_IN_VIEW = """(sel) => {
    const log = document.getElementById('chat-log');
    if (log.getBoundingClientRect().bottom > window.innerHeight) log.scrollIntoView({block: 'end'});
    const all = document.querySelectorAll(sel);
    if (!all.length) return false;
    const m = all[all.length - 1].getBoundingClientRect(), box = log.getBoundingClientRect();
    return m.bottom <= box.bottom + 2 && m.bottom > box.top && box.bottom <= window.innerHeight + 2;
}"""


def newest_in_view(page, selector: str = "#chat-log .msg", settle: bool = True) -> bool:
    """Whether the last message's bottom edge is inside the visible part of the chat log (and of the window, once
    the page shows the log: where the panel sits in a small window is the layout's business, not the log's).
    With `settle`, the page gets up to 3 s of frames to get there: the log follows its content in the frame's
    rendering step (ResizeObserver, the next flush), which a script run between two frames would not see yet,
    though no user ever sees that in-between state."""
    if not settle:
        return page.evaluate(NEWEST_IN_VIEW, selector)
    try:
        page.wait_for_function(NEWEST_IN_VIEW, arg=selector, timeout=3000)
        return True
    except PlaywrightTimeoutError:
        return False

"""Shared arrangements for the LLM tests: the app pointed at a fake Ollama, and a browser tab on it."""
from __future__ import annotations

from contextlib import contextmanager

from playwright.sync_api import expect

from tests.support import ServerProcess

FAST_RECHECK = {"PIPEDECK_LLM_RECHECK": "1"}


def llm_server(base, fake_url: str) -> ServerProcess:
    return ServerProcess(base / "data", base / "downloads", env={"OLLAMA_HOST": fake_url, **FAST_RECHECK})


@contextmanager
def open_tab(browser, server: ServerProcess, path: str = "/"):
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.set_default_timeout(15000)
    page.goto(server.ready_url)
    page.goto(server.url + path)
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

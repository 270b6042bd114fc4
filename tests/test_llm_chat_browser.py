"""The chat panel as a person uses it, against a fake Ollama speaking the real API: streaming, history, tools,
narration, and what happens when Ollama or the app dies mid-answer."""
import socket
import sqlite3
import time
from contextlib import contextmanager
from pathlib import Path

import pytest
from playwright.sync_api import expect

from tests.fakes.ollama import FakeOllama
from tests.llm_support import fake  # noqa: F401 (the module's fake Ollama)
from tests.llm_support import SIZES, llm_server, newest_in_view, open_tab, send, watch_answer

pytestmark = pytest.mark.browser
ARTIFACTS = Path(__file__).resolve().parents[1] / "test-artifacts"
ARTIFACTS.mkdir(exist_ok=True)


@pytest.fixture(scope="module")
def app(tmp_path_factory, fake):
    srv = llm_server(tmp_path_factory.mktemp("chat"), fake.url).start()
    yield srv
    srv.stop()


def rows(server, sql):
    with sqlite3.connect(server.data_dir / "pipedeck.db") as db:
        return db.execute(sql).fetchall()


def test_answer_streams_in_visible_increments_renders_markdown_and_shows_script_as_text(browser, app, fake):
    fake.configure(tokens=40, delay=0.04, reply=None)
    with open_tab(browser, app, "/hello") as page:
        expect(page.locator("#llm-status")).to_contain_text("qwen2.5:0.5b")
        watch_answer(page)
        send(page, "Say **bold** and <script>window.pwned = 1</script>")
        answer = page.locator("#chat-log .msg.assistant").last
        expect(answer).to_have_class("msg assistant done", timeout=20000)
        lengths = sorted(set(page.evaluate("window.seenLengths")))
        assert len(lengths) >= 4, f"the answer arrived in too few steps: {lengths}"
        expect(answer.locator(".md strong")).to_have_text("bold")
        expect(answer.locator(".md")).to_contain_text("<script>window.pwned = 1</script>")
        assert page.evaluate("window.pwned") is None
        assert page.locator("#chat-log script").count() == 0
        expect(answer.locator(".md")).to_contain_text("tok39")


# Each time the newest answer's drawn text changes: is it the start of the answer's text (spaces aside)?
WATCH_DRAWN = """() => {
    window.drawn = {checks: 0, wrong: []};
    const flat = (s) => s.replace(/\\s+/g, ' ').trim();
    new MutationObserver(() => {
        const msg = [...document.querySelectorAll('#chat-log .msg.assistant')].pop();
        if (!msg) return;
        const shown = flat(msg.querySelector('.md').textContent), text = flat(msg.querySelector('.src').textContent);
        drawn.checks++;
        if (!text.startsWith(shown)) drawn.wrong.push(shown.slice(-80));
    }).observe(document.getElementById('chat-log'), {subtree: true, childList: true, characterData: true});
}"""


def test_a_long_paragraph_is_drawn_as_it_streams_without_losing_or_gluing_words(browser, app, fake):
    # Longer than chat.js continues a paragraph in place (TAIL_PIECE): its newest words are drawn below it in pieces
    # until the next render. At every moment what is drawn is the start of the answer; at the end it is all of it.
    fake.configure(tokens=1500, delay=0.002, reply=None)
    app.client().post("/chat/clear")
    with open_tab(browser, app, "/") as page:
        page.evaluate(WATCH_DRAWN)
        send(page, "Write one very long paragraph")
        answer = page.locator("#chat-log .msg.assistant").last
        expect(answer).to_have_class("msg assistant done", timeout=30000)
        expect(answer.locator(".md")).to_contain_text("tok1499")
        expect(answer.locator(".md .md-tail")).to_have_count(0)  # the final render joined the pieces
        drawn = page.evaluate("window.drawn")
        assert drawn["checks"] >= 5 and drawn["wrong"] == [], drawn
        shown, text = page.evaluate("""() => { const m = [...document.querySelectorAll('#chat-log .msg.assistant')].pop();
            return [m.querySelector('.md').textContent, m.querySelector('.src').textContent]; }""")
        assert " ".join(shown.split()) == " ".join(text.split())


@contextmanager
def fake_reset_after(fake):
    """The next tests start from the fake's defaults (they set only what they need)."""
    try:
        yield
    finally:
        fake.reset()


# Blocks of each kind, streamed a word at a time by the fake.
BLOCKS = ("Intro with **bold** and `code`.\n\n- one\n- two\n\n  still two\n- three\n\n"
          "```python\ndef f():\n    return 1\n\n\nprint(f())\n```\n\n# Heading\nA paragraph right after it\nthat goes on.\n"
          "\n> quoted\nlazy line\n\n| a | b |\n|---|---|\n| 1 | 2 |\n\nThe end, with <b>raw</b> HTML.")


def test_a_streamed_answer_is_updated_in_place_and_ends_drawn_as_its_whole_markdown(browser, app, fake):
    # While it streams, only the answer's last block is rendered again, and its final version updates the message
    # already drawn: at the end the same element shows exactly what rendering the whole text at once shows.
    fake.reset(tokens=0, delay=0.03, reply=BLOCKS)  # ~2 s: marked while it streams
    app.client().post("/chat/clear")
    with open_tab(browser, app, "/hello") as page, fake_reset_after(fake):
        send(page, "Show me some Markdown")
        answer = page.locator("#chat-log .msg.assistant").last
        expect(answer.locator(".md li").first).to_have_text("one")
        marked = page.evaluate("""() => { const msg = [...document.querySelectorAll('#chat-log .msg.assistant')].pop();
            msg.pdMarked = true;
            return msg.getAttribute('data-status'); }""")
        assert marked == "streaming"
        expect(answer).to_have_class("msg assistant done", timeout=20000)
        expect(answer.locator(".md .md-more")).to_have_count(0)  # the final render
        same, drawn, whole = page.evaluate("""() => {
            const msg = [...document.querySelectorAll('#chat-log .msg.assistant')].pop();
            const drawn = msg.querySelector('.md').cloneNode(true), whole = document.createElement('div');
            const comments = document.createTreeWalker(drawn, NodeFilter.SHOW_COMMENT), marks = [];
            while (comments.nextNode()) marks.push(comments.currentNode);
            marks.forEach((c) => c.remove());
            whole.innerHTML = pdMarkdown(msg.querySelector('.src').textContent);
            return [msg.pdMarked === true, drawn.innerHTML, whole.innerHTML]; }""")
        assert same, "the final version replaced the message instead of updating it"
        assert drawn == whole
        expect(answer.locator(".md table td").first).to_have_text("1")


def test_a_link_with_an_unparsable_address_keeps_its_words_and_the_rest_of_the_answer(browser, app):
    with open_tab(browser, app, "/") as page:
        html = page.evaluate("() => pdMarkdown('See [the box](http://[::1/a) and the rest.')")
    assert "the rest." in html and "the box</a>" in html
    assert "href" not in html  # nothing to open: the address cannot be parsed


def test_history_survives_a_restart_and_clear_empties_it(browser, app, fake):
    fake.configure(tokens=3, delay=0)
    with open_tab(browser, app, "/") as page:
        box = page.locator("#chat-form textarea[name=msg]")
        box.fill("Remember the word pelican")
        box.press("Shift+Enter")  # a new line, not a send
        box.press_sequentially("and the word heron")
        expect(page.locator("#chat-log .msg.user", has_text="pelican")).to_have_count(0)
        box.press("Enter")
        expect(page.locator("#chat-log .msg.assistant.done").last).to_contain_text("pelican")
        expect(box).to_have_value("")
    app.restart()
    with open_tab(browser, app, "/tasks") as page:
        expect(page.locator("#chat-log .msg.user", has_text="pelican")).to_have_count(1)
        expect(page.locator("#chat-log .msg.assistant", has_text="You said: Remember the word pelican")).to_be_visible()
        assert rows(app, "SELECT content FROM chat_message WHERE role = 'user'")[-1] == (
            "Remember the word pelican\nand the word heron",)
        page.once("dialog", lambda d: d.accept())
        page.get_by_role("button", name="Clear").click()
        expect(page.locator("#chat-log .msg")).to_have_count(0)
        page.reload()
        expect(page.locator("#chat-log .msg")).to_have_count(0)
    assert rows(app, "SELECT count(*) FROM chat_message") == [(0,)]


def test_tool_call_adds_a_task_that_appears_on_the_open_tasks_screen(browser, app, fake):
    fake.configure(tokens=0, delay=0)
    with open_tab(browser, app, "/tasks") as page:
        send(page, "Please add a task: Call the printer")
        expect(page.locator("#chat-log .msg.tool").last).to_contain_text("add_task")
        expect(page.locator("#chat-log .msg.tool").last).to_contain_text("Added task")
        expect(page.locator("#task-list .task-text", has_text="Call the printer")).to_be_visible()
        expect(page.locator("#chat-log .msg.assistant.done").last).to_contain_text("Done. Added task")

        send(page, "I am done with task: printer")
        expect(page.locator("#task-list .task-text.done", has_text="Call the printer")).to_be_visible()
        send(page, "list my tasks")
        expect(page.locator("#chat-log .msg.tool").last).to_contain_text("Call the printer (done)")
    last_request = fake.requests()[-1]
    assert {t["function"]["name"] for t in last_request["tools"]} == {"list_tasks", "add_task", "complete_task"}
    assert last_request["messages"][-1]["role"] == "tool"


def test_narration_arrives_in_order_while_cards_stay_fast_and_a_burst_gets_one_reply(browser, app, fake):
    fake.configure(reply="Noted.", tokens=9, delay=0.4)  # each explanation takes 4 s to stream
    app.client().post("/chat/clear")
    with open_tab(browser, app, "/hello") as page:
        page.fill("#hello-pipeline-id", "narrated")
        page.press("#hello-pipeline-id", "Enter")
        for field, value in (("name", "Sir Robin"), ("quest", "To seek the Grail")):
            page.fill(f"input[name={field}]", value)
            page.press(f"input[name={field}]", "Enter")
            expect(page.locator(".card-locked", has_text=value)).to_be_visible()
        page.select_option("select[name=color]", "blue")
        page.locator("#hello-chain button[type=submit]").click()
        expect(page.locator(".verdict")).to_be_visible()
        # The run is done long before the explanations are: no card waited for narration.
        assert page.locator("#chat-log .msg.assistant.done").count() < 3
        narration = page.locator("#chat-log .msg.narration")
        expect(narration).to_have_count(3, timeout=30000)
        # A message's text is drawn into `.md` on the page's next flush, a moment after its hidden source arrives
        # (the source counts as text content already, so wait on what is drawn, not on the message).
        drawn = narration.locator(".md")
        for i, word in enumerate(("name", "quest", "colour")):
            expect(drawn.nth(i)).to_contain_text(word)
        texts = drawn.all_inner_texts()
        assert [("name" in t, "quest" in t, "colour" in t) for t in texts] == [
            (True, False, False), (False, True, False), (False, False, True)]
        expect(page.locator("#chat-log .msg.assistant.done")).to_have_count(2, timeout=30000)
    # The second and third arrived while the first was being explained: one reply explains both.
    roles = [r for (r,) in rows(app, "SELECT role FROM chat_message ORDER BY id")]
    assert roles == ["narration", "assistant", "narration", "narration", "assistant"]
    fake.configure(reply=None)


def test_ollama_killed_mid_answer_keeps_the_partial_answer_and_the_app_keeps_working(browser, tmp_path):
    fake = FakeOllama(tokens=200, delay=0.05).start()
    srv = llm_server(tmp_path, fake.url).start()
    try:
        with open_tab(browser, srv, "/hello") as page:
            send(page, "Tell me a long story")
            answer = page.locator("#chat-log .msg.assistant").last
            expect(answer.locator(".md")).to_contain_text("tok5")
            fake.kill()
            expect(answer).to_have_class("msg assistant interrupted")
            expect(answer).to_contain_text("answer interrupted")
            expect(answer.locator(".md")).to_contain_text("You said: Tell me a long story")
            expect(page.locator("#chat-log .msg.error")).to_contain_text("broke")
            expect(page.locator("#llm-status")).to_contain_text("Local LLM offline")

            # Everything else keeps working with Ollama gone.
            page.fill("#hello-pipeline-id", "offline-run")
            page.press("#hello-pipeline-id", "Enter")
            page.fill("input[name=name]", "Galahad")
            page.press("input[name=name]", "Enter")
            expect(page.locator(".card-locked", has_text="Galahad")).to_be_visible()
            send(page, "Are you there?")
            expect(page.locator("#chat-log .msg.error").last).to_contain_text("Local LLM offline")

            # Ollama comes back at the same address: the panel notices without a restart.
            fake.start()
            expect(page.locator("#llm-status")).to_contain_text("Local LLM: qwen2.5:0.5b", timeout=10000)
        partial = rows(srv, "SELECT content, status FROM chat_message WHERE role = 'assistant'")
        assert len(partial) == 1 and partial[0][1] == "interrupted" and "tok5" in partial[0][0]
    finally:
        srv.stop()
        fake.stop()


def test_app_killed_mid_answer_keeps_the_saved_part_marked_interrupted_after_restart(browser, tmp_path):
    fake = FakeOllama(tokens=300, delay=0.03).start()
    srv = llm_server(tmp_path, fake.url).start()
    try:
        with open_tab(browser, srv, "/") as page:
            send(page, "Count slowly")
            expect(page.locator("#chat-log .msg.assistant .md").last).to_contain_text("tok20")
            time.sleep(0.5)  # longer than the save interval
            srv.kill()
        srv.start()
        with open_tab(browser, srv, "/") as page:
            answer = page.locator("#chat-log .msg.assistant").last
            expect(answer).to_have_class("msg assistant interrupted")
            expect(answer).to_contain_text("answer interrupted")
            expect(answer.locator(".md")).to_contain_text("tok20")
        (content, status), = rows(srv, "SELECT content, status FROM chat_message WHERE role = 'assistant'")
        assert status == "interrupted" and "tok299" not in content
    finally:
        srv.stop()
        fake.stop()


def test_no_page_waits_on_an_ollama_that_never_answers(app, fake):
    # A listening socket that never accepts: the kernel completes connections, nothing ever replies.
    with socket.socket() as hole:
        hole.bind(("127.0.0.1", 0))
        hole.listen(8)
        hole.setblocking(False)
        http = app.client()
        http.post("/settings/ollama-host", data={"address": f"127.0.0.1:{hole.getsockname()[1]}"})
        try:
            page = http.get("/hello").text
            assert "Checking the local LLM" in page or "Local LLM offline" in page
            with pytest.raises(BlockingIOError):
                hole.accept()  # rendering the page did not even try to reach Ollama
            status = http.get("/chat/status").text  # the check itself gives up after its short timeout
            assert "Local LLM offline" in status
        finally:
            http.post("/settings/ollama-host", data={"address": ""})


def fill_history(server, n: int = 40) -> None:
    """A long stored conversation, so the log scrolls."""
    with sqlite3.connect(server.data_dir / "pipedeck.db") as db:
        db.execute("DELETE FROM chat_message")
        db.executemany("INSERT INTO chat_message (role, content, status, created, thinking) VALUES (?, ?, 'done', "
                       "'2026-12-02T08:00:00', '')",
                       [("user" if i % 2 == 0 else "assistant", f"Message number {i}\n\nwith a second paragraph")
                        for i in range(n)])


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_chat_opens_at_the_newest_message_and_follows_unless_the_user_scrolled_up(browser, app, fake, size):
    fill_history(app)
    fake.reset(tokens=150, delay=0.02)
    name = f"{size[0]}x{size[1]}"
    with open_tab(browser, app, "/hello", size=size) as page:
        expect(page.locator("#chat-log .msg", has_text="Message number 39")).to_be_visible()
        page.wait_for_function("() => document.querySelector('#chat-log .msg:last-child .md').textContent")
        assert newest_in_view(page), "the page opened the conversation somewhere else than its newest message"
        page.screenshot(path=f"{ARTIFACTS}/chat-opened-{name}.png")

        send(page, "Tell me a long story")
        answer = page.locator("#chat-log .msg.assistant").last
        expect(answer).to_have_class("msg assistant done", timeout=20000)
        assert newest_in_view(page), "the streamed answer ran below the visible part of the log"
        page.screenshot(path=f"{ARTIFACTS}/chat-answered-{name}.png")

        send(page, "And another one")
        expect(page.locator("#chat-log .msg.assistant").last).to_contain_text("tok5")
        page.locator("#chat-log").hover()
        page.mouse.wheel(0, -600)  # the user scrolls up to read while the answer streams on
        more = page.get_by_role("button", name="New messages ↓")
        expect(more).to_be_visible()
        expect(page.locator("#chat-log .msg.assistant").last).to_have_class("msg assistant done", timeout=20000)
        assert not newest_in_view(page, settle=False), "the log pulled the reader back down"
        page.screenshot(path=f"{ARTIFACTS}/chat-new-messages-{name}.png")
        more.click()
        expect(more).to_be_hidden()
        assert newest_in_view(page)


def test_two_quick_messages_get_two_answers_in_order(browser, app, fake):
    fake.reset(tokens=20, delay=0.02)
    app.client().post("/chat/clear")
    with open_tab(browser, app, "/", size=SIZES[1]) as page:
        box = page.locator("#chat-form textarea[name=msg]")
        expect(page.locator("#llm-status")).to_contain_text("qwen2.5:0.5b")
        for text in ("first question", "second question"):
            box.fill(text)
            box.press("Enter")
        answers = page.locator("#chat-log .msg.assistant.done")
        expect(answers).to_have_count(2, timeout=20000)
        expect(answers.nth(0)).to_contain_text("You said: first question")
        expect(answers.nth(1)).to_contain_text("You said: second question")
        assert newest_in_view(page)


def test_a_model_without_tools_still_chats_and_a_thinking_models_reasoning_is_folded(browser, app, fake):
    fake.reset(models=["gemma3:1b"], tokens=0)
    app.client().post("/chat/clear")
    with open_tab(browser, app, "/") as page:
        expect(page.locator("#llm-status")).to_contain_text("gemma3:1b — tools are off for this model",
                                                             timeout=10000)
        send(page, "add a task: buy milk")
        expect(page.locator("#chat-log .msg.assistant.done").last).to_contain_text("You said: add a task: buy milk")
        expect(page.locator("#chat-log .msg.error")).to_have_count(0)

        fake.reset(models=["qwen3:0.6b"], thinking="Counting the letters one by one.")
        expect(page.locator("#llm-status")).to_contain_text("qwen3:0.6b", timeout=10000)
        send(page, "how many r in strawberry")
        answer = page.locator("#chat-log .msg.assistant.done").last
        expect(answer).to_contain_text("You said: how many r in strawberry")
        reasoning = answer.locator("details.thinking")
        expect(reasoning).not_to_have_attribute("open", "")
        expect(reasoning.locator("summary")).to_have_text("Reasoning")
        expect(reasoning.locator(".think-text")).to_be_hidden()
        reasoning.locator("summary").click()
        expect(reasoning.locator(".think-text")).to_have_text("Counting the letters one by one.")
    fake.reset()

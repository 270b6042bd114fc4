"""The Poem workflow and the LLM settings as a person uses them, against a fake Ollama."""
import sqlite3

import pytest
from playwright.sync_api import expect

from tests.fakes.ollama import FakeOllama
from tests.llm_support import llm_server, open_tab

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def fake():
    f = FakeOllama(tokens=12, delay=0.05).start()
    yield f
    f.stop()


@pytest.fixture(scope="module")
def app(tmp_path_factory, fake):
    srv = llm_server(tmp_path_factory.mktemp("poem"), fake.url).start()
    yield srv
    srv.stop()


def answer_first_four(page, run_id: str):
    page.fill("#poem-pipeline-id", run_id)
    page.press("#poem-pipeline-id", "Enter")
    page.fill("input[name=name]", "Ada")
    page.press("input[name=name]", "Enter")
    for field, value in (("color", "violet"), ("time", "dusk"), ("feeling", "wistful")):
        page.select_option(f"select[name={field}]", value)
        page.locator("#poem-chain form button[type=submit]").click()
        expect(page.locator(".card-locked .summary", has_text=value)).to_be_visible()


def test_poem_streams_into_its_card_then_finalize_unfinalize_and_new_poem(browser, app, fake):
    with open_tab(browser, app, "/poem") as page:
        answer_first_four(page, "ada-poem")
        writing = page.locator("#poem-poem .card-working .poem-text")
        expect(writing).to_contain_text("Write a short poem")  # part of it, while it is still being written
        poem = page.locator("#poem-poem .card-locked .poem-text")
        expect(poem).to_contain_text("tok11")
        expect(poem).to_contain_text("violet")
        expect(page.locator(".card-final")).to_contain_text("A wistful poem for Ada, in violet, at dusk.")

        page.get_by_role("button", name="Finalize").click()
        expect(page.locator(".card-final.finalized")).to_be_visible()
        expect(page.locator(".revert")).to_have_count(0)
        expect(page.get_by_role("button", name="New poem")).to_have_count(0)
        page.get_by_role("button", name="Unfinalize").click()
        expect(page.locator(".revert")).to_have_count(5)

        fake.configure(reply="A second poem, brand new.", tokens=0)
        page.get_by_role("button", name="New poem").click()
        expect(page.locator("#poem-poem .card-locked .poem-text")).to_have_text("A second poem, brand new.")
        page.reload()
        expect(page.locator("#poem-poem .card-locked .poem-text")).to_have_text("A second poem, brand new.")
        fake.configure(reply=None, tokens=12)
        # Narration told the chat what happened at each step, in order.
        # Narration lags behind the cards (each is explained in turn); the last one says the poem is written.
        expect(page.locator("#chat-log .msg.narration", has_text="is written")).to_have_count(2, timeout=20000)
        # A message's text is drawn on the page's next flush, a moment after the message itself appears.
        expect(page.locator("#chat-log .msg.narration .md", has_text="A poem for Ada is begun")).to_be_visible()
        narration = page.locator("#chat-log .msg.narration .md").all_inner_texts()
        begun = narration.index("A poem for Ada is begun: next, its colour.")
        assert narration[begun + 1:begun + 4] == ["The poem will be violet; next, the time of day.",
                                                  "The poem is set at dusk; next, how it should feel.",
                                                  "The poem should feel wistful. The local LLM now writes it."]
        assert "The poem for Ada is written; finalize it or ask for a new one." in narration
    with sqlite3.connect(app.data_dir / "pipedeck.db") as db:
        data = db.execute("SELECT data FROM pipeline WHERE workflow='poem' AND id='ada-poem'").fetchone()[0]
    assert "A second poem, brand new." in data


def test_poem_without_an_llm_says_it_needs_one_and_retry_writes_it(browser, app, fake):
    fake.configure(models=[])  # Ollama runs but has no model
    with open_tab(browser, app, "/poem") as page:
        answer_first_four(page, "no-llm")
        card = page.locator("#poem-poem .card-error")
        expect(card).to_contain_text("This step needs the local LLM")
        fake.configure(models=["qwen2.5:0.5b"])
        page.wait_for_timeout(2100)  # the app caches Ollama's state for 2 s
        page.get_by_role("button", name="Try again").click()
        expect(page.locator("#poem-poem .card-locked .poem-text")).to_contain_text("tok11")


def test_reverting_while_the_poem_is_written_discards_it_and_the_answers_come_back(browser, app, fake):
    fake.configure(tokens=25, delay=0.1)  # the first poem takes 2.5 s: time to go back meanwhile
    try:
        with open_tab(browser, app, "/poem") as page:
            answer_first_four(page, "race")
            expect(page.locator("#poem-poem .card-working .poem-text")).to_contain_text("violet")
            # Pushed over the open WebSocket: the card's fallback poll is off while the socket is up.
            assert page.evaluate("document.body.dataset.push") == "up"
            page.locator("#poem-color .revert").first.click()
            expect(page.locator("#poem-color .question").first).to_contain_text("This clears 2 later answers.")
            page.get_by_role("button", name="Clear and go back").click()
            expect(page.locator("select[name=color]")).to_have_value("violet")  # the old answer, back in its field
            page.wait_for_timeout(3500)  # the violet poem is finished by now, and must not have been kept
            assert "poem" not in run_data(app, "race")
            fake.configure(tokens=3, delay=0.05)
            page.select_option("select[name=color]", "blue")
            page.locator("#poem-color form button[type=submit]").click()
            for field, old in (("time", "dusk"), ("feeling", "wistful")):  # pre-filled: one click each
                expect(page.locator(f"select[name={field}]")).to_have_value(old)
                page.locator(f"#poem-{field} form button[type=submit]").click()
            poem = page.locator("#poem-poem .card-locked .poem-text")
            expect(poem).to_contain_text("blue")
            expect(poem).not_to_contain_text("violet")
        data = run_data(app, "race")
        assert "blue" in data["poem"] and data["color"] == "blue"
    finally:
        fake.configure(tokens=12, delay=0.05)


def run_data(app, run_id: str) -> dict:
    import json
    with sqlite3.connect(app.data_dir / "pipedeck.db") as db:
        return json.loads(db.execute("SELECT data FROM pipeline WHERE workflow='poem' AND id=?", [run_id]).fetchone()[0])


def test_settings_pull_shows_progress_can_cancel_and_the_picked_model_is_remembered(browser, app, fake):
    fake.configure(models=["qwen2.5:0.5b"], pull_steps=40, pull_delay=0.1)
    with open_tab(browser, app, "/settings") as page:
        expect(page.locator("#models input[type=radio]")).to_have_count(1)
        page.fill("#pull input[name=model]", "llama3.2:1b")
        page.get_by_role("button", name="Pull", exact=True).click()
        bar = page.locator("#pull progress")
        expect(bar).to_be_visible()
        expect(page.locator("#pull")).to_contain_text("%")
        page.get_by_role("button", name="Cancel").click()
        expect(page.locator("#pull .error")).to_contain_text("Cancelled")
        expect(bar).to_have_count(0)

        fake.configure(pull_steps=4, pull_delay=0.1)
        page.get_by_role("button", name="Pull", exact=True).click()
        expect(page.locator(".pull-done")).to_contain_text("llama3.2:1b is installed")
        expect(page.locator("#models input[type=radio]")).to_have_count(2)
        page.get_by_label("llama3.2:1b").check()
        expect(page.locator("#models")).to_contain_text("Chats use llama3.2:1b.")
    app.restart()
    with open_tab(browser, app, "/settings") as page:
        expect(page.get_by_label("llama3.2:1b")).to_be_checked()
        expect(page.locator("#llm-status")).to_contain_text("llama3.2:1b")
        page.get_by_label("qwen2.5:0.5b").check()
        expect(page.locator("#models")).to_contain_text("Chats use qwen2.5:0.5b.")


def save_address(page, address: str) -> None:
    page.fill("#ollama-host", address)
    page.get_by_role("button", name="Save").click()


def test_settings_ollama_address_is_saved_with_ollamas_port_when_none_is_given_and_used(browser, app, fake):
    with open_tab(browser, app, "/settings") as page:
        save_address(page, "localhost")
        expect(page.locator("#host-form")).to_contain_text("Saved: http://localhost:11434.")
        save_address(page, "127.0.0.1:9")
        expect(page.locator("#host-form")).to_contain_text("Saved: http://127.0.0.1:9.")
        expect(page.locator("#models")).to_contain_text("Local LLM offline")
        expect(page.locator("#models")).to_contain_text("http://127.0.0.1:9")
        save_address(page, "")  # empty: back to OLLAMA_HOST
        expect(page.locator("#models input[type=radio]").first).to_be_visible()
        expect(page.locator("#ollama-host")).to_have_value(fake.url)


def test_settings_show_the_folders_and_whose_botify_token_is_stored_but_never_the_token(browser, app):
    from server.botify.token import forget_token, save_token
    with open_tab(browser, app, "/settings") as page:
        expect(page.locator("#botify-status")).to_contain_text("No token stored.")
        expect(page.locator("main")).to_contain_text(str(app.data_dir))
        save_token(app.data_dir, "s3cret-token-value", "ada")
        try:
            page.reload()
            expect(page.locator("#botify-status")).to_contain_text("Connected as ada.")
            assert "s3cret-token-value" not in page.content()
        finally:
            forget_token(app.data_dir)


@pytest.mark.parametrize("typed,reason", [("http://127.0.0.1:11434x", "The port must be a number"),
                                          ("javascript:alert(1)", "Use an http:// or https:// address")])
def test_settings_refuse_an_unusable_ollama_address_with_a_message_in_the_form(browser, app, fake, typed, reason):
    with open_tab(browser, app, "/settings") as page:
        save_address(page, typed)
        expect(page.locator("#host-form .error")).to_contain_text(reason)
        expect(page.locator("#ollama-host")).to_have_value(typed)  # kept, to be corrected
        expect(page.locator("#ollama-host")).to_have_attribute("aria-invalid", "true")
        page.reload()
        expect(page.locator("#ollama-host")).to_have_value(fake.url)  # nothing was saved
        expect(page.locator("#llm-status")).to_contain_text("Local LLM: qwen2.5:0.5b")


def test_a_bad_address_saved_by_an_older_version_never_breaks_a_page(browser, app, fake):
    with sqlite3.connect(app.data_dir / "pipedeck.db") as db:
        db.execute("INSERT OR REPLACE INTO store (key, value) VALUES ('llm:host', 'javascript:alert(1)')")
    try:
        with open_tab(browser, app, "/hello") as page:
            expect(page.locator("#llm-status")).to_contain_text("Local LLM: qwen2.5:0.5b")  # OLLAMA_HOST is used
            page.wait_for_timeout(1500)  # a status recheck or two (every second in tests)
            expect(page.locator("body")).not_to_contain_text("Something went wrong")
            page.goto(app.url + "/settings")
            expect(page.locator("#host-form .error")).to_contain_text("“javascript:alert(1)” is not usable")
            expect(page.locator("#models input[type=radio]").first).to_be_visible()
    finally:
        app.client().post("/settings/ollama-host", data={"address": ""})


def test_the_offline_message_has_no_raw_backticks(browser, app):
    http = app.client()
    http.post("/settings/ollama-host", data={"address": "127.0.0.1:9"})
    try:
        status = http.get("/chat/status").text
        assert "Local LLM offline" in status and "`" not in status
    finally:
        http.post("/settings/ollama-host", data={"address": ""})


def test_settings_turn_thinking_models_reasoning_off_and_it_stays_off(browser, app):
    with open_tab(browser, app, "/settings") as page:
        switch = page.get_by_label("Let thinking models reason before they answer")
        expect(switch).to_be_checked()
        switch.uncheck()
        expect(page.get_by_label("Let thinking models reason before they answer")).not_to_be_checked()
        page.reload()
        expect(switch).not_to_be_checked()
        switch.check()
        page.reload()
        expect(switch).to_be_checked()

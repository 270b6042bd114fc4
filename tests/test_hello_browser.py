"""The Hello workflow as a person uses it, in Debian's chromium against the real server process."""
import json
import sqlite3

import pytest
from playwright.sync_api import expect

from tests.support import settled

pytestmark = pytest.mark.browser


def start_run(page, server, run_id):
    page.goto(f"{server.url}/hello")
    settled(page)  # /hello opens the last run: let its cards arrive before another run is typed
    page.fill("input[name=pipeline_id]", run_id)
    page.press("input[name=pipeline_id]", "Enter")


def answer(page, field, value):
    if field == "color":
        page.select_option(f"select[name={field}]", value)
        page.click("#hello-color button[type=submit]")
    else:
        page.fill(f"input[name={field}]", value)
        page.press(f"input[name={field}]", "Enter")
        settled(page)  # the answer stored and the next card loaded, as a person waits to see it


def walk_hello(page, server, run_id, color="blue"):
    start_run(page, server, run_id)
    expect(page.locator("input[name=name]")).to_be_visible()
    settled(page)
    answer(page, "name", "Sir Lancelot")
    answer(page, "quest", "To seek the Holy Grail")
    answer(page, "color", color)


def row(server, run_id):
    with sqlite3.connect(server.data_dir / "pipedeck.db") as db:
        found = db.execute("SELECT data FROM pipeline WHERE workflow='hello' AND id=?", [run_id]).fetchone()
    return json.loads(found[0]) if found else None


def test_blue_crosses_the_bridge(page, server):
    walk_hello(page, server, "lancelot")
    expect(page.locator(".verdict")).to_contain_text("You may cross")
    assert row(server, "lancelot")["color"] == "blue"


def test_other_colours_are_cast_into_the_gorge(page, server):
    walk_hello(page, server, "robin", color="yellow")
    expect(page.locator(".verdict")).to_contain_text("Gorge of Eternal Peril")


def test_resume_after_restart_shows_verdict(page, server):
    walk_hello(page, server, "galahad")
    expect(page.locator(".verdict")).to_be_visible()
    server.restart()
    page.goto(server.ready_url)
    start_run(page, server, "galahad")
    expect(page.locator(".card-locked")).to_have_count(3)
    expect(page.locator(".verdict")).to_contain_text("You may cross")
    expect(page.locator("input[name=name]")).to_have_count(0)


def test_revert_asks_then_clears_later_steps_and_their_answers_come_back(page, server):
    walk_hello(page, server, "bedevere")
    expect(page.locator(".verdict")).to_be_visible()
    page.click("#hello-quest >> .revert >> nth=0")
    expect(page.locator("#hello-quest .question").first).to_contain_text("This clears 1 later answer.")
    assert row(server, "bedevere")["color"] == "blue"  # asking changes nothing
    page.get_by_role("button", name="Clear and go back").click()
    expect(page.locator("input[name=quest]")).to_have_value("To seek the Holy Grail")  # the answer is back
    expect(page.locator(".verdict")).to_have_count(0)
    data = row(server, "bedevere")
    assert "name" in data and "quest" not in data and "color" not in data
    page.press("input[name=quest]", "Enter")
    expect(page.locator("select[name=color]")).to_have_value("blue")  # a later answer, pre-filled again


def test_finalize_then_unfinalize_keeps_answers(page, server):
    walk_hello(page, server, "arthur")
    page.get_by_role("button", name="Finalize").click()
    expect(page.locator(".finalized")).to_be_visible()
    expect(page.locator(".revert")).to_have_count(0)
    assert row(server, "arthur")["finalize"] == {"finalized": True}
    page.get_by_role("button", name="Unfinalize").click()
    expect(page.locator(".revert")).to_have_count(3)
    data = row(server, "arthur")
    assert "finalize" not in data and data["color"] == "blue"


def test_a_loading_card_focuses_its_field_but_never_steals_the_chat_box(page, server):
    start_run(page, server, "focus")
    expect(page.locator("input[name=name]")).to_be_focused()  # nothing else focused: the card's field takes it
    page.fill("input[name=name]", "Robin")
    page.press("input[name=name]", "Enter")
    expect(page.locator("input[name=quest]")).to_be_focused()
    # Typing in the chat box while the chain loads a card: the keys stay in the chat box.
    page.focus("#chat-form textarea")
    page.evaluate("htmx.ajax('GET', '/hello/quest?pipeline_id=focus', {target: '#hello-quest', swap: 'outerHTML'})")
    page.wait_for_function("() => document.querySelector('#hello-quest input[name=quest]') && !document.querySelector('.htmx-request, .htmx-settling, .htmx-added')")
    expect(page.locator("#chat-form textarea")).to_be_focused()


def test_an_answer_typed_before_htmx_binds_the_new_card_is_sent_not_lost(page, server):
    # htmx binds swapped content when it settles; make that moment long, as on a busy machine, and type into it.
    start_run(page, server, "quick-typist")
    expect(page.locator("input[name=name]")).to_be_visible()
    settled(page)
    page.evaluate("() => { htmx.config.defaultSettleDelay = 3000; }")
    page.fill("input[name=name]", "Sir Robin")
    page.press("input[name=name]", "Enter")
    quest = page.locator("input[name=quest]")
    expect(quest).to_be_visible()
    assert page.evaluate("() => !document.querySelector('input[name=quest]').form.pdBound"), \
        "the next card was bound already: this test no longer types into the unbound moment"
    quest.fill("To seek the Grail")
    quest.press("Enter")
    expect(page.locator(".card-locked", has_text="To seek the Grail")).to_be_visible()
    assert row(server, "quick-typist")["quest"] == "To seek the Grail"
    expect(page.locator("body")).not_to_contain_text("Refused")

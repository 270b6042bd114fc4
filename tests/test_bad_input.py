"""Bad input gets a clear message in the card, and nothing is lost or half-written."""
import json
import sqlite3

import pytest
from playwright.sync_api import expect

from tests.support import settled

HX = {"HX-Request": "true"}


@pytest.fixture
def http(shared_server):
    c = shared_server.client()
    yield c
    c.close()


def rows(server, workflow="hello"):
    with sqlite3.connect(server.data_dir / "pipedeck.db") as db:
        return {r[0]: json.loads(r[1]) for r in db.execute("SELECT id, data FROM pipeline WHERE workflow=?", [workflow])}


def test_empty_id_gets_a_message_and_writes_no_row(http, shared_server):
    before = rows(shared_server)
    r = http.post("/hello/init", data={"pipeline_id": "   "}, headers=HX)
    assert 'role="alert"' in r.text and "Type an id" in r.text
    assert rows(shared_server) == before


def test_a_5000_character_id_is_refused_clearly(http, shared_server):
    before = rows(shared_server)
    r = http.post("/hello/init", data={"pipeline_id": "x" * 5000}, headers=HX)
    assert "5,000 characters" in r.text and 'role="alert"' in r.text
    assert rows(shared_server) == before


def test_unknown_step_is_a_friendly_404_card(http):
    r = http.get("/hello/step_99", params={"pipeline_id": "x"})
    assert r.status_code == 404
    assert "has no step" in r.text and "Traceback" not in r.text and "card-error" in r.text


def test_unknown_address_is_a_friendly_404_page(http):
    r = http.get("/no/such/page")
    assert r.status_code == 404 and "There is nothing at this address" in r.text


def test_submitting_step_three_before_step_two_lands_on_step_two(http, shared_server):
    http.post("/hello/init", data={"pipeline_id": "skipper"}, headers=HX)
    http.post("/hello/name/submit", data={"pipeline_id": "skipper", "name": "Robin"}, headers=HX)
    r = http.post("/hello/color/submit", data={"pipeline_id": "skipper", "color": "blue"}, headers=HX)
    assert r.headers["HX-Retarget"] == "#hello-chain"
    assert "color" not in rows(shared_server)["skipper"]
    # Following the chain from the top shows step 1 locked and then the step 2 form.
    assert "card-locked" in http.get("/hello/name", params={"pipeline_id": "skipper"}, headers=HX).text
    assert 'name="quest"' in http.get("/hello/quest", params={"pipeline_id": "skipper"}, headers=HX).text


def test_the_same_submit_twice_keeps_one_state_without_error(http, shared_server):
    http.post("/hello/init", data={"pipeline_id": "twice"}, headers=HX)
    first = http.post("/hello/name/submit", data={"pipeline_id": "twice", "name": "Arthur"}, headers=HX)
    again = http.post("/hello/name/submit", data={"pipeline_id": "twice", "name": "Arthur"}, headers=HX)
    assert first.status_code == again.status_code == 200
    assert "card-locked" in again.text and 'role="alert"' not in again.text
    assert rows(shared_server)["twice"]["name"] == "Arthur"


def test_an_empty_answer_is_refused_in_the_card(http, shared_server):
    http.post("/hello/init", data={"pipeline_id": "blank"}, headers=HX)
    r = http.post("/hello/name/submit", data={"pipeline_id": "blank", "name": "  "}, headers=HX)
    assert 'role="alert"' in r.text and 'aria-invalid="true"' in r.text
    assert "name" not in rows(shared_server)["blank"]


def test_a_colour_not_offered_is_refused(http, shared_server):
    http.post("/hello/init", data={"pipeline_id": "purple"}, headers=HX)
    http.post("/hello/name/submit", data={"pipeline_id": "purple", "name": "A"}, headers=HX)
    http.post("/hello/quest/submit", data={"pipeline_id": "purple", "quest": "B"}, headers=HX)
    r = http.post("/hello/color/submit", data={"pipeline_id": "purple", "color": "purple"}, headers=HX)
    assert "Please choose one of" in r.text and "color" not in rows(shared_server)["purple"]


@pytest.mark.browser
def test_html_in_ids_and_answers_is_shown_literally_never_run(page, server):
    dialogs = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    evil = '<script>alert("id")</script><img src=x onerror=alert(1)>'
    page.goto(f"{server.url}/hello")
    settled(page)  # as a person would, type once the page is ready: an Enter before htmx binds the form posts it plainly
    page.fill("input[name=pipeline_id]", evil)
    page.press("input[name=pipeline_id]", "Enter")
    settled(page)
    page.fill("input[name=name]", '<b onmouseover=alert(2)>bold</b><script>alert("name")</script>')
    page.press("input[name=name]", "Enter")
    expect(page.locator("#hello-name .summary")).to_contain_text('<script>alert("name")</script>')
    expect(page.locator("input[name=quest]")).to_be_visible()
    assert page.locator("#hello-name .summary b").count() == 0
    assert dialogs == []

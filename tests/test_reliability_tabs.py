"""Two tabs (and many racing clients) on the same run never lose a step: the first answer to each step wins and
every tab ends up showing what is stored."""
import json
import sqlite3
import threading

import pytest
from playwright.sync_api import expect

from tests.support import settled

HX = {"HX-Request": "true"}


def row(server, run_id):
    with sqlite3.connect(server.data_dir / "pipedeck.db") as db:
        found = db.execute("SELECT data FROM pipeline WHERE workflow='hello' AND id=?", [run_id]).fetchone()
    return json.loads(found[0]) if found else None


def submit(page, field, value):
    if field == "color":
        page.select_option("select[name=color]", value)
        page.click("#hello-color button[type=submit]")
    else:
        page.fill(f"input[name={field}]", value)
        page.press(f"input[name={field}]", "Enter")


@pytest.mark.browser
def test_two_tabs_answering_the_same_run_lose_nothing(page, server):
    a = page
    b = page.context.new_page()  # a second tab of the same window: same cookie, same run
    b.set_default_timeout(15000)
    for tab in (a, b):
        tab.goto(f"{server.url}/hello")
        tab.fill("input[name=pipeline_id]", "twin")
        tab.press("input[name=pipeline_id]", "Enter")
        expect(tab.locator("input[name=name]")).to_be_visible()
        settled(tab)  # the landing opens the last run too: let both chains finish before the race begins

    submit(a, "name", "Arthur")
    expect(a.locator("input[name=quest]")).to_be_visible()
    submit(b, "name", "Bedevere")  # stale tab: its answer comes second and must not replace Arthur's
    expect(b.locator("#hello-name .card-locked")).to_contain_text("Arthur")
    expect(b.locator("input[name=quest]")).to_be_visible()

    submit(b, "quest", "Find a shrubbery")
    expect(b.locator("select[name=color]")).to_be_visible()
    submit(a, "quest", "Seek the Grail")  # a's quest form is now stale
    expect(a.locator("#hello-quest .card-locked")).to_contain_text("Find a shrubbery")

    submit(a, "color", "blue")
    expect(a.locator(".verdict")).to_contain_text("You may cross")
    submit(b, "color", "red")
    expect(b.locator(".verdict")).to_contain_text("You may cross")

    data = row(server, "twin")
    assert data["name"] == "Arthur" and data["quest"] == "Find a shrubbery"
    assert data["color"] == "blue"
    # Both tabs, reloaded, show the same three answers.
    for tab in (a, b):
        tab.reload()
        expect(tab.locator(".card-locked")).to_have_count(3)
        expect(tab.locator(".verdict")).to_contain_text("You may cross")


def test_racing_clients_on_many_runs_store_every_step_once(server):
    clients = [server.client() for _ in range(6)]
    runs = [f"race-{i}" for i in range(12)]
    answers = (("name", "name"), ("quest", "quest"), ("color", "color"))
    errors: list[str] = []
    barrier = threading.Barrier(len(clients))

    def walk(k, c):
        barrier.wait()
        for run_id in runs:
            c.post("/hello/init", data={"pipeline_id": run_id}, headers=HX)
            for step, field in answers:
                value = "blue" if field == "color" else f"client {k}"
                r = c.post(f"/hello/{step}/submit", data={"pipeline_id": run_id, field: value}, headers=HX)
                if r.status_code != 200:
                    errors.append(f"{run_id} {step}: {r.status_code}")

    threads = [threading.Thread(target=walk, args=(k, c)) for k, c in enumerate(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    for c in clients:
        c.close()
    assert errors == []
    for run_id in runs:
        data = row(server, run_id)
        assert all(step in data for step, _ in answers), (run_id, data)
        assert data["name"].startswith("client ") and data["color"] == "blue"

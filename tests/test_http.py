"""The app over real HTTP: a `./pipedeck serve` process, requests as htmx sends them."""
import json
import sqlite3

import httpx
import pytest

HX = {"HX-Request": "true"}


@pytest.fixture
def http(shared_server):
    c = shared_server.client()
    yield c
    c.close()


def blob(server, run_id, workflow="hello"):
    with sqlite3.connect(server.data_dir / "pipedeck.db") as db:
        found = db.execute("SELECT data FROM pipeline WHERE workflow=? AND id=?", [workflow, run_id]).fetchone()
    return json.loads(found[0]) if found else None


def submit(http, step, run_id, **fields):
    return http.post(f"/hello/{step}/submit", data={"pipeline_id": run_id, **fields}, headers=HX)


def test_serve_prints_ready_url_and_healthz_answers(shared_server):
    assert shared_server.ready_url.startswith(f"http://127.0.0.1:{shared_server.port}/")
    assert httpx.get(f"{shared_server.url}/healthz").status_code == 200


def test_home_lists_every_workflow_and_app(http):
    page = http.get("/").text
    for label in ("Hello — the Bridge of Death", "Tasks", "Profiles"):
        assert label in page


def test_init_creates_the_run_and_starts_the_chain(http, shared_server):
    r = http.post("/hello/init", data={"pipeline_id": "http-1"}, headers=HX)
    assert r.status_code == 200
    assert 'hx-get="/hello/name?pipeline_id=http-1"' in r.text and 'hx-trigger="load"' in r.text
    assert r.headers["HX-Push-Url"] == "/hello?pipeline_id=http-1"
    assert blob(shared_server, "http-1") is not None


def test_a_finished_card_is_locked_and_brings_the_next_one(http):
    http.post("/hello/init", data={"pipeline_id": "http-2"}, headers=HX)
    r = submit(http, "name", "http-2", name="Robin")
    assert "card-locked" in r.text and "Robin" in r.text
    assert 'hx-get="/hello/quest?pipeline_id=http-2"' in r.text
    r = http.get("/hello/quest", params={"pipeline_id": "http-2"}, headers=HX)
    assert 'name="quest"' in r.text


def test_a_step_links_directly_as_a_full_page(http):
    http.post("/hello/init", data={"pipeline_id": "http-3"}, headers=HX)
    submit(http, "name", "http-3", name="Robin")
    r = http.get("/hello/name", params={"pipeline_id": "http-3"})
    assert r.status_code == 200 and "<html" in r.text and "Robin" in r.text and 'name="pipeline_id"' in r.text


def test_the_verdict_depends_on_the_colour(http):
    for run_id, color, words in (("http-blue", "blue", "You may cross"), ("http-red", "red", "Gorge of Eternal Peril")):
        http.post("/hello/init", data={"pipeline_id": run_id}, headers=HX)
        submit(http, "name", run_id, name="Galahad")
        submit(http, "quest", run_id, quest="Grail")
        submit(http, "color", run_id, color=color)
        assert words in http.get("/hello/finalize", params={"pipeline_id": run_id}, headers=HX).text


def test_plain_form_posts_work_before_htmx_takes_over(http, shared_server):
    r = http.post("/hello/init", data={"pipeline_id": "no-js"}, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/hello?pipeline_id=no-js"
    r = http.post("/hello/name/submit", data={"pipeline_id": "no-js", "name": "Lancelot"}, follow_redirects=False)
    assert r.status_code == 303
    assert blob(shared_server, "no-js")["name"] == "Lancelot"


def test_last_menu_choice_is_remembered_across_restarts(dirs):
    from tests.support import ServerProcess

    server = ServerProcess(*dirs).start()
    try:
        server.client().get("/tasks")
        server.restart()
        home = server.client().get("/").text
        assert "Continue where you left off" in home and 'class="continue"' in home and 'href="/tasks"' in home
    finally:
        server.stop()

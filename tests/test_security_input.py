"""Odd input gets a 4xx card, never a 500: broken IPv6 brackets in project URLs, names past the file system's limit."""
import sqlite3

import pytest

from server.botify.projects import clean_project_url
from server.engine import Invalid
from server.files import UnsafePath, inside

LONG = "a" * 300


@pytest.mark.parametrize("raw", ["http://[::1", "https://[]/a/b/", "https://[::1/acme/shop/", "http://[zz]/a/b",
                                 f"https://app.botify.com/{LONG}/shop/", f"https://app.botify.com/acme/{LONG}/"])
def test_odd_project_urls_are_refused_with_a_message(raw):
    with pytest.raises(Invalid):
        clean_project_url(raw)


def test_names_past_the_file_system_limit_are_refused_before_any_system_call(tmp_path):
    for parts in ((LONG,), ("link-graph", LONG, "x.csv"), ("/".join(["b" * 200] * 30),)):
        with pytest.raises(UnsafePath):
            inside(tmp_path, *parts)


@pytest.fixture(scope="module")
def http(shared_server):
    c = shared_server.client()
    yield c
    c.close()


def test_over_long_names_in_file_routes_answer_4xx_cards(http):
    hx = {"HX-Request": "true"}
    for path in (f"/download/link-graph/{LONG}/shop/x.csv", f"/download/{LONG}", f"/graph/{LONG}/shop/20240101",
                 f"/graph/acme/shop/{LONG}", "/download/" + "/".join(["b" * 200] * 30)):
        r = http.get(path, headers=hx)
        assert 400 <= r.status_code < 500 and "Traceback" not in r.text, (path[:80], r.status_code)
    for folder in (f"link-graph/{LONG}", "/".join([LONG] * 20)):
        r = http.post("/open-folder", data={"path": folder})
        assert 400 <= r.status_code < 500 and "Traceback" not in r.text, r.status_code


def test_a_300_character_org_never_starts_a_link_graph_run(http, shared_server):
    r = http.post("/linkgraph/init", data={"pipeline_id": f"https://app.botify.com/{LONG}/shop/"},
                  headers={"HX-Request": "true"})
    assert r.status_code < 500 and "Traceback" not in r.text
    with sqlite3.connect(shared_server.data_dir / "pipedeck.db") as db:
        assert not db.execute("SELECT 1 FROM pipeline WHERE id LIKE ?", [f"%{LONG}%"]).fetchall()

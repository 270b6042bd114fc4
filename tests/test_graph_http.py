"""The graph screens over real HTTP: list, 404 card, converting → viewer, typed-array data, search, node, PNG save."""
import time

import numpy as np
import pytest

from tests.graph_support import graph_folder, write_site_graph

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


@pytest.fixture(scope="module")
def http(shared_server):
    c = shared_server.client()
    yield c
    c.close()


@pytest.fixture(scope="module")
def shop(shared_server):
    write_site_graph(shared_server.downloads_dir, pages=300, edges=1500)
    return "/graph/acme/shop/20240101"


def wait_for_viewer(http, url, timeout=30):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        html = http.get(url + "/status").text
        if "graph-view" in html or "card-error" in html or "has no links" in html:
            return html
        assert "Preparing the graph" in html
        time.sleep(0.2)
    raise AssertionError("conversion did not finish")


def test_missing_graph_is_a_friendly_404_inside_the_page(http):
    r = http.get("/graph/acme/shop/19990101")
    assert r.status_code == 404
    assert "There is no link graph" in r.text and "app-menu" in r.text
    assert http.get("/graph/acme/shop/19990101/data/links").status_code == 404


def test_paths_out_of_the_downloads_folder_are_refused(http, shared_server):
    (shared_server.downloads_dir / "secret_x_links.csv").write_text("source,target\na,b\n")
    for url in ("/graph/..%2F..%2F/secret/x", "/graph/acme/..%2F../x", "/graph/acme/shop/..%2F..%2F..%2Fsecret"):
        assert http.get(url).status_code == 404


def test_viewer_converts_once_then_serves_typed_arrays(http, shop, shared_server):
    first = http.get(shop)
    assert first.status_code == 200
    assert "Preparing the graph" in first.text or "graph-view" in first.text
    html = wait_for_viewer(http, shop)
    assert "300 pages" in html and 'data-config=' in html
    links = np.frombuffer(http.get(shop + "/data/links").content, "<f4")
    positions = np.frombuffer(http.get(shop + "/data/positions").content, "<f4")
    inbound = np.frombuffer(http.get(shop + "/data/inbound").content, "<f4")
    edges = int(html.split(" links")[0].rsplit("· ", 1)[1].replace(",", ""))
    assert len(links) == 2 * edges and len(positions) == 600 and len(inbound) == 300
    assert inbound.sum() == edges and links.max() < 300
    codes = np.frombuffer(http.get(shop + "/column/pagetype").content, "<u4")
    assert len(codes) == 300 and sorted(set(codes.tolist())) == [0, 1, 2]
    impressions = np.frombuffer(http.get(shop + "/column/impressions").content, "<f4")
    assert len(impressions) == 300 and impressions.max() == 900  # the home page: (300 - 0) * 3
    assert http.get(shop + "/column/nothing").status_code == 404
    assert http.get(shop + "/data/../../pipedeck.db").status_code == 404
    # The page itself loads the WebGL library; other pages do not.
    assert "/static/vendor/cosmos.min.js" in http.get(shop).text
    assert "cosmos.min.js" not in http.get("/").text


def test_search_and_node_details(http, shop):
    wait_for_viewer(http, shop)
    hits = http.get(shop + "/search", params={"q": "/c/51"}).json()
    assert hits[0]["url"] == "https://shop.example/c/51"
    node = http.get(f"{shop}/node/{hits[0]['id']}").text
    assert "category" in node and 'target="_blank"' in node and 'rel="noopener"' in node
    assert http.get(shop + "/search", params={"q": "no-such-page"}).json() == []
    assert http.get(shop + "/node/100000").status_code == 404


def test_list_shows_every_graph_on_disk(http, shop, shared_server):
    write_site_graph(shared_server.downloads_dir, pages=20, edges=60, org="beta", project="blog", slug="20231231",
                     meta=False)
    page = http.get("/graph").text
    assert 'href="/graph/acme/shop/20240101"' in page and 'href="/graph/beta/blog/20231231"' in page
    assert "links only" in page and "links and metadata" in page
    assert 'href="/graph"' in http.get("/").text  # in the menu


def test_links_without_metadata_say_what_is_missing(http, shared_server):
    write_site_graph(shared_server.downloads_dir, pages=30, edges=90, org="beta", project="news", slug="20240202",
                     meta=False)
    html = wait_for_viewer(http, "/graph/beta/news/20240202")
    assert "No metadata file (news_20240202_meta.csv)" in html


def test_header_only_file_says_there_is_nothing_to_draw(http, shared_server):
    (graph_folder(shared_server.downloads_dir, "acme", "empty") / "empty_20240303_links.csv").write_text(
        "source,target\n")
    html = wait_for_viewer(http, "/graph/acme/empty/20240303")
    assert "This graph has no links" in html


def test_png_save_writes_into_the_downloads_folder(http, shop, shared_server):
    folder = graph_folder(shared_server.downloads_dir)
    r = http.post(shop + "/png", content=b"<html>not an image</html>", headers={"Content-Type": "image/png"})
    assert "nothing was saved" in r.text
    assert not list(folder.glob("*.png"))
    r = http.post(shop + "/png", content=PNG, headers={"Content-Type": "image/png"})
    saved = list(folder.glob("shop_20240101_graph_*.png"))
    assert len(saved) == 1 and saved[0].read_bytes() == PNG
    assert saved[0].name in r.text and "downloads folder" in r.text
    assert not list(folder.glob(".*.part"))


def test_search_can_bring_the_first_pages_details_in_one_answer(http, shop):
    wait_for_viewer(http, shop)
    found = http.get(shop + "/search", params={"q": "/c/51", "details": "true"}).json()
    assert found["hits"][0]["url"] == "https://shop.example/c/51"
    assert f'data-node="{found["hits"][0]["id"]}"' in found["card"] and "PageRank" in found["card"]
    assert http.get(shop + "/search", params={"q": "nowhere", "details": "true"}).json() == {"hits": [], "card": ""}

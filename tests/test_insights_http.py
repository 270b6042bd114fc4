"""The insights and comparison screens over real HTTP: converting → figures, the CSV downloads, the breakdown by
another column, and every odd graph answering with a clear message instead of a 500."""
import csv
import io
import time

import pytest

from server.graph.catalog import compare_url, insights_url
from tests.graph_support import graph_folder, write_site_graph


@pytest.fixture(scope="module")
def http(shared_server):
    c = shared_server.client()
    yield c
    c.close()


def settled(http, url, timeout=60):
    """The screen once the worker has converted the graph (the converting card polls `url/status`)."""
    html = http.get(url).text
    deadline = time.monotonic() + timeout
    while "Preparing the graph" in html and time.monotonic() < deadline:
        time.sleep(0.2)
        html = http.get(url + "/status").text
    assert "Preparing the graph" not in html
    return html


def write(downloads, project, slug, links, meta=None):
    folder = graph_folder(downloads, "acme", project)
    (folder / f"{project}_{slug}_links.csv").write_text(links)
    if meta is not None:
        (folder / f"{project}_{slug}_meta.csv").write_text(meta)
    return insights_url("acme", project, slug)


def test_insights_show_top_pages_orphans_dead_ends_and_chart_data(http, shared_server):
    write_site_graph(shared_server.downloads_dir, pages=300, edges=1500)
    url = insights_url("acme", "shop", "20240101")
    settled(http, url)
    html = http.get(url).text
    assert "Top pages by PageRank" in html and "https://shop.example/" in html
    assert 'id="chart-share"' in html and "data-chart=" in html and "/static/vendor/chart.umd.min.js" in html
    assert "Orphan pages" in html and "Dead ends" in html
    pages = http.get("/download/acme/shop/shop_20240101_pages.csv")
    rows = list(csv.DictReader(io.StringIO(pages.text)))
    assert pages.status_code == 200 and len(rows) == 300 and rows[0]["url"] == "https://shop.example/"
    chart = http.get(url + "/breakdown", params={"by": "compliant"}, headers={"HX-Request": "true"}).text
    # A fragment, not a page (fastcore 1.8, nixpkgs', indents it by a space).
    assert chart.lstrip().startswith("<div") and 'id="chart-share"' in chart and "compliant" in chart
    assert "no metadata column" in http.get(url + "/breakdown", params={"by": "nope"}).text
    assert 'href="/graph/acme/shop/20240101/insights"' in http.get("/graph").text


def test_orphans_are_counted_listed_and_downloadable(http, shared_server):
    url = write(shared_server.downloads_dir, "blog", "1", "source,target\nhome,a\na,home\nd,home\n",
                "url,pagetype\nhome,home\na,post\nd,post\nlost,post\n")
    html = settled(http, url)
    assert "2 pages are in the metadata but no link reaches them" in html
    listed = http.get("/download/acme/blog/blog_1_orphans.csv").text
    assert sorted(r["url"] for r in csv.DictReader(io.StringIO(listed))) == ["d", "lost"]


@pytest.mark.parametrize("links, meta, says", [
    ("source,target\n", None, "This graph has no links"),
    ("source,target\nhome,home\n", None, "cannot be found"),
    ("source,target\na,a\nb,b\n", "url,pagetype\na,x\n", "2 pages link to no other page"),
    ("source,target\na,b\nb,a\n", "url,depth\na,1\nb,2\n", "no pagetype column, so pages are grouped by"),
    ("not a csv at all \x00\x01", None, "This graph has no links"),
])
def test_odd_graphs_get_a_clear_answer(http, shared_server, links, meta, says):
    slug = str(abs(hash(links + str(meta))))
    url = write(shared_server.downloads_dir, "odd", slug, links, meta)
    r = http.get(url)
    assert r.status_code == 200
    assert says in settled(http, url)


def test_compare_two_analyses_on_screen_and_in_the_csv(http, shared_server):
    write(shared_server.downloads_dir, "site", "2024", "source,target\nhome,a\nhome,b\na,b\nold,home\n")
    write(shared_server.downloads_dir, "site", "2025", "source,target\nhome,a\nhome,b\nhome,new\nnew,a\n")
    html = settled(http, insights_url("acme", "site", "2024"))
    assert '<option value="2025">' in html
    r = http.get(insights_url("acme", "site", "2024").replace("/insights", "/compare"), params={"other": "2025"},
                 follow_redirects=False)
    assert r.headers["location"] == compare_url("acme", "site", "2024", "2025")
    html = settled(http, compare_url("acme", "site", "2024", "2025"))
    assert "Pages added (1)" in html and "Pages removed (1)" in html and "Largest PageRank gains" in html
    rows = list(csv.DictReader(io.StringIO(http.get("/download/acme/site/site_2024_vs_2025_changes.csv").text)))
    assert ("link added", "home", "new") in {(r["change"], r["url"], r["target"]) for r in rows}
    assert http.get(compare_url("acme", "site", "2024", "1999")).status_code == 404

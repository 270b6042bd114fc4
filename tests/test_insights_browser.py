"""The viewer's fixes and the insights screen in Debian's chromium: "Colour by" recolours the drawn nodes, a
clicked page shows its PageRank and rank, the charts draw, and without WebGL the viewer says so in words."""
import base64

import pytest
from playwright.sync_api import expect

from tests.graph_support import write_site_graph
from tests.support import CHROMIUM
from tests.test_graph_browser import COUNT_COLOURS, open_viewer

pytestmark = pytest.mark.browser

PLAIN = "#6fa8dc"  # graph.js: the one colour of "nothing"
ARTIFACTS = "test-artifacts"


@pytest.fixture(scope="module")
def site(shared_server):
    write_site_graph(shared_server.downloads_dir, pages=600, edges=3000)
    return "/graph/acme/shop/20240101"


@pytest.fixture
def tab(browser, shared_server):
    context = browser.new_context(viewport={"width": 1200, "height": 820})
    p = context.new_page()
    p.set_default_timeout(15000)
    p.goto(shared_server.ready_url)
    yield p
    context.close()


def canvas_counts(page, colours):
    page.wait_for_timeout(600)  # a few frames with the new colours
    page.locator(".graph-panel").evaluate("e => e.style.visibility = 'hidden'")
    shot = page.locator("#graph-canvas").screenshot()
    page.locator(".graph-panel").evaluate("e => e.style.visibility = ''")
    return dict(zip(colours, page.evaluate(COUNT_COLOURS, [base64.b64encode(shot).decode(), colours])))


def test_colour_by_changes_the_node_colours_on_the_canvas(tab, shared_server, site):
    open_viewer(tab, shared_server, site)
    tab.click("#graph-pause")
    legend = tab.locator("#graph-legend li[data-colour]")
    by_type = [li.get_attribute("data-colour") for li in legend.all()]
    before = canvas_counts(tab, by_type + [PLAIN])
    assert before[by_type[0]] >= 20 and before[PLAIN] < 5, before
    tab.select_option("#graph-colour", "")
    expect(tab.locator("#graph-legend")).to_contain_text("every page (600)")
    after = canvas_counts(tab, by_type + [PLAIN])
    # The product blue is left out: a dimmed edge of the plain blue looks like it. Plain appears instead.
    assert after[PLAIN] >= 20 and after[by_type[1]] < 5 <= before[by_type[1]], (before, after)
    tab.select_option("#graph-colour", "compliant")
    expect(tab.locator("#graph-legend")).to_contain_text("Colour: compliant")
    compliant = [li.get_attribute("data-colour") for li in legend.all()]
    again = canvas_counts(tab, compliant + [PLAIN])
    assert again[compliant[1]] >= 20 and again[PLAIN] < after[PLAIN] / 4, again


def test_found_page_shows_its_pagerank_and_rank(tab, shared_server, site):
    open_viewer(tab, shared_server, site)
    expect(tab.locator("#graph-size")).to_have_value("pagerank")
    tab.fill("#graph-q", "https://shop.example/")
    tab.press("#graph-q", "Enter")
    card = tab.locator("#graph-node .node-card")
    expect(card.locator(".node-url")).to_have_text("https://shop.example/")
    expect(card.locator(".node-rank")).to_have_text("1 of 600")
    expect(card.locator(".node-pagerank")).to_contain_text("%")
    tab.screenshot(path=f"{ARTIFACTS}/graph-viewer-1200x820.png")


def test_insights_screen_draws_its_charts_and_regroups(tab, shared_server, site):
    tab.goto(shared_server.url + "/graph")
    tab.click("a.graph-insights")
    charts = tab.locator("#charts")
    expect(charts).to_have_attribute("data-state", "ready", timeout=60000)
    drawn = "id => { const c = document.getElementById(id); " \
            "return c.width > 0 && c.getContext('2d').getImageData(0, 0, c.width, c.height).data.some(v => v) }"
    assert tab.evaluate(drawn, "chart-share") and tab.evaluate(drawn, "chart-inlinks")
    expect(tab.locator(".top-pages tbody tr").first).to_contain_text("https://shop.example/")
    tab.screenshot(path=f"{ARTIFACTS}/insights-1200x820.png", full_page=True)
    tab.select_option("#insights-by", "compliant")
    expect(tab.locator("#charts table")).to_contain_text("compliant")
    expect(tab.locator("#charts")).to_have_attribute("data-state", "ready")
    tab.set_viewport_size({"width": 720, "height": 480})
    tab.screenshot(path=f"{ARTIFACTS}/insights-720x480.png")


def test_without_webgl_the_viewer_says_so_and_insights_still_work(browser, shared_server, site):
    # A second chromium with WebGL switched off entirely, from the module's Playwright
    b = browser.browser_type.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--disable-3d-apis",
                                                                    "--disable-background-networking"])
    try:
        p = b.new_page(viewport={"width": 1200, "height": 820})
        p.goto(shared_server.ready_url)
        p.goto(shared_server.url + site)
        expect(p.locator(".graph-view")).to_have_attribute("data-state", "nowebgl", timeout=60000)
        message = p.locator("#graph-nowebgl")
        expect(message).to_contain_text("cannot draw the graph")
        expect(message.locator("a.open-outside")).to_have_text("Open in your browser")
        p.screenshot(path=f"{ARTIFACTS}/graph-nowebgl-1200x820.png")
        message.get_by_role("button", name="Insights").click()
        expect(p.locator("#charts")).to_have_attribute("data-state", "ready", timeout=30000)
    finally:
        b.close()

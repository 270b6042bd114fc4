"""The link-graph viewer as a person uses it, in Debian's chromium with software WebGL: drawn in legend
colours, search jumps to a page, a click shows its metadata, Save PNG writes into the downloads folder."""
import base64

import pytest
from playwright.sync_api import TimeoutError as PlaywrightTimeout
from playwright.sync_api import expect

from tests.graph_support import graph_folder, write_site_graph

pytestmark = pytest.mark.browser

# Counts, per legend colour, the pixels of a screenshot (PNG bytes as base64) within a small distance of it.
COUNT_COLOURS = """async ([png, colours]) => {
  const img = new Image();
  img.src = "data:image/png;base64," + png;
  await img.decode();
  const c = document.createElement("canvas");
  c.width = img.width; c.height = img.height;
  const g = c.getContext("2d");
  g.drawImage(img, 0, 0);
  const px = g.getImageData(0, 0, c.width, c.height).data;
  const rgb = colours.map(h => [1, 3, 5].map(i => parseInt(h.slice(i, i + 2), 16)));
  const counts = rgb.map(() => 0);
  for (let i = 0; i < px.length; i += 4)
    rgb.forEach((c, k) => {
      if (Math.abs(px[i] - c[0]) + Math.abs(px[i + 1] - c[1]) + Math.abs(px[i + 2] - c[2]) < 40) counts[k]++;
    });
  return counts;
}"""

# The page drawn farthest from any other (so a click cannot hit a neighbour): its index and screen position.
LONELIEST_POINT = """() => {
  const g = window.graphViewer.graph, p = g.getPointPositions(), n = p.length / 2;
  const box = document.querySelector("#graph-canvas canvas").getBoundingClientRect();
  const panel = document.querySelector(".graph-panel").getBoundingClientRect();
  const covered = (x, y) => box.left + x > panel.left - 20 && box.top + y < panel.bottom + 20;
  const screen = [];
  for (let i = 0; i < n; i++) screen.push(g.spaceToScreenPosition([p[2 * i], p[2 * i + 1]]));
  let best = -1, bestGap = -1;
  screen.forEach(([x, y], i) => {
    if (x < 20 || y < 20 || x > box.width - 20 || y > box.height - 20 || covered(x, y)) return;
    let gap = Infinity;
    screen.forEach(([u, v], j) => { if (j !== i) gap = Math.min(gap, Math.hypot(x - u, y - v)); });
    if (gap > bestGap) { bestGap = gap; best = i; }
  });
  return [best, box.left + screen[best][0], box.top + screen[best][1]];
}"""


HOVERED = "i => (window.graphViewer.graph.store.hoveredPoint || {}).index === i"


def open_viewer(page, server, url):
    page.goto(server.url + url)
    expect(page.locator(".graph-view")).to_have_attribute("data-state", "ready", timeout=60000)


def test_graph_is_drawn_in_legend_colours_search_jumps_and_click_shows_metadata(page, server):
    write_site_graph(server.downloads_dir, pages=600, edges=3000)
    page.goto(f"{server.url}/graph")
    page.click("a.graph-open")  # from the list to the viewer
    expect(page.locator(".graph-view")).to_have_attribute("data-state", "ready", timeout=60000)
    legend = page.locator("#graph-legend li[data-colour]")
    expect(legend).to_have_count(3)
    assert legend.all_inner_texts() == ["product (587)", "category (12)", "home (1)"]

    page.wait_for_timeout(2000)  # let the layout spread and the view follow it
    page.click("#graph-pause")
    expect(page.locator("#graph-pause")).to_have_text("Resume layout")
    page.click("#graph-fit")
    page.wait_for_timeout(800)
    page.locator(".graph-panel").evaluate("e => e.style.visibility = 'hidden'")
    shot = page.locator("#graph-canvas").screenshot()
    page.locator(".graph-panel").evaluate("e => e.style.visibility = ''")
    colours = [li.get_attribute("data-colour") for li in legend.all()]
    counts = page.evaluate(COUNT_COLOURS, [base64.b64encode(shot).decode(), colours])
    assert all(n >= 5 for n in counts), dict(zip(colours, counts))

    page.fill("#graph-q", "shop.example/c/101")
    page.press("#graph-q", "Enter")
    card = page.locator("#graph-node .node-card")
    expect(card.locator(".node-url")).to_have_text("https://shop.example/c/101")
    expect(card).to_contain_text("category")
    expect(card.locator(".node-url")).to_have_attribute("target", "_blank")

    page.fill("#graph-q", "no-such-page")
    page.press("#graph-q", "Enter")
    expect(page.locator("#graph-status")).to_contain_text("No page URL contains")

    # Click a page where it is drawn.
    page.locator("#graph-canvas").scroll_into_view_if_needed()
    page.click("#graph-fit")
    page.wait_for_timeout(800)
    index, x, y = page.evaluate(LONELIEST_POINT)
    expected = page.evaluate("i => fetch(window.graphViewer.base + '/node/' + i).then(r => r.text())", index)
    # cosmos looks for the point under the mouse every few frames; click once it has found it.
    for attempt in range(3):
        page.mouse.move(x - 3, y - 3)
        page.mouse.move(x, y)
        try:
            page.wait_for_function(HOVERED, arg=index, timeout=5000)
            break
        except PlaywrightTimeout:
            if attempt == 2:
                raise
    page.mouse.click(x, y)
    expect(page.locator(f"#graph-node .node-card[data-node='{index}']")).to_be_visible()
    url = card.locator(".node-url").inner_text()
    assert url.startswith("https://shop.example/") and url in expected
    expect(card).to_contain_text("Inbound links")
    expect(card).to_contain_text("impressions")

    page.select_option("#graph-colour", "compliant")
    expect(page.locator("#graph-legend")).to_contain_text("Colour: compliant")

    page.click("#graph-save")
    expect(page.locator("#graph-status .saved")).to_contain_text("downloads folder")
    expect(page.locator("#toasts .toast")).to_contain_text("Picture saved to the downloads folder")
    saved = list(graph_folder(server.downloads_dir).glob("shop_20240101_graph_*.png"))
    assert len(saved) == 1 and saved[0].read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and saved[0].stat().st_size > 2000


def test_search_lists_the_pages_found_and_a_click_shows_details_from_the_server_index(page, server):
    write_site_graph(server.downloads_dir, pages=600, edges=3000)
    open_viewer(page, server, "/graph/acme/shop/20240101")
    details = []  # every details card the viewer asked the server for
    page.on("request", lambda r: details.append(r.url) if "/node/" in r.url or "/search" in r.url else None)
    page.fill("#graph-q", "/C/1")
    page.press("#graph-q", "Enter")
    found = page.locator("#graph-hits li a")
    expect(found).to_have_count(3)  # c/1, c/101, c/151: the exact match first, then the shorter URLs
    assert found.all_inner_texts()[0] == "/c/1" and sorted(found.all_inner_texts()[1:]) == ["/c/101", "/c/151"]
    card = page.locator("#graph-node .node-card")
    expect(card.locator(".node-url")).to_have_text("https://shop.example/c/1")
    expect(found.first).to_have_attribute("aria-current", "true")

    second = found.nth(1)
    node, url = second.get_attribute("data-node"), second.get_attribute("title")
    second.click()
    expect(page.locator(f"#graph-node .node-card[data-node='{node}']")).to_be_visible()
    expect(card.locator(".node-url")).to_have_text(url)
    expect(card.locator(".node-rank")).to_contain_text(" of 600")
    expect(card).to_contain_text("category")
    expect(second).to_have_attribute("aria-current", "true")
    expect(found.first).not_to_have_attribute("aria-current", "true")
    assert any(u.endswith(f"/node/{node}") for u in details), details  # the server's answer, not the page's data
    server_card = page.evaluate("i => fetch(window.graphViewer.base + '/node/' + i).then(r => r.text())", node)
    assert url in server_card and "node-pagerank" in server_card

    page.fill("#graph-q", "no-such-page")
    page.press("#graph-q", "Enter")
    expect(page.locator("#graph-status")).to_contain_text("No page URL contains")
    expect(page.locator("#graph-hits")).to_be_hidden()


def test_links_only_graph_is_drawn_and_says_metadata_is_missing(page, server):
    write_site_graph(server.downloads_dir, pages=100, edges=400, slug="20240505", meta=False)
    open_viewer(page, server, "/graph/acme/shop/20240505")
    expect(page.locator(".graph-missing")).to_contain_text("No metadata file (shop_20240505_meta.csv)")
    expect(page.locator("#graph-legend")).to_contain_text("every page (100)")
    expect(page.locator("#graph-colour option")).to_have_count(1)

"""The link-graph workflow as a person uses it, in Debian's chromium against the server and the fake Botify."""
import pytest
from playwright.sync_api import expect

from tests.fakes.botify import FakeBotify, FakeProject
from tests.support import ServerProcess, settled
from tests.window_support import ARTIFACTS
from tests.test_botify_workflow import FAST, TOKEN

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def fake():
    f = FakeBotify().start()
    f.projects[("acme", "blog")] = FakeProject(search_console=False)
    yield f
    f.stop()


@pytest.fixture(scope="module")
def server(fake, tmp_path_factory):
    """One app for the module (overrides conftest's), pointed at the fake."""
    base = tmp_path_factory.mktemp("botify-browser")
    proc = ServerProcess(base / "data", base / "downloads", env={"BOTIFY_API_URL": fake.api_url, **FAST}).start()
    yield proc
    proc.stop()


def set_token(server, connected: bool):
    """Each test starts from the token state it needs, whatever ran before it on this server."""
    http = server.client()
    try:
        if connected:
            http.post("/botify/connect", data={"token": TOKEN}, headers={"HX-Request": "true"})
        else:
            http.post("/botify/forget", headers={"HX-Request": "true"})
    finally:
        http.close()


def test_whole_workflow_from_connect_to_final_card(page, server, fake):
    set_token(server, connected=False)
    page.goto(f"{server.url}/linkgraph")
    page.fill("input[name=pipeline_id]", "https://app.botify.com/acme/shop/segmentation/?x=1")
    page.press("input[name=pipeline_id]", "Enter")
    # No token yet: the first card asks for one; a wrong one is refused with the form again.
    page.fill("#botify-token", "wrong-token")
    page.press("#botify-token", "Enter")
    expect(page.locator("#linkgraph-analysis .error")).to_contain_text("refused the token")
    page.fill("#botify-token", TOKEN)
    page.press("#botify-token", "Enter")
    expect(page.locator("#linkgraph-pipeline-id")).to_have_value("https://app.botify.com/acme/shop/")

    expect(page.locator("input[name=slug]")).to_have_count(2)
    page.check("input[name=slug][value='20240301']")
    page.get_by_role("button", name="Find the optimal depth").click()
    expect(page.locator("#linkgraph-depth .summary")).to_contain_text("Depth 4")
    expect(page.locator("#linkgraph-depth .summary")).to_contain_text("depth 3: 420")

    expect(page.locator("input[name=field_impressions]")).to_be_checked()
    page.uncheck("input[name=field_canonical]")
    page.uncheck("input[name=field_impressions]")
    page.get_by_role("button", name="Start export").click()
    final = page.locator("#linkgraph-finalize")
    expect(final).to_contain_text("is ready", timeout=30000)
    expect(final.locator("td.rows").first).to_have_text("420")
    expect(final.get_by_role("button", name="View graph")).to_have_attribute("href", "/graph/acme/shop/20240301")
    expect(final.get_by_role("button", name="Insights")).to_have_attribute("href", "/graph/acme/shop/20240301/insights")
    expect(final.locator("[data-open-folder='link-graph/acme/shop']")).to_be_visible()
    meta = server.downloads_dir / "link-graph/acme/shop/shop_20240301_meta.csv"
    assert meta.read_text().splitlines()[0] == "id,pagetype,compliant,sitemap,clicks"

    # Re-entering the project later shows the finished run, and the analysis as already downloaded.
    page.goto(f"{server.url}/linkgraph?pipeline_id=https://app.botify.com/acme/shop/")
    expect(page.locator("#linkgraph-finalize")).to_contain_text("is ready")
    page.click("#linkgraph-analysis .revert >> nth=0")
    page.get_by_role("button", name="Clear and go back").click()  # asked first: three later answers go
    expect(page.locator(".existing")).to_contain_text("links and meta")
    expect(page.locator("input[name=slug][value='20240301']")).to_be_disabled()
    assert sum(1 for j in fake.jobs.values() if j["project"] == ("acme", "shop")) == 2


def test_candidates_pick_org_then_project(page, server):
    set_token(server, connected=True)
    (server.data_dir / "candidates.txt").write_text("acme\n  blog\n  blog-adhoc\nglobex\n  main\n")
    page.goto(f"{server.url}/linkgraph")
    page.select_option("select[name=org]", "acme")
    projects = page.locator("select[aria-label=Project] option")
    expect(projects).to_have_text(["Project…", "blog"])
    settled(page)  # htmx binds the new select's change trigger as the swap settles; a choice before that is lost
    page.select_option("select[aria-label=Project]", "https://app.botify.com/acme/blog/")
    expect(page.locator("#linkgraph-pipeline-id")).to_have_value("https://app.botify.com/acme/blog/")
    page.check("input[name=slug][value='20240201']")
    page.get_by_role("button", name="Find the optimal depth").click()
    expect(page.locator("input[name=field_pagetype]")).to_be_visible()
    expect(page.locator("input[name=field_clicks]")).to_have_count(0)
    expect(page.locator("#linkgraph-fields")).to_contain_text("no Search Console data")


def test_connect_screen_greets_and_forgets(page, server):
    set_token(server, connected=True)
    page.goto(f"{server.url}/botify")
    expect(page.locator(".botify-user")).to_have_text("ada.lovelace")
    page.once("dialog", lambda d: d.accept())
    page.get_by_role("button", name="Forget token").click()
    expect(page.locator("#botify-token")).to_be_visible()
    assert not (server.data_dir / "botify_token.json").exists()
    page.fill("#botify-token", TOKEN)
    page.get_by_role("button", name="Connect").click()
    expect(page.locator(".botify-user")).to_have_text("ada.lovelace")


def open_project(page, server, project: str) -> None:
    page.goto(f"{server.url}/linkgraph")
    page.fill("input[name=pipeline_id]", f"https://app.botify.com/acme/{project}/")
    page.press("input[name=pipeline_id]", "Enter")


def shoot(page, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"botify-{name}.png"), full_page=True)


@pytest.mark.parametrize("width,height", [(1200, 820), (720, 480)])
def test_cards_read_plainly_and_never_dead_end(page, server, fake, width, height):
    set_token(server, connected=True)
    page.set_viewport_size({"width": width, "height": height})
    # An unknown project: the card says so, and its way forward puts the cursor in the address field.
    open_project(page, server, "nope")
    card = page.locator("#linkgraph-analysis")
    expect(card).to_contain_text("Botify has no project acme/nope")
    expect(card.get_by_role("button", name="Find the optimal depth")).to_have_count(0)
    shoot(page, f"unknown-project-{width}x{height}")
    card.get_by_text("Edit the project address").click()
    expect(page.locator("#linkgraph-pipeline-id")).to_be_focused()

    # A project whose page types live in another segmentation, with jobs that take a while.
    project = f"segments-{width}"
    fake.projects[("acme", project)] = FakeProject(segments=("template", "zone"))
    fake.polls_to_done = 10_000
    try:
        open_project(page, server, project)
        expect(page.locator("li.analysis").first).to_contain_text("1 March 2024")
        expect(page.locator("li.analysis").first).not_to_contain_text("20240301")
        page.check("input[name=slug][value='20240301']")
        page.get_by_role("button", name="Find the optimal depth").click()
        expect(page.locator("select[name=segment]")).to_have_value("template")
        shoot(page, f"fields-{width}x{height}")
        page.get_by_role("button", name="Start export").click()
        expect(page.locator("#linkgraph-files .jobs")).to_contain_text("preparing the file", timeout=20000)
        expect(page.locator("#linkgraph-analysis .summary").first).to_have_text("Analysis of 1 March 2024")
        shoot(page, f"export-{width}x{height}")
    finally:
        fake.polls_to_done = 3
        for job in fake.jobs.values():
            job["polls"] = 10_000
    expect(page.locator("#linkgraph-finalize")).to_contain_text("is ready", timeout=30000)
    expect(page.locator("#linkgraph-finalize a[download]")).to_have_count(2)  # each file's link, once
    shoot(page, f"final-{width}x{height}")

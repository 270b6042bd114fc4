"""The head's CSS and scripts joined into a few responses, and the icon sprite inlined in the page."""
from starlette.applications import Starlette
from starlette.testclient import TestClient

from server.bundles import BUNDLES, ICON_PREFIX, inline_sprite, static_mount
from server.config import STATIC_DIR


def client() -> TestClient:
    return TestClient(Starlette(routes=[static_mount()]))


def test_a_bundle_is_its_files_in_page_order_and_answers_304_when_unchanged():
    http = client()
    answer = http.get("/static/bundle/page.js")
    assert answer.headers["content-type"].startswith("text/javascript")
    parts = [(STATIC_DIR / p).read_bytes() for p in BUNDLES["page.js"]]
    assert answer.content == b";\n".join(parts)
    again = http.get("/static/bundle/page.js", headers={"if-none-match": answer.headers["etag"]})
    assert again.status_code == 304 and not again.content


def test_every_source_file_is_still_served_as_it_is():
    assert client().get("/static/app.css").content == (STATIC_DIR / "app.css").read_bytes()


def test_the_sprite_inlines_hidden_with_prefixed_ids():
    svg = inline_sprite()
    assert "<svg hidden" in svg and "<?xml" not in svg
    assert f'id="{ICON_PREFIX}house"' in svg and ' id="house"' not in svg

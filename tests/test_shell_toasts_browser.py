"""Short notices (toasts) for actions that finish elsewhere: the Botify token stored, a path copied."""
import pytest
from playwright.sync_api import expect

from tests.fakes.botify import FakeBotify
from tests.support import ServerProcess
from tests.test_botify_workflow import FAST, TOKEN

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def fake():
    f = FakeBotify().start()
    yield f
    f.stop()


@pytest.fixture(scope="module")
def server(fake, tmp_path_factory):
    """One app for the module (overrides conftest's), pointed at the fake Botify."""
    base = tmp_path_factory.mktemp("toasts")
    proc = ServerProcess(base / "data", base / "downloads", env={"BOTIFY_API_URL": fake.api_url, **FAST}).start()
    yield proc
    proc.stop()


def test_storing_the_botify_token_says_so_without_showing_it(page, server):
    page.goto(f"{server.url}/botify")
    page.fill("#botify-token", TOKEN)
    page.get_by_role("button", name="Connect").click()
    toast = page.locator("#toasts .toast")
    expect(toast).to_have_text("Botify token stored (connected as ada.lovelace).")
    assert TOKEN not in page.content()
    expect(toast).to_have_count(0, timeout=10000)  # it goes away by itself


def test_copy_button_copies_and_says_so(page, server):
    page.context.grant_permissions(["clipboard-read", "clipboard-write"])
    page.goto(f"{server.url}/downloads")
    page.get_by_role("button", name="Copy its path").click()
    expect(page.locator("#toasts .toast")).to_have_text("Copied.")
    assert page.evaluate("navigator.clipboard.readText()") == str(server.downloads_dir.resolve())

"""The page in a real browser under its policy: no framing by another local port, an LLM answer makes no request
anywhere, and the app's own pages raise no policy violation."""
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from playwright.sync_api import expect

from tests.llm_support import fake  # noqa: F401 (the module's fake Ollama)
from tests.llm_support import llm_server, open_tab, send
from tests.support import settled

pytestmark = pytest.mark.browser
VIOLATIONS = "document.addEventListener('securitypolicyviolation', e => " \
             "(window.cspViolations = window.cspViolations || []).push(e.violatedDirective + ' ' + e.blockedURI))"


class Stranger:
    """Another program on 127.0.0.1 (another port): serves a page, and records every request that reaches it."""

    def __init__(self, page: str = ""):
        self.seen: list = []
        seen, body = self.seen, page.encode()

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                seen.append((self.path, self.headers.get("Cookie"), self.headers.get("Referer")))
                self.send_response(200)
                self.send_header("Content-Type", "text/html")
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.http = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.http.server_address[1]}"
        threading.Thread(target=self.http.serve_forever, daemon=True).start()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.http.shutdown()


@pytest.fixture(scope="module")
def app(tmp_path_factory, fake):
    srv = llm_server(tmp_path_factory.mktemp("page"), fake.url).start()
    yield srv
    srv.stop()


def test_another_local_port_cannot_frame_the_app(browser, app):
    # The browser carries the launch cookie (it opened the app): cookies ignore ports, so the frame would be logged in.
    evil_page = f'<iframe id="f" src="{app.url}/tasks" width="600" height="400"></iframe>'
    with open_tab(browser, app, "/tasks") as page, Stranger(evil_page) as framer:
        page.goto(framer.url + "/")
        page.wait_for_timeout(1000)
        frame = page.frame_locator("#f")
        expect(frame.locator("#task-list")).to_have_count(0)
        assert frame.locator("form").count() == 0 and frame.locator("button").count() == 0


def test_a_malicious_answer_fetches_nothing_from_another_port(browser, app, fake):
    with Stranger() as stranger:
        reply = (f"Here you go ![chart]({stranger.url}/md-image.png?c=1) and "
                 f"<img src=\"{stranger.url}/raw-image.png\"> <div style=\"background:url({stranger.url}/css.png)\">x</div> "
                 f"[details]({stranger.url}/link) <video poster=\"{stranger.url}/poster.png\"></video>")
        fake.configure(tokens=0, delay=0, reply=reply)
        with open_tab(browser, app, "/hello") as page:
            send(page, "show me the chart")
            answer = page.locator("#chat-log .msg.assistant").last
            expect(answer).to_have_class("msg assistant done", timeout=20000)
            page.wait_for_timeout(1000)
            # The Markdown image became a link to it (nothing lost, nothing loaded); links leave without a Referer.
            image_link = answer.locator(f'.md a[href="{stranger.url}/md-image.png?c=1"]')
            expect(image_link).to_have_attribute("rel", "noopener noreferrer")
            assert answer.locator(".md img, .md video, .md [style]").count() == 0
            # Independently of the page's policy, the renderer itself emits nothing that loads.
            loaders = page.evaluate("t => new DOMParser().parseFromString(pdMarkdown(t), 'text/html')"
                                    ".querySelectorAll('img, video, [style], [poster], [src]').length", reply)
            assert loaders == 0
    assert stranger.seen == [], f"the answer made the page fetch {stranger.seen}"


def test_the_apps_own_pages_raise_no_policy_violation(browser, app):
    with open_tab(browser, app, "/") as page:
        page.add_init_script(VIOLATIONS)
        for path in ("/", "/hello", "/tasks", "/profiles", "/settings", "/botify"):
            page.goto(app.url + path)
            settled(page)
        page.goto(app.url + "/hello")
        page.fill("input[name=pipeline_id]", "csp-run")
        page.press("input[name=pipeline_id]", "Enter")
        expect(page.locator("input[name=name]")).to_be_visible()
        settled(page)
        assert page.evaluate("window.cspViolations || []") == []

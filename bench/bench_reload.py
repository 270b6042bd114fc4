"""Live reload latency: from saving a user workflow file to its open page showing the re-rendered card (headless
chromium, the real server), against a full navigation to the same page measured in the same run."""
import argparse
import statistics
import tempfile
import time
from pathlib import Path

from common import ROOT, fmt, summary
from tests.support import CHROMIUM, ServerProcess

HELLO = (ROOT / "server" / "workflows" / "hello.py").read_text()
BRIDGE = HELLO.replace("from ..engine", "from server.engine").replace('name = "hello"', 'name = "bridge"')
LAUNCH = ["--no-sandbox", "--disable-background-networking", "--disable-component-update", "--no-first-run"]


def titled(n: int) -> str:
    return BRIDGE.replace("Hello — the Bridge of Death", f"Bridge {n}").replace(
        "What… is your quest?", f"What… is your quest, take {n}?")


def save_to_card(page, path: Path, n: int) -> float:
    """Seconds from the file's save to the page showing both the new title and the changed card label."""
    start = time.perf_counter()
    path.write_text(titled(n))
    page.wait_for_function(
        "n => document.querySelector('h1')?.textContent === `Bridge ${n}` &&"
        " document.body.textContent.includes(`your quest, take ${n}?`)", arg=n, polling="raf", timeout=10000)
    return time.perf_counter() - start


def navigation(page, url: str) -> float:
    start = time.perf_counter()
    page.goto(url)
    page.wait_for_function("() => !!document.querySelector('input[name=quest]')", polling="raf", timeout=10000)
    return time.perf_counter() - start


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true")
    rounds = 5 if ap.parse_args().quick else 20
    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory() as tmp:
        base = Path(tmp)
        path = base / "data" / "workflows" / "bridge.py"
        path.parent.mkdir(parents=True)
        path.write_text(titled(0))
        srv = ServerProcess(base / "data", base / "downloads").start()
        try:
            with sync_playwright() as pw:
                browser = pw.chromium.launch(executable_path=CHROMIUM, args=LAUNCH)
                page = browser.new_page()
                page.goto(srv.ready_url)
                page.goto(srv.url + "/bridge?pipeline_id=bench")
                page.fill("#bridge-pipeline-id", "bench")
                page.press("#bridge-pipeline-id", "Enter")
                page.fill("input[name=name]", "Bench")
                page.press("input[name=name]", "Enter")
                page.wait_for_function("() => document.body.dataset.push === 'up' &&"
                                       " !!document.querySelector('input[name=quest]')")
                reloads, navigations = [], []
                for n in range(1, rounds + 1):  # interleaved, so load changes hit both alike
                    reloads.append(save_to_card(page, path, n))
                    time.sleep(0.3)
                    navigations.append(navigation(page, srv.url + "/bridge?pipeline_id=bench"))
                    page.wait_for_function("() => document.body.dataset.push === 'up'")
                browser.close()
        finally:
            srv.stop()
    print(f"save -> re-rendered card  {fmt(summary(reloads))}")
    print(f"full page navigation      {fmt(summary(navigations))}   (baseline, same run)")
    print(f"ratio reload / navigation: {statistics.median(reloads) / statistics.median(navigations):.2f}")


if __name__ == "__main__":
    main()

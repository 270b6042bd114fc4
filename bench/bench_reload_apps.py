"""`--dev` app reload latency: from saving an app file (server/apps/tasks.py, in a copy of the code) to its open page
showing the re-rendered content (headless chromium, the real server), against a full navigation to the same page and
the server restart that app changes needed before, both measured in the same run."""
import argparse
import statistics
import tempfile
import time
from pathlib import Path

from common import fmt, summary
from tests.support import CHROMIUM, ServerProcess, code_copy

LAUNCH = ["--no-sandbox", "--disable-background-networking", "--disable-component-update", "--no-first-run"]


def save_to_page(page, path: Path, original: str, n: int) -> float:
    """Seconds from the app file's save to the open page showing its new heading."""
    start = time.perf_counter()
    path.write_text(original.replace('H1("Tasks")', f'H1("Tasks {n}")'))
    page.wait_for_function("n => document.querySelector('#content h1')?.textContent === `Tasks ${n}`", arg=n,
                           polling="raf", timeout=10000)
    return time.perf_counter() - start


def navigation(page, url: str, n: int) -> float:
    start = time.perf_counter()
    page.goto(url)
    page.wait_for_function("n => document.querySelector('#content h1')?.textContent === `Tasks ${n}`", arg=n,
                           polling="raf", timeout=10000)
    return time.perf_counter() - start


def restart_to_page(page, path: Path) -> float:
    """Seconds from saving another server module to the page loaded again from the restarted server."""
    page.evaluate("window.beforeRestart = true")
    start = time.perf_counter()
    path.write_bytes(path.read_bytes())
    page.wait_for_function("() => !window.beforeRestart && document.body?.dataset.push === 'up' &&"
                           " !!document.querySelector('#content h1')", polling="raf", timeout=60000)
    return time.perf_counter() - start


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true")
    quick = ap.parse_args().quick
    rounds, restarts = (5, 2) if quick else (20, 5)
    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory() as tmp:
        base = Path(tmp)
        root = code_copy(base / "code")
        tasks = root / "server" / "apps" / "tasks.py"
        original = tasks.read_text()
        srv = ServerProcess(base / "data", base / "downloads", args=("--dev",), root=root).start()
        try:
            with sync_playwright() as pw:
                browser = pw.chromium.launch(executable_path=CHROMIUM, args=LAUNCH)
                page = browser.new_page()
                page.goto(srv.ready_url)
                page.goto(srv.url + "/tasks")
                page.wait_for_function("() => document.body.dataset.push === 'up'")
                reloads, navigations, restarted = [], [], []
                for n in range(1, rounds + 1):  # interleaved, so load changes hit both alike
                    reloads.append(save_to_page(page, tasks, original, n))
                    time.sleep(0.3)
                    navigations.append(navigation(page, srv.url + "/tasks", n))
                    page.wait_for_function("() => document.body.dataset.push === 'up'")
                for _ in range(restarts):
                    restarted.append(restart_to_page(page, root / "server" / "runs_recent.py"))
                browser.close()
        finally:
            srv.stop()
    print(f"app save -> re-rendered page        {fmt(summary(reloads))}")
    print(f"full page navigation                {fmt(summary(navigations))}   (baseline, same run)")
    print(f"server restart -> page loaded again {fmt(summary(restarted))}   (what app changes cost before)")
    print(f"ratio reload / navigation: {statistics.median(reloads) / statistics.median(navigations):.2f}")
    print(f"ratio reload / restart:    {statistics.median(reloads) / statistics.median(restarted):.3f}")


if __name__ == "__main__":
    main()

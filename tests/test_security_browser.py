"""The launch secret never reaches another process's command line or environment when Pipedeck opens a browser."""
from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path
from urllib.parse import unquote, urlparse

import pytest

from tests.support import ROOT, ServerProcess
from tests.window_support import wait_for


def spy_browser(folder: Path) -> tuple[str, Path]:
    """A stand-in browser (via $BROWSER) that records its whole argv and environment, then the page it was given."""
    log = folder / "browser.log"
    script = folder / "spy-browser"
    script.write_text(f'#!/bin/sh\n{{ printf "ARG %s\\n" "$0" "$@"; env; }} > "{log}.tmp" && mv "{log}.tmp" "{log}"\n')
    script.chmod(0o755)
    return str(script), log


def launch(tmp_path: Path, *args: str, env: dict | None = None) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "desktop", *args, "--data-dir", str(tmp_path / "data"),
                             "--downloads-dir", str(tmp_path / "downloads")], cwd=ROOT, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def ready_url(proc: subprocess.Popen) -> str:
    for line in proc.stdout:
        if m := re.search(r"Pipedeck ready: (\S+)", line):
            return m.group(1)
    raise AssertionError("Pipedeck did not start")


def assert_secret_stays_home(log: Path, url: str) -> None:
    secret = url.split("secret=", 1)[1]
    record = wait_for(lambda: log.exists() and log.read_text(), what="the browser to be opened")
    assert secret not in record, "the launch secret is in the browser's argv or environment"
    args = [line[4:] for line in record.splitlines() if line.startswith("ARG ")]
    page = Path(unquote(urlparse(args[-1]).path))
    assert args[-1].startswith("file://") and page.stat().st_mode & 0o777 == 0o600
    assert f'url={url}"' in page.read_text(), "the owner-only page redirects to the bootstrap URL"


@pytest.fixture
def spy_env(tmp_path):
    cmd, log = spy_browser(tmp_path)
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY")}
    return {**env, "BROWSER": f"{cmd} %s"}, log


@pytest.mark.parametrize("args", [("--browser",), ()], ids=["browser-flag", "window-fallback"])
def test_browser_opened_at_launch_never_sees_the_secret(tmp_path, spy_env, args):
    env, log = spy_env
    proc = launch(tmp_path, *args, env=env)
    try:
        assert_secret_stays_home(log, ready_url(proc))
    finally:
        proc.terminate()
        proc.communicate(timeout=15)
    assert not (tmp_path / "data" / "open-in-browser.html").exists(), "the secret's page goes with the launch"


def test_second_launch_asks_the_headless_one_without_passing_the_secret(tmp_path, spy_env):
    env, log = spy_env
    running = ServerProcess(tmp_path / "data", tmp_path / "downloads", env=env).start()
    try:
        second = subprocess.run([sys.executable, "-m", "desktop", "--browser", "--data-dir", str(running.data_dir),
                                 "--downloads-dir", str(running.downloads_dir)], cwd=ROOT, env=env,
                                capture_output=True, text=True, timeout=60)
        assert second.returncode == 0, second.stderr
        assert_secret_stays_home(log, running.ready_url)
    finally:
        running.stop()


def test_open_in_browser_lands_on_the_asked_page_through_the_owner_only_file(tmp_path):
    from desktop.browser import write_opener
    from server.config import Config

    cfg = Config(data_dir=tmp_path, secret="s" * 40, port=5123)
    page = write_opener(cfg, "/graph/acme/shop/20240301")
    assert page.stat().st_mode & 0o777 == 0o600
    assert "/auth?secret=" + "s" * 40 + "&amp;next=/graph/acme/shop/20240301" in page.read_text()

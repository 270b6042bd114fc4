"""One Pipedeck per data folder: a second launch never starts a second server, and a crash leaves no stale lock."""
from __future__ import annotations

import json
import os
import subprocess
import sys

import psutil
import pytest

from desktop import window_state
from desktop.instance import InstanceLock, running_instance, socket_path
from tests.support import ROOT, ServerProcess
from tests.window_support import recorder, wait_for


def launch(data_dir, downloads_dir, *args, env=None, timeout=60):
    return subprocess.run([sys.executable, "-m", "desktop", *args, "--data-dir", str(data_dir),
                           "--downloads-dir", str(downloads_dir)], cwd=ROOT, env={**os.environ, **(env or {})},
                          capture_output=True, text=True, timeout=timeout)


def listening_pids(port: int) -> set[int]:
    return {c.pid for c in psutil.net_connections("tcp") if c.status == psutil.CONN_LISTEN and c.laddr.port == port}


@pytest.fixture
def running(dirs, tmp_path):
    """A headless Pipedeck whose "system browser" records what it is asked to open."""
    browser_cmd, opened = recorder(tmp_path, "browser")
    proc = ServerProcess(*dirs, env={"BROWSER": f"{browser_cmd} %s"}).start()
    proc.browser_log = opened
    yield proc
    proc.stop()


def test_running_instance_publishes_its_port_in_the_lock(running):
    info = running_instance(running.data_dir)
    assert info == {"pid": running.proc.pid, "port": running.port}
    assert (running.data_dir / "pipedeck.lock").stat().st_mode & 0o777 == 0o600


def test_second_serve_refuses_and_names_the_running_server(running):
    second = launch(running.data_dir, running.downloads_dir, "serve")
    assert second.returncode == 1
    assert f"already running on {running.url} (pid {running.proc.pid})" in second.stderr
    assert "Pipedeck ready" not in second.stdout
    assert listening_pids(running.port) == {running.proc.pid}
    assert running.client().get("/healthz").text == "ok"


def test_second_browser_launch_opens_the_running_app(running):
    opened = running.browser_log
    second = launch(running.data_dir, running.downloads_dir, "--browser")
    assert second.returncode == 0, second.stderr
    assert f"already running on {running.url}" in second.stdout
    # The running instance opened the browser itself, with its own secret: the URL logs the browser in.
    url = wait_for(lambda: opened.exists() and opened.read_text().strip(), what="the browser to be opened")
    assert url.startswith("file://") and running.ready_url in (running.data_dir / "open-in-browser.html").read_text()
    assert "Pipedeck ready" not in second.stdout


def test_kill_9_leaves_nothing_that_blocks_the_next_start(running):
    running.kill()
    assert (running.data_dir / "pipedeck.lock").exists()  # the file stays, its kernel lock died with the process
    running.start()
    assert running.client().get("/healthz").text == "ok"
    assert running_instance(running.data_dir)["pid"] == running.proc.pid


def test_clean_stop_clears_the_lock_and_socket(running):
    assert running.stop() == 0
    assert running_instance(running.data_dir) is None
    assert not socket_path(running.data_dir).exists()


def test_lock_is_exclusive_and_released(tmp_path):
    first, second = InstanceLock(tmp_path), InstanceLock(tmp_path)
    assert first.acquire()
    assert not second.acquire()
    first.publish(5123)
    assert running_instance(tmp_path)["port"] == 5123
    first.release()
    assert second.acquire()
    second.release()


def test_long_data_folder_gets_a_short_socket_path(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(tmp_path / "run"))
    deep = tmp_path / ("d" * 60) / ("e" * 60)
    path = socket_path(deep)
    assert len(os.fsencode(path)) <= 100 and path.parent == tmp_path / "run"
    assert socket_path(deep) == path and socket_path(tmp_path / "other" / ("e" * 120)) != path


def test_window_state_is_clamped_and_survives_a_damaged_file(tmp_path):
    assert window_state.load(tmp_path) == window_state.WindowState()
    window_state.save(tmp_path, window_state.WindowState(300, 200, 5000, 10))
    restored = window_state.load(tmp_path).clamped([(0, 0, 1920, 1080)])
    assert (restored.width, restored.height) == window_state.MIN_SIZE
    assert (restored.x, restored.y) == (None, None), "a position off every screen is dropped"
    assert window_state.WindowState(4000, 3000, 10, 10).clamped([(0, 0, 1920, 1080)]).width == 1920
    (tmp_path / "window.json").write_text('{"width": "wide"')
    assert window_state.load(tmp_path) == window_state.WindowState()
    (tmp_path / "window.json").write_text(json.dumps({"width": "wide", "height": 3}))
    assert window_state.load(tmp_path) == window_state.WindowState()

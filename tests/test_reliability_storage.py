"""A full or read-only data folder: pages still show (with a notice), writes answer a clear card and lose nothing,
and a launch on an unusable data folder says so in one line."""
import os
import pwd
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from tests.reliability_support import WrappedServer, as_user, remount_read_only, tiny_tmpfs
from tests.support import ROOT, ServerProcess

HX = {"HX-Request": "true"}
NOTICE = "cannot save changes right now"
PAGES = ("/", "/hello", "/tasks", "/profiles", "/settings", "/poem")


def fill(folder) -> None:
    """Write a filler file until the file system refuses (ENOSPC)."""
    fd = os.open(folder / "filler", os.O_WRONLY | os.O_CREAT, 0o600)
    try:
        while True:
            os.write(fd, b"\0" * 65536)
    except OSError:
        pass
    finally:
        os.close(fd)


def runs(data) -> set[str]:
    with sqlite3.connect(f"file:{data / 'pipedeck.db'}?mode=ro", uri=True) as db:
        return {r[0] for r in db.execute("SELECT id FROM pipeline")}


def assert_pages_show_a_notice(http, why: str) -> None:
    for path in PAGES:
        r = http.get(path)
        assert r.status_code == 200 and NOTICE in r.text and why in r.text, (path, r.status_code, r.text[:300])
        assert "Traceback" not in r.text


def test_a_full_data_folder_keeps_pages_and_answers_writes_with_507(dirs):
    data, downloads = dirs
    with tiny_tmpfs(data, "8m"):
        server = ServerProcess(data, downloads).start()
        try:
            http = server.client()
            assert http.post("/hello/init", data={"pipeline_id": "kept"}, headers=HX).status_code == 200
            fill(data)
            assert_pages_show_a_notice(http, "disk is full")
            # SQLite reuses its WAL's free pages first: keep writing until the disk refuses, never a 500.
            saved, refused = {"kept"}, None
            for i in range(400):
                run_id = f"{i:03d}-" + "x" * 480
                r = http.post("/hello/init", data={"pipeline_id": run_id}, headers=HX)
                assert r.status_code in (200, 507) and "Traceback" not in r.text, r.text[:300]
                if r.status_code == 507:
                    refused = r
                    break
                saved.add(run_id)
            assert refused is not None and "disk is full" in refused.text and 'class="card card-error"' in refused.text
            (data / "filler").unlink()
            assert http.post("/hello/init", data={"pipeline_id": "after"}, headers=HX).status_code == 200
            assert NOTICE not in http.get("/hello").text
        finally:
            server.stop()
        assert saved | {"after"} <= runs(data), "every run that was answered 200 is still there"


def test_a_data_folder_full_before_the_first_page_still_shows_pages(dirs):
    # SQLite drops its -wal/-shm files when its last connection closes; re-creating them on a full disk would fail
    # every read, so the app keeps one connection open for its whole run.
    data, downloads = dirs
    with tiny_tmpfs(data, "8m"):
        server = ServerProcess(data, downloads).start()
        try:
            time.sleep(0.5)  # the start-up thread has ended (and its connection with it, before the fix)
            fill(data)
            assert_pages_show_a_notice(server.client(), "disk is full")
        finally:
            server.stop()


def launch(data, downloads):
    return subprocess.run([sys.executable, "-m", "desktop", "serve", "--data-dir", str(data), "--downloads-dir",
                           str(downloads)], cwd=ROOT, capture_output=True, text=True, timeout=60)


def test_a_read_only_data_folder_at_start_is_one_clear_line(dirs):
    data, downloads = dirs
    with tiny_tmpfs(data, "8m"):
        ServerProcess(data, downloads).start().stop()  # a real database, then the folder turns read-only
        remount_read_only(data)
        r = launch(data, downloads)
    assert r.returncode != 0 and "Traceback" not in r.stderr + r.stdout
    [line] = r.stderr.strip().splitlines()
    assert f"cannot use its data folder {data}" in line and "Read-only" in line, line


def test_a_data_folder_that_is_a_file_is_one_clear_line(tmp_path):
    (tmp_path / "file").write_text("not a folder")
    r = launch(tmp_path / "file" / "data", tmp_path / "downloads")
    assert r.returncode != 0 and "Traceback" not in r.stderr + r.stdout
    [line] = r.stderr.strip().splitlines()
    assert "cannot use its data folder" in line or "could not start" in line, line


def test_a_data_folder_turned_read_only_while_running_keeps_pages_and_refuses_writes_plainly(dirs):
    # Root writes through any mode: run the app as an ordinary user who owns its folders, then take the right away.
    uid, gid = pwd.getpwnam("nobody").pw_uid, pwd.getpwnam("nobody").pw_gid
    base = Path(tempfile.mkdtemp(prefix="pipedeck-readonly-"))
    os.chmod(base, 0o755)
    data, downloads = base / "data", base / "downloads"
    for folder in (data, downloads):
        folder.mkdir()
        os.chown(folder, uid, gid)
    server = WrappedServer(data, downloads, prefix=as_user(uid, gid), env={"HOME": str(base)}).start()
    try:
        http = server.client()
        assert http.post("/hello/init", data={"pipeline_id": "kept"}, headers=HX).status_code == 200
        for path in (data, *data.iterdir()):
            os.chmod(path, 0o500 if path.is_dir() else 0o400)
        assert_pages_show_a_notice(http, "read-only")
        for i in range(20):  # new worker threads open new connections: each must refuse plainly, never 500
            r = http.post("/hello/init", data={"pipeline_id": f"ro-{i}"}, headers=HX)
            assert r.status_code in (200, 403) and "Traceback" not in r.text, r.text[:300]
            assert r.status_code == 200 or "read-only" in r.text
    finally:
        server.stop()
        shutil.rmtree(base, ignore_errors=True)

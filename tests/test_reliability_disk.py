"""A full disk or a read-only downloads folder: a clear card, no crash, no half-written file under a final name."""
import errno
import os
import subprocess
import sys
import textwrap

import pytest

from server.files import atomic_write, storage_problem
from tests.reliability_support import WrappedServer, file_size_limit, remount_read_only, tiny_tmpfs
from tests.support import ROOT, ServerProcess

PNG = b"\x89PNG\r\n\x1a\n" + os.urandom(600 * 1024)
GRAPH = "/graph/acme/shop/crawl/png"


def plant_graph(downloads):
    folder = downloads / "link-graph" / "acme" / "shop"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "shop_crawl_links.csv").write_text("source,target\n/a,/b\n")
    return folder


def leftovers(folder):
    """Anything in the folder besides the graph's CSV: a saved PNG or a temporary `.part`."""
    return sorted(p.name for p in folder.rglob("*") if p.is_file() and not p.name.endswith("_links.csv"))


WRITE_UNDER_LIMIT = textwrap.dedent("""
    import resource, sys
    from pathlib import Path
    from server.files import atomic_write, storage_problem
    resource.setrlimit(resource.RLIMIT_FSIZE, (64 * 1024, 64 * 1024))
    target = Path(sys.argv[1])
    try:
        atomic_write(target, b"n" * (1024 * 1024))
    except OSError as e:
        print(e.errno, storage_problem(e))
""")


def test_atomic_write_past_the_size_limit_leaves_the_old_file_whole(tmp_path):
    target = tmp_path / "export.csv"
    target.write_bytes(b"old complete export")
    r = subprocess.run([sys.executable, "-c", WRITE_UNDER_LIMIT, str(target)], cwd=ROOT, capture_output=True,
                       text=True, timeout=30)
    code, _, message = r.stdout.strip().partition(" ")
    assert int(code) == errno.EFBIG and "disk is full" in message and str(tmp_path) in message
    assert target.read_bytes() == b"old complete export"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["export.csv"]  # no .part left behind


def test_storage_problem_names_only_disk_and_folder_errors(tmp_path):
    assert "read-only" in storage_problem(OSError(errno.EROFS, "Read-only file system", str(tmp_path / "x")))
    assert "disk is full" in storage_problem(OSError(errno.ENOSPC, "No space left on device"))
    assert storage_problem(OSError(errno.ECONNREFUSED, "refused")) is None
    assert storage_problem(ValueError("x")) is None


def test_atomic_write_into_a_full_tmpfs_and_a_read_only_one(tmp_path):
    with tiny_tmpfs(tmp_path / "small", "64k") as small:
        (small / "keep.csv").write_bytes(b"keep")
        with pytest.raises(OSError) as full:
            atomic_write(small / "big.csv", b"x" * (256 * 1024))
        assert full.value.errno == errno.ENOSPC and "disk is full" in storage_problem(full.value)
        assert sorted(p.name for p in small.iterdir()) == ["keep.csv"]
        remount_read_only(small)
        with pytest.raises(OSError) as ro:
            atomic_write(small / "keep.csv", b"new")
        assert "read-only" in storage_problem(ro.value)
        assert (small / "keep.csv").read_bytes() == b"keep"


def post_png(server, **headers):
    c = server.client()
    try:
        return c.post(GRAPH, content=PNG, headers={"Content-Type": "image/png", **headers})
    finally:
        c.close()


def test_saving_past_the_file_size_limit_gives_a_clear_card(dirs):
    data, downloads = dirs
    folder = plant_graph(downloads)
    server = WrappedServer(data, downloads, prefix=file_size_limit(256 * 1024)).start()
    try:
        r = post_png(server)
        assert r.status_code == 507 and "disk is full" in r.text and "card-error" in r.text
        assert "<html" not in r.text and "Traceback" not in r.text  # a card for the page's status line, not a page
        assert leftovers(folder) == []
        assert server.proc.poll() is None and server.client().get("/healthz").text == "ok"
    finally:
        server.stop()


def test_full_then_read_only_downloads_folder_over_http(dirs):
    data, downloads = dirs
    with tiny_tmpfs(downloads, "256k"):
        folder = plant_graph(downloads)
        server = ServerProcess(data, downloads).start()
        try:
            r = post_png(server)
            assert r.status_code == 507 and "disk is full" in r.text and leftovers(folder) == []
            remount_read_only(downloads)
            r = post_png(server)
            assert r.status_code == 403 and "read-only" in r.text and leftovers(folder) == []
            # A navigation (form post without scripts) gets the same card inside the full page.
            r = post_png(server, Accept="text/html")
            assert r.status_code == 403 and "read-only" in r.text and "<html" in r.text
            assert server.client().get("/").status_code == 200
        finally:
            server.stop()

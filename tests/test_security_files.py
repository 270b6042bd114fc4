"""No route reads or writes outside the data and downloads folders: `..`, encoded dots, absolute paths, NUL bytes,
backslashes and symlinks pointing out are refused, by the helper and over real HTTP on every file-serving route."""
import os
import time
from pathlib import Path
from urllib.parse import quote

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from server.files import UnsafePath, inside
from tests.support import ServerProcess

SECRET_TEXT = "TOP-SECRET-OUTSIDE-THE-DOWNLOADS-FOLDER"
ESCAPES = ["..", "../..", "../../etc/passwd", "/etc/passwd", "a/../../b", "x\x00.csv", "..\\..\\x", "",
           "\x00", "/", "//etc/passwd"]


@pytest.mark.parametrize("part", ESCAPES)
def test_inside_refuses_every_escape(tmp_path, part):
    with pytest.raises(UnsafePath):
        inside(tmp_path, part)


def test_inside_refuses_symlinks_pointing_out_but_allows_those_pointing_in(tmp_path):
    base, outside = tmp_path / "downloads", tmp_path / "secret.txt"
    base.mkdir()
    outside.write_text(SECRET_TEXT)
    (base / "out.csv").symlink_to(outside)
    (base / "real.csv").write_text("ok")
    (base / "in.csv").symlink_to(base / "real.csv")
    (base / "dir").symlink_to(tmp_path)
    with pytest.raises(UnsafePath):
        inside(base, "out.csv")
    with pytest.raises(UnsafePath):
        inside(base, "dir", "secret.txt")
    assert inside(base, "in.csv") == (base / "real.csv").resolve()


@settings(max_examples=300, deadline=None)
@given(parts=st.lists(st.text(max_size=12), min_size=1, max_size=4))
def test_inside_never_returns_a_path_outside(tmp_path_factory, parts):
    base = tmp_path_factory.getbasetemp() / "fuzz-base"
    base.mkdir(exist_ok=True)
    try:
        target = inside(base, *parts)
    except (UnsafePath, ValueError):
        return
    assert target == base.resolve() or base.resolve() in target.parents


@pytest.fixture(scope="module")
def planted(tmp_path_factory):
    """A server whose downloads folder holds a graph, a symlink pointing out, and a secret file just outside."""
    base = tmp_path_factory.mktemp("files")
    data, downloads = base / "data", base / "downloads"
    folder = downloads / "link-graph" / "acme" / "shop"
    folder.mkdir(parents=True)
    (folder / "shop_crawl_links.csv").write_text("source,target\n/a,/b\n")
    (base / "secret.csv").write_text(SECRET_TEXT)
    (data).mkdir()
    (data / "notes.csv").write_text(SECRET_TEXT)
    (folder / "leak.csv").symlink_to(base / "secret.csv")
    (folder / "shop_leak_links.csv").symlink_to(base / "secret.csv")
    server = ServerProcess(data, downloads).start()
    yield server
    server.stop()


TRAVERSALS = ["..", "%2e%2e", "%252e%252e", "..%2f..%2f..", "....//", "%2f", "%00", "leak.csv", "..%5c.."]


def test_download_route_cannot_leave_the_downloads_folder(planted):
    c = planted.client()
    try:
        assert c.get("/download/acme/shop/shop_crawl_links.csv").text.startswith("source,target")
        probes = [f"/download/acme/shop/{t}" for t in TRAVERSALS]
        probes += [f"/download/{t}/{t}/secret.csv" for t in TRAVERSALS]
        probes += ["/download/acme/shop/" + quote("../../../secret.csv", safe=""),
                   "/download/acme/shop/" + quote("/etc/passwd", safe=""),
                   "/download/..%2f..%2f..%2fdata/x/notes.csv", "/download/acme/shop/leak.csv",
                   "/download/acme/shop/" + quote("leak.csv\x00.png", safe="")]
        for url in probes:
            r = c.get(url)
            assert SECRET_TEXT not in r.text and "root:x:0:0" not in r.text, url
            assert r.status_code in (400, 403, 404), (url, r.status_code)
    finally:
        c.close()


def test_graph_routes_cannot_read_or_write_outside(planted):
    c = planted.client()
    png = b"\x89PNG\r\n\x1a\n" + b"0" * 100
    try:
        for slug in ("leak", quote("../../secret", safe=""), "%2e%2e", quote("x\x00", safe="")):
            for url in (f"/graph/acme/shop/{slug}", f"/graph/acme/shop/{slug}/data/links",
                        f"/graph/acme/shop/{slug}/search?q=a", f"/graph/{quote('..', safe='')}/shop/{slug}"):
                r = c.get(url)
                assert SECRET_TEXT not in r.text and r.status_code < 500, (url, r.status_code)
            r = c.post(f"/graph/acme/{quote('../..', safe='')}/{slug}/png", content=png,
                       headers={"Content-Type": "image/png"})
            assert r.status_code < 500
        written = {p for p in Path(planted.downloads_dir).parent.rglob("*.png")}
        assert written == set()
    finally:
        c.close()


def test_open_folder_refuses_paths_outside_downloads(planted):
    c = planted.client()
    try:
        for path in ("..", "/etc", "../data", "link-graph/../../data", "link-graph/acme/shop/leak.csv/.."):
            r = c.post("/open-folder", data={"path": path})
            assert r.status_code in (400, 403, 404), (path, r.status_code)
    finally:
        c.close()
    assert os.path.exists(planted.downloads_dir)


def test_the_token_file_is_owner_only_whatever_the_umask(tmp_path):
    from server.botify.token import save_token, token_path

    old = os.umask(0)
    try:
        save_token(tmp_path, "secret-token", "me")
    finally:
        os.umask(old)
    assert oct(token_path(tmp_path).stat().st_mode & 0o777) == "0o600"
    assert [p.name for p in tmp_path.iterdir()] == [token_path(tmp_path).name]  # no temporary left beside it


def test_everything_the_app_creates_is_owner_only(shared_server):
    """Graph caches, saved PNGs, downloads subfolders, database companions: folders 0700, files 0600."""
    from tests.graph_support import write_site_graph

    roots = (shared_server.data_dir, shared_server.downloads_dir)
    write_site_graph(shared_server.downloads_dir, pages=50, edges=200, org="perm", project="site")
    before = {p for root in roots for p in root.rglob("*")}
    http = shared_server.client()
    url = "/graph/perm/site/20240101"
    deadline = time.monotonic() + 30
    while "graph-view" not in http.get(url + "/status").text and time.monotonic() < deadline:
        time.sleep(0.2)
    assert http.get(url + "/data/links").status_code == 200
    assert "Saved" in http.post(url + "/png", content=b"\x89PNG\r\n\x1a\n" + b"\0" * 64,
                                headers={"Content-Type": "image/png"}).text
    http.post("/hello/init", data={"pipeline_id": "perm"}, headers={"HX-Request": "true"})
    created = {p for root in roots for p in root.rglob("*")} - before
    assert any(p.suffix == ".png" for p in created) and any(p.is_dir() for p in created)
    loose = {str(p): oct(p.stat().st_mode & 0o777) for p in created
             if not p.is_socket() and p.stat().st_mode & 0o777 != (0o700 if p.is_dir() else 0o600)}
    assert loose == {}, loose
    assert all(root.stat().st_mode & 0o777 == 0o700 for root in roots)

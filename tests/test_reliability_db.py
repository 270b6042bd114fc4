"""A corrupt or unreadable database: the app still starts, says so, keeps the bad file aside and starts fresh."""
import os
import pwd
import shutil
import sqlite3
import tempfile
from pathlib import Path

from tests.reliability_support import WrappedServer, as_user
from tests.support import ServerProcess

HX = {"HX-Request": "true"}
NOTICE = "Pipedeck started with a fresh database"


def make_runs(data: Path, downloads: Path, n: int = 3) -> None:
    server = ServerProcess(data, downloads).start()
    try:
        c = server.client()
        for i in range(n):
            assert c.post("/hello/init", data={"pipeline_id": f"run-{i}"}, headers=HX).status_code == 200
        c.close()
    finally:
        server.stop()


def aside_files(data: Path) -> list[Path]:
    """The moved-aside databases (their -wal/-shm companions travel with them)."""
    return sorted(p for p in data.iterdir() if ".corrupt-" in p.name and not p.name.endswith(("-wal", "-shm", "-journal")))


def assert_recovered(server: ServerProcess, *reason_words: str) -> None:
    c = server.client()
    home = c.get("/")
    assert home.status_code == 200 and NOTICE in home.text
    assert any(w in home.text for w in reason_words), reason_words
    assert "pipedeck.db.corrupt-" in home.text and "Traceback" not in home.text
    # The fresh database works: a new run is stored.
    assert c.post("/hello/init", data={"pipeline_id": "after"}, headers=HX).status_code == 200
    with sqlite3.connect(server.data_dir / "pipedeck.db") as db:
        assert [r[0] for r in db.execute("SELECT id FROM pipeline")] == ["after"]
    # Dismissed, the notice stays gone, across a restart too.
    assert c.post("/recovery/dismiss", headers=HX).status_code == 200
    assert NOTICE not in c.get("/").text
    c.close()
    server.restart()
    c = server.client()
    assert NOTICE not in c.get("/").text
    c.close()


def test_garbage_database_is_moved_aside_with_its_wal_and_the_app_starts(dirs):
    data, downloads = dirs
    make_runs(data, downloads)
    garbage = os.urandom(64 * 1024)
    (data / "pipedeck.db").write_bytes(garbage)
    (data / "pipedeck.db-wal").write_bytes(b"stale wal that must not meet a fresh database")
    server = ServerProcess(data, downloads).start()
    try:
        main = aside_files(data)
        assert len(main) == 1 and main[0].read_bytes() == garbage  # nothing deleted, byte for byte
        assert Path(f"{main[0]}-wal").read_bytes().startswith(b"stale wal")
        assert "moved aside" in "".join(server.output)
        assert_recovered(server, "file is not a database")
    finally:
        server.stop()


def test_damage_inside_a_valid_looking_database_is_found_at_start(dirs):
    data, downloads = dirs
    make_runs(data, downloads, n=1)
    db_path = data / "pipedeck.db"
    with sqlite3.connect(db_path) as db:
        db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        db.execute("CREATE TABLE filler (x TEXT)")
        db.executemany("INSERT INTO filler VALUES (?)", [("x" * 500,) for _ in range(400)])
    with sqlite3.connect(db_path) as db:
        db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    raw = bytearray(db_path.read_bytes())
    page = 4096
    assert len(raw) > 20 * page
    raw[10 * page:14 * page] = os.urandom(4 * page)  # the header stays valid; table pages in the middle do not
    db_path.write_bytes(bytes(raw))
    server = ServerProcess(data, downloads).start()
    try:
        assert len(aside_files(data)) == 1
        assert_recovered(server, "integrity check", "malformed")
    finally:
        server.stop()


def test_a_database_path_that_cannot_be_opened_is_moved_aside(dirs):
    # A folder where the file should be: open() fails for every user, root included.
    data, downloads = dirs
    (data / "pipedeck.db").mkdir(parents=True)
    (data / "pipedeck.db" / "keep.txt").write_text("mine")
    server = ServerProcess(data, downloads).start()
    try:
        [aside] = aside_files(data)
        assert (aside / "keep.txt").read_text() == "mine"
        assert_recovered(server, "unable to open")
    finally:
        server.stop()


def test_an_unreadable_database_is_moved_aside(dirs):
    data, downloads = dirs
    make_runs(data, downloads, n=1)
    if os.geteuid() != 0:
        os.chmod(data / "pipedeck.db", 0)
        server = ServerProcess(data, downloads).start()
    else:
        # Root reads any file whatever its mode: run the app as an ordinary user who owns the folders.
        uid, gid = pwd.getpwnam("nobody").pw_uid, pwd.getpwnam("nobody").pw_gid
        base = Path(tempfile.mkdtemp(prefix="pipedeck-unreadable-"))
        os.chmod(base, 0o755)
        shutil.copytree(data, base / "data")
        for root, folders, files in os.walk(base):
            for name in [*folders, *files, "."]:
                os.chown(os.path.join(root, name), uid, gid)
        data, downloads = base / "data", base / "downloads"
        os.chmod(data / "pipedeck.db", 0)
        server = WrappedServer(data, downloads, prefix=as_user(uid, gid), env={"HOME": str(base)}).start()
    try:
        [aside] = aside_files(data)
        assert aside.stat().st_size > 0
        assert_recovered(server, "unable to open")
    finally:
        server.stop()
        if data.parent != dirs[0].parent:
            shutil.rmtree(data.parent, ignore_errors=True)


def test_a_healthy_database_is_never_moved(dirs):
    data, downloads = dirs
    make_runs(data, downloads, n=2)
    server = ServerProcess(data, downloads).start()
    try:
        assert aside_files(data) == [] and NOTICE not in server.client().get("/").text
    finally:
        server.stop()

"""Concurrent requests: plain `def` routes run in a thread pool while `async def` ones run on the event loop; the
one database object must serve them all at once without 'Connection is busy in another thread' errors."""
import gc
import threading

import httpx

from server.engine import RunStore
from server.recovery import open_or_recover
from server.security import TOKEN_HEADER
from tests.support import ServerProcess

HX = {"HX-Request": "true"}


def test_one_database_object_serves_many_threads_at_once(tmp_path):
    db = open_or_recover(tmp_path / "pipedeck.db")
    runs = RunStore(db)
    errors: list[BaseException] = []
    barrier = threading.Barrier(16)

    def work(k):
        try:
            barrier.wait()
            for i in range(150):
                runs.open("w", f"{k}-{i}")
                assert runs.set_step("w", f"{k}-{i}", "step_01", {"n": i})
                assert len(list(db.query("SELECT id FROM pipeline WHERE workflow = 'w'"))) >= 1
        except BaseException as e:  # collected so the assertion below shows what went wrong
            errors.append(e)

    threads = [threading.Thread(target=work, args=(k,)) for k in range(16)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert errors == []
    gc.collect()
    assert db.connections == 1  # each finished thread's connection was released with it
    assert len(list(db.query("SELECT id FROM pipeline WHERE json_extract(data, '$.step_01') IS NOT NULL"))) == 16 * 150
    db.close()


def test_concurrent_pages_and_writes_over_http_never_fail(dirs):
    server = ServerProcess(*dirs).start()
    try:
        secret = server.ready_url.split("secret=")[1]
        cookies = {f"pipedeck_secret_{server.port}": secret}
        token = server.client().headers[TOKEN_HEADER]
        statuses: list[int] = []
        barrier = threading.Barrier(16)

        def hit(k):
            with httpx.Client(base_url=server.url, headers={"Origin": server.url, TOKEN_HEADER: token}, cookies=cookies,
                              timeout=60) as c:
                barrier.wait()
                for i in range(5):
                    statuses.append(c.get("/").status_code)  # a plain `def` route: thread pool
                    statuses.append(c.post("/tasks", data={"text": f"task {k}-{i}"}, headers=HX).status_code)
                    statuses.append(c.post("/hello/init", data={"pipeline_id": f"t{k}-{i}"}, headers=HX).status_code)

        threads = [threading.Thread(target=hit, args=(k,)) for k in range(16)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(120)
        assert len(statuses) == 16 * 5 * 3 and set(statuses) == {200}
        assert "Traceback" not in "".join(server.output)
    finally:
        server.stop()


def test_a_write_in_one_thread_is_seen_at_once_by_the_others(tmp_path):
    from concurrent.futures import ThreadPoolExecutor

    from server.db import store_get, store_set

    db = open_or_recover(tmp_path / "pipedeck.db")
    with ThreadPoolExecutor(4) as pool:
        for i in range(50):
            pool.submit(store_set, db, "k", str(i)).result()
            seen = {pool.submit(store_get, db, "k").result() for _ in range(8)}
            assert seen == {str(i)}  # no thread reads from an old snapshot
    db.close()

"""Closing the app mid-export loses nothing: the same Botify jobs are followed after a restart, and a file
appears under its final name only when complete — whether the server got SIGTERM or kill -9."""
import re
import time

import pytest

from tests.fakes.botify import FakeProject
# The same fake and app as the workflow tests (every test here stops and restarts the app anyway).
from tests.test_botify_workflow import FAST, Driver, app, fake  # noqa: F401 (fixtures)


@pytest.fixture
def project(fake, request):
    name = re.sub(r"[^a-z0-9]+", "-", request.node.name.lower()).strip("-")[-60:]  # the end tells params apart
    fake.projects[("acme", name)] = FakeProject()
    fake.polls_to_done, fake.chunk_delay = 3, 0.0
    return name


def jobs_of(fake, project):
    return [j for j in fake.jobs.values() if j["project"] == ("acme", project)]


def wait_for(predicate, timeout=20.0, what="condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


def all_files(d):
    return sorted(p.name for p in d.folder().iterdir()) if d.folder().exists() else []


def final_files(d):
    return [n for n in all_files(d) if not n.startswith(".")]


def test_kill_during_polling_then_restart_follows_the_same_jobs(app, fake, project):
    fake.polls_to_done = 10_000  # jobs stay PROCESSING until the test lets them finish
    d = Driver(app, project)
    d.export()
    d.wait("files", until="preparing the file")
    app.kill()
    assert len(jobs_of(fake, project)) == 2
    jobs = d.blob()["jobs"]
    fake.polls_to_done = 3
    polled = {r["path"] for r in fake.requests}
    app.start()
    # Nobody opens the run: the server resumes following its jobs on start.
    wait_for(lambda: len(final_files(d)) == 2, what="both files after restart")
    d = Driver(app, project)
    d.init()
    assert "View graph" in d.wait("finalize", until="View graph")
    assert len(jobs_of(fake, project)) == 2 and d.blob()["jobs"]["links"]["job_url"] == jobs["links"]["job_url"]
    assert {f"/v1/jobs/{u.rsplit('/', 1)[1]}" for u in (jobs["links"]["job_url"], jobs["meta"]["job_url"])} <= polled


@pytest.mark.parametrize("kill", [False, True], ids=["sigterm", "kill-9"])
def test_stop_during_download_leaves_no_partial_file_and_resumes(app, fake, project, kill):
    fake.projects[("acme", project)].links_rows = 200_000
    fake.chunk_delay = 0.1
    downloads = len(fake.downloads)
    d = Driver(app, project)
    d.export(fields=("pagetype",))
    d.wait("files", until="downloading", timeout=30)
    app.kill() if kill else app.stop()
    names = all_files(d)
    links = f"{project}_20240301_links.csv"
    assert links not in names
    if not kill:
        assert not [n for n in names if n.endswith(".part")], names  # a clean stop removes its temporary file
    fake.chunk_delay = 0.0
    app.start()
    wait_for(lambda: len(final_files(d)) == 2, timeout=30, what="both files")
    wait_for(lambda: "files" in (d.blob() or {}), what="the export step to be stored")
    assert not [n for n in all_files(d) if n.endswith(".part")]
    # The cut-off links download is made again from the same job; nothing else is fetched twice.
    assert len(jobs_of(fake, project)) == 2
    assert sorted(fake.downloads[downloads:]) == ["links", "links", "meta"], fake.downloads[downloads:]
    lines = (d.folder() / links).read_bytes().count(b"\n")
    assert lines == 200_001

"""The pipeline engine's rules, on a real SQLite file, without a server."""
import json
import sqlite3
import threading

import pytest

from server.app import create_app
from server.config import Config
from server.db import open_db
from server.engine import Run, RunStore
from server.engine.pipeline import FINALIZE

STEPS = ["step_01", "step_02", "step_03"]


@pytest.fixture
def runs(tmp_path):
    return RunStore(open_db(tmp_path / "pipedeck.db"))


def test_progress_is_derived_from_which_steps_have_data():
    run = Run("hello", "x", {"created": "t", "step_01": {"name": "A"}})
    assert run.done("step_01") and not run.done("step_02")
    assert run.first_unfinished(STEPS) == "step_02"
    assert Run("hello", "y", {"step_01": {}, "step_02": {}, "step_03": {}}).first_unfinished(STEPS) is None


def test_one_row_per_run_with_every_step_in_its_blob(runs, tmp_path):
    runs.open("hello", "arthur")
    runs.set_step("hello", "arthur", "step_01", {"name": "Arthur"})
    runs.open("hello", "arthur")  # re-entering the id never resets the run
    with sqlite3.connect(tmp_path / "pipedeck.db") as db:
        rows = db.execute("SELECT id, workflow, data, created, updated FROM pipeline").fetchall()
    assert len(rows) == 1
    run_id, workflow, data, created, updated = rows[0]
    assert (run_id, workflow) == ("arthur", "hello")
    blob = json.loads(data)
    assert blob["step_01"] == {"name": "Arthur"} and {"created", "updated"} <= blob.keys()


def test_resume_returns_the_same_state_after_reopening_the_file(tmp_path):
    RunStore(open_db(tmp_path / "pipedeck.db")).open("hello", "x")
    RunStore(open_db(tmp_path / "pipedeck.db")).set_step("hello", "x", "step_01", {"name": "A"})
    run = RunStore(open_db(tmp_path / "pipedeck.db")).get("hello", "x")
    assert run.first_unfinished(STEPS) == "step_02"


def test_first_answer_wins_so_a_repeated_submit_is_harmless(runs):
    runs.open("hello", "x")
    assert runs.set_step("hello", "x", "step_01", {"name": "A"}) is True
    assert runs.set_step("hello", "x", "step_01", {"name": "B"}) is False
    assert runs.get("hello", "x").get("step_01") == {"name": "A"}


def test_revert_clears_the_step_and_every_later_one(runs):
    runs.open("hello", "x")
    for s in STEPS:
        runs.set_step("hello", "x", s, {"v": s})
    runs.set_step("hello", "x", FINALIZE, {"finalized": True})
    runs.clear("hello", "x", ["step_02", "step_03", FINALIZE])
    run = runs.get("hello", "x")
    assert run.done("step_01") and not run.done("step_02") and not run.done("step_03") and not run.finalized


def test_finalize_and_unfinalize_keep_the_answers(runs):
    runs.open("hello", "x")
    for s in STEPS:
        runs.set_step("hello", "x", s, {"v": s})
    runs.set_step("hello", "x", FINALIZE, {"finalized": True})
    assert runs.get("hello", "x").finalized
    runs.clear("hello", "x", [FINALIZE])
    run = runs.get("hello", "x")
    assert not run.finalized and all(run.done(s) for s in STEPS)


def test_two_runs_side_by_side_do_not_mix(runs):
    runs.open("hello", "a")
    runs.open("hello", "b")
    runs.set_step("hello", "a", "step_01", {"name": "A"})
    runs.set_step("hello", "b", "step_01", {"name": "B"})
    runs.clear("hello", "a", ["step_01"])
    assert not runs.get("hello", "a").done("step_01")
    assert runs.get("hello", "b").get("step_01") == {"name": "B"}


def test_the_same_id_in_two_workflows_is_two_runs(runs):
    runs.open("hello", "same")
    runs.open("poem", "same")
    runs.set_step("hello", "same", "step_01", {"name": "A"})
    assert not runs.get("poem", "same").done("step_01")


def test_concurrent_writers_never_lose_a_step(tmp_path):
    path = tmp_path / "pipedeck.db"
    RunStore(open_db(path)).open("w", "x")
    steps = [f"step_{i:02d}" for i in range(1, 41)]

    def write(chunk):
        store = RunStore(open_db(path))  # each writer has its own connection, like two tabs' requests
        for s in chunk:
            store.set_step("w", "x", s, {"v": s})

    threads = [threading.Thread(target=write, args=(steps[i::4],)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    run = RunStore(open_db(path)).get("w", "x")
    assert all(run.done(s) for s in steps)


def test_change_writes_only_while_what_it_depends_on_still_holds(runs):
    runs.open("poem", "x")
    runs.change("poem", "x", put={"name": "Ada", "color": "red"})
    # A value produced for red is refused once the colour is blue; the same write for red is kept.
    runs.change("poem", "x", put={"color": "blue"}, remove=["poem"])
    assert not runs.change("poem", "x", put={"poem": "for red"}, present={"name": "Ada", "color": "red"})
    assert runs.change("poem", "x", put={"poem": "for blue"}, present={"name": "Ada", "color": "blue"},
                       absent=["poem"])
    assert not runs.change("poem", "x", put={"poem": "again"}, absent=["poem"])
    run = runs.get("poem", "x")
    assert run["poem"] == "for blue" and "updated" in run.data


def test_change_compares_lists_and_objects_by_value(runs):
    runs.open("w", "x")
    runs.change("w", "x", put={"tags": ["a", "b"], "depth": {"depth": 3, "counts": [1, 2]}})
    same = {"tags": ["a", "b"], "depth": {"depth": 3, "counts": [1, 2]}}
    assert runs.change("w", "x", put={"ok": True}, present=same)
    assert not runs.change("w", "x", put={"ok": False}, present={"tags": ["a"]})
    assert runs.get("w", "x")["ok"] is True


def test_a_background_result_for_answers_reverted_meanwhile_is_discarded(tmp_path):
    app = create_app(Config(data_dir=tmp_path / "data", downloads_dir=tmp_path / "dl"))
    poem, runs = app.state.ctx.workflows["poem"], app.state.ctx.runs
    runs.open("poem", "race")
    for step, value in (("name", "Ada"), ("color", "violet"), ("time", "dusk"), ("feeling", "calm")):
        assert poem.store_answer(runs.get("poem", "race"), poem.by_id[step], value)
    basis = poem.basis(runs.get("poem", "race"), "poem")  # what the producer was given
    poem.revert(runs.get("poem", "race"), "color")  # the user goes back while the poem is written
    assert not poem.store_result("race", poem.by_id["poem"], "a violet poem", basis)
    assert "poem" not in runs.get("poem", "race").data
    for step, value in (("color", "red"), ("time", "dusk"), ("feeling", "calm")):
        poem.store_answer(runs.get("poem", "race"), poem.by_id[step], value)
    assert not poem.store_result("race", poem.by_id["poem"], "a violet poem", basis)
    assert poem.store_result("race", poem.by_id["poem"], "a red poem", poem.basis(runs.get("poem", "race"), "poem"))
    app.state.ctx.db.close()


def test_a_new_workflow_file_appears_in_the_menu(tmp_path, monkeypatch):
    import server.workflows as workflows
    source = (workflows.__path__[0] + "/hello.py")
    text = open(source).read().replace("class Hello", "class Sheet").replace('name = "hello"', 'name = "sheet"')
    text = text.replace("Hello — the Bridge of Death", "Sheet music")
    extra = tmp_path / "wf"
    extra.mkdir()
    (extra / "sheet.py").write_text(text.replace("from ..engine", "from server.engine"))
    monkeypatch.setattr(workflows, "__path__", [*workflows.__path__, str(extra)])
    app = create_app(Config(data_dir=tmp_path / "data", downloads_dir=tmp_path / "dl"))
    ctx = app.state.ctx
    assert "sheet" in ctx.workflows
    assert any(e.path == "/sheet" and e.label == "Sheet music" for e in ctx.menu)


def test_an_answer_racing_a_revert_of_an_earlier_step_is_refused(runs):
    runs.open("hello", "race")
    assert runs.set_step("hello", "race", "step_01", {"name": "Robin"})
    runs.clear("hello", "race", ["step_01"])  # another tab reverted step 1 …
    # … while this tab submits step 2 from the card it still shows: refused, no gap in the run.
    assert not runs.set_step("hello", "race", "step_02", {"quest": "grail"}, requires=["step_01"])
    assert runs.get("hello", "race").first_unfinished(["step_01", "step_02"]) == "step_01"
    assert not runs.get("hello", "race").done("step_02")

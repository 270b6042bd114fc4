"""The engine's card flow through real HTTP handling and a real SQLite file, on the keyword-notes example:
nothing typed is lost, revert asks first, runs are listed, names never clash."""
import pytest

from server.engine.registry import NameClash
from tests.engine_support import EXAMPLES, HX, client, make_app, walk


@pytest.fixture(scope="module")
def notes(tmp_path_factory):
    mp = pytest.MonkeyPatch()
    cfg, app = make_app(tmp_path_factory.mktemp("notes"), mp, EXAMPLES)
    cfg.runs = app.state.ctx.runs
    with client(cfg, app) as c:
        yield cfg, c
    mp.undo()


def blob(cfg, run_id, workflow="notes"):
    # Through the app's own connection: a second SQLite library in this process would break the file's locks.
    run = cfg.runs.get(workflow, run_id)
    return run.data if run else None


def test_a_workflow_reads_its_answers_by_field_name(notes):
    cfg, c = notes
    r = walk(c, "notes", "by-name", ("keyword", "running shoes"), ("intent", "buy"), ("note", "line 1\nline 2"))
    data = blob(cfg, "by-name")
    assert (data["keyword"], data["intent"], data["note"]) == ("running shoes", "buy", "line 1\nline 2")
    assert "Transactional" in c.get("/notes/intent", params={"pipeline_id": "by-name"}, headers=HX).text
    assert "All steps done" in c.get("/notes/finalize", params={"pipeline_id": "by-name"}, headers=HX).text
    assert r.status_code == 200


def test_a_refused_long_note_comes_back_in_its_textarea_with_the_message(notes):
    cfg, c = notes
    note = "A long note." * 250  # 3,000 characters, over the step's 2,000
    r = walk(c, "notes", "long", ("keyword", "shoes"), ("intent", "info"), ("note", note))
    assert "3,000 characters; at most 2,000" in r.text
    assert f">{note}</textarea>" in r.text and 'aria-invalid="true"' in r.text
    assert "note" not in blob(cfg, "long")


def test_revert_asks_first_and_every_answer_comes_back_prefilled(notes):
    cfg, c = notes
    walk(c, "notes", "refill", ("keyword", "trail shoes"), ("intent", "buy"), ("note", "Compare prices."))
    asked = c.post("/notes/keyword/revert", data={"pipeline_id": "refill"}, headers=HX).text
    assert "This clears 2 later answers." in asked and "Clear and go back" in asked
    assert blob(cfg, "refill")["note"] == "Compare prices."  # asking changed nothing
    r = c.post("/notes/note/revert", data={"pipeline_id": "refill"}, headers=HX)  # the last step: nothing to ask
    assert ">Compare prices.</textarea>" in r.text and r.headers["HX-Retarget"] == "#notes-note"
    c.post("/notes/note/submit", data={"pipeline_id": "refill", "note": "Compare prices."}, headers=HX)
    r = c.post("/notes/keyword/revert", data={"pipeline_id": "refill", "confirm": "1"}, headers=HX)
    assert 'value="trail shoes"' in r.text  # the reverted answer is back in its field
    data = blob(cfg, "refill")
    assert "keyword" not in data and "note" not in data
    r = c.post("/notes/keyword/submit", data={"pipeline_id": "refill", "keyword": "trail shoes"}, headers=HX)
    intent = c.get("/notes/intent", params={"pipeline_id": "refill"}, headers=HX).text
    assert 'value="buy" checked' in intent
    c.post("/notes/intent/submit", data={"pipeline_id": "refill", "intent": "buy"}, headers=HX)
    assert ">Compare prices.</textarea>" in c.get("/notes/note", params={"pipeline_id": "refill"}, headers=HX).text


def test_an_answer_racing_a_revert_in_another_tab_is_refused(notes):
    cfg, c = notes
    walk(c, "notes", "tabs", ("keyword", "boots"))
    c.post("/notes/keyword/revert", data={"pipeline_id": "tabs"}, headers=HX)  # tab A goes back
    r = c.post("/notes/intent/submit", data={"pipeline_id": "tabs", "intent": "buy"}, headers=HX)  # tab B, stale
    assert "intent" not in blob(cfg, "tabs") and r.headers["HX-Retarget"] == "#notes-chain"
    assert 'hx-get="/notes/keyword?pipeline_id=tabs"' in r.text  # back up the chain to the step now missing


def test_landing_lists_runs_newest_first_and_delete_removes_one(notes):
    cfg, c = notes
    walk(c, "notes", "older", ("keyword", "a"))
    walk(c, "notes", "newer", ("keyword", "b"), ("intent", "info"))
    page = c.get("/notes", params={"pipeline_id": "newer"}).text
    runs = page[page.index('id="notes-runs"'):]
    assert runs.index(">newer<") < runs.index(">older<")
    assert "2 of 3" in runs and "1 of 3" in runs and 'href="/notes?pipeline_id=older"' in runs
    assert "hx-confirm=\"Delete the run “older”?" in runs
    r = c.post("/notes/delete", data={"pipeline_id": "older"}, headers=HX)
    assert ">older<" not in r.text and blob(cfg, "older") is None and blob(cfg, "newer")


def test_finalized_runs_say_so_in_the_list(notes):
    cfg, c = notes
    walk(c, "notes", "done", ("keyword", "k"), ("intent", "info"), ("note", "n"))
    c.post("/notes/finalize", data={"pipeline_id": "done"}, headers=HX)
    row = c.get("/notes").text.split(">done<")[1].split("</tr>")[0]
    assert "3 of 3" in row and "Finalized" in row


def test_continue_where_you_left_off_opens_the_run_itself(notes):
    cfg, c = notes
    walk(c, "notes", "last-one", ("keyword", "boots"))
    page = c.get("/notes").text  # what home's "Continue where you left off" links to
    assert 'hx-get="/notes/keyword?pipeline_id=last-one"' in page and 'value="last-one"' in page


def test_a_new_run_records_the_current_profile_and_the_list_shows_that_clients_runs(notes):
    cfg, c = notes
    db = cfg.runs.db
    first = list(db.query("SELECT id FROM profile WHERE active = 1 ORDER BY priority, id"))[0]["id"]
    walk(c, "notes", "profiled")
    assert blob(cfg, "profiled")["profile"] == first
    db.execute("INSERT INTO profile (name, menu_name, address, code, active, priority) "
               "VALUES ('Globex Corporation', 'Client B', 'globex.example', 'us', 1, 99)")
    other = list(db.query("SELECT id FROM profile WHERE menu_name = 'Client B'"))[0]["id"]
    c.post("/profiles/current", data={"pid": other}, headers=HX)  # chosen in the sidebar
    walk(c, "notes", "for-globex")
    assert blob(cfg, "for-globex")["profile"] == other
    listed = c.get("/notes").text
    assert "for-globex" in listed and "profiled" not in listed
    c.post("/profiles/current", data={"pid": first}, headers=HX)
    assert "profiled" in c.get("/notes").text


def test_a_workflow_named_like_an_app_stops_start_up_naming_both_files(tmp_path, monkeypatch):
    (tmp_path / "tasks_wf.py").write_text(
        "from server.engine import Text, Workflow\n\n\nclass Tasks(Workflow):\n"
        "    name = 'tasks'\n    title = 'Mine'\n    steps = [Text('x', 'X')]\n")
    with pytest.raises(NameClash) as e:
        make_app(tmp_path, monkeypatch, tmp_path)
    assert "tasks_wf.py" in str(e.value) and "apps/tasks.py" in str(e.value)


def test_a_workflow_replaced_at_run_time_serves_its_new_steps_and_actions(tmp_path, monkeypatch):
    from fasthtml.common import P

    from server.engine import Text, Workflow, action
    from server.engine.registry import add_workflow

    class Draft(Workflow):
        name, title, steps = "draft", "Draft", [Text("first", "First question")]

        @action("hello")
        def hello(self, who: str = ""):
            return P(f"old hello {who}")

    class Edited(Draft):  # the same file, saved again with another question and another greeting
        steps = [Text("first", "A better first question")]

        @action("hello")
        def hello(self, who: str = ""):
            return P(f"new hello {who}")

    cfg, app = make_app(tmp_path, monkeypatch)
    add_workflow(app.state.ctx, app, Draft(app.state.ctx))
    with client(cfg, app) as c:
        walk(c, "draft", "d")
        assert "First question" in c.get("/draft/first", params={"pipeline_id": "d"}, headers=HX).text
        assert "old hello ada" in c.get("/draft/hello", params={"who": "ada"}).text
        add_workflow(app.state.ctx, app, Edited(app.state.ctx))
        assert "A better first question" in c.get("/draft/first", params={"pipeline_id": "d"}, headers=HX).text
        assert "new hello ada" in c.get("/draft/hello", params={"who": "ada"}).text
        assert sum(e.path == "/draft" for e in app.state.ctx.menu) == 1

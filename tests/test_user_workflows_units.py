"""What the user-workflow loader refuses, and why, in the app's own process (real SQLite file, real middleware)."""
from __future__ import annotations

import time

import pytest

from tests.engine_support import HX, client, make_app, walk

GOOD = '''from server.engine import Text, Workflow


class Notes(Workflow):
    name = "{name}"
    title = "Notes"
    steps = [Text("note", "A note")]
'''


def problems(tmp_path, monkeypatch, files: dict[str, str]) -> dict[str, str]:
    """Each refused file's problem card text, by file name, after the app started with `files` in its folder."""
    folder = tmp_path / "data" / "workflows"
    folder.mkdir(parents=True)
    for name, text in files.items():
        (folder / name).write_text(text)
    cfg, app = make_app(tmp_path, monkeypatch)
    with client(cfg, app) as c:
        menu = {e.path for e in app.state.ctx.menu}
        return {name: c.get(f"/workflow-problem/{name[:-3]}").text for name in files
                if f"/workflow-problem/{name[:-3]}" in menu}


@pytest.mark.parametrize("text, message", [
    (GOOD.format(name="my notes"), "use letters, digits, - and _ only"),
    (GOOD.replace('[Text("note", "A note")]', "[]").format(name="notes"), "declares no `steps`"),
    ("x = 1\n", "must define one Workflow subclass"),
    (GOOD.format(name="tasks"), "The name “tasks” is already taken by the app"),
    (GOOD.replace('Text("note"', 'Text("created"').format(name="notes"), "must be a Python name other than"),
])
def test_a_file_that_cannot_serve_is_refused_with_its_reason(tmp_path, monkeypatch, text, message):
    shown = problems(tmp_path, monkeypatch, {"mine.py": text})
    assert message in shown["mine.py"]
    assert "mine.py" in shown["mine.py"]


def test_two_files_with_one_name_the_second_is_refused_naming_the_first(tmp_path, monkeypatch):
    shown = problems(tmp_path, monkeypatch, {"a_notes.py": GOOD.format(name="notes"),
                                             "b_notes.py": GOOD.format(name="notes")})
    assert list(shown) == ["b_notes.py"]
    assert "a_notes.py" in shown["b_notes.py"] and "line 5" in shown["b_notes.py"]


def test_a_saved_file_with_a_new_action_serves_it_without_a_restart(tmp_path, monkeypatch):
    folder = tmp_path / "data" / "workflows"
    folder.mkdir(parents=True)
    (folder / "notes.py").write_text(GOOD.format(name="notes"))
    cfg, app = make_app(tmp_path, monkeypatch)
    with client(cfg, app) as c:
        assert c.get("/notes/hi").status_code == 404  # read as a step id: "Notes has no step “hi”"
        (folder / "notes.py").write_text(GOOD.format(name="notes").replace(
            "from server.engine import Text, Workflow", "from server.engine import Text, Workflow, action")
            + '\n    @action("hi")\n    def hi(self):\n        return "hello from a new action"\n')
        deadline = time.monotonic() + 10
        while c.get("/notes/hi").status_code != 200 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert c.get("/notes/hi").text == "hello from a new action"


FAILING_PRODUCER = '''from server.engine import Background, Text, Workflow


class Sums(Workflow):
    name = "sums"
    title = "Sums"
    steps = [Text("n", "A number"), Background("result", "Result", producer="divide")]

    async def divide(self, run, progress):
        return 1 / 0
'''


def test_a_failing_producer_names_its_file_and_line_in_the_card(tmp_path, monkeypatch):
    folder = tmp_path / "data" / "workflows"
    folder.mkdir(parents=True)
    (folder / "sums.py").write_text(FAILING_PRODUCER)
    cfg, app = make_app(tmp_path, monkeypatch)
    with client(cfg, app) as c:
        walk(c, "sums", "r1", ("n", "3"))
        deadline, card = time.monotonic() + 10, ""
        while "ZeroDivisionError" not in card and time.monotonic() < deadline:
            card = c.get("/sums/result", params={"pipeline_id": "r1"}, headers=HX).text
            time.sleep(0.05)
        assert f"{folder / 'sums.py'}, line 10: ZeroDivisionError: division by zero" in card
        assert "Try again" in card
        assert "⚠ Sums" in c.get("/").text

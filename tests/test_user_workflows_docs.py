"""The README's "Write your own workflow" section is generated from the engine's docstrings and cannot drift."""
import subprocess
import sys

from server.engine import docs
from tests.support import ROOT


def test_the_readme_section_is_what_the_docstrings_generate():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert docs.replace_section(readme, docs.section()) == readme, (
        "README.md's section is out of date: run `.venv/bin/python -m server.engine.docs --write README.md`")


def test_the_generator_prints_the_section_from_the_command_line():
    out = subprocess.run([sys.executable, "-m", "server.engine.docs"], cwd=ROOT, capture_output=True, text=True,
                         check=True).stdout
    assert out == docs.section()
    assert "`Flag(id, label, *, example, max_length, yes, no)`" in out and "`async submit(step, form, run)`" in out

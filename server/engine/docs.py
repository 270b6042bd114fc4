"""The README's "Write your own workflow" section, built from the engine's docstrings so it cannot drift from the
code: `python -m server.engine.docs` prints it, `python -m server.engine.docs --write README.md` puts it in place
(a test checks the README holds exactly this)."""
from __future__ import annotations

import dataclasses
import inspect
import re
import sys
from pathlib import Path

from . import steps
from .workflow import Workflow, action

HEADING = "## Write your own workflow"
KINDS = [steps.Text, steps.LongText, steps.Choice, steps.Choices, steps.Number, steps.Flag, steps.Background]
DOWNLOADS = ("the folder for what workflows produce (`downloads/` from a checkout); write into a subfolder named "
             "after the workflow with `server.files.inside(folder, ...)` and `atomic_write`, so a file appears "
             "complete or not at all.")
HOOKS = ["clean_id", "submit", "summary", "form", "working", "final", "on_step_done", "retry"]

GUIDE = """\
A workflow is one Python file. Put it in `workflows/` inside the data folder (`data/workflows/` from a checkout,
`~/.local/share/pipedeck/data/workflows/` with `nix run`, or `--data-dir`'s) and it appears in the menu beside the
built-in ones, served the same way. Two ways to start:

```sh
./pipedeck new-workflow "Keyword notes"     # writes data/workflows/keyword_notes.py and prints its path
cp server/workflows/hello.py data/workflows/my_bridge.py   # then give it another `name`
```

The starter uses every step kind once and shows where the local LLM and the downloads folder are reached; an
existing file is never overwritten (`--data-dir` picks another data folder).

**Live reload.** Save the file while the app runs and that workflow reloads within a second, without a restart:
an open page of it re-renders its current card, stored answers are kept, a step you removed is ignored and a step
you added shows up as the next one to answer. Chat answers streaming and other workflows' background work carry on.
`./pipedeck --dev` does the same for the built-in workflows in `server/workflows/` and the apps in `server/apps/`
(an open page of a saved app re-renders); a change elsewhere in `server/` restarts the server and the window
reloads its page.

**Errors stay in their room.** A syntax error, a failing import, a name already taken (by a built-in workflow or an
app's address) or an exception in a hook shows a card naming the file, the line and the message, on the
workflow's page and marked with ⚠ in the menu. The rest of the app keeps working; fix the file and save it.

**Sharing.** Send the file. A colleague drops it into their `workflows/` folder and it appears at once.

The smallest examples: `server/workflows/hello.py` and `tests/example_workflows/keyword_notes.py` (a textarea
and radio buttons in a dozen lines). A file added to `server/workflows/` ships with the app: it appears in the
menu with no other edit.
"""


def first_paragraph(obj) -> str:
    return " ".join((inspect.getdoc(obj) or "").split("\n\n")[0].split())


def kind_line(kind) -> str:
    options = [f.name for f in dataclasses.fields(kind) if f.name not in ("id", "label", "_")]
    args = ", ".join(["id", "label", *(["options"] if "options" in options else [])])
    more = ", ".join(o for o in options if o != "options")
    name = "Text" if kind is steps.Step else kind.__name__  # Text is the base kind's everyday name
    return f"- `{name}({args}, *, {more})`: {first_paragraph(kind)}"


def hook_line(name: str) -> str:
    fn = getattr(Workflow, name)
    params = ", ".join(list(inspect.signature(fn).parameters)[1:])
    prefix = "async " if inspect.iscoroutinefunction(fn) else ""
    return f"- `{prefix}{name}({params})`: {first_paragraph(fn)}"


def reach_lines() -> list[str]:
    """What a workflow reaches through `self.ctx`, each with its own docstring."""
    from ..context import Context
    from ..llm.client import LLM

    return ["From a workflow's methods:", "",
            f"- `services(self.ctx).llm` (`from server.llm import services`): {first_paragraph(LLM)} "
            f"`await llm.status()`: {first_paragraph(LLM.status)} `llm.chat(messages)`: {first_paragraph(LLM.chat)}",
            f"- `self.ctx.cfg.downloads_dir`: {DOWNLOADS}",
            f"- `self.ctx.narrate(text)`: {first_paragraph(Context.narrate)}",
            f"- `self.ctx.spawn(coro)`: {first_paragraph(Context.spawn)}"]


def section() -> str:
    """The whole section, as the README holds it."""
    parts = [HEADING, "", GUIDE, "### Step kinds", "", inspect.getdoc(steps).split("\n\n", 1)[1].strip(), "",
             *map(kind_line, KINDS), "", "### Hooks", "", first_paragraph(Workflow), "", *map(hook_line, HOOKS), "",
             f"- `@action(path, methods=\"get\")`: {first_paragraph(action)}", "",
             "### Background work, the LLM and the downloads folder", "",
             inspect.getdoc(steps.Background), "", *reach_lines(), ""]
    return "\n".join(parts)


def replace_section(readme: str, text: str) -> str:
    """`readme` with its section (from the heading to the next `## `) replaced, or `text` appended."""
    pattern = re.compile(rf"^{re.escape(HEADING)}\n.*?(?=^## |\Z)", re.S | re.M)
    if pattern.search(readme):
        return pattern.sub(lambda _m: text + "\n", readme, count=1)
    return readme.rstrip("\n") + "\n\n" + text


def main(argv: list[str]) -> int:
    if argv[:1] == ["--write"] and len(argv) == 2:
        path = Path(argv[1])
        path.write_text(replace_section(path.read_text(encoding="utf-8"), section()), encoding="utf-8")
    else:
        print(section(), end="")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

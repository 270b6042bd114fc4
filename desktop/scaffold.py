"""`pipedeck new-workflow "Title"`: a commented starter file in the data folder's `workflows/`, never overwriting."""
from __future__ import annotations

import keyword
import os
import re
from pathlib import Path

TEMPLATE = Path(__file__).with_name("workflow_template.py.txt")


class ScaffoldRefused(ValueError):
    """The title gives no usable file name, or the file exists already."""


def file_stem(title: str) -> str:
    """`Keyword notes` -> `keyword_notes`: the file's name and the workflow's address."""
    stem = re.sub(r"[^a-z0-9]+", "_", title.lower()).strip("_")
    if not stem or not stem.isidentifier() or keyword.iskeyword(stem):
        raise ScaffoldRefused(f"“{title}” gives no usable file name: start the title with a letter.")
    return stem


def class_name(title: str) -> str:
    return "".join(w[:1].upper() + w[1:] for w in re.findall(r"[A-Za-z0-9]+", title))


def starter(title: str) -> str:
    clean = " ".join(title.replace('"', "'").replace("\\", "/").split())
    return TEMPLATE.read_text(encoding="utf-8").format(title=clean, name=file_stem(title), cls=class_name(title))


def new_workflow(title: str, folder: Path) -> Path:
    """Write the starter as `folder/<stem>.py` and return its path; an existing file is left as it is."""
    path = Path(folder) / f"{file_stem(title)}.py"
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.part")
    tmp.write_text(starter(title), encoding="utf-8")
    try:
        os.link(tmp, path)  # appears complete under its name, and fails rather than replace an existing file
    except FileExistsError:
        raise ScaffoldRefused(f"{path} exists already; it was left as it is. Choose another title.") from None
    except OSError:  # a file system without hard links: exclusive creation still never overwrites
        with open(path, "x", encoding="utf-8") as f:
            f.write(tmp.read_text(encoding="utf-8"))
    finally:
        tmp.unlink(missing_ok=True)
    return path


def main(title: str | None, data_dir: Path) -> int:
    from server.engine.loader import USER_FOLDER

    if not title:
        print('pipedeck new-workflow needs a title, e.g. pipedeck new-workflow "Keyword notes"')
        return 2
    try:
        path = new_workflow(title, data_dir / USER_FOLDER)
    except ScaffoldRefused as e:
        print(f"pipedeck: {e}")
        return 1
    print(path)
    return 0

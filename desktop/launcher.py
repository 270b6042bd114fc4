"""`pipedeck install-launcher` / `uninstall-launcher`: Pipedeck in the desktop's applications menu (freedesktop)."""
from __future__ import annotations

import os
import shlex
import sys
from pathlib import Path

from server.config import ROOT, STATIC_DIR
from server.files import atomic_write

APP_ID = "pipedeck"


def data_home() -> Path:
    return Path(os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share")


def desktop_file_path() -> Path:
    return data_home() / "applications" / f"{APP_ID}.desktop"


def icon_file_path() -> Path:
    return data_home() / "icons" / "hicolor" / "scalable" / "apps" / f"{APP_ID}.svg"


def launch_command() -> list[str]:
    """What starts this Pipedeck: the ./pipedeck script or Nix wrapper that says so, else this Python."""
    if env := os.environ.get("PIPEDECK_LAUNCHER"):
        return [env]
    argv0 = Path(sys.argv[0]).resolve() if sys.argv and sys.argv[0] else None
    if argv0 and argv0.suffix != ".py" and os.access(argv0, os.X_OK) and argv0.is_file():
        return [str(argv0)]
    return [sys.executable, "-m", "desktop"]


def quote_exec_arg(arg: str) -> str:
    """One argument of a desktop entry's Exec key (spec: quoting, then the string escaping of every value)."""
    reserved = set(' \t\n"\'\\><~|&;$*?#()`=%')
    if arg and not reserved & set(arg):
        return arg
    quoted = '"' + "".join("\\" + c if c in '"`$\\' else c for c in arg).replace("%", "%%") + '"'
    return quoted.replace("\\", "\\\\")


def desktop_entry(command: list[str], icon: Path) -> str:
    exec_line = " ".join(quote_exec_arg(a) for a in command)
    lines = [
        "[Desktop Entry]",
        "Type=Application",
        "Version=1.4",
        "Name=Pipedeck",
        "GenericName=Data workflows",
        "Comment=Calm, resumable step-by-step data workflows",
        f"Exec={exec_line}",
        f"Icon={icon}",
        "Terminal=false",
        "Categories=Office;",
        "Keywords=SEO;Botify;workflow;pipeline;",
        "StartupNotify=true",
    ]
    if command[1:2] == ["-m"]:
        # `python -m desktop` imports from the checkout, so it must start there.
        lines.append(f"Path={ROOT}")
    return "\n".join(lines) + "\n"


def install() -> tuple[Path, Path]:
    icon, entry = icon_file_path(), desktop_file_path()
    atomic_write(icon, (STATIC_DIR / "icon.svg").read_bytes(), mode=0o644)
    atomic_write(entry, desktop_entry(launch_command(), icon), mode=0o644)
    return entry, icon


def uninstall() -> list[Path]:
    removed = []
    for path in (desktop_file_path(), icon_file_path()):
        if path.exists():
            path.unlink()
            removed.append(path)
    return removed


def main(command: str) -> int:
    if command == "install-launcher":
        entry, icon = install()
        exec_line = " ".join(shlex.quote(a) for a in launch_command())
        print(f"Installed Pipedeck in the applications menu:\n  {entry}\n  {icon}\nIt runs: {exec_line}")
        return 0
    removed = uninstall()
    if removed:
        print("Removed:\n" + "\n".join(f"  {p}" for p in removed))
    else:
        print("No Pipedeck launcher was installed; nothing to remove.")
    return 0

"""`pipedeck install-launcher` / `uninstall-launcher`: Pipedeck in the applications menu and, if wanted, on the
desktop (freedesktop, Linux), or as ~/Applications/Pipedeck.app (macOS)."""
from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

from server.config import ROOT, STATIC_DIR
from server.files import atomic_write

from . import macos_app

APP_ID = "pipedeck"


def data_home(home: Path | None = None) -> Path:
    if env := os.environ.get("XDG_DATA_HOME"):
        return Path(env)
    return (home or Path.home()) / ".local" / "share"


def desktop_file_path(home: Path | None = None) -> Path:
    return data_home(home) / "applications" / f"{APP_ID}.desktop"


def icon_file_path(home: Path | None = None) -> Path:
    return data_home(home) / "icons" / "hicolor" / "scalable" / "apps" / f"{APP_ID}.svg"


def desktop_dir(home: Path | None = None) -> Path:
    """The user's desktop folder: XDG_DESKTOP_DIR, else what xdg-user-dirs says (localised names), else ~/Desktop."""
    home = home or Path.home()
    if env := os.environ.get("XDG_DESKTOP_DIR"):
        return Path(env).expanduser()
    if tool := shutil.which("xdg-user-dir"):
        try:
            said = subprocess.run([tool, "DESKTOP"], capture_output=True, text=True, timeout=5,
                                  env={**os.environ, "HOME": str(home)}).stdout.strip()
        except (OSError, subprocess.SubprocessError):
            said = ""
        # xdg-user-dir answers the home folder itself when no desktop folder is configured.
        if said and Path(said) != home:
            return Path(said)
    return _user_dirs_desktop(home) or home / "Desktop"


def _user_dirs_desktop(home: Path) -> Path | None:
    """XDG_DESKTOP_DIR from user-dirs.dirs, read directly where the xdg-user-dir tool is missing."""
    config = Path(os.environ.get("XDG_CONFIG_HOME") or home / ".config") / "user-dirs.dirs"
    try:
        text = config.read_text()
    except OSError:
        return None
    if match := re.search(r'^XDG_DESKTOP_DIR="([^"]*)"', text, re.M):
        value = match.group(1).replace("$HOME", str(home))
        if value.startswith("/") and Path(value) != home:
            return Path(value)
    return None


def desktop_icon_path(platform: str = sys.platform, home: Path | None = None) -> Path:
    if platform == "darwin":
        return (home or Path.home()) / "Desktop" / f"{macos_app.NAME}.app"
    return desktop_dir(home) / f"{APP_ID}.desktop"


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
    if workdir := _workdir(command):
        lines.append(f"Path={workdir}")
    return "\n".join(lines) + "\n"


def _workdir(command: list[str]) -> Path | None:
    # `python -m desktop` imports from the checkout, so it must start there.
    return ROOT if command[1:2] == ["-m"] else None


def install(desktop: bool = False, platform: str = sys.platform, home: Path | None = None) -> list[Path]:
    """Write the launchers for this platform; the paths written, the one to double-click first."""
    command = launch_command()
    if platform == "darwin":
        written = [macos_app.install(home or Path.home(), command, _workdir(command))]
        if desktop:
            link = desktop_icon_path(platform, home)
            link.parent.mkdir(parents=True, exist_ok=True)
            link.unlink(missing_ok=True)
            link.symlink_to(written[0])  # Finder shows it as an alias of the app
            written.append(link)
        return written
    icon, entry = icon_file_path(home), desktop_file_path(home)
    atomic_write(icon, (STATIC_DIR / "icon.svg").read_bytes(), mode=0o644)
    atomic_write(entry, desktop_entry(command, icon), mode=0o644)
    written = [entry, icon]
    if desktop:
        written.append(_install_desktop_icon(entry.read_text(), home))
    return written


def _install_desktop_icon(entry_text: str, home: Path | None) -> Path:
    """A copy of the menu entry on the desktop: executable, and marked trusted where GNOME's gio can say so, which
    file managers want before they launch a .desktop file found on the desktop."""
    path = desktop_icon_path("linux", home)
    atomic_write(path, entry_text, mode=0o755)
    if gio := shutil.which("gio"):
        subprocess.run([gio, "set", str(path), "metadata::trusted", "true"], capture_output=True, timeout=10)
    return path


def uninstall(platform: str = sys.platform, home: Path | None = None) -> list[Path]:
    removed = []
    icon_on_desktop = desktop_icon_path(platform, home)
    if icon_on_desktop.is_symlink() or icon_on_desktop.exists():
        icon_on_desktop.unlink()
        removed.append(icon_on_desktop)
    if platform == "darwin":
        return removed + macos_app.uninstall(home or Path.home())
    for path in (desktop_file_path(home), icon_file_path(home)):
        if path.exists():
            path.unlink()
            removed.append(path)
    return removed


def want_desktop_icon(asked: bool | None) -> bool:
    """--desktop / --no-desktop when given; else ask on a terminal; else no (a script never gets a surprise)."""
    if asked is not None:
        return asked
    if not (sys.stdin.isatty() and sys.stdout.isatty()):
        return False
    try:
        answer = input(f"Also put a Pipedeck icon on your desktop ({desktop_icon_path().parent})? [y/N] ")
    except EOFError:
        return False
    return answer.strip().lower() in ("y", "yes")


def main(command: str, desktop: bool | None = None) -> int:
    if command == "install-launcher":
        on_desktop = want_desktop_icon(desktop)
        written = install(on_desktop)
        where = "as an app" if sys.platform == "darwin" else "in the applications menu"
        where += " and on the desktop" if on_desktop else ""
        exec_line = " ".join(shlex.quote(a) for a in launch_command())
        print(f"Installed Pipedeck {where}:\n" + "\n".join(f"  {p}" for p in written) + f"\nIt runs: {exec_line}")
        return 0
    removed = uninstall()
    if removed:
        print("Removed:\n" + "\n".join(f"  {p}" for p in removed))
    else:
        print("No Pipedeck launcher was installed; nothing to remove.")
    return 0

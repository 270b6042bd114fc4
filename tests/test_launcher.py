"""`pipedeck install-launcher` / `uninstall-launcher`: a valid freedesktop entry and icon in a temporary HOME."""
from __future__ import annotations

import os
import subprocess
import sys

import pytest

from desktop.launcher import quote_exec_arg
from tests.support import ROOT, require


def pipedeck(home, *args, env=None):
    env = {**{k: v for k, v in os.environ.items() if k not in ("XDG_DATA_HOME", "PIPEDECK_LAUNCHER")},
           "HOME": str(home), **(env or {})}
    return subprocess.run([sys.executable, "-m", "desktop", *args], cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=60)


def entry_of(home):
    return home / ".local" / "share" / "applications" / "pipedeck.desktop"


def test_install_writes_valid_desktop_file_and_icon_then_uninstall_removes_them(tmp_path):
    validate = require("desktop-file-validate", "to check the launcher (Debian package desktop-file-utils)")
    launcher = tmp_path / "my checkout" / "pipedeck"
    done = pipedeck(tmp_path, "install-launcher", env={"PIPEDECK_LAUNCHER": str(launcher)})
    assert done.returncode == 0, done.stderr
    entry = entry_of(tmp_path)
    icon = tmp_path / ".local/share/icons/hicolor/scalable/apps/pipedeck.svg"
    text = entry.read_text()
    check = subprocess.run([validate, str(entry)], capture_output=True, text=True)
    assert check.returncode == 0 and not check.stdout.strip(), check.stdout + check.stderr
    assert f'Exec="{launcher}"' in text and "Name=Pipedeck" in text and f"Icon={icon}" in text
    assert icon.read_bytes() == (ROOT / "static" / "icon.svg").read_bytes()
    assert str(entry) in done.stdout

    gone = pipedeck(tmp_path, "uninstall-launcher")
    assert gone.returncode == 0 and str(entry) in gone.stdout
    assert not entry.exists() and not icon.exists()
    again = pipedeck(tmp_path, "uninstall-launcher")
    assert "nothing to remove" in again.stdout


def test_install_without_script_runs_this_python_from_the_checkout(tmp_path):
    require("desktop-file-validate", "to check the launcher (Debian package desktop-file-utils)")
    data_home = tmp_path / "xdg"
    done = pipedeck(tmp_path, "install-launcher", env={"XDG_DATA_HOME": str(data_home)})
    assert done.returncode == 0, done.stderr
    entry = data_home / "applications" / "pipedeck.desktop"
    text = entry.read_text()
    assert f"Exec={sys.executable} -m desktop" in text and f"Path={ROOT}" in text
    assert subprocess.run(["desktop-file-validate", str(entry)], capture_output=True).returncode == 0
    assert not entry_of(tmp_path).exists(), "XDG_DATA_HOME was not respected"


@pytest.mark.parametrize("arg, quoted", [
    ("/usr/bin/pipedeck", "/usr/bin/pipedeck"),
    ("/home/a b/pipedeck", '"/home/a b/pipedeck"'),
    ("/opt/$x/100%", '"/opt/\\\\$x/100%%"'),
    ('/q"uote', '"/q\\\\"uote"'),
])
def test_exec_arguments_are_quoted_by_the_desktop_entry_rules(arg, quoted):
    assert quote_exec_arg(arg) == quoted

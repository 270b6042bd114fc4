"""`pipedeck install-launcher` / `uninstall-launcher`: freedesktop entries (menu, desktop icon) and the macOS app
bundle, written into a temporary HOME and checked with desktop-file-validate and plistlib."""
from __future__ import annotations

import os
import plistlib
import struct
import subprocess
import sys

import pytest

from desktop.launcher import quote_exec_arg
from tests.support import ROOT, require


def pipedeck(home, *args, env=None):
    skip = ("XDG_DATA_HOME", "XDG_CONFIG_HOME", "XDG_DESKTOP_DIR", "PIPEDECK_LAUNCHER")
    env = {**{k: v for k, v in os.environ.items() if k not in skip},
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


def test_desktop_flag_puts_a_valid_executable_icon_in_the_xdg_desktop_folder(tmp_path):
    validate = require("desktop-file-validate", "to check the launcher (Debian package desktop-file-utils)")
    # A localised desktop folder, as xdg-user-dirs writes it: the icon must land there, not in ~/Desktop.
    (tmp_path / ".config").mkdir()
    (tmp_path / ".config" / "user-dirs.dirs").write_text('XDG_DESKTOP_DIR="$HOME/Bureau"\n')
    done = pipedeck(tmp_path, "install-launcher", "--desktop", env={"PIPEDECK_LAUNCHER": "/opt/pipedeck/bin/pipedeck"})
    assert done.returncode == 0, done.stderr
    icon = tmp_path / "Bureau" / "pipedeck.desktop"
    assert icon.read_text() == entry_of(tmp_path).read_text()
    assert os.access(icon, os.X_OK), "file managers launch a desktop entry only when it is executable"
    check = subprocess.run([validate, str(icon)], capture_output=True, text=True)
    assert check.returncode == 0 and not check.stdout.strip(), check.stdout + check.stderr
    assert "on the desktop" in done.stdout and str(icon) in done.stdout
    assert not (tmp_path / "Desktop").exists()

    gone = pipedeck(tmp_path, "uninstall-launcher")
    assert str(icon) in gone.stdout and not icon.exists() and not entry_of(tmp_path).exists()


def test_desktop_icon_goes_to_xdg_desktop_dir_and_is_never_added_unasked(tmp_path):
    require("desktop-file-validate", "to check the launcher (Debian package desktop-file-utils)")
    quiet = pipedeck(tmp_path, "install-launcher")  # no terminal to ask on: menu entry only
    assert quiet.returncode == 0 and entry_of(tmp_path).exists()
    assert not (tmp_path / "Desktop").exists()
    chosen = tmp_path / "my desk"
    done = pipedeck(tmp_path, "install-launcher", "--desktop", env={"XDG_DESKTOP_DIR": str(chosen)})
    assert done.returncode == 0, done.stderr
    assert subprocess.run(["desktop-file-validate", str(chosen / "pipedeck.desktop")]).returncode == 0
    pipedeck(tmp_path, "uninstall-launcher", env={"XDG_DESKTOP_DIR": str(chosen)})
    assert not (chosen / "pipedeck.desktop").exists()


def png_size(data: bytes) -> tuple[int, int]:
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and data[12:16] == b"IHDR"
    return struct.unpack(">II", data[16:24])


def icns_elements(data: bytes) -> dict[bytes, bytes]:
    """The (type -> data) elements of an .icns file, checking every length field on the way (Apple's icns format)."""
    assert data[:4] == b"icns" and struct.unpack(">I", data[4:8])[0] == len(data)
    elements, at = {}, 8
    while at < len(data):
        kind, length = data[at:at + 4], struct.unpack(">I", data[at + 4:at + 8])[0]
        assert length > 8 and at + length <= len(data)
        elements[kind] = data[at + 8:at + length]
        at += length
    return elements


def test_macos_install_builds_an_app_bundle_that_runs_the_installing_command(tmp_path, monkeypatch):
    from desktop import launcher

    recorder = tmp_path / "bin" / "pipedeck"
    recorder.parent.mkdir()
    recorder.write_text(f'#!/bin/sh\nprintf "%s|" "$@" > "{tmp_path}/ran"\n')
    recorder.chmod(0o755)
    monkeypatch.setenv("PIPEDECK_LAUNCHER", str(recorder))
    home = tmp_path / "home"
    written = launcher.install(desktop=True, platform="darwin", home=home)
    app = home / "Applications" / "Pipedeck.app"
    assert written == [app, home / "Desktop" / "Pipedeck.app"]
    info = plistlib.loads((app / "Contents" / "Info.plist").read_bytes())
    assert info["CFBundlePackageType"] == "APPL" and info["CFBundleName"] == "Pipedeck"
    assert info["CFBundleIdentifier"] == "org.pipedeck.Pipedeck" and info["CFBundleInfoDictionaryVersion"] == "6.0"
    assert (app / "Contents" / "PkgInfo").read_bytes() == b"APPL????"
    executable = app / "Contents" / "MacOS" / info["CFBundleExecutable"]
    assert os.access(executable, os.X_OK)
    icons = icns_elements((app / "Contents" / "Resources" / f"{info['CFBundleIconFile']}.icns").read_bytes())
    assert {kind: png_size(png) for kind, png in icons.items()} == {b"ic08": (256, 256), b"ic09": (512, 512)}
    # What a double-click in Finder does: run the bundle's executable; it must start the command that installed it.
    subprocess.run([str(executable), "--port", "5009"], check=True, timeout=10, env={"PATH": "/usr/bin:/bin"})
    assert (tmp_path / "ran").read_text() == "--port|5009|"
    assert (home / "Desktop" / "Pipedeck.app").resolve() == app.resolve()
    assert not (home / ".local").exists(), "no freedesktop files on macOS"

    launcher.install(platform="darwin", home=home)  # again: replaced whole, nothing left beside it
    assert sorted(p.name for p in (home / "Applications").iterdir()) == ["Pipedeck.app"]
    removed = launcher.uninstall(platform="darwin", home=home)
    assert set(removed) == {app, home / "Desktop" / "Pipedeck.app"}
    assert not app.exists() and not (home / "Desktop" / "Pipedeck.app").is_symlink()


def test_macos_bundle_from_a_checkout_starts_in_the_checkout(tmp_path, monkeypatch):
    from desktop import launcher

    monkeypatch.delenv("PIPEDECK_LAUNCHER", raising=False)
    monkeypatch.setattr(sys, "argv", ["-c"])  # not a script: the launcher falls back to this Python
    app = launcher.install(platform="darwin", home=tmp_path)[0]
    script = (app / "Contents" / "MacOS" / "pipedeck").read_text()
    assert f"cd {ROOT} || exit 1" in script and f"exec {sys.executable} -m desktop \"$@\"" in script

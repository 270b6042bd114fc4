"""`install-launcher` on macOS: ~/Applications/Pipedeck.app, a minimal bundle that runs the command that installed it.

Only the standard library, so the layout is built (and tested) the same on Linux."""
from __future__ import annotations

import plistlib
import shlex
import shutil
import struct
import tempfile
from pathlib import Path

from server.config import ROOT

NAME = "Pipedeck"
BUNDLE_ID = "org.pipedeck.Pipedeck"
EXECUTABLE = "pipedeck"
ICON_NAME = "Pipedeck"
ICONS = Path(__file__).resolve().parent / "icons"
# icns element types holding PNG data (Apple's icns format): 256 px and 512 px.
ICNS_TYPES = {256: b"ic08", 512: b"ic09"}


def bundle_path(home: Path) -> Path:
    return home / "Applications" / f"{NAME}.app"


def version() -> str:
    import tomllib  # only when installing

    try:
        return tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["version"]
    except (OSError, KeyError, tomllib.TOMLDecodeError):
        return "0"  # an installed copy without its pyproject (the Nix store has one; other copies may not)


def icns() -> bytes:
    """The icon as an .icns file: a header, then one (type, length, PNG) element per size."""
    elements = b""
    for size, kind in ICNS_TYPES.items():
        png = (ICONS / f"pipedeck-{size}.png").read_bytes()
        elements += kind + struct.pack(">I", 8 + len(png)) + png
    return b"icns" + struct.pack(">I", 8 + len(elements)) + elements


def info_plist() -> bytes:
    return plistlib.dumps({
        "CFBundleDevelopmentRegion": "en",
        "CFBundleDisplayName": NAME,
        "CFBundleExecutable": EXECUTABLE,
        "CFBundleIconFile": ICON_NAME,
        "CFBundleIdentifier": BUNDLE_ID,
        "CFBundleInfoDictionaryVersion": "6.0",
        "CFBundleName": NAME,
        "CFBundlePackageType": "APPL",
        "CFBundleShortVersionString": version(),
        "CFBundleVersion": version(),
        "LSApplicationCategoryType": "public.app-category.productivity",
        "LSMinimumSystemVersion": "11.0",
        "NSHighResolutionCapable": True,
    })


def launcher_script(command: list[str], workdir: Path | None) -> str:
    # Finder starts apps with a bare PATH and no terminal: every path here is absolute.
    lines = ["#!/bin/sh", "# Written by `pipedeck install-launcher`: starts Pipedeck the way it was installed."]
    if workdir is not None:
        lines.append(f"cd {shlex.quote(str(workdir))} || exit 1")
    lines.append("exec " + " ".join(shlex.quote(a) for a in command) + ' "$@"')
    return "\n".join(lines) + "\n"


def _write(path: Path, data: bytes, mode: int) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    path.chmod(mode)


def install(home: Path, command: list[str], workdir: Path | None) -> Path:
    """Build the bundle beside its final place, then swap it in: an app is never seen half-written."""
    target = bundle_path(home)
    target.parent.mkdir(parents=True, exist_ok=True)
    build = Path(tempfile.mkdtemp(prefix=f".{NAME}.app.", dir=target.parent))
    contents = build / "Contents"
    _write(contents / "Info.plist", info_plist(), 0o644)
    _write(contents / "PkgInfo", b"APPL????", 0o644)
    _write(contents / "MacOS" / EXECUTABLE, launcher_script(command, workdir).encode(), 0o755)
    _write(contents / "Resources" / f"{ICON_NAME}.icns", icns(), 0o644)
    build.chmod(0o755)
    old = None
    if target.exists():
        old = target.with_name(f".{NAME}.app.old")
        shutil.rmtree(old, ignore_errors=True)
        target.rename(old)
    build.rename(target)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)
    return target


def uninstall(home: Path) -> list[Path]:
    target = bundle_path(home)
    if not target.exists():
        return []
    shutil.rmtree(target)
    return [target]

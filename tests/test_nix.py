"""The Nix flake, evaluated for real but offline: against the stub nixpkgs in tests/nix, in a private store.

Real nixpkgs cannot be fetched here (no GitHub, no binary cache), so `--override-input nixpkgs path:<stub>`
swaps in a package set modelled on nixpkgs at the locked commit (each attribute read from nixpkgs' source and
recorded in tests/nix/attributes.txt). Every system's package, app, dev shell and check is instantiated, the
stub's trace of what was used must equal that list, and renamed attributes evaluate under either spelling.
"""
from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest

from server import config
from tests.support import ROOT, free_port, require

SYSTEMS = ["x86_64-linux", "aarch64-linux", "x86_64-darwin", "aarch64-darwin"]
LINUX = {"x86_64-linux", "aarch64-linux"}
# What the flake's source filter keeps (nix/source.nix), plus the flake itself.
FLAKE_FILES = ["flake.nix", "flake.lock", "nix", "pyproject.toml", "pipedeck", "desktop", "server", "static", "tests",
               "README.md"]
TRACE = re.compile(r"^trace: nixpkgs-attribute: (\S+)$", re.M)


@dataclass
class Nix:
    """nix with flakes on, a store of its own under the test's tmp folder, and no network."""
    exe: str
    base: Path
    flake: Path
    stub: Path
    traced: set = field(default_factory=set)

    def run(self, *args: str, check: bool = True, record: bool = True) -> subprocess.CompletedProcess:
        """Run nix; `record` adds the stub attributes it used to `traced` (not for runs against a changed stub)."""
        cmd = [self.exe, "--extra-experimental-features", "nix-command flakes", "--store", str(self.base / "store"),
               "--option", "sandbox", "false", "--option", "build-users-group", "", "--option", "substituters", "",
               "--option", "flake-registry", "", *args]
        env = {**os.environ, "HOME": str(self.base / "home"), "XDG_CACHE_HOME": str(self.base / "cache"),
               "XDG_CONFIG_HOME": str(self.base / "config"), "NIX_CONFIG": ""}
        proc = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=120)
        if record:
            self.traced |= set(TRACE.findall(proc.stderr))
        if check and proc.returncode != 0:
            raise AssertionError(f"{' '.join(args)} failed:\n{proc.stderr[-4000:]}")
        return proc

    def flake_args(self, attr: str = "", stub: Path | None = None, flake: Path | None = None) -> list[str]:
        return ["--override-input", "nixpkgs", f"path:{stub or self.stub}",
                f"path:{flake or self.flake}{'#' + attr if attr else ''}"]

    def variant(self, name: str, of: Path, path: str, old: str, new: str) -> Path:
        """A copy of the flake or the stub with one edit in one file (the edit must apply)."""
        changed = self.base / name
        if not changed.exists():
            shutil.copytree(of, changed)
            target = changed / path
            assert old in target.read_text(), f"{old!r} not in {path}"
            target.write_text(target.read_text().replace(old, new, 1))
        return changed

    def eval_json(self, attr: str, apply: str | None = None):
        extra = ["--apply", apply] if apply else []
        return json.loads(self.run("eval", "--json", *extra, *self.flake_args(attr)).stdout)

    def derivation(self, attr: str) -> dict:
        (drv,) = json.loads(self.run("show-derivation", *self.flake_args(attr)).stdout).values()
        return drv


@pytest.fixture(scope="module")
def nix(tmp_path_factory) -> Nix:
    exe = require("nix", "to evaluate flake.nix offline against the stub nixpkgs (Debian package nix-bin)")
    base = tmp_path_factory.mktemp("nix")
    flake, stub = base / "flake", base / "stub"
    # A copy, not the checkout: a flake inside a git repository sees only committed files, and the copy
    # leaves out .venv and data. path: flakes read the folder as it is.
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc", ".pytest_cache")
    for name in FLAKE_FILES:
        src = ROOT / name
        (shutil.copytree(src, flake / name, ignore=ignore) if src.is_dir() else
         (flake.mkdir(exist_ok=True), shutil.copy2(src, flake / name)))
    shutil.copytree(ROOT / "tests" / "nix", stub, ignore=ignore)
    return Nix(exe, base, flake, stub)


@pytest.fixture(scope="module")
def checked(nix):
    """`nix flake check --no-build`: every output of every system evaluated and instantiated."""
    return nix.run("flake", "check", "--no-build", *nix.flake_args())


@pytest.mark.nix
def test_every_nix_file_parses():
    exe = require("nix-instantiate", "to parse the flake (Debian package nix-bin)")
    files = [ROOT / "flake.nix", *sorted((ROOT / "nix").glob("*.nix")), *sorted((ROOT / "tests" / "nix").glob("*.nix"))]
    for f in files:
        proc = subprocess.run([exe, "--parse", str(f)], capture_output=True, text=True)
        assert proc.returncode == 0, f"{f}: {proc.stderr}"


def test_lock_pins_nixpkgs_to_one_commit_of_the_branch_flake_nix_names():
    lock = json.loads((ROOT / "flake.lock").read_text())
    assert lock["version"] == 7 and lock["nodes"]["root"]["inputs"] == {"nixpkgs": "nixpkgs"}
    locked, original = lock["nodes"]["nixpkgs"]["locked"], lock["nodes"]["nixpkgs"]["original"]
    assert locked["type"] == "github" and (locked["owner"], locked["repo"]) == ("NixOS", "nixpkgs")
    assert re.fullmatch(r"[0-9a-f]{40}", locked["rev"])
    assert re.fullmatch(r"sha256-[A-Za-z0-9+/]{43}=", locked["narHash"])
    assert re.fullmatch(r"nixos-\d\d\.\d\d", original["ref"]), "a stable release branch"
    url = re.search(r'inputs\.nixpkgs\.url = "([^"]+)"', (ROOT / "flake.nix").read_text()).group(1)
    assert url == f"github:NixOS/nixpkgs/{original['ref']}"


def attribute_table() -> dict[str, list[str]]:
    """tests/nix/attributes.txt: attribute, then the nixpkgs file, the commit it was read at and the version."""
    rows = [line.split() for line in (ROOT / "tests" / "nix" / "attributes.txt").read_text().splitlines()
            if line.strip() and not line.startswith("#")]
    return {row[0]: row[1:] for row in rows}


@pytest.mark.nix
def test_flake_check_evaluates_every_output_against_the_stub(nix, checked):
    assert checked.returncode == 0
    # nixos-25.11 spells it fasthtml; python-fasthtml is the later rename (see the next test).
    assert "nixpkgs-attribute: python3Packages.fasthtml" in checked.stderr
    for system in SYSTEMS:
        assert nix.derivation(f"checks.{system}.tests")["env"]["pname"] == "pipedeck-tests"


@pytest.mark.nix
@pytest.mark.parametrize("renamed", [False, True], ids=["fasthtml-as-at-the-pin", "python-fasthtml-after-rename"])
def test_flake_evaluates_on_either_side_of_the_fasthtml_rename(nix, renamed):
    stub = nix.variant("stub-renamed", nix.stub, "stub.nix", "renamedFasthtml = false;",
                       "renamedFasthtml = true;") if renamed else nix.stub
    proc = nix.run("flake", "check", "--no-build", *nix.flake_args(stub=stub), record=False)
    used = set(TRACE.findall(proc.stderr))
    assert ("python3Packages.python-fasthtml" in used) == renamed
    assert ("python3Packages.fasthtml" in used) == (not renamed)
    for system in SYSTEMS:  # every system's app still points at its wrapper
        app = json.loads(nix.run("eval", "--json", *nix.flake_args(f"apps.{system}.default.program", stub=stub),
                                 record=False).stdout)
        assert app.endswith("/bin/pipedeck")


@pytest.mark.nix
def test_missing_attribute_fails_with_a_message_naming_it_and_what_to_do(nix):
    stub = nix.variant("stub-without-fasthtml", nix.stub, "stub.nix",
                       '(if renamedFasthtml then "python-fasthtml" else "fasthtml")', "")
    proc = nix.run("eval", "--raw", *nix.flake_args("packages.x86_64-linux.default.drvPath", stub=stub), check=False,
                   record=False)
    assert proc.returncode != 0
    message = " ".join(proc.stderr.split())
    assert "needs python3Packages.python-fasthtml or python3Packages.fasthtml, which the nixpkgs in flake.lock " \
           "does not have" in message, proc.stderr
    assert "add the new name" in message and "tests/nix/attributes.txt" in message


@pytest.mark.nix
def test_app_runs_the_packaged_wrapper_on_every_system(nix, checked):
    apps = nix.eval_json("apps", "a: builtins.mapAttrs (s: x: x.default) a")
    packages = nix.eval_json("packages", "p: builtins.mapAttrs (s: x: { default = x.default.outPath; "
                                         "pipedeck = x.pipedeck.outPath; inherit (x.default) name meta; }) p")
    assert sorted(apps) == sorted(packages) == sorted(SYSTEMS)
    for system in SYSTEMS:
        pkg = packages[system]
        assert apps[system] == {"type": "app", "program": f"{pkg['default']}/bin/pipedeck"}
        assert pkg["default"] == pkg["pipedeck"] and pkg["name"].startswith("pipedeck-")
        assert pkg["meta"]["mainProgram"] == "pipedeck" and system in pkg["meta"]["platforms"]


@pytest.mark.nix
def test_wrapper_runs_desktop_with_pinned_python_and_ollama(nix, checked):
    drv = nix.derivation("packages.x86_64-linux.default")
    script = drv["env"]["installPhase"]
    assert "cp -r desktop server static $share/" in script
    assert re.search(r"makeWrapper /nix/store/\S+-pipedeck-python-3\.13\.0/bin/python \$out/bin/pipedeck", script)
    assert '--add-flags "-m desktop"' in script and "--prefix PYTHONPATH : $share" in script
    assert re.search(r"--prefix PATH : /nix/store/\S+-ollama-[\d.]+/bin ", script)
    assert "--set-default PIPEDECK_START_OLLAMA 1" in script
    assert drv["env"]["version"] == tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["version"]
    python = nix.derivation("packages.x86_64-linux.default.python")
    assert '"${qtWrapperArgs[@]}"' in python["env"]["installPhase"]
    assert any("qtwebengine" in d for d in python["inputDrvs"])
    for system in SYSTEMS:
        script = nix.derivation(f"packages.{system}.default")["env"]["installPhase"]
        # `pipedeck install-launcher` (a menu entry on Linux, an app bundle on macOS) points at this wrapper.
        assert "--set-default PIPEDECK_LAUNCHER $out/bin/pipedeck" in script, system


@pytest.mark.nix
def test_macos_gets_the_cocoa_webview_inputs_and_linux_gets_qt(nix, checked):
    cocoa = ["pyobjc-core", "pyobjc-framework-Cocoa", "pyobjc-framework-WebKit", "pyobjc-framework-Quartz",
             "pyobjc-framework-Security"]
    for system in SYSTEMS:
        env = nix.derivation(f"packages.{system}.default.python.env")["env"]["paths"]
        inputs = nix.derivation(f"packages.{system}.default.python")["inputDrvs"]
        if system in LINUX:
            assert "-pyside6" in env and "-qtpy" in env and not any(f"-{p}" in env for p in cocoa)
            assert any("qtwebengine" in d for d in inputs) and any("wrap-qt6-apps-hook" in d for d in inputs)
        else:
            assert all(f"-{p}" in env for p in cocoa) and "-pyside6" not in env, system
            assert not any("qt" in d.split("-", 1)[1] for d in inputs), "Qt only on Linux"
        assert "-pywebview" in env and "-watchfiles" in env and "-scipy" in env


@pytest.mark.nix
def test_dev_shell_has_the_test_tools_and_points_pipedeck_at_its_python(nix, checked):
    for system in SYSTEMS:
        env = nix.derivation(f"devShells.{system}.default")["env"]
        assert env["PIPEDECK_PYTHON"].endswith("-pipedeck-python-dev-3.13.0/bin/python")
        assert ("PIPEDECK_CHROMIUM" in env) == (system in LINUX)
        if system in LINUX:
            assert re.fullmatch(r"/nix/store/\S+-chromium-[\d.]+/bin/chromium", env["PIPEDECK_CHROMIUM"])
            for tool in ("xorg-server", "xdotool", "imagemagick"):  # the window test's Xvfb, xdotool, import
                assert f"-{tool}-" in env["nativeBuildInputs"]


@pytest.mark.nix
def test_check_runs_the_suite_with_the_window_tools_and_without_the_nix_tests(nix, checked):
    linux = nix.derivation("checks.x86_64-linux.tests")["env"]
    assert '$PIPEDECK_PYTHON -m pytest -q -p no:cacheprovider -m "not nix" tests' in linux["checkPhase"]
    assert linux["CI"] == "true" and linux["doCheck"] == "1" and linux["PIPEDECK_CHROMIUM"].endswith("/bin/chromium")
    # Every package of nix/check-tools.nix: mount and prlimit (util-linux), xdg-open (xdg-utils) included.
    for tool in ("xorg-server", "xdotool", "imagemagick", "util-linux", "xdg-utils", "desktop-file-utils",
                 "chromium"):
        assert f"-{tool}-" in linux["nativeBuildInputs"], tool
    assert "-pipedeck-python-dev-" in linux["nativeBuildInputs"]
    assert linux["postPatch"] == "patchShebangs pipedeck", "the sandbox has no /usr/bin/env"
    assert linux["src"].endswith("-pipedeck-check-source")  # nix/source.nix with checks = true: the README too
    # No GL driver in the sandbox: Mesa's software rasteriser, found through libglvnd's variables.
    mesa = re.fullmatch(r"(/nix/store/\S+-mesa-[\d.]+)/lib/dri", linux["LIBGL_DRIVERS_PATH"]).group(1)
    assert linux["__EGL_VENDOR_LIBRARY_FILENAMES"] == f"{mesa}/share/glvnd/egl_vendor.d/50_mesa.json"
    assert f"export LD_LIBRARY_PATH={mesa}/lib${{LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}}" in linux["checkPhase"]
    assert re.fullmatch(r"/nix/store/\S+-fonts\.conf", linux["FONTCONFIG_FILE"])
    darwin = nix.derivation("checks.aarch64-darwin.tests")["env"]
    assert "CI" not in darwin and "PIPEDECK_CHROMIUM" not in darwin and "LIBGL_DRIVERS_PATH" not in darwin
    assert "mesa" not in darwin["checkPhase"]
    assert darwin["__darwinAllowLocalNetworking"] == "1"


@pytest.mark.nix
def test_stub_fails_loudly_when_the_flake_uses_an_attribute_it_does_not_have(nix):
    """A dependency added to the flake but not to the stub (and so not checked against nixpkgs) fails."""
    changed = nix.base / "flake-with-requests"
    shutil.copytree(nix.flake, changed)
    packages = changed / "nix" / "python-packages.nix"
    packages.write_text(packages.read_text().replace('    "loguru"\n', '    "loguru"\n    "requests"\n', 1))
    proc = nix.run("flake", "check", "--no-build", "--override-input", "nixpkgs", f"path:{nix.stub}",
                   f"path:{changed}", check=False)
    assert proc.returncode != 0
    assert "needs python3Packages.requests, which the nixpkgs in flake.lock does not have" in proc.stderr, proc.stderr


@pytest.mark.nix
def test_stub_provides_exactly_the_committed_attributes_and_the_flake_uses_them_all(nix, checked):
    table = attribute_table()
    committed = list(table)
    assert committed == sorted(committed) and len(committed) == len(set(committed))
    for name, (file, commit, version) in table.items():  # where each was checked against nixpkgs' source
        assert file.startswith(("pkgs/", "lib/")) and re.fullmatch(r"[0-9a-f]{40}|-", commit) and version, name
    provided = json.loads(nix.run("eval", "--json", f"path:{nix.stub}#attributeNames").stdout)
    assert provided == committed
    # Every evaluation above (flake check, the outputs' attributes) traced what it touched.
    nix.eval_json("packages.x86_64-linux.default.meta.platforms")
    assert nix.traced == set(committed), (
        f"unused by the flake: {sorted(set(committed) - nix.traced)}; not in the list: {sorted(nix.traced - set(committed))}")


@pytest.mark.parametrize("env, expected", [
    ({"XDG_DATA_HOME": "{tmp}/xdg"}, ("{tmp}/xdg/pipedeck/data", "{tmp}/xdg/pipedeck/downloads")),
    ({"HOME": "{tmp}/home"}, ("{tmp}/home/.local/share/pipedeck/data", "{tmp}/home/.local/share/pipedeck/downloads")),
    ({"XDG_DATA_HOME": "{tmp}/xdg", "PIPEDECK_DATA_DIR": "{tmp}/mine", "PIPEDECK_DOWNLOADS_DIR": "{tmp}/out"},
     ("{tmp}/mine", "{tmp}/out")),
])
def test_run_from_the_nix_store_state_goes_to_xdg_folders(tmp_path, monkeypatch, env, expected):
    for name in ("XDG_DATA_HOME", "PIPEDECK_DATA_DIR", "PIPEDECK_DOWNLOADS_DIR"):
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value.format(tmp=tmp_path))
    monkeypatch.setattr(config, "ROOT", Path("/nix/store/0123456789abcdfghijklmnpqrsvwxyz-pipedeck-0.1.0/share/pipedeck"))
    cfg = config.Config()
    assert (str(cfg.data_dir), str(cfg.downloads_dir)) == tuple(e.format(tmp=tmp_path) for e in expected)


def test_run_from_a_checkout_state_stays_in_the_checkout(tmp_path, monkeypatch):
    for name in ("PIPEDECK_DATA_DIR", "PIPEDECK_DOWNLOADS_DIR"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    monkeypatch.setattr(config, "ROOT", tmp_path / "checkout")
    (tmp_path / "checkout").mkdir()
    assert config.default_data_dir() == tmp_path / "checkout" / "data"
    assert config.default_downloads_dir() == tmp_path / "checkout" / "downloads"


def test_launcher_uses_the_dev_shells_python_instead_of_uv(tmp_path):
    """`nix develop -c ./pipedeck test`: the flake's Python runs pytest; no uv, no .venv set-up."""
    fake = tmp_path / "python"
    fake.write_text(f'#!/bin/sh\necho "$@" > {tmp_path}/args\n')
    fake.chmod(0o755)
    env = {"PATH": os.environ["PATH"], "PIPEDECK_PYTHON": str(fake), "HOME": str(tmp_path)}
    proc = subprocess.run([str(ROOT / "pipedeck"), "test", "-k", "smoke"], env=env, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    assert (tmp_path / "args").read_text().split() == ["-m", "pytest", "-k", "smoke"]


def test_the_installed_layout_runs_from_its_share_folder_alone(tmp_path):
    """What nix/package.nix installs (desktop/, server/, static/ byte-compiled in share/pipedeck, run with
    PYTHONPATH from another folder) is the whole app: nothing reads the checkout's other files."""
    share = tmp_path / "share" / "pipedeck"
    for name in ("desktop", "server", "static"):
        shutil.copytree(ROOT / name, share / name, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    subprocess.run([sys.executable, "-m", "compileall", "-q", str(share / "desktop"), str(share / "server")], check=True)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    clean = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    probe = subprocess.run([sys.executable, "-c", "import desktop"], cwd=elsewhere, env=clean, capture_output=True)
    assert probe.returncode != 0, "the checkout must not be importable from elsewhere, or this test proves nothing"
    env = {**clean, "PYTHONPATH": str(share), "PIPEDECK_DATA_DIR": str(tmp_path / "data"),
           "PIPEDECK_DOWNLOADS_DIR": str(tmp_path / "downloads")}
    proc = subprocess.Popen([sys.executable, "-m", "desktop", "serve", "--port", str(free_port())], cwd=elsewhere,
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        lines = []
        for line in proc.stdout:
            lines.append(line)
            if m := re.search(r"Pipedeck ready: (\S+)", line):
                break
        assert m, "".join(lines)
        base = m.group(1).split("/", 3)[:3]
        with httpx.Client(base_url="/".join(base), headers={"Origin": "/".join(base)}, timeout=30,
                          follow_redirects=True) as client:
            assert client.get(m.group(1)).status_code == 200
            home = client.get("/")
            assert home.status_code == 200 and "htmx" in home.text
            assert client.get("/static/vendor/htmx.min.js").status_code == 200
    finally:
        proc.terminate()
        proc.wait(15)
    assert (tmp_path / "data" / "pipedeck.db").exists()


def nix_eval(expression: str):
    exe = require("nix-instantiate", "to read the flake's lists (Debian package nix-bin)")
    proc = subprocess.run([exe, "--eval", "--strict", "--json", "-E", expression], cwd=ROOT, capture_output=True,
                          text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


@pytest.mark.nix
def test_every_top_level_file_a_test_reads_is_in_the_checks_source():
    """nix/source-files.nix feeds both the check's source and CI's sandbox copy: a test reading a file the check's
    source leaves out would fail in `nix flake check` only."""
    kept = set(nix_eval("with import ./nix/source-files.nix; app ++ checks"))
    read = set()
    for test in (ROOT / "tests").glob("*.py"):
        read |= set(re.findall(r'ROOT / "([\w.-]+)"', test.read_text()))
    read -= {"test-artifacts"}  # written by tests, not read
    assert "README.md" in read and read <= kept, f"not in nix/source-files.nix: {sorted(read - kept)}"
    assert "README.md" not in nix_eval("(import ./nix/source-files.nix).app"), "the app's source needs no README"


@pytest.mark.nix
def test_every_program_a_test_runs_is_in_the_checks_tool_list():
    """nix/check-tools.nix feeds both the check's inputs and CI's sandbox PATH: a test calling a program it
    does not list would fail in `nix flake check`."""
    listed = set(nix_eval("with import ./nix/check-tools.nix; builtins.concatMap (t: t.commands) (all ++ linux)"))
    called = set()
    for test in (ROOT / "tests").glob("*.py"):
        text = test.read_text()
        called |= set(re.findall(r'require\("([^"/]+)"', text))
        called |= set(re.findall(r'(?:run|Popen)\(\[\s*"([A-Za-z][\w-]*)"', text))
    called -= {"nix", "nix-instantiate"}  # the evaluation tests: marker "nix", run by .ci/run, not in the check
    assert called and called <= listed, f"not in nix/check-tools.nix: {sorted(called - listed)}"


@pytest.mark.nix
def test_nixpkgs_python_versions_name_the_file_and_commit_for_every_package():
    rows = {}
    for line in (ROOT / "nix" / "python-versions.txt").read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            spec, _, source = line.partition("#")
            name, version = spec.strip().split("==")
            file, commit, how = source.split()[:3]
            assert file.startswith("pkgs/development/python-modules/") and file.endswith(".nix"), name
            assert re.fullmatch(r"[0-9a-f]{40}|-", commit) and how in ("read", "branch") and version, name
            rows[name.lower()] = version
    lists = nix_eval("with import ./nix/python-packages.nix; map (p: if builtins.isList p then builtins.head p "
                     "else p) (app ++ qt ++ test)")
    assert sorted(set(lists) - set(rows)) == [], "every package the flake installs on Linux has its version"

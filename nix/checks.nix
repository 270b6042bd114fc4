# `nix flake check`: the test suite inside the build sandbox. No network: Botify and Ollama are the fakes in
# tests/fakes on loopback; the window test starts its own Xvfb. Every program a test runs comes from
# nix/check-tools.nix (CI reproduces this sandbox with exactly those: nix/sandbox-check). The flake's
# evaluation tests (marker "nix") need nix itself, which the sandbox does not have: .ci/run runs them.
{ lib, stdenv, callPackage, makeFontsConf, dejavu_fonts, pkgs, src }:
let
  mesa = pick pkgs [ "mesa" ];
  python = callPackage ./python.nix { withTests = true; };
  linux = stdenv.hostPlatform.isLinux;
  pick = import ./pick.nix "";
in
stdenv.mkDerivation {
  pname = "pipedeck-tests";
  version = "0";
  inherit src;
  nativeBuildInputs = [ python ] ++ import ./tools.nix { inherit lib stdenv pkgs; };
  # The sandbox has no /usr/bin/env: `./pipedeck` (run by a test) gets the store's bash.
  postPatch = "patchShebangs pipedeck";
  dontConfigure = true;
  dontBuild = true;
  doCheck = true;
  # The tests' servers listen on 127.0.0.1; macOS' sandbox allows that only when asked.
  __darwinAllowLocalNetworking = true;
  env = {
    PIPEDECK_PYTHON = "${python}/bin/python";
    # The sandbox has no system fonts; the window and browser screenshots need some.
    FONTCONFIG_FILE = "${makeFontsConf { fontDirectories = [ dejavu_fonts ]; }}";
  } // lib.optionalAttrs linux {
    PIPEDECK_CHROMIUM = "${pick pkgs [ "chromium" ]}/bin/chromium";
    # As in .ci/run: a missing tool fails the check instead of skipping (Linux has them all).
    CI = "true";
    # Chromium's own sandbox (inside Qt WebEngine) cannot start inside the build sandbox.
    QTWEBENGINE_DISABLE_SANDBOX = "1";
    # The sandbox has no /run/opengl-driver: Mesa's software rasteriser gives Qt working GL, as Debian's does in
    # CI (tests/test_graphics.py breaks it on purpose to test the fallback).
    LIBGL_DRIVERS_PATH = "${mesa}/lib/dri";
    __EGL_VENDOR_LIBRARY_FILENAMES = "${mesa}/share/glvnd/egl_vendor.d/50_mesa.json";
  };
  checkPhase = ''
    runHook preCheck
    export HOME=$TMPDIR XDG_DATA_HOME=$TMPDIR/xdg-data XDG_RUNTIME_DIR=$TMPDIR/xdg-runtime
    mkdir -p $XDG_RUNTIME_DIR && chmod 700 $XDG_RUNTIME_DIR
    ${lib.optionalString linux "export LD_LIBRARY_PATH=${mesa}/lib\${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"}
    $PIPEDECK_PYTHON -m pytest -q -p no:cacheprovider -m "not nix" tests
    runHook postCheck
  '';
  installPhase = ''
    runHook preInstall
    echo "tests passed" > $out
    runHook postInstall
  '';
}

# `nix develop`: the app's Python plus the test tools, so `nix develop -c ./pipedeck test` runs the suite
# with the pinned packages (./pipedeck uses $PIPEDECK_PYTHON instead of setting up .venv with uv).
{ lib, stdenv, mkShell, callPackage, ollama, desktop-file-utils, chromium, xorg, xdotool, imagemagick }:
let
  python = callPackage ./python.nix { withTests = true; };
  # The browser and window tests' tools: nixpkgs' chromium is Linux-only, so on macOS those tests skip.
  linuxTools = lib.optionals stdenv.hostPlatform.isLinux [ chromium xorg.xorgserver xdotool imagemagick ];
in
mkShell {
  packages = [ python ollama desktop-file-utils ] ++ linuxTools;
  env = {
    PIPEDECK_PYTHON = "${python}/bin/python";
  } // lib.optionalAttrs stdenv.hostPlatform.isLinux {
    PIPEDECK_CHROMIUM = "${chromium}/bin/chromium";
  };
}

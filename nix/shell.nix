# `nix develop`: the app's Python plus the test tools, so `nix develop -c ./pipedeck test` runs the suite
# with the pinned packages (./pipedeck uses $PIPEDECK_PYTHON instead of setting up .venv with uv).
{ lib, stdenv, mkShell, callPackage, pkgs }:
let
  python = callPackage ./python.nix { withTests = true; };
  pick = import ./pick.nix "";
in
mkShell {
  packages = [ python (pick pkgs [ "ollama" ]) ] ++ import ./tools.nix { inherit lib stdenv pkgs; };
  env = {
    PIPEDECK_PYTHON = "${python}/bin/python";
  } // lib.optionalAttrs stdenv.hostPlatform.isLinux {
    PIPEDECK_CHROMIUM = "${pick pkgs [ "chromium" ]}/bin/chromium";
  };
}

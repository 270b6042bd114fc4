# The files the app and its test suite read, copied to the store on their own.
{ root }:
let
  # flake.nix, flake.lock and nix/: tests read them (tests/test_nix.py checks the pin without nix).
  keep = [ "desktop" "server" "static" "tests" "pyproject.toml" "pipedeck" "flake.nix" "flake.lock" "nix" ];
  rootString = toString root;
  topLevel = path: builtins.head (builtins.split "/" (builtins.substring
    (builtins.stringLength rootString + 1) (-1) (toString path)));
  junk = name: name == "__pycache__" || name == ".pytest_cache" || builtins.match ".*\\.pyc" name != null;
in
builtins.path {
  name = "pipedeck-source";
  path = root;
  filter = path: type: builtins.elem (topLevel path) keep && !junk (baseNameOf path);
}

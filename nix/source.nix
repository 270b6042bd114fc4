# The files the app (and, with `checks = true`, its test suite) reads, copied to the store on their own.
{ root, checks ? false }:
let
  files = import ./source-files.nix;
  keep = files.app ++ (if checks then files.checks else [ ]);
  rootString = toString root;
  topLevel = path: builtins.head (builtins.split "/" (builtins.substring
    (builtins.stringLength rootString + 1) (-1) (toString path)));
  junk = name: name == "__pycache__" || name == ".pytest_cache" || builtins.match ".*\\.pyc" name != null;
in
builtins.path {
  name = if checks then "pipedeck-check-source" else "pipedeck-source";
  path = root;
  filter = path: type: builtins.elem (topLevel path) keep && !junk (baseNameOf path);
}

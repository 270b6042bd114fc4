# The first of `names` (dotted paths) that the package set has. nixpkgs renames packages (fasthtml became
# python-fasthtml after nixos-25.11), so each attribute lists its spellings, newest first. When none exists
# evaluation stops with a message that names them and says what to do, instead of nixpkgs' bare
# "attribute missing".
where: set: names:
let
  path = name: builtins.filter builtins.isString (builtins.split "\\." name);
  has = s: p: p == [ ] || (builtins.isAttrs s && builtins.hasAttr (builtins.head p) s
    && has (builtins.getAttr (builtins.head p) s) (builtins.tail p));
  get = s: p: builtins.foldl' (acc: n: builtins.getAttr n acc) s p;
  found = builtins.filter (name: has set (path name)) names;
  spelled = builtins.concatStringsSep " or " (map (name: "${where}${name}") names);
in
if found != [ ] then get set (path (builtins.head found))
else throw ''
  Pipedeck's flake needs ${spelled}, which the nixpkgs in flake.lock does not have.
  If nixpkgs renamed it, add the new name (newest first) where the flake lists it in nix/*.nix, check it
  against nixpkgs at the locked commit and record it in tests/nix/attributes.txt; if you moved the nixpkgs
  input, `git checkout flake.lock` returns to the tested commit.''

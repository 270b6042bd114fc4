# The packages behind nix/check-tools.nix for this system, resolved in nixpkgs (nix/pick.nix names a missing one).
{ lib, stdenv, pkgs }:
let
  tools = import ./check-tools.nix;
  pick = import ./pick.nix "";
in
map (tool: pick pkgs tool.attrs) (tools.all ++ lib.optionals stdenv.hostPlatform.isLinux tools.linux)

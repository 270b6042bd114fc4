{
  description = "Pipedeck: calm, resumable step-by-step data workflows in a desktop window";

  # One commit of a stable branch, recorded in flake.lock; `nix flake update` moves it.
  inputs.nixpkgs.url = "github:NixOS/nixpkgs/nixos-25.11";

  outputs = { self, nixpkgs }:
    let
      systems = [ "x86_64-linux" "aarch64-linux" "x86_64-darwin" "aarch64-darwin" ];
      forAllSystems = f: nixpkgs.lib.genAttrs systems (system: f system nixpkgs.legacyPackages.${system});
      # Only what the app and its tests read: editing the README or a bench script rebuilds nothing.
      src = import ./nix/source.nix { root = ./.; };
      checkSrc = import ./nix/source.nix { root = ./.; checks = true; };  # plus what only tests read (the README)
    in
    {
      packages = forAllSystems (system: pkgs: rec {
        pipedeck = pkgs.callPackage ./nix/package.nix { inherit src pkgs; };
        default = pipedeck;
      });

      apps = forAllSystems (system: pkgs: {
        default = {
          type = "app";
          program = "${self.packages.${system}.pipedeck}/bin/pipedeck";
        };
      });

      devShells = forAllSystems (system: pkgs: {
        default = pkgs.callPackage ./nix/shell.nix { inherit pkgs; };
      });

      checks = forAllSystems (system: pkgs: {
        tests = pkgs.callPackage ./nix/checks.nix { inherit pkgs; src = checkSrc; };
      });
    };
}

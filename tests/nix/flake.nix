{
  description = "Stub nixpkgs for evaluating Pipedeck's flake offline: exactly the attributes it uses";

  # Every attribute is a trivial derivation or a small function (stub.nix); any other attribute is missing,
  # so evaluation fails loudly. Each use is traced ("nixpkgs-attribute: <path>") for tests/test_nix.py.
  outputs = { self }:
    let stub = import ./stub.nix;
    in {
      inherit (stub) lib legacyPackages attributeNames;
    };
}

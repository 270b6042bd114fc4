# The top-level files and folders the flake's sources keep (nix/source.nix); nix/sandbox-check copies the same.
{
  # flake.nix, flake.lock and nix/: tests read them (tests/test_nix.py checks the pin without nix).
  app = [ "desktop" "server" "static" "tests" "pyproject.toml" "pipedeck" "flake.nix" "flake.lock" "nix" ];
  # What only the check adds: README.md (tests/test_user_workflows_docs.py compares its generated section).
  # Kept out of the app's source, so editing the README rebuilds the check and nothing else.
  checks = [ "README.md" ];
}

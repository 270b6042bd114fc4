# The programs the test suite runs, by the nixpkgs package that brings them (spellings newest first, see
# nix/pick.nix). nix/checks.nix and nix/shell.nix put these packages on PATH; CI's reproduction of the build
# sandbox (nix/sandbox-check) puts exactly these commands, and stdenv's, on PATH and nothing else.
{
  all = [
    { attrs = [ "desktop-file-utils" ]; commands = [ "desktop-file-validate" ]; }
  ];
  # Browser and window tests; nixpkgs' chromium is Linux-only, so on macOS those tests skip.
  linux = [
    { attrs = [ "chromium" ]; commands = [ "chromium" ]; }
    { attrs = [ "xorg-server" "xorg.xorgserver" ]; commands = [ "Xvfb" ]; }
    { attrs = [ "xdotool" ]; commands = [ "xdotool" ]; }
    { attrs = [ "imagemagick" ]; commands = [ "import" "identify" "convert" ]; }
    { attrs = [ "util-linux" ]; commands = [ "prlimit" "setpriv" "mount" "umount" ]; }
    { attrs = [ "xdg-utils" ]; commands = [ "xdg-open" ]; }
  ];
}

# Python with Pipedeck's packages. On Linux it is wrapped so Qt (the window's web engine) finds its plugins;
# on macOS the window is pywebview's Cocoa backend (WKWebView), and Qt stays out.
{ lib, stdenv, python3, qt6, makeWrapper, withTests ? false }:
let
  packages = import ./python-packages.nix;
  pick = import ./pick.nix "python3Packages.";
  resolve = ps: map (p: pick ps (if builtins.isList p then p else [ p ]));
  linux = stdenv.hostPlatform.isLinux;
  env = python3.withPackages (ps: resolve ps (packages.app ++ (if linux then packages.qt else packages.cocoa)
    ++ lib.optionals withTests packages.test));
in
stdenv.mkDerivation {
  pname = if withTests then "pipedeck-python-dev" else "pipedeck-python";
  version = python3.version;
  dontUnpack = true;
  nativeBuildInputs = [ makeWrapper ] ++ lib.optionals linux [ qt6.wrapQtAppsHook ];
  # nixpkgs' pyside6 links Qt WebEngine on Linux only (see its package).
  buildInputs = lib.optionals linux [ qt6.qtbase qt6.qtwayland qt6.qtwebengine ];
  # The wrapper below already carries the hook's Qt settings (qtWrapperArgs); fixup must not wrap it twice.
  dontWrapQtApps = true;
  installPhase = ''
    runHook preInstall
    mkdir -p $out/bin
    makeWrapper ${env.interpreter} $out/bin/python ${lib.optionalString linux ''"''${qtWrapperArgs[@]}"''}
    runHook postInstall
  '';
  passthru = { inherit env; };
}

# Python with Pipedeck's packages, wrapped so Qt (the window's web engine) finds its plugins.
{ lib, stdenv, python3, qt6, makeWrapper, withTests ? false }:
let
  packages = import ./python-packages.nix;
  env = python3.withPackages (ps: packages.app ps ++ lib.optionals withTests (packages.test ps));
in
stdenv.mkDerivation {
  pname = if withTests then "pipedeck-python-dev" else "pipedeck-python";
  version = python3.version;
  dontUnpack = true;
  nativeBuildInputs = [ makeWrapper qt6.wrapQtAppsHook ];
  # nixpkgs' pyside6 links Qt WebEngine on Linux only (see its package); on macOS the app falls back to the browser.
  buildInputs = [ qt6.qtbase ] ++ lib.optionals stdenv.hostPlatform.isLinux [ qt6.qtwayland qt6.qtwebengine ];
  # The wrapper below already carries the hook's Qt settings (qtWrapperArgs); fixup must not wrap it twice.
  dontWrapQtApps = true;
  installPhase = ''
    runHook preInstall
    mkdir -p $out/bin
    makeWrapper ${env.interpreter} $out/bin/python "''${qtWrapperArgs[@]}"
    runHook postInstall
  '';
  passthru = { inherit env; };
}

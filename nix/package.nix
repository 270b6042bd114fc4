# The app: desktop/, server/ and static/ in $out/share/pipedeck, and bin/pipedeck running them with the
# pinned Python and the pinned Ollama on PATH (started by the app when none answers, see desktop/ollama_service.py).
# PIPEDECK_LAUNCHER (every system, macOS too): `pipedeck install-launcher` points the menu entry / app bundle here.
{ lib, stdenv, callPackage, makeWrapper, pkgs, src }:
let
  ollama = import ./pick.nix "" pkgs [ "ollama" ];
  python = callPackage ./python.nix { };
  project = (builtins.fromTOML (builtins.readFile ../pyproject.toml)).project;
in
stdenv.mkDerivation {
  pname = "pipedeck";
  inherit (project) version;
  inherit src;
  nativeBuildInputs = [ makeWrapper ];
  dontConfigure = true;
  dontBuild = true;
  installPhase = ''
    runHook preInstall
    share=$out/share/pipedeck
    mkdir -p $share $out/bin
    cp -r desktop server static $share/
    # Byte-code now: the store is read-only, so Python could not cache it at run time.
    ${python.env.interpreter} -m compileall -q $share/desktop $share/server
    makeWrapper ${python}/bin/python $out/bin/pipedeck \
      --add-flags "-m desktop" \
      --prefix PYTHONPATH : $share \
      --prefix PATH : ${lib.makeBinPath [ ollama ]} \
      --set-default PIPEDECK_START_OLLAMA 1 \
      --set-default PIPEDECK_LAUNCHER $out/bin/pipedeck
    runHook postInstall
  '';
  passthru = { inherit python; };
  meta = {
    description = project.description;
    mainProgram = "pipedeck";
    platforms = lib.platforms.linux ++ lib.platforms.darwin;
  };
}

# The stub package set: nixpkgs as it is at the commit in flake.lock (nixos-25.11), reduced to the attributes
# the flake uses. Each is recorded in tests/nix/attributes.txt with the nixpkgs file and commit it was read at.
# A leaf is what the flake may use; `realize` wraps each in a trace of its path.
let
  # fasthtml became python-fasthtml on nixpkgs' master after the 25.11 branch-off; tests/test_nix.py flips
  # this to evaluate the flake against both sides of the rename.
  renamedFasthtml = false;
  systems = [ "x86_64-linux" "aarch64-linux" "x86_64-darwin" "aarch64-darwin" ];
  leaf = value: { __leaf = true; inherit value; };
  isLeaf = v: builtins.isAttrs v && v ? __leaf;

  realize = prefix: tree: builtins.mapAttrs (name: v:
    let path = "${prefix}${name}";
    in if isLeaf v then builtins.trace "nixpkgs-attribute: ${path}" v.value else realize "${path}." v) tree;
  names = prefix: tree: builtins.concatLists (builtins.attrValues (builtins.mapAttrs (name: v:
    if isLeaf v then [ "${prefix}${name}" ] else names "${prefix}${name}." v) tree));

  libSpec = {
    genAttrs = leaf (names: f: builtins.listToAttrs (map (name: { inherit name; value = f name; }) names));
    optionals = leaf (cond: list: if cond then list else [ ]);
    optionalAttrs = leaf (cond: attrs: if cond then attrs else { });
    optionalString = leaf (cond: string: if cond then string else "");
    makeBinPath = leaf (pkgs: builtins.concatStringsSep ":" (map (p: "${p}/bin") pkgs));
    platforms = {
      linux = leaf [ "x86_64-linux" "aarch64-linux" ];
      darwin = leaf [ "x86_64-darwin" "aarch64-darwin" ];
    };
  };
  lib = realize "lib." libSpec;

  pkgsFor = system:
    let
      trivial = name: derivation {
        inherit name system;
        builder = "/bin/sh";
        args = [ "-c" "echo stub > $out" ];
      };
      # Like nixpkgs' mkDerivation where it matters here: every input and phase string is part of the
      # derivation (so an unknown attribute anywhere in them fails), env is merged, passthru and meta ride along.
      mkDerivation = attrs:
        let
          name = attrs.name or "${attrs.pname}-${attrs.version}";
          drv = derivation (builtins.removeAttrs attrs [ "meta" "passthru" "env" "name" ] // (attrs.env or { }) // {
            inherit name system;
            builder = "/bin/sh";
            args = [ "-c" "echo stub > $out" ];
          });
        in
        drv // (attrs.passthru or { }) // { meta = attrs.meta or { }; };
      python3PackagesSpec = builtins.listToAttrs (map (name: { inherit name; value = leaf (trivial "python3.13-${name}"); }) [
        (if renamedFasthtml then "python-fasthtml" else "fasthtml")
        "fastlite" "apsw" "uvicorn" "websockets" "starlette" "aiohttp" "httpx" "pandas"
        "pyarrow" "numpy" "scipy" "watchfiles" "ollama" "loguru" "pywebview" "pyside6" "qtpy" "psutil"
        "pyobjc-core" "pyobjc-framework-Cocoa" "pyobjc-framework-WebKit" "pyobjc-framework-Quartz"
        "pyobjc-framework-Security"
        "pytest" "pytest-asyncio" "pytest-timeout" "pytest-xdist" "playwright" "hypothesis" "networkx"
      ]);
      python3Packages = realize "python3Packages." python3PackagesSpec;
      spec = {
        lib = libSpec;
        callPackage = leaf (fn: overrides:
          let f = if builtins.isFunction fn then fn else import fn;
          in f (builtins.intersectAttrs (builtins.functionArgs f) pkgs // overrides));
        stdenv = {
          mkDerivation = leaf mkDerivation;
          hostPlatform.isLinux = leaf (builtins.elem system [ "x86_64-linux" "aarch64-linux" ]);
        };
        mkShell = leaf (attrs: mkDerivation (builtins.removeAttrs attrs [ "packages" ] // {
          name = attrs.name or "nix-shell";
          nativeBuildInputs = (attrs.packages or [ ]) ++ (attrs.nativeBuildInputs or [ ]);
        }));
        python3 = {
          version = leaf "3.13.0";
          withPackages = leaf (select:
            let env = mkDerivation { name = "python3-3.13.0-env"; paths = select python3Packages; };
            in env // { interpreter = "${env}/bin/python3.13"; });
        };
        makeWrapper = leaf (trivial "make-shell-wrapper-hook");
        qt6 = {
          wrapQtAppsHook = leaf (trivial "wrap-qt6-apps-hook");
          qtbase = leaf (trivial "qtbase-6.9.0");
          qtwayland = leaf (trivial "qtwayland-6.9.0");
          qtwebengine = leaf (trivial "qtwebengine-6.9.0");
        };
        xorg.xorgserver = leaf (trivial "xorg-server-21.1.0");
        ollama = leaf (trivial "ollama-0.12.0");
        chromium = leaf (trivial "chromium-140.0.0");
        xdotool = leaf (trivial "xdotool-3.20211022.1");
        imagemagick = leaf (trivial "imagemagick-7.1.2");
        desktop-file-utils = leaf (trivial "desktop-file-utils-0.28");
        mesa = leaf (trivial "mesa-25.2.6");
        util-linux = leaf (trivial "util-linux-2.41.2");
        xdg-utils = leaf (trivial "xdg-utils-1.2.1");
        dejavu_fonts = leaf (trivial "dejavu-fonts-2.37");
        makeFontsConf = leaf ({ fontDirectories }: mkDerivation { name = "fonts.conf"; inherit fontDirectories; });
      };
      pkgs = realize "" spec // { inherit lib; };
    in
    { inherit pkgs; attributeNames = names "" spec ++ names "python3Packages." python3PackagesSpec; };
in
{
  inherit lib;
  legacyPackages = builtins.listToAttrs (map (system: { name = system; value = (pkgsFor system).pkgs; }) systems);
  # The sorted list tests/nix/attributes.txt must equal (lib's leaves appear once, as "lib.<name>").
  attributeNames = builtins.sort builtins.lessThan (pkgsFor "x86_64-linux").attributeNames;
}

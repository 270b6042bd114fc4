# The nixpkgs Python packages Pipedeck imports (app), its test suite uses (test), the window toolkit needs on
# Linux (qt: Qt WebEngine) and on macOS (cocoa: pywebview's Cocoa backend, WKWebView through pyobjc).
# A list is one package's spellings across nixpkgs renames, newest first (nix/pick.nix takes the first that
# exists). Versions at the locked commit: tests/nix/attributes.txt; CI runs the suite with them
# (nix/python-versions.txt).
{
  app = [
    [ "python-fasthtml" "fasthtml" ]
    "fastlite"
    "apsw" # fastlite's SQLite driver, also used directly (server/recovery.py)
    "uvicorn"
    "websockets" # uvicorn's WebSocket protocol (the chat panel)
    "starlette"
    "aiohttp"
    "httpx"
    "pandas"
    "pyarrow"
    "numpy" # the graph viewer's arrays (server/graph)
    "scipy"
    "watchfiles"
    "ollama"
    "loguru"
    "pywebview"
    "psutil" # server/security.py: this machine's addresses for the LAN allow-list
  ];
  qt = [ "pyside6" "qtpy" ];
  cocoa = [
    "pyobjc-core"
    "pyobjc-framework-Cocoa" # AppKit, Foundation
    "pyobjc-framework-WebKit" # WKWebView
    "pyobjc-framework-Quartz"
    "pyobjc-framework-Security" # pywebview's authentication-challenge handler
  ];
  test = [
    "pytest"
    "pytest-asyncio"
    "pytest-timeout"
    "pytest-xdist"
    "playwright"
    "hypothesis"
    "networkx"
  ];
}

# The nixpkgs Python packages Pipedeck imports (app) and its test suite uses (test).
# pyproject.toml's lower bounds admit these versions; uv.lock pins PyPI's for the non-Nix path.
{
  app = ps: with ps; [
    python-fasthtml
    fastlite
    apsw # fastlite's SQLite driver, also used directly (server/recovery.py)
    uvicorn
    websockets # uvicorn's WebSocket protocol (the chat panel)
    starlette
    aiohttp
    httpx
    pandas
    pyarrow
    numpy # the graph viewer's arrays (server/graph)
    ollama
    loguru
    pywebview # its Qt backend: pyside6 + qtpy
    pyside6
    qtpy
    psutil # server/security.py: this machine's addresses for the LAN allow-list
  ];
  test = ps: with ps; [
    pytest
    pytest-asyncio
    pytest-timeout
    pytest-xdist
    playwright
    hypothesis
  ];
}

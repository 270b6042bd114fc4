"""`python -m desktop`: the command behind ./pipedeck and the Nix app."""
from desktop import startup_gc

startup_gc.pause()  # until the app answers (desktop/launch.py)
from desktop.cli import main  # noqa: E402

raise SystemExit(main())

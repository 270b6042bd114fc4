"""`python -m desktop`: the command behind ./pipedeck and the Nix app."""
from desktop.cli import main

raise SystemExit(main())

"""Pipedeck's FastHTML server: engine, workflows, apps, LLM, Botify client and graph viewer."""
import importlib.machinery
import sys

# apswutils.db (under fastlite) imports pandas and numpy only to map their column types, which we never store;
# hiding them while it loads saves about a second of start-up and 85 MiB. A finder does it whenever fastlite is
# first imported, rather than importing fastlite here: the window (desktop/) imports server.config and friends
# before Qt starts, and fastlite is ~0.1 s the window does not need (the server thread loads it while Qt starts).
LEAN_MODULE = "apswutils.db"
HIDDEN = ("pandas", "numpy")


class _HideDataFrameLibraries:  # a loader (importlib.abc would cost 10 ms of imports)
    def __init__(self, loader):
        self.loader = loader

    def __getattr__(self, name):  # get_source (tracebacks), get_resource_reader, …: the real loader's
        return getattr(self.loader, name)

    def create_module(self, spec):
        return self.loader.create_module(spec)

    def exec_module(self, module):
        hidden = [m for m in HIDDEN if m not in sys.modules]
        for m in hidden:
            sys.modules[m] = None  # `import pandas` raises ImportError, which apswutils expects when it is absent
        try:
            self.loader.exec_module(module)
        finally:
            for m in hidden:
                sys.modules.pop(m, None)  # later imports (exports, insights) load them normally


class _LeanApswutils:  # a meta path finder
    def find_spec(self, name, path, target=None):
        if name != LEAN_MODULE:
            return None
        spec = importlib.machinery.PathFinder.find_spec(name, path, target)
        if spec is not None and spec.loader is not None:
            spec.loader = _HideDataFrameLibraries(spec.loader)
        return spec


if not any(type(f).__name__ == "_LeanApswutils" for f in sys.meta_path):  # once, also if this package is reloaded
    sys.meta_path.insert(0, _LeanApswutils())

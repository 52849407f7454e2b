"""Backends are plugins, loaded by name when the agent starts.

A name is either one of the built-in names below or an import path `package.module:ClassName`
for a backend that lives outside this repository. Modules are imported only when asked for, so a
site running the local backend needs none of the Slurm tools, and the other way round.
"""

from __future__ import annotations

import importlib
import inspect

from site_agent.backends.base import Backend

BUILTIN = {
    "local": "site_agent.backends.local",
    "slurm": "site_agent.backends.slurm",
}


class BackendNotFound(Exception):
    pass


def backend_class(name: str) -> type[Backend]:
    module_name, _, class_name = BUILTIN.get(name, name).partition(":")
    if not module_name or (name not in BUILTIN and not class_name):
        raise BackendNotFound(f"unknown backend {name!r} (built-in: {', '.join(BUILTIN)}; or module:Class)")
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise BackendNotFound(f"backend {name!r} cannot be imported: {exc}") from exc
    cls = getattr(module, class_name, None) if class_name else _only_backend_in(module, name)
    if not (inspect.isclass(cls) and issubclass(cls, Backend)):
        raise BackendNotFound(f"backend {name!r}: {module_name} has no Backend class {class_name or name!r}")
    return cls


def create_backend(name: str, options: dict) -> Backend:
    return backend_class(name)(options)


def _only_backend_in(module, name: str) -> type[Backend] | None:
    """The concrete Backend defined in `module`: the one whose `name` matches, else the only one."""
    found = [
        obj
        for obj in vars(module).values()
        if inspect.isclass(obj)
        and issubclass(obj, Backend)
        and obj.__module__ == module.__name__
        and not inspect.isabstract(obj)
    ]
    named = [cls for cls in found if cls.name == name]
    if len(named) == 1:
        return named[0]
    return found[0] if len(found) == 1 else None

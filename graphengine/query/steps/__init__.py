"""Gremlin steps, grouped by family; each module registers its steps by their bytecode names."""

from __future__ import annotations

from collections.abc import Callable

from ..traversal import Compiler, Step

REGISTRY: dict[str, Callable[[Compiler, list], Step]] = {}


def register(*names: str):
    """Register a step factory ``(compiler, args) -> Step`` under bytecode step names."""
    def deco(factory):
        for n in names:
            REGISTRY[n] = factory
        return factory
    return deco


def load_all() -> dict[str, Callable[[Compiler, list], Step]]:
    from . import (  # noqa: F401
        branch,
        filter,
        graph,
        io,
        map,
        match,
        math,
        mutation,
        sideeffect,
        text,
    )
    return REGISTRY

"""Vectorized execution of the traversals that run over whole id batches (filled in below)."""

from __future__ import annotations

from typing import Any


def try_run(ctx: Any, instructions: list) -> list[tuple[Any, int]] | None:
    """Results of ``instructions`` computed over arrays, or None when the plan does not apply."""
    return None

"""Python's cyclic garbage collector during a render, which builds far more objects than
it throws away.

The collector runs after every few hundred new objects, and every so often walks all of
them. A full render at 1,000 sources × 90 days builds ≈ 300,000 objects that live until the
pages are drawn (a day for every day of every bar and its dict of seconds, the recent runs):
none is garbage, yet collections walked them again and again, ≈ 0.35 s of the model's time.
"""

from __future__ import annotations

import gc
from contextlib import contextmanager
from typing import Iterator


@contextmanager
def held_off() -> Iterator[None]:
    """No collection while what is made is kept (building a page model). After, what was made
    joins the oldest generation unwalked: the collector, turned back on, would otherwise walk
    all of it at once (≈ 0.13 s at 1,000 sources). The collector is left on or off as it was
    found. Not inside frozen(), which would end early."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        gc.freeze()  # everything tracked, and no count of new objects left to start a collection
        gc.unfreeze()  # back, as the oldest generation
        if enabled:
            gc.enable()


@contextmanager
def frozen() -> Iterator[None]:
    """Collections go on, but not through what exists now (a page model, while its pages are
    drawn: drawing makes millions of short-lived objects, some of them in cycles). At the end,
    the cycles the block left are collected before what was set aside comes back: Jinja's
    contexts are such cycles, and they hold the model, which would otherwise outlive its
    render until a full collection, one a process that renders again may not reach for many
    renders, as held_off walks nothing (memory grew ≈ 60 MB a render)."""
    gc.freeze()
    try:
        yield
    finally:
        gc.collect()  # through what the block made alone: the rest is still set aside
        gc.unfreeze()

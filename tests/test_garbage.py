import gc
import weakref
from contextlib import contextmanager

import pytest

from statusgen import pipeline
from statusgen.garbage import frozen, held_off
from statusgen.history import History
from statusgen.site import render_pages
from tests.test_site import NOW, site_config  # noqa: F401 (a fixture)


@contextmanager
def collections_started():
    """The generation of each collection that starts inside."""
    started = []

    def seen(phase, info):
        if phase == "start":
            started.append(info["generation"])

    gc.callbacks.append(seen)
    try:
        yield started
    finally:
        gc.callbacks.remove(seen)


def test_held_off_gives_the_collector_back_as_it_found_it():
    assert gc.isenabled()
    with pytest.raises(RuntimeError):
        with held_off():
            assert not gc.isenabled()
            raise RuntimeError
    assert gc.isenabled()
    gc.disable()
    try:
        with held_off():
            pass
        assert not gc.isenabled()  # a caller that had it off keeps it off
    finally:
        gc.enable()


def test_what_was_made_while_held_off_is_not_walked_when_the_collector_resumes():
    with collections_started() as started:
        with held_off():
            kept = [[] for _ in range(100_000)]  # far past the count of new objects that starts one
        more = [[] for _ in range(100)]
    assert len(kept) + len(more) == 100_100 and started == []
    assert gc.get_freeze_count() == 0  # joined the oldest generation, not set aside for good


def test_frozen_sets_aside_what_exists_until_it_ends():
    with pytest.raises(RuntimeError):
        with frozen():
            assert gc.get_freeze_count() > 0
            raise RuntimeError
    assert gc.get_freeze_count() == 0


def test_frozen_collects_the_cycles_its_block_left():
    class Node:
        pass

    gc.collect()  # no count of new objects left to start a collection inside
    with frozen():
        node = Node()
        node.itself = node
        left = weakref.ref(node)
        del node
    assert left() is None


def test_a_page_model_goes_with_its_last_reference_once_its_pages_are_drawn(site_config, tmp_path):  # noqa: F811
    history = History(tmp_path / "history")
    pipeline.collect(site_config, history, NOW)
    model = pipeline.model(site_config, history, NOW)
    assert render_pages(model)["index.html"]
    gone = weakref.ref(model)
    del model
    assert gone() is None  # not kept by the templates' contexts until a full collection


def test_a_page_model_is_built_without_a_collection(site_config, tmp_path, monkeypatch):  # noqa: F811
    history = History(tmp_path / "history")
    pipeline.collect(site_config, history, NOW)
    build, started = pipeline.build_model, []

    def watched(*args):
        with collections_started() as found:
            model = build(*args)
        started.extend(found)
        return model

    monkeypatch.setattr(pipeline, "build_model", watched)
    threshold = gc.get_threshold()
    gc.set_threshold(1)  # a new object starts a collection wherever the collector is on
    try:
        model = pipeline.model(site_config, history, NOW)
    finally:
        gc.set_threshold(*threshold)
    # A few start as the call begins, before the collector is held off; on, one started for
    # nearly every new object (1,342 here).
    assert model.components and len(started) < 10

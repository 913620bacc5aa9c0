"""A large site's files drawn by processes forked from the render (statusgen/site/parallel.py):
the same files as one process draws, whatever happens to the processes."""

import multiprocessing
import os
import signal
import time

import pytest

from bench.page_weight import synthetic_model
from statusgen.site import parallel, render_pages
from statusgen.site.parallel import SHARE_AT_LEAST, draw_all

PARENT = os.getpid()
JOBS = 2 * SHARE_AT_LEAST  # enough for two processes


def job(n: int, in_child=None):
    """A job drawing file n, whose content is the process that drew it; `in_child` is what it
    does instead in a forked child."""
    def draw():
        if in_child is not None and os.getpid() != PARENT:
            in_child()
        return {f"f{n}": str(os.getpid())}
    return draw


def drawn_by(files):
    return {int(pid) for pid in files.values()}


@pytest.fixture(autouse=True)
def no_child_left():
    yield
    assert multiprocessing.active_children() == []


def test_a_large_site_is_drawn_by_two_processes_in_the_jobs_order():
    files = draw_all([job(n) for n in range(JOBS)], processes=2)
    assert list(files) == [f"f{n}" for n in range(JOBS)]
    assert {n % 2 for n in range(JOBS) if files[f"f{n}"] == str(PARENT)} == {0}
    assert len(drawn_by(files)) == 2


def test_a_small_site_is_drawn_here():
    files = draw_all([job(n) for n in range(JOBS - 1)], processes=2)
    assert drawn_by(files) == {PARENT} and len(files) == JOBS - 1


def test_a_share_a_child_could_not_draw_is_drawn_here(monkeypatch):
    def fails():
        raise RuntimeError("only in the child")
    ended = []
    stop = parallel._stop
    monkeypatch.setattr(parallel, "_stop", lambda child, receiving: (stop(child, receiving), ended.append(child.exitcode)))
    files = draw_all([job(n, in_child=fails) for n in range(JOBS)], processes=2)
    assert drawn_by(files) == {PARENT} and list(files) == [f"f{n}" for n in range(JOBS)]
    assert set(ended) == {0}  # quietly: the error is this process's to raise, if it fails here too


def test_a_share_whose_child_was_killed_is_drawn_here():
    files = draw_all([job(n, in_child=lambda: os.kill(os.getpid(), signal.SIGKILL)) for n in range(JOBS)], processes=2)
    assert drawn_by(files) == {PARENT} and len(files) == JOBS


def test_a_child_that_never_ends_is_stopped_and_its_share_drawn_here(monkeypatch):
    monkeypatch.setattr(parallel, "PATIENCE_S", 0.5)
    files = draw_all([job(n, in_child=lambda: time.sleep(600)) for n in range(JOBS)], processes=2)
    assert drawn_by(files) == {PARENT} and len(files) == JOBS


def test_no_fork_to_be_had_draws_everything_here(monkeypatch):
    def no_fork(self):
        raise BlockingIOError(11, "Resource temporarily unavailable")
    monkeypatch.setattr(multiprocessing.get_context("fork").Process, "start", no_fork)
    files = draw_all([job(n) for n in range(JOBS)], processes=2)
    assert drawn_by(files) == {PARENT} and len(files) == JOBS


def test_an_error_in_a_childs_share_is_raised_here():
    def broken():
        raise ValueError("template error in job 51")
    jobs = [job(n) for n in range(JOBS)]
    jobs[51] = broken  # in the child's share: raised here, when this process draws it again
    with pytest.raises(ValueError, match="job 51"):
        draw_all(jobs, processes=2)


def test_an_error_in_this_process_share_stops_the_children():
    def broken():
        raise ValueError("template error in job 0")
    with pytest.raises(ValueError, match="job 0"):
        draw_all([broken, *(job(n, in_child=lambda: time.sleep(600)) for n in range(1, JOBS))], processes=2)


def test_a_site_drawn_on_two_cores_is_the_site_drawn_on_one(monkeypatch):
    model = synthetic_model(120, days=30)
    monkeypatch.setattr(parallel, "_cores", lambda: 1)
    alone = render_pages(model)
    sent = []
    received = parallel._received
    monkeypatch.setattr(parallel, "_cores", lambda: 2)
    monkeypatch.setattr(parallel, "_received", lambda *child: sent.append(received(*child)) or sent[-1])
    shared = render_pages(model)
    assert len(sent) == 1 and sent[0]  # a child drew a share, and sent it
    assert list(shared) == list(alone) and shared == alone

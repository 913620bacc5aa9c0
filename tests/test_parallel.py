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

pytestmark = pytest.mark.skipif(not parallel.FORKS, reason="pages are drawn in forked processes on Linux only")

PARENT = os.getpid()
JOBS = 2 * SHARE_AT_LEAST  # enough for two processes


def job(n: int, in_child=None):
    """A job drawing file n, whose content is the process that drew it; `in_child` is what it
    does first in a forked child."""
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


@pytest.fixture
def ended(monkeypatch):
    """The exit code of each child, as it is stopped."""
    codes = []
    stop = parallel._stop
    monkeypatch.setattr(parallel, "_stop", lambda child, ending: (stop(child, ending), codes.append(child.process.exitcode)))
    return codes


def test_a_large_site_is_drawn_by_two_processes_in_the_jobs_order():
    files = draw_all([job(n) for n in range(JOBS)], processes=2)
    assert list(files) == [f"f{n}" for n in range(JOBS)]
    assert {n % 2 for n in range(JOBS) if files[f"f{n}"] == str(PARENT)} == {0}
    assert len(drawn_by(files)) == 2


def test_jobs_are_shared_every_nth_among_as_many_processes_as_asked():
    files = draw_all([job(n) for n in range(3 * SHARE_AT_LEAST + 1)], processes=3)
    assert list(files) == [f"f{n}" for n in range(3 * SHARE_AT_LEAST + 1)]
    by_share = [{files[f"f{n}"] for n in range(share, len(files), 3)} for share in range(3)]
    assert by_share[0] == {str(PARENT)} and all(len(pids) == 1 for pids in by_share)
    assert len(drawn_by(files)) == 3


def test_a_small_site_is_drawn_here():
    files = draw_all([job(n) for n in range(JOBS - 1)], processes=2)
    assert drawn_by(files) == {PARENT} and len(files) == JOBS - 1


def test_a_share_a_child_could_not_draw_is_drawn_here(ended):
    def fails():
        raise RuntimeError("only in the child")
    files = draw_all([job(n, in_child=fails) for n in range(JOBS)], processes=2)
    assert drawn_by(files) == {PARENT} and list(files) == [f"f{n}" for n in range(JOBS)]
    assert set(ended) == {0}  # quietly: the error is this process's to raise, if it fails here too


def test_a_share_whose_child_was_killed_is_drawn_here():
    files = draw_all([job(n, in_child=lambda: os.kill(os.getpid(), signal.SIGKILL)) for n in range(JOBS)], processes=2)
    assert drawn_by(files) == {PARENT} and len(files) == JOBS


def test_a_late_child_is_stopped_and_its_share_drawn_here(monkeypatch, ended):
    monkeypatch.setattr(parallel, "PATIENCE_S", 0.5)
    jobs = [job(n) for n in range(JOBS)]
    jobs[1] = job(1, in_child=lambda: time.sleep(20))  # the child's first: had it been waited for, it would have sent its share
    files = draw_all(jobs, processes=2)
    assert drawn_by(files) == {PARENT} and len(files) == JOBS
    assert -signal.SIGKILL in ended


def test_a_child_ignores_ctrl_c_which_the_parent_answers():
    files = draw_all([job(n, in_child=lambda: os.kill(os.getpid(), signal.SIGINT)) for n in range(JOBS)], processes=2)
    assert len(drawn_by(files)) == 2  # the child drew its share on


@pytest.mark.parametrize("can_start", [0, 1, 2])
def test_children_that_cannot_start_leave_their_shares_here(monkeypatch, can_start):
    start = multiprocessing.get_context("fork").Process.start
    tries = []

    def start_or_fail(process):
        tries.append(process)
        if len(tries) == can_start + 1:  # one fails, then the next could start again
            raise BlockingIOError(11, "Resource temporarily unavailable")
        start(process)
    monkeypatch.setattr(multiprocessing.get_context("fork").Process, "start", start_or_fail)
    files = draw_all([job(n) for n in range(4 * SHARE_AT_LEAST)], processes=4)
    assert list(files) == [f"f{n}" for n in range(4 * SHARE_AT_LEAST)]
    assert len(drawn_by(files)) == 1 + can_start
    assert all(files[f"f{n}"] == str(PARENT) for n in range(len(files)) if n % 4 == 0 or n % 4 > can_start)


def test_no_pipe_to_be_had_draws_everything_here(monkeypatch):
    def no_pipe(*args, **kwargs):
        raise OSError(24, "Too many open files")
    monkeypatch.setattr(multiprocessing.get_context("fork"), "Pipe", no_pipe)
    files = draw_all([job(n) for n in range(JOBS)], processes=2)
    assert drawn_by(files) == {PARENT} and len(files) == JOBS


def test_a_daemonic_process_draws_everything_itself(monkeypatch):
    monkeypatch.setattr(multiprocessing.current_process(), "daemon", True)
    files = draw_all([job(n) for n in range(JOBS)], processes=2)
    assert drawn_by(files) == {PARENT}


def test_an_error_in_a_childs_share_is_raised_here(monkeypatch):
    def broken():
        raise ValueError("template error in job 51")
    sent = []
    received = parallel._received
    monkeypatch.setattr(parallel, "_received", lambda *child: sent.append(received(*child)) or sent[-1])
    jobs = [job(n) for n in range(JOBS)]
    jobs[51] = broken  # in the child's share: raised here, when this process draws it again
    with pytest.raises(ValueError, match="job 51"):
        draw_all(jobs, processes=2)
    assert sent == [None]  # the child ran, and sent nothing


@pytest.mark.parametrize("raised", [ValueError, KeyboardInterrupt])
def test_what_this_process_raises_stops_the_children_at_once(raised, ended):
    def broken():
        raise raised("in job 0")
    with pytest.raises(raised, match="job 0"):
        draw_all([broken, *(job(n, in_child=lambda: time.sleep(600)) for n in range(1, JOBS))], processes=2)
    assert ended == [-signal.SIGKILL]


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

"""A History lists again only the folders whose modification time moved: what it reads must
still be every file another process wrote."""

import os
import time

from statusgen.history import History
from statusgen.history.listing import RACY_NS, Listing
from statusgen.records import Observation, Run
from statusgen.status import RunState
from tests.conftest import utc


def _collection(history, at, collection_id):
    seen = Observation("a", collection_id, at, RunState.SUCCESS, at, None, None, 3)
    history.append(collection_id, at, [Run("a", f"r-{collection_id}", RunState.SUCCESS, at, at)], [seen])


def _runs(history):
    snapshot = history.open()
    try:
        return sorted(row[0] for row in snapshot.db.execute("SELECT run_id FROM runs").fetchall())
    finally:
        snapshot.close()


def _age(folders, seconds):
    """Date every folder's modification time `seconds` back, as a day left alone since."""
    for folder in folders:
        then = time.time_ns() - seconds * 1_000_000_000
        os.utime(folder, ns=(then, then))


def _folders(history):
    return [p for p in history.root.rglob("*") if p.is_dir()]


def test_a_file_another_process_adds_to_a_listed_folder_is_read(tmp_path):
    mine = History(tmp_path / "history")
    _collection(mine, utc(2026, 11, 20, 6), "c1")
    _age(_folders(mine), 3600)
    assert _runs(mine) == ["r-c1"]  # listed, and kept: the folders are an hour old
    _collection(History(mine.root), utc(2026, 11, 20, 18), "c2")  # the same day's folder
    assert _runs(mine) == ["r-c1", "r-c2"]


def test_a_folder_changed_just_before_its_listing_is_listed_again(tmp_path):
    mine = History(tmp_path / "history")
    _collection(mine, utc(2026, 11, 20, 6), "c1")
    day = mine.layout.part("runs", utc(2026, 11, 20).date(), "c1").parent
    stamp = day.stat().st_mtime_ns
    assert time.time_ns() - stamp < RACY_NS
    assert _runs(mine) == ["r-c1"]
    # Another writer in the same tick of the file system's clock: the folder's time does not move.
    _collection(History(mine.root), utc(2026, 11, 20, 18), "c2")
    os.utime(day, ns=(stamp, stamp))
    assert _runs(mine) == ["r-c1", "r-c2"]


def test_listing_follows_no_link_and_leaves_hidden_files_out(tmp_path):
    (tmp_path / "top" / "sub").mkdir(parents=True)
    (tmp_path / "top" / "sub" / "b").write_text("")
    (tmp_path / "top" / "a").write_text("")
    (tmp_path / "top" / ".hidden.tmp").write_text("")
    (tmp_path / "elsewhere").mkdir()
    (tmp_path / "elsewhere" / "c").write_text("")
    (tmp_path / "top" / "link").symlink_to(tmp_path / "elsewhere")
    listed = Listing().walk(tmp_path / "top")
    assert [(folder.path, [p.name for p in folder.files]) for folder in listed] == [
        (str(tmp_path / "top"), ["a"]), (str(tmp_path / "top" / "sub"), ["b"])]

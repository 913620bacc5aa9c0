"""What the sources' timeline holds in memory while it is made (#12: a render's peak RSS).

DuckDB keeps a CTE that a statement reads more than once as a table for the whole statement.
The timeline's events are every finished run and reachability change in history (2.2 M rows at
1,000 sources × 90 days): kept as tables, they were the peak of a render."""

from datetime import timedelta
from zoneinfo import ZoneInfo

from statusgen.history import History
from statusgen.records import Observation, Run
from statusgen.status import Freshness, RunState
from statusgen.timeline import Timeline, Window
from tests.conftest import utc


class _Recording:
    """A snapshot's session that remembers each statement run through it, with its parameters."""

    def __init__(self, db):
        self._db = db
        self.statements = []

    def __getattr__(self, name):
        return getattr(self._db, name)

    def execute(self, sql, *args):
        self.statements.append((sql, *args))
        return self._db.execute(sql, *args)


def test_the_sources_timeline_keeps_no_table_of_its_events(tmp_path):
    history = History(tmp_path)
    at = utc(2026, 3, 2, 12)
    history.append("c-1", at, [Run("a", "r-1", RunState.SUCCESS, at - timedelta(hours=1), at - timedelta(minutes=50))],
                   [Observation("a", "c-1", at, None, None, None, None, 5)])
    snapshot = history.open()
    snapshot.session = recording = _Recording(snapshot.db)  # every view made first: the timeline reads them
    Timeline(snapshot, {"a": Freshness(warn_after=timedelta(hours=1))}, Window.ending(at, 2, ZoneInfo("UTC")), at)
    [(sql, params)] = [(sql, *args) for sql, *args in recording.statements if "TEMP TABLE segments AS" in sql]
    plan = "\n".join(row[1] for row in recording.execute("EXPLAIN " + sql.split("TEMP TABLE segments AS", 1)[1], params).fetchall())
    snapshot.close()
    kept = [name for name in ("seen_events", "events", "ordered") if f"CTE Name: {name} " in plan]
    assert kept == []

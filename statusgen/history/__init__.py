"""The history: what collections saw, kept as Parquet under one folder (or an S3 prefix,
or a git branch between runs).

    layout.py      every folder and file under the history root
    schema.py      the files' columns and versions, and the SQL rules their readers share
    parquet.py     the DuckDB database, whole-or-nothing Parquet writes, what is known of each file
    store.py       History: appending a collection, opening a snapshot, the lock
    resident.py    the rows of files a History has read, kept in its database within a budget
    queries.py     Snapshot: history as read at one moment, and the questions asked of it
    compaction.py  merging finished days, writing their digests, retention
    digests.py     what a finished day's observations come down to for the timeline: reachability
    latest.py      each source's latest observations over the finished days, in one file
    repeated.py    the runs seen on more than one of the finished days, in one file
    catalog.py     the file of what discovery found (its data is statusgen.catalog)
    git.py, s3.py  history kept on a git branch, or under an S3 prefix
"""

from statusgen.files import read_text, write_text
from statusgen.history.compaction import Compaction
from statusgen.history.layout import CATALOG, LOCK, Layout
from statusgen.history.parquet import file_metadata, parquet_scan, write_parquet
from statusgen.history.queries import Snapshot, SourceFacts
from statusgen.history.s3 import history_at
from statusgen.history.schema import COMPACTED_KEY, SCHEMA_VERSION, VERSION_KEY, aware_utc, naive_utc, reachability_changes
from statusgen.history.store import History, is_history, new_collection_id

__all__ = [
    "CATALOG",
    "COMPACTED_KEY",
    "LOCK",
    "SCHEMA_VERSION",
    "VERSION_KEY",
    "Compaction",
    "History",
    "Layout",
    "Snapshot",
    "SourceFacts",
    "aware_utc",
    "file_metadata",
    "history_at",
    "is_history",
    "naive_utc",
    "new_collection_id",
    "parquet_scan",
    "reachability_changes",
    "read_text",
    "write_parquet",
    "write_text",
]

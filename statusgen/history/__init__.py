"""The history: what collections saw, kept as Parquet under one folder (or an S3 prefix,
or a git branch between runs). See statusgen/history/store.py for the datasets and how
they are written and read."""

from statusgen.files import read_text, write_text
from statusgen.history.layout import CATALOG, LOCK, Layout
from statusgen.history.s3 import history_at
from statusgen.history.store import (
    COMPACTED_KEY,
    SCHEMA_VERSION,
    VERSION_KEY,
    Compaction,
    History,
    Snapshot,
    SourceFacts,
    aware_utc,
    file_metadata,
    is_history,
    naive_utc,
    new_collection_id,
    parquet_scan,
    reachability_changes,
    write_parquet,
)

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

"""dlt: loads recorded by dlt pipelines in their `_dlt_loads` table, a preset over sql.

dlt writes a row into `<dataset>._dlt_loads` for every load package it completes
(`status = 0`), with the pipeline's schema name and `inserted_at`. Each becomes a load
event, exactly as an sql source's rows do.
"""

from __future__ import annotations

from typing import ClassVar, Literal

from pydantic import Field

from statusgen.collectors.sql import SqlCollector, SqlConnection
from statusgen.config import SourceConfig

_NAME = r"^[A-Za-z_][A-Za-z0-9_]*$"  # spliced into SQL, so plain identifiers only


class DltConnection(SqlConnection):
    type: Literal["dlt"]  # type: ignore[assignment]


class DltSource(SourceConfig):
    pipeline: str = Field(pattern=_NAME, description="The dlt schema name (usually the pipeline's name).")
    dataset: str = Field(pattern=_NAME, description="The dataset (database schema) holding _dlt_loads.")


class DltCollector(SqlCollector):
    type: ClassVar[str] = "dlt"
    Connection = DltConnection
    Source = DltSource

    def query_of(self, source: DltSource) -> str:
        return (
            f"SELECT inserted_at FROM {source.dataset}._dlt_loads "
            f"WHERE status = 0 AND schema_name = '{source.pipeline}' AND inserted_at > $since ORDER BY inserted_at"
        )

"""Shared helpers: configs written to tmp_path, UTC times, and the dbt fixture artifacts."""

from __future__ import annotations

import textwrap
from datetime import datetime, timezone
from pathlib import Path

import pytest

FIXTURES = Path(__file__).parent / "fixtures"
DBT_TARGET = FIXTURES / "dbt_target"


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=timezone.utc)


@pytest.fixture
def write_config(tmp_path, monkeypatch):
    """Write a sources.yaml (dedented) into tmp_path, make it the working directory, and
    return the file's relative path, as a user would type it."""
    monkeypatch.chdir(tmp_path)

    def write(text: str, name: str = "sources.yaml") -> Path:
        (tmp_path / name).write_text(textwrap.dedent(text).lstrip())
        return Path(name)

    return write

"""History under an S3 prefix whose listing is hostile, against a real S3 API (moto's server).

Whoever can write under the prefix chooses the keys statusgen turns into file names in its
temporary folder. A key such as `history/../../site-packages/x.pth` once planted code that
ran on the next Python start. Every key that is not a plain relative path strictly inside
that folder must be refused with a warning naming it, nothing may be written or created
outside the folder, and the rest of the history must still be used."""

from __future__ import annotations

import json
import tempfile
from datetime import date
from pathlib import Path

import pytest
from click.testing import CliRunner

from statusgen.cli import main
from statusgen.errors import HistoryError
from statusgen.history.s3 import pull
from statusgen.s3 import Bucket
from tests.servers import aws_client, s3_server  # noqa: F401 (the aws and s3 fixtures)

pytestmark = pytest.mark.reliability

BUCKET = "hostile-history"
CONFIG = f"""
    history: {{path: "s3://{BUCKET}/history"}}
    connections:
      wh: {{type: sql, database: wh.duckdb}}
    sources:
      - {{id: orders, connection: wh, query: "SELECT max(loaded_at) FROM orders WHERE loaded_at <= $now"}}
    components:
      - {{id: orders, name: Orders, depends_on: [orders]}}
    """


@pytest.fixture
def workdir(aws, tmp_path, write_config, monkeypatch):
    """A config, its DuckDB warehouse, an empty bucket, and the temporary folder that history
    is pulled into placed at tmp_path/tmp/statusgen-history-*, so that every key below climbs
    to somewhere inside tmp_path this test can look at, and nowhere else."""
    import duckdb

    aws.create_bucket(Bucket=BUCKET)
    with duckdb.connect(str(tmp_path / "wh.duckdb")) as db:
        db.execute("CREATE TABLE orders (loaded_at TIMESTAMP)")
        db.execute("INSERT INTO orders VALUES ('2026-11-21 03:00'), ('2026-11-22 03:00')")
    write_config(CONFIG)
    (tmp_path / "tmp").mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path / "tmp"))


def hostile_keys(tmp_path: Path) -> dict[str, Path | None]:
    """Keys below the prefix → where each would have written outside the folder, or None for
    a key that stays inside but is still no plain relative path, or is also a folder."""
    return {
        "../../planted.pth": tmp_path / "planted.pth",
        "runs/../../../escaped/deep/planted.pth": tmp_path / "escaped",  # not even its folders
        (tmp_path / "absolute/planted.pth").as_posix(): tmp_path / "absolute",  # history//…/absolute/planted.pth
        "..\\..\\backslash.pth": None,
        "./dot.pth": None,
        "catalog//empty-segment.json": None,
        "runs": None,  # a file, and the folder of every runs/ key
    }


def invoke(*args: str):
    return CliRunner().invoke(main, list(args))


def assert_held(result, keys: dict[str, Path | None]) -> None:
    """Nothing outside the folder, no crash, and a warning naming each key refused."""
    for key, outside in keys.items():
        assert outside is None or not outside.exists(), f"{key!r} wrote outside the history folder"
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
    assert result.exit_code == 0, result.output
    for key in keys:
        assert f"refused {key!r}" in result.stderr, (key, result.stderr)


@pytest.mark.usefixtures("workdir")
def test_escaping_keys_are_refused_by_render_collect_and_run(aws, tmp_path):
    for now in ("2026-11-21T04:00:00Z", "2026-11-22T04:00:00Z"):  # a clean history first
        result = invoke("run", "--now", now, "--out", "site")
        assert result.exit_code == 0, result.output
    genuine = {o["Key"] for o in aws.list_objects_v2(Bucket=BUCKET)["Contents"]}
    keys = hostile_keys(tmp_path)
    for key in keys:
        aws.put_object(Bucket=BUCKET, Key=f"history/{key}", Body=b"planted by the test\n")
    for marker in ("history/", "history/observations/"):  # folders made in the S3 console: no files, no warning
        aws.put_object(Bucket=BUCKET, Key=marker, Body=b"")

    result = invoke("render", "--now", "2026-11-22T05:00:00Z", "--out", "site")
    assert_held(result, keys)
    assert result.stderr.count("warning: refused ") == len(keys)
    status = json.loads((tmp_path / "site/status.json").read_text())
    assert status["last_collected_at"] == "2026-11-22T04:00:00Z"  # the genuine history was read
    assert status["components"][0]["uptime_pct"] == 100.0

    result = invoke("collect", "--now", "2026-11-22T06:00:00Z")
    assert_held(result, keys)
    result = invoke("run", "--now", "2026-11-23T04:00:00Z", "--out", "site")
    assert_held(result, keys)
    status = json.loads((tmp_path / "site/status.json").read_text())
    assert (status["last_collected_at"], status["status"]) == ("2026-11-23T04:00:00Z", "operational")
    assert status["components"][0]["uptime_pct"] == 100.0

    after = {o["Key"] for o in aws.list_objects_v2(Bucket=BUCKET)["Contents"]}
    assert {f"history/{key}" for key in keys} <= after  # refused keys are left alone, not deleted
    assert any(k.startswith("history/observations/date=2026-11-23/") for k in after - genuine)  # the new collection was saved
    assert not list((tmp_path / "tmp").glob("statusgen-history-*"))  # and the temporary folders went away


def test_no_key_is_written_through_a_symlink_in_the_folder(aws, s3, tmp_path):
    """S3 has no symlinks, but a folder that has one must not be written through: not by a
    key whose parent is a link, nor one whose own name is."""
    aws.create_bucket(Bucket="hostile-links")
    for key in ("runs/date=2026-11-22/part-a.parquet", "cache/timeline.parquet", "catalog/latest.json"):
        aws.put_object(Bucket="hostile-links", Key=f"history/{key}", Body=b"remote")
    local, outside = tmp_path / "local", tmp_path / "outside"
    (local / "cache").mkdir(parents=True)
    outside.mkdir()
    (outside / "victim").write_text("mine")
    (local / "runs").symlink_to(outside, target_is_directory=True)
    (local / "cache/timeline.parquet").symlink_to(outside / "victim")
    warnings: list[str] = []

    bucket = Bucket.from_url("s3://hostile-links/history", endpoint_url=s3, error=HistoryError)
    pulled = pull(bucket, local, first_day=date(2026, 11, 1), warn=warnings.append)

    assert [p.name for p in outside.iterdir()] == ["victim"]
    assert (outside / "victim").read_text() == "mine"
    assert list(pulled) == ["catalog/latest.json"]
    assert (local / "catalog/latest.json").read_bytes() == b"remote"
    assert len(warnings) == 2
    assert "refused 'cache/timeline.parquet'" in warnings[0] and "refused 'runs/date=2026-11-22/part-a.parquet'" in warnings[1]

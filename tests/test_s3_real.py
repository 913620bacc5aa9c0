"""Publishing and history against a real S3 API: moto's server on 127.0.0.1."""

import json
import shutil

import pytest
from click.testing import CliRunner

from statusgen.cli import main
from statusgen.publish import LONG_CACHE, SHORT_CACHE, PublishError, publish
from tests.conftest import fake_site
from tests.servers import aws_client, s3_server  # noqa: F401 (the aws and s3 fixtures)

pytestmark = pytest.mark.integration


def bucket(client, name):
    client.create_bucket(Bucket=name)
    return name


def test_site_objects_types_cache_headers_and_nothing_resent(aws, s3, tmp_path):
    name = bucket(aws, "status-site")
    site = fake_site(tmp_path)
    first = publish(site, f"s3://{name}/www", endpoint_url=s3)
    assert len(first.uploaded) == 3
    page = aws.head_object(Bucket=name, Key="www/index.html")
    assert (page["ContentType"], page["CacheControl"]) == ("text/html; charset=utf-8", SHORT_CACHE)
    asset = aws.head_object(Bucket=name, Key="www/style.0123abcd.css")
    assert (asset["ContentType"], asset["CacheControl"]) == ("text/css; charset=utf-8", LONG_CACHE)
    again = publish(site, f"s3://{name}/www", endpoint_url=s3)
    assert (again.uploaded, again.unchanged) == ([], 3)
    (site / "components/orders.html").unlink()
    gone = publish(site, f"s3://{name}/www", endpoint_url=s3, delete=True)
    assert gone.deleted == ["components/orders.html"]
    keys = {o["Key"] for o in aws.list_objects_v2(Bucket=name)["Contents"]}
    assert keys == {"www/index.html", "www/style.0123abcd.css", "www/.statusgen-published.json"}
    manifest = json.loads(aws.get_object(Bucket=name, Key="www/.statusgen-published.json")["Body"].read())
    assert manifest["files"] == ["index.html", "style.0123abcd.css"]  # what this prefix now holds of the site


def test_a_missing_bucket_and_wrong_credentials_are_clear(aws, s3, tmp_path, monkeypatch):
    site = fake_site(tmp_path)
    with pytest.raises(PublishError, match="bucket no-such-bucket does not exist"):
        publish(site, "s3://no-such-bucket/www", endpoint_url=s3)
    monkeypatch.delenv("AWS_ACCESS_KEY_ID")
    monkeypatch.delenv("AWS_SECRET_ACCESS_KEY")
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    with pytest.raises(PublishError, match="no AWS credentials"):
        publish(site, "s3://status-site/www", endpoint_url=s3)


def test_history_round_trips_through_s3_and_a_failed_download_publishes_nothing(aws, s3, tmp_path, write_config):
    import duckdb

    name = bucket(aws, "status-history")
    with duckdb.connect(str(tmp_path / "wh.duckdb")) as db:
        db.execute("CREATE TABLE orders (loaded_at TIMESTAMP)")
        db.execute("INSERT INTO orders VALUES ('2026-11-21 03:00'), ('2026-11-22 03:00')")
    config = write_config(
        f"""
        history: {{path: "s3://{name}/prod"}}
        connections:
          wh: {{type: sql, database: wh.duckdb}}
        sources:
          - {{id: orders, connection: wh, query: "SELECT max(loaded_at) FROM orders WHERE loaded_at <= $now"}}
        components:
          - {{id: orders, name: Orders, depends_on: [orders]}}
        """
    )
    runner = CliRunner()
    for now in ("2026-11-21T04:00:00Z", "2026-11-21T23:00:00Z", "2026-11-22T04:00:00Z"):
        result = runner.invoke(main, ["run", "-c", str(config), "--now", now, "--out", "site"])
        assert result.exit_code == 0, result.output
    keys = sorted(o["Key"] for o in aws.list_objects_v2(Bucket=name)["Contents"])
    day21 = [k for k in keys if "date=2026-11-21" in k]
    assert len([k for k in day21 if k.startswith("prod/observations/")]) == 1  # compacted, merged parts removed
    assert any(k.startswith("prod/observations/date=2026-11-22/") for k in keys)
    status = json.loads((tmp_path / "site/status.json").read_text())
    assert status["components"][0]["uptime_pct"] == 100.0  # the first day's history came back from S3

    shutil.rmtree(tmp_path / "site")
    result = runner.invoke(main, ["render", "-c", str(config), "--history", "s3://no-such-bucket/prod", "--now", "2026-11-22T05:00:00Z"])
    assert result.exit_code == 1
    assert "cannot list s3://no-such-bucket/prod: bucket no-such-bucket does not exist" in result.output
    assert not (tmp_path / "site").exists()


def test_the_documented_steps_end_to_end(aws, s3, tmp_path, write_config, httpserver, monkeypatch):
    """restore history → run (collect, render, alert) → save history → publish, twice."""
    import subprocess

    import duckdb

    name = bucket(aws, "acme-status")
    origin = tmp_path / "origin.git"
    subprocess.run(["git", "init", "--quiet", "--bare", str(origin)], check=True)
    httpserver.expect_request("/alerts", method="POST").respond_with_data("ok")
    monkeypatch.setenv("ALERT_URL", f"json://127.0.0.1:{httpserver.port}/alerts")
    with duckdb.connect(str(tmp_path / "wh.duckdb")) as db:
        db.execute("CREATE TABLE orders (loaded_at TIMESTAMP)")
        db.execute("INSERT INTO orders VALUES ('2026-11-22 03:00')")
    config = write_config(
        """
        site: {url: "https://status.acme.com"}
        alerts: {urls: ["${ALERT_URL}"]}
        connections:
          wh: {type: sql, database: wh.duckdb}
        sources:
          - {id: orders, connection: wh, query: SELECT max(loaded_at) FROM orders, freshness: {warn_after: 2h, error_after: 6h}}
        components:
          - {id: orders, name: Orders, depends_on: [orders]}
        """
    )
    runner = CliRunner()

    def scheduled_run(now):
        shutil.rmtree(tmp_path / "history", ignore_errors=True)
        for args in (
            ["history", "restore", "--remote", str(origin), "--to", "history"],
            ["run", "-c", str(config), "--history", "history", "--out", "site", "--now", now],
            ["history", "save", "--remote", str(origin), "--from", "history"],
            ["publish", "--site", "site", "--to", f"s3://{name}/www", "--delete"],
        ):
            result = runner.invoke(main, args)
            assert result.exit_code == 0, (args, result.output)
        return result.output

    first = scheduled_run("2026-11-22T04:00:00Z")
    assert first.startswith("uploaded ") and ", unchanged 0," in first
    assert httpserver.log == []  # the first run records, it does not announce
    second = scheduled_run("2026-11-22T10:00:00Z")  # orders are now 7 hours old: failing
    assert "+ index.html" in second and "+ style." not in second  # the stylesheet did not change: not sent again
    (request, _), = httpserver.log
    assert json.loads(request.data)["title"] == "Orders: operational → failing"
    page = aws.get_object(Bucket=name, Key="www/status.json")
    assert json.loads(page["Body"].read())["status"] == "failing"
    branch = subprocess.run(["git", "--git-dir", str(origin), "rev-list", "--count", "status-history"],
                            capture_output=True, text=True, check=True)
    assert branch.stdout.strip() == "1"

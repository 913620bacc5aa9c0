"""Servers that answer 200 and echo the request back into fields statusgen shows: the secret
must be scrubbed in every form a request carries it (Fivetran's `Basic base64(key:secret)`,
Looker's URL-encoded form body), from the page, status.json, the output and the history,
which is read back with DuckDB (its files are compressed: grepping bytes proves nothing)."""

import base64
import json
from urllib.parse import quote, quote_plus

import duckdb
import pytest
from click.testing import CliRunner
from werkzeug import Response

from statusgen.cli import main

pytestmark = pytest.mark.reliability

KEY, SECRET = "plant-key-71c0", "plant/secret+=&%?-9e9e"  # characters that encode differently everywhere
LOOKER_SECRET = "plant looker&secret=/ä-4d4d"


def echo(request) -> str:
    return f"{request.headers.get('Authorization')} {request.get_data(as_text=True)}"


@pytest.fixture
def echoing(httpserver):
    def fivetran(request):
        item = {"id": "c1", "schema": "sf", "succeeded_at": "2026-11-22T09:00:00Z", "failed_at": "2026-11-22T10:00:00Z",
                "paused": False, "sync_frequency": 60,
                "status": {"setup_state": "connected", "tasks": [{"code": "echo", "message": echo(request)}], "warnings": []}}
        return Response(json.dumps({"code": "Success", "data": item}), content_type="application/json")

    def looker_login(request):
        return Response(json.dumps({"access_token": "tok", "token_type": "Bearer", "expires_in": 3600}), content_type="application/json")

    logins = []
    httpserver.expect_request("/v1/connections/c1").respond_with_handler(fivetran)
    httpserver.expect_request("/api/4.0/login", method="POST").respond_with_handler(lambda r: logins.append(echo(r)) or looker_login(r))
    httpserver.expect_request("/api/4.0/datagroups").respond_with_handler(lambda r: Response(json.dumps([{
        "id": "1", "model_name": "m", "name": "d", "triggered_at": 1795334400, "trigger_check_at": 1795338000,
        "trigger_error": "login was: " + logins[-1]}]), content_type="application/json"))
    return httpserver


def test_encoded_secrets_appear_nowhere(write_config, tmp_path, echoing, monkeypatch):
    monkeypatch.setenv("FT_KEY", KEY)
    monkeypatch.setenv("FT_SECRET", SECRET)
    monkeypatch.setenv("LK_SECRET", LOOKER_SECRET)
    url = echoing.url_for("/").rstrip("/")
    write_config(f"""
        connections:
          ft: {{type: fivetran, api_key: "${{FT_KEY}}", api_secret: "${{FT_SECRET}}", api_url: "{url}"}}
          lk: {{type: looker, url: "{url}", client_id: plant-client, client_secret: "${{LK_SECRET}}"}}
        sources:
          - {{id: sf, connection: ft, connection_id: c1}}
          - {{id: dg, connection: lk, datagroup: "m::d"}}
        components:
          - {{id: all, name: All, depends_on: [sf, dg]}}
        """)
    done = CliRunner().invoke(main, ["run", "--now", "2026-11-22T12:00:00Z"])
    assert done.exit_code == 0, done.output
    status = json.loads((tmp_path / "site/status.json").read_text())
    messages = {s["id"]: s["message"] for s in status["sources"]}
    assert "Basic ***" in messages["sf"]  # the echo arrived, scrubbed
    site = "".join(p.read_text(errors="replace") for p in (tmp_path / "site").rglob("*") if p.is_file())
    with duckdb.connect() as db:
        rows = db.execute(f"SELECT * FROM read_parquet('{tmp_path}/history/*/*/*.parquet', union_by_name = true)").fetchall()
    history = " ".join(str(value) for row in rows for value in row)
    forms = _forms()
    for where, text in (("site", site), ("history", history), ("output", done.output)):
        leaked = [form for form in forms if form in text]
        assert not leaked, f"{where} holds {leaked}"


def _forms():
    """The planted secrets in every form the requests carried them."""
    basic = base64.b64encode(f"{KEY}:{SECRET}".encode()).decode()
    return {SECRET, quote(SECRET, safe=""), quote_plus(SECRET), basic, LOOKER_SECRET, quote_plus(LOOKER_SECRET)}

"""Distinctive fake secrets planted in every credential setting never reach the site, the
history, the command's output or an alert — even when servers refuse them and echo them back."""

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from click.testing import CliRunner

from statusgen.cli import main

pytestmark = pytest.mark.reliability

SECRETS = {
    "AIRFLOW_PASSWORD": "plant-airflow-pw-9f1c",
    "AIRFLOW_TOKEN": "plant-airflow-token-2b7e",
    "PREFECT_KEY": "plant-prefect-key-77aa",
    "DAGSTER_TOKEN": "plant-dagster-token-5d0d",
    "GITHUB_TOKEN_X": "plant-github-token-c3c3",
    "FIVETRAN_KEY": "plant-fivetran-key-e2e2",
    "FIVETRAN_SECRET": "plant-fivetran-secret-e1e1",
    "DBT_TOKEN": "plant-dbtcloud-token-a0a0",
    "LOOKER_SECRET": "plant-looker-secret-b4b4",
    "HTTP_KEY": "plant-http-key-6e6e",
    "PG_URL": "postgresql+psycopg://statusgen:plant-pg-password-d2d2@127.0.0.1:1/warehouse",
    "ALERT_URL": "json://127.0.0.1:9/plant-alert-path-f00d",
}


class _EchoRefusal(BaseHTTPRequestHandler):
    """Refuses everything, quoting back every header and the body it was sent."""

    seen = []

    def log_message(self, *args):
        pass

    def _refuse(self):
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0)).decode(errors="replace")
        _EchoRefusal.seen.append(str(self.headers) + body)
        answer = json.dumps({"detail": "unauthorized", "you_sent": dict(self.headers), "body": body, "path": self.path}).encode()
        self.send_response(401)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(answer)))
        self.end_headers()
        self.wfile.write(answer)

    do_GET = do_POST = _refuse


@pytest.fixture
def echo_server():
    server = ThreadingHTTPServer(("127.0.0.1", 0), _EchoRefusal)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    server.server_close()


def test_planted_secrets_appear_nowhere(write_config, tmp_path, echo_server, monkeypatch):
    for name, value in SECRETS.items():
        monkeypatch.setenv(name, value)
    url = echo_server
    config = write_config(
        f"""
        alerts: {{urls: ["${{ALERT_URL}}"]}}
        connections:
          af: {{type: airflow, url: "{url}", username: admin, password: "${{AIRFLOW_PASSWORD}}"}}
          af1: {{type: airflow, api_version: 1, url: "{url}", token: "${{AIRFLOW_TOKEN}}"}}
          pf: {{type: prefect, api_url: "{url}/api", api_key: "${{PREFECT_KEY}}"}}
          dg: {{type: dagster, url: "{url}", token: "${{DAGSTER_TOKEN}}"}}
          gh: {{type: github_actions, repository: a/b, api_url: "{url}", token: "${{GITHUB_TOKEN_X}}"}}
          ft: {{type: fivetran, api_key: "${{FIVETRAN_KEY}}", api_secret: "${{FIVETRAN_SECRET}}", api_url: "{url}"}}
          dc: {{type: dbt_cloud, account_id: 1, token: "${{DBT_TOKEN}}", url: "{url}"}}
          lk: {{type: looker, url: "{url}", client_id: i, client_secret: "${{LOOKER_SECRET}}"}}
          hp: {{type: http, url: "{url}", headers: {{X-Api-Key: "${{HTTP_KEY}}"}}}}
          pg: {{type: sql, url: "${{PG_URL}}"}}
        sources:
          - {{id: af, connection: af, dag_id: d}}
          - {{id: af1, connection: af1, dag_id: d}}
          - {{id: pf, connection: pf, flow: f}}
          - {{id: dg, connection: dg, job: j}}
          - {{id: gh, connection: gh, workflow: w.yml}}
          - {{id: ft, connection: ft, connection_id: c}}
          - {{id: dc, connection: dc, job_id: 1}}
          - {{id: lk, connection: lk, datagroup: "m::d"}}
          - {{id: hp, connection: hp, path: status}}
          - {{id: pg, connection: pg, query: SELECT 1}}
        components:
          - {{id: everything, name: Everything, depends_on: [af, af1, pf, dg, gh, ft, dc, lk, hp, pg]}}
        """
    )
    runner = CliRunner()
    outputs = []
    for now in ("2026-11-22T10:00:00Z", "2026-11-22T11:00:00Z"):
        result = runner.invoke(main, ["run", "-c", str(config), "--now", now, "--out", "site"])
        assert result.exit_code == 0, result.output
        outputs.append(result.output)
    assert any(value.split("@")[0] in seen or "plant-" in seen for seen in _EchoRefusal.seen for value in SECRETS.values())
    written = b"".join(p.read_bytes() for folder in ("site", "history") for p in (tmp_path / folder).rglob("*") if p.is_file())
    everything = written.decode(errors="replace") + "".join(outputs)
    status = json.loads((tmp_path / "site/status.json").read_text())
    assert {s["status"] for s in status["sources"]} == {"unknown"}  # every source was refused, and says so
    for name, value in SECRETS.items():
        needle = value.split(":")[2].split("@")[0] if name == "PG_URL" else value.rsplit("/", 1)[-1]
        assert needle not in everything, f"{name} leaked"

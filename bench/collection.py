"""Collection: the real airflow collector against a local server that answers like Airflow's
v2 API after a fixed latency. The floor is that latency times the requests that must
happen one after another (a token, the paused DAGs, then each page of runs)."""

from __future__ import annotations

import json
import math
import threading
import time
from datetime import datetime, timedelta, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from statusgen.collect import collect_all
from statusgen.collectors.airflow import AirflowConnection, AirflowSource
from statusgen.config import Config, HistoryConfig, SiteConfig

LATENCY = 0.1
PAGE = 100
NOW = datetime(2026, 11, 22, 12, tzinfo=timezone.utc)


class _Airflow(BaseHTTPRequestHandler):
    requests = 0
    lock = threading.Lock()

    def log_message(self, *args):  # quiet
        pass

    def _answer(self, body):
        time.sleep(LATENCY)
        with _Airflow.lock:
            _Airflow.requests += 1
        data = json.dumps(body).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self):  # /api/v2/dags?paused=true
        self._answer({"dags": [], "total_entries": 0})

    def do_POST(self):
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        if self.path == "/auth/token":
            return self._answer({"access_token": "t"})
        dag_ids = body["dag_ids"]
        offset, limit = body["page_offset"], body["page_limit"]
        runs = [{"dag_id": d, "dag_run_id": f"scheduled__{d}", "state": "success",
                 "start_date": "2026-11-22T10:00:00Z", "end_date": "2026-11-22T10:05:00Z"} for d in dag_ids]
        self._answer({"dag_runs": runs[offset : offset + limit], "total_entries": len(runs)})


def _config(port: int, connections: int, dags: int) -> Config:
    conns = {f"airflow{c}": AirflowConnection(type="airflow", url=f"http://127.0.0.1:{port}", username="u", password="p",
                                              page_size=PAGE, timeout=timedelta(seconds=60), max_concurrency=4)
             for c in range(connections)}
    sources = [AirflowSource(id=f"c{c}_d{d}", connection=f"airflow{c}", dag_id=f"dag_{d:04}") for c in range(connections) for d in range(dags)]
    return Config(Path("bench.yaml"), SiteConfig(), HistoryConfig(), conns, sources, [])


class _Server(ThreadingHTTPServer):
    request_queue_size = 256  # the default 5 drops simultaneous connects, which then wait a second to retry
    daemon_threads = True


def measure(connections: int, dags: int, workers: int | None = None) -> dict[str, float]:
    server = _Server(("127.0.0.1", 0), _Airflow)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        config = _config(server.server_port, connections, dags)
        _Airflow.requests = 0
        started = time.perf_counter()
        result = collect_all(config, NOW, {}, **({"max_workers": workers} if workers else {}))
        wall = time.perf_counter() - started
    finally:
        server.shutdown()
        server.server_close()
    assert all(r.report.error is None for r in result.reports.values())
    per_connection = 2 + math.ceil(dags / PAGE)  # token, paused DAGs, pages of runs
    return {
        "workers": workers or "default",
        "connections": connections,
        "dags": dags,
        "wall_s": wall,
        "floor_s": LATENCY * per_connection,
        "requests": _Airflow.requests,
        "requests_per_connection": _Airflow.requests / connections,
        "sequential_floor_s": LATENCY * per_connection * connections,
    }


def run() -> list[dict[str, float]]:
    return [measure(50, 10), measure(1, 1000), measure(50, 10, workers=1)]

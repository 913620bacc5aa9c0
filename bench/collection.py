"""Collection: the real airflow collector against a local server that answers like Airflow's
v2 API after a fixed latency. The floor is that latency times the requests that must
happen one after another (a token, the paused DAGs, then each page of runs)."""

from __future__ import annotations

import json
import math
import multiprocessing
import time
from datetime import datetime, timedelta, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from multiprocessing.connection import Connection
from multiprocessing.sharedctypes import Synchronized
from pathlib import Path

from bench.clock import Clock
from statusgen.collect import collect_all
from statusgen.collectors.airflow import AirflowConnection, AirflowSource
from statusgen.config import Config, HistoryConfig, SiteConfig

LATENCY = 0.1
PAGE = 100
NOW = datetime(2026, 11, 22, 12, tzinfo=timezone.utc)


class _Airflow(BaseHTTPRequestHandler):
    requests: Synchronized  # shared with the benchmark's process

    def log_message(self, *args):  # quiet
        pass

    def _answer(self, body):
        time.sleep(LATENCY)
        with _Airflow.requests.get_lock():
            _Airflow.requests.value += 1
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


def _serve(port: Connection, requests: Synchronized) -> None:
    _Airflow.requests = requests
    server = _Server(("127.0.0.1", 0), _Airflow)
    port.send(server.server_port)
    server.serve_forever()


def measure(connections: int, dags: int, workers: int | None = None) -> dict[str, float]:
    # The server has a process of its own, so its work is not counted as statusgen's.
    spawn = multiprocessing.get_context("spawn")
    requests = spawn.Value("i", 0)
    mine, theirs = spawn.Pipe()
    server = spawn.Process(target=_serve, args=(theirs, requests), daemon=True)
    server.start()
    try:
        config = _config(mine.recv(), connections, dags)
        with Clock() as took:
            result = collect_all(config, NOW, {}, **({"max_workers": workers} if workers else {}))
    finally:
        server.terminate()
        server.join()
    assert all(r.report.error is None for r in result.reports.values())
    per_connection = 2 + math.ceil(dags / PAGE)  # token, paused DAGs, pages of runs
    return {
        "workers": workers or "default",
        "connections": connections,
        "dags": dags,
        "wall_s": took.wall,
        "cpu_s": took.cpu,  # statusgen's alone: the server is another process
        "floor_s": LATENCY * per_connection,
        "requests": requests.value,
        "requests_per_connection": requests.value / connections,
        "sequential_floor_s": LATENCY * per_connection * connections,
    }


def run() -> list[dict[str, float]]:
    measure(1, 1)  # loads the collectors and the HTTP stack once, as any run of statusgen has before it collects
    return [measure(50, 10), measure(1, 1000), measure(50, 10, workers=1)]

"""Every HTTP collector against a server that misbehaves the ways real APIs do. Each fault
must end as an error for the source (it becomes unknown) with a short message, within the
connection's timeout, and never as an exception out of the runner."""

from __future__ import annotations

import socket
import threading
import time
from datetime import timedelta

import pytest

from statusgen.collect import collect_all
from statusgen.collectors.airflow import AirflowConnection, AirflowSource
from statusgen.collectors.dagster import DagsterConnection, DagsterSource
from statusgen.collectors.dbt_cloud import DbtCloudConnection, DbtCloudSource
from statusgen.collectors.fivetran import FivetranConnection, FivetranSource
from statusgen.collectors.github_actions import GithubActionsConnection, GithubActionsSource
from statusgen.collectors.http import HttpConnection, HttpSource
from statusgen.collectors.looker import LookerConnection, LookerSource
from statusgen.collectors.prefect import PrefectConnection, PrefectSource
from statusgen.config import Config, HistoryConfig, SiteConfig
from tests.conftest import utc

pytestmark = pytest.mark.reliability

TIMEOUT = 3
SECRET = "s3cr3t-value-123"


def _response(status: str, body: bytes, content_type: str = "application/json", extra: str = "") -> bytes:
    return (f"HTTP/1.1 {status}\r\nContent-Type: {content_type}\r\nContent-Length: {len(body)}\r\n{extra}"
            f"Connection: close\r\n\r\n").encode() + body


FAULTS = {
    "500": lambda c: c.sendall(_response("500 Internal Server Error", b"{}")),
    "502": lambda c: c.sendall(_response("502 Bad Gateway", b"bad gateway", "text/plain")),
    "503": lambda c: c.sendall(_response("503 Service Unavailable", b"{}", extra="Retry-After: 1\r\n")),
    "429": lambda c: c.sendall(_response("429 Too Many Requests", b"{}", extra="Retry-After: 120\r\n")),
    "401": lambda c: c.sendall(_response("401 Unauthorized", f'{{"detail": "bad token {SECRET}"}}'.encode())),
    "403": lambda c: c.sendall(_response("403 Forbidden", b"{}")),
    "login page": lambda c: c.sendall(_response("200 OK", b"<html><form>Sign in</form></html>", "text/html")),
    "invalid json": lambda c: c.sendall(_response("200 OK", b'{"dags": [')),
    "wrong shape": lambda c: c.sendall(_response("200 OK", b'[1, "two", {"three": 3}]')),
    "25 MB body": lambda c: c.sendall(_response("200 OK", b'["' + b"x" * (25 * 1024 * 1024) + b'"]')),
    "redirect loop": lambda c: c.sendall(_response("302 Found", b"", extra="Location: /loop\r\n")),
    "reset": lambda c: (c.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00"), None)[1],
    "read timeout mid-body": lambda c: (c.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n{\"da"), time.sleep(TIMEOUT + 2)),
    "slow drip": lambda c: _drip(c),
    "connect timeout": None,  # see FaultServer
}


def _drip(conn: socket.socket) -> None:
    conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 100000\r\n\r\n")
    for _ in range(40):
        try:
            conn.sendall(b" ")
        except OSError:
            return
        time.sleep(0.2)


class FaultServer:
    """A raw socket server: every request gets the same fault."""

    def __init__(self, fault: str):
        self.fault = FAULTS[fault]
        self.socket = socket.socket()
        self.socket.bind(("127.0.0.1", 0))
        self.port = self.socket.getsockname()[1]
        self.running = True
        self.waiting: list[socket.socket] = []
        if self.fault is None:
            # A listener that never accepts, its queue already full: the kernel drops every new
            # SYN, so connecting hangs exactly as it does to a firewalled host.
            self.socket.listen(0)
            for _ in range(4):
                self.waiting.append(socket.socket())
                self.waiting[-1].setblocking(False)
                self.waiting[-1].connect_ex(("127.0.0.1", self.port))
            return
        self.socket.listen(64)
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        while self.running:
            try:
                conn, _ = self.socket.accept()
            except OSError:
                return
            threading.Thread(target=self._handle, args=(conn,), daemon=True).start()

    def _handle(self, conn: socket.socket) -> None:
        with conn:
            try:
                conn.settimeout(TIMEOUT + 5)
                conn.recv(65536)
                self.fault(conn)
            except OSError:
                pass

    def close(self) -> None:
        self.running = False
        for waiting in self.waiting:
            waiting.close()
        self.socket.close()


def collectors(url: str):
    """One connection and source per HTTP collector, all pointed at `url`, with planted secrets."""
    t = timedelta(seconds=TIMEOUT)
    return {
        "airflow": (AirflowConnection(type="airflow", url=url, username="u", password=SECRET, timeout=t),
                    AirflowSource(id="airflow", connection="airflow", dag_id="d")),
        "prefect": (PrefectConnection(type="prefect", api_url=url, api_key=SECRET, timeout=t),
                    PrefectSource(id="prefect", connection="prefect", flow="f")),
        "dagster": (DagsterConnection(type="dagster", url=url, token=SECRET, timeout=t),
                    DagsterSource(id="dagster", connection="dagster", job="j")),
        "github_actions": (GithubActionsConnection(type="github_actions", repository="a/b", api_url=url, token=SECRET, timeout=t),
                           GithubActionsSource(id="github_actions", connection="github_actions", workflow="w.yml")),
        "fivetran": (FivetranConnection(type="fivetran", api_key="k", api_secret=SECRET, api_url=url, timeout=t),
                     FivetranSource(id="fivetran", connection="fivetran", connection_id="c")),
        "dbt_cloud": (DbtCloudConnection(type="dbt_cloud", account_id=1, token=SECRET, url=url, timeout=t),
                      DbtCloudSource(id="dbt_cloud", connection="dbt_cloud", job_id=1)),
        "looker": (LookerConnection(type="looker", url=url, client_id="i", client_secret=SECRET, timeout=t),
                   LookerSource(id="looker", connection="looker", datagroup="m::d")),
        "http": (HttpConnection(type="http", url=url, headers={"X-Key": SECRET}, timeout=t),
                 HttpSource(id="http", connection="http", path="status", timestamp="t")),
    }


@pytest.mark.parametrize("fault", sorted(FAULTS))
def test_every_http_collector_survives(fault):
    server = FaultServer(fault)
    try:
        pairs = collectors(f"http://127.0.0.1:{server.port}")
        config = Config(file=None, site=SiteConfig(), history=HistoryConfig(),
                        connections={name: c for name, (c, _) in pairs.items()},
                        sources=[s for _, s in pairs.values()], components=[])
        started = time.monotonic()
        reports = collect_all(config, utc(2026, 11, 22, 12), {}).reports
        took = time.monotonic() - started
    finally:
        server.close()
    assert took < TIMEOUT + 3, f"{fault}: the run took {took:.1f}s"
    for name, collected in reports.items():
        report = collected.report
        assert report.error, f"{name} under {fault}: no error reported"
        assert len(report.error) <= 500 and "\n" not in report.error
        assert SECRET not in report.error and "Traceback" not in report.error
        assert "crashed" not in report.error, f"{name} under {fault}: {report.error}"

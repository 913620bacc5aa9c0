"""Real servers for the integration tests: each in a cached virtual environment of its own
(so its pins never meet statusgen's), started on 127.0.0.1 in its own session, stopped after."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests
from requests.adapters import HTTPAdapter
from urllib3.util.retry import Retry

CACHE = Path(os.environ.get("STATUSGEN_TEST_VENVS", Path.home() / ".cache" / "statusgen-tests"))
LOCKS = Path(__file__).parent.parent / "requirements" / "servers"


def venv(name: str) -> Path:
    """The virtual environment of `requirements/servers/NAME.txt` (a lock of every package it
    needs), made once and reused while the lock stays the same."""
    lock = LOCKS / f"{name}.txt"
    path = CACHE / name
    marker = path / "statusgen-requirements.txt"
    wanted = lock.read_text()
    if not marker.exists() or marker.read_text() != wanted:
        subprocess.run([sys.executable, "-m", "venv", "--clear", str(path)], check=True)
        subprocess.run([str(path / "bin/pip"), "install", "--quiet", "--requirement", str(lock)], check=True, timeout=900)
        marker.write_text(wanted)
    return path


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """A process group started in its own session, so it and its children stop together."""

    def __init__(self, command: list[str], env: dict[str, str], log: Path, cwd: Path | None = None):
        self.log = log
        with open(log, "wb") as out:
            self.process = subprocess.Popen(command, env=env, cwd=cwd, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)

    def wait_for(self, url: str, seconds: float) -> None:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"server exited with {self.process.returncode}; see {self.log}:\n{self.tail()}")
            try:
                if requests.get(url, timeout=2).status_code < 500:
                    return
            except requests.RequestException:
                pass
            time.sleep(0.5)
        raise TimeoutError(f"{url} not ready after {seconds:g}s; see {self.log}:\n{self.tail()}")

    def tail(self) -> str:
        return self.log.read_text(errors="replace")[-3000:]

    def stop(self, grace: float = 20) -> None:
        """SIGINT to the server itself (it shuts its parts down in order), then the session."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
            try:
                self.process.wait(grace)
            except subprocess.TimeoutExpired:
                pass
        for sig in (signal.SIGTERM, signal.SIGKILL):
            try:
                os.killpg(self.process.pid, sig)
            except ProcessLookupError:
                return
            time.sleep(1)


def moto_s3(log_dir: Path) -> tuple[Server, str]:
    """moto's S3 server on a free loopback port, and its endpoint URL."""
    env_dir = venv("moto")
    port = free_port()
    server = Server([str(env_dir / "bin/moto_server"), "-H", "127.0.0.1", "-p", str(port)], dict(os.environ), log_dir / "moto.log")
    endpoint = f"http://127.0.0.1:{port}"
    server.wait_for(f"{endpoint}/moto-api/", 60)
    return server, endpoint


# Named apart from their functions, so a test module imports them without its arguments
# shadowing the import.
@pytest.fixture(scope="module", name="s3")
def s3_server(tmp_path_factory):
    """moto's S3 server for a test module: its endpoint URL."""
    server, endpoint = moto_s3(tmp_path_factory.mktemp("moto"))
    try:
        yield endpoint
    finally:
        server.stop(grace=5)


@pytest.fixture(name="aws")
def aws_client(s3, monkeypatch):
    """Credentials and endpoint for statusgen (through the environment, as in CI), and a client."""
    import boto3

    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.setenv("AWS_ENDPOINT_URL", s3)
    return boto3.client("s3", endpoint_url=s3)


def npm_package(spec: str) -> Path:
    """An npm package installed once under the cache, and its folder."""
    name = spec.rsplit("@", 1)[0]
    folder = CACHE / "npm" / spec.replace("/", "_")
    if not (folder / "node_modules" / name / "package.json").exists():
        folder.mkdir(parents=True, exist_ok=True)
        subprocess.run(["npm", "install", "--silent", "--no-audit", "--no-fund", "--prefix", str(folder), spec],
                       check=True, timeout=600, capture_output=True)
    return folder / "node_modules" / name


AIRFLOW_PASSWORD = "statusgen-test-pw"


def airflow_standalone(home: Path, extra_env: dict[str, str] | None = None) -> tuple[Server, str]:
    """`airflow standalone` on a free loopback port with the DAGs in home/dags, and its URL.
    The admin password is set in advance (Airflow generates one only for users missing from
    that file); DAGs are not paused at creation and are parsed every 5 seconds."""
    env_dir = venv("airflow")
    (home / "simple_auth_manager_passwords.json.generated").write_text(json.dumps({"admin": AIRFLOW_PASSWORD}))
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = {
        **os.environ,
        "PATH": f"{env_dir / 'bin'}:{os.environ['PATH']}",  # standalone starts `airflow` from PATH
        "AIRFLOW_HOME": str(home),
        "AIRFLOW__CORE__DAGS_FOLDER": str(home / "dags"),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__API__HOST": "127.0.0.1",
        "AIRFLOW__API__PORT": str(port),
        "AIRFLOW__API__BASE_URL": base,
        "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"{base}/execution/",
        "AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION": "False",
        "AIRFLOW__DAG_PROCESSOR__REFRESH_INTERVAL": "5",
        "AIRFLOW__CORE__PARALLELISM": "2",
        **(extra_env or {}),
    }
    server = Server([str(env_dir / "bin/airflow"), "standalone"], env, home / "standalone.log")
    try:
        server.wait_for(f"{base}/api/v2/monitor/health", 180)
    except BaseException:
        server.stop()
        raise
    return server, base


def airflow_api(base: str) -> requests.Session:
    token = requests.post(f"{base}/auth/token", json={"username": "admin", "password": AIRFLOW_PASSWORD}, timeout=10).json()["access_token"]
    session = requests.Session()
    session.headers["Authorization"] = f"Bearer {token}"
    return session


def airflow_trigger(session: requests.Session, base: str, dag_id: str, server: Server, seconds: float = 120) -> str:
    """Trigger a run of `dag_id` now; its run id. Airflow 3 lists a DAG a moment before it can
    be triggered (its serialized form is written apart): until then a trigger answers 500, as it
    did in two CI runs, so it is asked again."""
    deadline = time.monotonic() + seconds
    while (answer := session.post(f"{base}/api/v2/dags/{dag_id}/dagRuns", json={"logical_date": None}, timeout=10)).status_code >= 500:
        if time.monotonic() > deadline:
            raise TimeoutError(f"{dag_id} could not be triggered: {answer.text}\n{server.tail()}")
        time.sleep(1)
    answer.raise_for_status()
    return answer.json()["dag_run_id"]


def prefect_api() -> requests.Session:
    """A session that asks Prefect again when it answers 503: its SQLite database is busy while
    its own services write (most at start-up), and Prefect's client retries those too."""
    session = requests.Session()
    retry = Retry(total=8, backoff_factor=0.5, status_forcelist=[503], allowed_methods=None)
    session.mount("http://", HTTPAdapter(max_retries=retry))
    return session

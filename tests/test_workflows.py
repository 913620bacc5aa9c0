"""The workflow users copy, the reusable action and the project's CI pass actionlint and
zizmor (offline audits: pinned actions, least privilege, no template injection)."""

import shutil
import subprocess
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).parent.parent
WORKFLOWS = sorted((ROOT / ".github/workflows").glob("*.yml"))


def tool(name: str) -> str:
    """A linter installed with the test extras, beside this Python or on PATH."""
    beside = Path(sys.executable).parent / name
    return str(beside) if beside.exists() else shutil.which(name) or name


def test_actionlint_finds_nothing():
    done = subprocess.run([tool("actionlint"), *map(str, WORKFLOWS)], capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr


def test_zizmor_finds_nothing():
    done = subprocess.run([tool("zizmor"), "--offline", *map(str, WORKFLOWS), str(ROOT / "action.yml")],
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr


def test_the_status_workflow_never_overlaps_and_asks_only_for_what_it_needs():
    workflow = yaml.safe_load((ROOT / ".github/workflows/status.yml").read_text())
    assert workflow["permissions"] == {}
    assert workflow["concurrency"] == {"group": "statusgen", "cancel-in-progress": False}
    (job,) = workflow["jobs"].values()
    assert job["permissions"] == {"contents": "write", "pages": "write", "id-token": "write"}
    steps = " ".join(str(step.get("run", "")) for step in job["steps"])
    assert "statusgen history restore" in steps and "statusgen run" in steps and "statusgen history save" in steps


def test_the_cronjob_example_runs_what_the_workflow_runs():
    manifest = yaml.safe_load((ROOT / "docs/examples/statusgen-cronjob.yaml").read_text())
    workflow = yaml.safe_load((ROOT / ".github/workflows/status.yml").read_text())
    assert manifest["kind"] == "CronJob" and manifest["spec"]["concurrencyPolicy"] == "Forbid"
    assert manifest["spec"]["schedule"] == workflow[True]["schedule"][0]["cron"]  # PyYAML reads `on:` as True
    (container,) = manifest["spec"]["jobTemplate"]["spec"]["template"]["spec"]["containers"]
    script = container["args"][0]
    release = {e["name"]: e["value"] for e in container["env"]}["RELEASE"]
    (install,) = [s for s in workflow["jobs"]["status"]["steps"] if s.get("name") == "Install statusgen"]
    assert release == install["env"]["RELEASE"]  # one release everywhere
    assert "--constraint" in script and "statusgen run" in script and "statusgen publish" in script

"""statusgen asked about a real server's sources at chosen moments, as a scheduled job would be."""

import json
from datetime import datetime
from pathlib import Path

from click.testing import CliRunner

from statusgen.cli import main


def sources_at(config: Path, moment: datetime, env: dict[str, str] | None = None) -> dict[str, dict]:
    """What `statusgen status --json` says of each source (by id) after a collection, both at `moment`."""
    runner = CliRunner(env=env)
    at = moment.isoformat()
    collected = runner.invoke(main, ["collect", "-c", str(config), "--now", at])
    assert collected.exit_code == 0, collected.output
    found = runner.invoke(main, ["status", "-c", str(config), "--now", at, "--json"])
    assert found.exit_code == 0, found.output
    return {s["id"]: s for s in json.loads(found.output)["sources"]}

"""Data flows one way (config → collect with discovery → history → …): the stages upstream of
history never import it, so history can change without touching them."""

import subprocess
import sys

import pytest


@pytest.mark.parametrize("module", ["statusgen.discovery", "statusgen.catalog", "statusgen.collectors", "statusgen.collectors.api"])
def test_upstream_stages_import_no_history(module):
    imported = subprocess.run(
        [sys.executable, "-c", f"import sys, {module}; print(sorted(m for m in sys.modules if m.startswith('statusgen.history')))"],
        capture_output=True, text=True, check=True,
    ).stdout.strip()
    assert imported == "[]"

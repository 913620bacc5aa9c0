"""The demo page in headless Chromium (Debian's chromium)."""

import shutil
import subprocess
import tempfile

import pytest
from click.testing import CliRunner

from statusgen.cli import main

pytestmark = pytest.mark.browser

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--no-first-run", "--hide-scrollbars"]


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    if CHROMIUM is None:
        pytest.fail("chromium is not installed (.ci/run installs Debian's package)")
    root = tmp_path_factory.mktemp("browser")
    result = CliRunner().invoke(main, ["demo", "--days", "14", "--now", "2026-11-22T10:00:00Z",
                                       "--workdir", str(root / "work"), "--out", str(root / "site")])
    assert result.exit_code == 0, result.output
    return root / "site"


def chromium(*args: str) -> subprocess.CompletedProcess:
    with tempfile.TemporaryDirectory() as profile:
        return subprocess.run([CHROMIUM, *FLAGS, f"--user-data-dir={profile}", *args],
                              capture_output=True, text=True, timeout=120, check=True)


def test_the_page_is_complete_without_javascript(site):
    assert "<script" not in (site / "index.html").read_text()  # nothing to turn off
    dom = chromium("--dump-dom", (site / "index.html").as_uri()).stdout
    assert "Some data is failing" in dom
    assert dom.count("<li class=\"s-") == 90 * 7  # the bars always span site.days (90)
    assert dom.count("<li class=\"s-nodata") >= 75 * 7  # before the 14 simulated days
    assert "Nov 22: " in dom and "failing" in dom


@pytest.mark.parametrize(("name", "width"), [("desktop", 1280), ("phone", 390)])
def test_screenshots_render(site, tmp_path, name, width):
    shot = tmp_path / f"{name}.png"
    chromium(f"--window-size={width},1600", f"--screenshot={shot}", (site / "index.html").as_uri())
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and shot.stat().st_size > 10_000

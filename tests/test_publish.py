"""Publishing the site to a folder (here) and to S3 (test_s3_real.py)."""

import pytest

from statusgen.publish import (
    LONG_CACHE,
    SHORT_CACHE,
    PublishError,
    cache_control,
    content_type,
    publish,
)
from tests.conftest import fake_site


@pytest.fixture
def site(tmp_path):
    root = fake_site(tmp_path)
    (root / "status.json").write_text("{}")
    return root


def test_types_and_cache_lifetimes():
    assert content_type("index.html") == "text/html; charset=utf-8"
    assert content_type("api/v2/summary.json") == "application/json"
    assert content_type("badge.svg") == "image/svg+xml"
    assert cache_control("index.html") == SHORT_CACHE
    assert cache_control("style.0123abcd.css") == LONG_CACHE


def test_a_folder_gets_only_what_changed(site, tmp_path):
    out = tmp_path / "pages"
    first = publish(site, str(out))
    assert sorted(first.uploaded) == ["components/orders.html", "index.html", "status.json", "style.0123abcd.css"]
    again = publish(site, str(out))
    assert (again.uploaded, again.unchanged) == ([], 4)
    (site / "index.html").write_text("<h1>failing</h1>")
    (site / "components/orders.html").unlink()
    dry = publish(site, str(out), delete=True, dry_run=True)
    assert (dry.uploaded, dry.deleted) == (["index.html"], ["components/orders.html"])
    assert (out / "components/orders.html").exists()  # a dry run changes nothing
    publish(site, str(out), delete=True)
    assert (out / "index.html").read_text() == "<h1>failing</h1>" and not (out / "components/orders.html").exists()


def test_only_a_built_site_is_published(tmp_path):
    with pytest.raises(PublishError, match="is not a site statusgen built"):
        publish(tmp_path, str(tmp_path / "out"))

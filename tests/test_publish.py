"""Publishing the site to a folder (here) and to S3 (test_s3_real.py); hostile targets,
manifests and interrupted publishes in test_publish_hostile.py."""

import errno
import json
import os

import pytest

from statusgen.publish import (
    LONG_CACHE,
    MANIFEST,
    SHORT_CACHE,
    PublishError,
    cache_control,
    content_type,
    manifest_bytes,
    parse_manifest,
    publish,
    upload_order,
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
    # Feed readers and calendars judge a subscription by its type, not by its name.
    assert content_type("history.atom") == "application/atom+xml"
    assert content_type("history.rss") == "application/rss+xml"
    assert content_type("maintenance.ics") == "text/calendar; charset=utf-8"
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


def test_assets_go_first_then_pages_then_index_then_json():
    names = ["status.json", "index.html", "feed.xml", "components/orders.html", "badges/orders.json",
             "badges/orders.svg", "style.0123abcd.css", "logo.0123abcdef.png", "incidents.html", "api/v2/summary.json",
             "history.rss", "components/orders.atom", "maintenance.ics"]
    assert sorted(names, key=upload_order) == [
        "badges/orders.svg", "logo.0123abcdef.png", "style.0123abcd.css",
        "components/orders.html", "incidents.html",
        "index.html",
        "api/v2/summary.json", "badges/orders.json", "components/orders.atom", "feed.xml", "history.rss",
        "maintenance.ics", "status.json"]


def test_a_manifest_keeps_only_names_a_site_could_have():
    warnings = []
    data = json.dumps({"version": 1, "files": ["index.html", "components/orders.html", "../x", "/abs", "a//b",
                                               ".git/HEAD", "a\\b", 7, None]}).encode()
    assert parse_manifest(data, "m", warnings) == {"index.html", "components/orders.html"}
    assert warnings == ["ignored 7 names in m that no publish could have written: '../x', '/abs', 'a//b', '.git/HEAD', "
                        "'a\\\\b' and 2 more"]
    assert parse_manifest(manifest_bytes({"b.html", "a.html"}), "m", []) == {"a.html", "b.html"}


@pytest.mark.parametrize("data, says", [
    (b"not json", "cannot read m"),
    (b'["index.html"]', "cannot read m"),
    (b'{"version": 1, "files": "index.html"}', "cannot read m"),
    (b'{"version": 2, "files": []}', "from a newer statusgen"),
    (b'{"version": "1", "files": []}', "of an unknown version"),
])
def test_a_manifest_of_another_shape_or_version_is_not_used(data, says):
    warnings = []
    assert parse_manifest(data, "m", warnings) is None
    assert len(warnings) == 1 and says in warnings[0] and "nothing is deleted" in warnings[0]


def test_delete_needs_the_record_of_an_earlier_publish(site, tmp_path):
    out = tmp_path / "pages"
    out.mkdir()
    (out / "index.html").write_text("published before statusgen kept a record")
    (out / "old.html").write_text("published before statusgen kept a record")
    first = publish(site, str(out), delete=True)
    assert first.deleted == [] and (out / "old.html").exists()
    assert "no .statusgen-published.json from an earlier publish, so nothing is deleted" in first.warnings[0]
    assert json.loads((out / MANIFEST).read_text())["files"] == ["components/orders.html", "index.html", "status.json",
                                                                 "style.0123abcd.css"]


def test_a_name_dropped_without_delete_is_still_deleted_later(site, tmp_path):
    out = tmp_path / "pages"
    publish(site, str(out))
    (site / "components/orders.html").unlink()
    kept = publish(site, str(out))  # no --delete: the page stays, and so does its record
    assert kept.deleted == [] and (out / "components/orders.html").exists()
    assert publish(site, str(out), delete=True).deleted == ["components/orders.html"]
    assert not (out / "components").exists()  # the folder it emptied went with it


def test_a_folder_that_cannot_be_swapped_is_filled_in_place(site, tmp_path, monkeypatch):
    """A mount point cannot be renamed (EBUSY): the files are then copied in, in order."""
    out = tmp_path / "pages"
    publish(site, str(out))
    (site / "index.html").write_text("<h1>failing</h1>")
    rename = os.rename

    def busy(src, dst, *args, **kwargs):
        if os.fspath(src) == os.fspath(out):
            raise OSError(errno.EBUSY, "Device or resource busy")
        return rename(src, dst, *args, **kwargs)

    monkeypatch.setattr(os, "rename", busy)
    result = publish(site, str(out))
    assert result.uploaded == ["index.html"] and (out / "index.html").read_text() == "<h1>failing</h1>"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["pages", "site"]  # no staging or aside folder left

"""`statusgen publish` against targets that hold more than the site, hostile manifests,
symlinks, and publishes cut off half-way.

A publish once deleted whatever the target held that the site did not (another app, a
`.git`, the project's `sources.yaml` and its whole history), and sent files in sorted order,
so during every publish, and for good after one that was killed, pages linked a stylesheet
that was not there yet. What must hold now: `--delete` removes only what an earlier publish
recorded in its manifest, a target that is a project, a history or the site itself is
refused before anything changes, no symlink is followed, and at every moment every page
present links a stylesheet that is present."""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from statusgen.cli import main
from statusgen.publish import PublishError, publish
from statusgen.s3 import Bucket
from tests.servers import aws_client, s3_server  # noqa: F401 (the aws and s3 fixtures)

pytestmark = pytest.mark.reliability

MANIFEST = ".statusgen-published.json"


def make_site(root: Path, css: str = "body{}", components: int = 3, gone: tuple[str, ...] = ()) -> Path:
    """A folder laid out as `statusgen render` lays one out: a fingerprinted stylesheet that
    every page links, badges, pages, index.html, JSON and a feed. It replaces what was there."""
    shutil.rmtree(root, ignore_errors=True)
    root.mkdir(parents=True)
    (root / ".statusgen-site").write_text("")
    style = f"style.{hashlib.sha256(css.encode()).hexdigest()[:10]}.css"
    files = {style: css, "feed.xml": f"<feed>{style}</feed>", "status.json": json.dumps({"css": style}),
             "api/v2/summary.json": json.dumps({"css": style}), "incidents.html": _page(style, 0),
             "index.html": _page(style, 0)}
    for i in range(components):
        files[f"components/c{i}.html"] = _page(style, 1)
        files[f"badges/c{i}.svg"] = "<svg/>"
        files[f"badges/c{i}.json"] = "{}"
    for name, text in files.items():
        if name not in gone:
            (root / name).parent.mkdir(parents=True, exist_ok=True)
            (root / name).write_text(text)
    return root


def _page(style: str, depth: int) -> str:
    return f'<link rel="stylesheet" href="{"../" * depth}{style}"><h1>{style}</h1>'


def site_names(site: Path) -> list[str]:
    return [p.relative_to(site).as_posix() for p in site.rglob("*") if p.is_file() and p.name != ".statusgen-site"]


def missing_stylesheets(folder: Path) -> list[str]:
    """Pages in `folder` whose stylesheet is not there."""
    broken = []
    for page in folder.rglob("*.html"):
        for href in re.findall(r'href="([^"]+\.css)"', page.read_text()):
            if not (page.parent / href).is_file():
                broken.append(f"{page.relative_to(folder)} → {href}")
    return broken


def snapshot(folder: Path) -> dict[str, bytes | str]:
    """Every entry under `folder`, links by where they point, so any change shows."""
    found: dict[str, bytes | str] = {}
    for path in sorted(folder.rglob("*")):
        name = path.relative_to(folder).as_posix()
        if path.is_symlink():
            found[name] = f"→ {os.readlink(path)}"
        elif path.is_file():
            found[name] = path.read_bytes()
        else:
            found[name] = "folder"
    return found


def invoke(*args: str):
    return CliRunner().invoke(main, ["publish", *args])


def kind(name: str) -> int:
    """0 asset, 1 page, 2 index.html, 3 JSON or feed: the order a reader never sees broken in."""
    if name.endswith((".css", ".svg", ".png", ".js")):
        return 0
    if name.endswith((".json", ".xml")):
        return 3
    return 2 if name == "index.html" else 1


# -- what --delete removes ---------------------------------------------------------------


def test_delete_removes_only_what_an_earlier_publish_wrote(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    make_site(tmp_path / "site")
    (tmp_path / "www/other-app").mkdir(parents=True)
    (tmp_path / "www/other-app/index.php").write_text("<?php echo 1;")
    (tmp_path / "www/.git").mkdir()
    (tmp_path / "www/.git/HEAD").write_text("ref: refs/heads/main\n")

    first = invoke("--site", "site", "--to", "www", "--delete")
    assert first.exit_code == 0, first.output
    assert "deleted 0" in first.output
    assert "nothing is deleted" in first.stderr  # it says why: no manifest from an earlier publish
    make_site(tmp_path / "site", gone=("components/c2.html", "badges/c2.svg"))
    second = invoke("--site", "site", "--to", "www", "--delete")
    assert second.exit_code == 0, second.output

    assert (tmp_path / "www/other-app/index.php").read_text() == "<?php echo 1;"
    assert (tmp_path / "www/.git/HEAD").read_text() == "ref: refs/heads/main\n"
    assert sorted(line for line in second.output.splitlines() if line.startswith("  - ")) == [
        "  - badges/c2.svg", "  - components/c2.html"]
    assert not (tmp_path / "www/components/c2.html").exists() and (tmp_path / "www/components/c1.html").exists()


PROJECT = ("sources.yaml", "history/runs/date=2026-11-22/part-1.parquet", "history/observations/date=2026-11-22/part-1.parquet")
LAYOUTS = {
    # layout: (--site, --to, files besides the site, what the refusal names)
    "the issue's `--site site --to .` in a project": ("site", ".", PROJECT, "site folder"),
    "a project holding sources.yaml": ("site", "project", ("project/sources.yaml",), "sources.yaml"),
    "a project holding sources.yaml one folder down": ("site", "project", ("project/deploy/sources.yaml",), "sources.yaml"),
    "a project holding a history": ("site", "project", tuple(f"project/{p}" for p in PROJECT[1:]), "statusgen history"),
    "a history itself": ("site", "project/history", tuple(f"project/{p}" for p in PROJECT[1:]), "statusgen history"),
    "the site itself": ("site", "site", (), "is the site folder"),
    "a folder inside the site": ("site", "site/www", (), "lies inside the site folder"),
    "a folder holding the site": ("build/site", "build", (), "holds the site folder"),
    "the home folder": ("site", "home", (), "home folder"),
}


@pytest.mark.parametrize("layout", LAYOUTS)
def test_a_target_that_is_a_project_a_history_or_the_site_is_refused(tmp_path, monkeypatch, layout):
    monkeypatch.chdir(tmp_path)
    site, target, files, named = LAYOUTS[layout]
    if layout == "the home folder":
        monkeypatch.setenv("HOME", str(tmp_path / "home"))
    make_site(tmp_path / site)
    for name in ("home/index.html", "project/index.html", "README.md", *files):
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text("not a site's")
    before = snapshot(tmp_path)

    result = invoke("--site", site, "--to", target, "--delete")

    assert result.exit_code == 1, result.output
    assert result.output.startswith("Error: refusing") and result.output.count("\n") == 1, result.output  # one sentence
    assert named in result.output, result.output
    assert snapshot(tmp_path) == before  # nothing written, nothing deleted


def test_the_filesystem_root_is_refused(tmp_path):
    with pytest.raises(PublishError, match="refusing"):
        publish(make_site(tmp_path / "site"), "/", dry_run=True)


# -- a manifest read from a bucket is untrusted input ---------------------------------------


def test_a_hostile_manifest_in_the_bucket_deletes_nothing_outside_the_site(aws, s3, tmp_path):
    name = "hostile-site"
    aws.create_bucket(Bucket=name)
    site = make_site(tmp_path / "site")
    url = f"s3://{name}/www"
    publish(site, url, endpoint_url=s3)
    planted = ["www/../outside", "www//abs", "www/.git/HEAD", "www/notes/../../x", "www2/keep.html",
               "outside/keep.txt", "keep-at-root.txt", "www/other-app/index.php"]
    for key in planted:
        aws.put_object(Bucket=name, Key=key, Body=b"not statusgen's")
    aws.put_object(Bucket=name, Key="www/old.html", Body=b"published once")
    manifest = {"version": 1, "files": [
        "../outside", "/abs", "", ".git/HEAD", "notes/../../x", "./index.html", "a\\..\\b",
        "../www2/keep.html", "../outside/keep.txt", "../keep-at-root.txt", "/www/other-app/index.php",
        "s3://hostile-site/outside/keep.txt", 42, None, ["x"], MANIFEST, "old.html"]}
    aws.put_object(Bucket=name, Key=f"www/{MANIFEST}", Body=json.dumps(manifest).encode())

    result = publish(site, url, endpoint_url=s3, delete=True)

    keys = {o["Key"] for o in aws.list_objects_v2(Bucket=name)["Contents"]}
    assert set(planted) <= keys, set(planted) - keys
    assert result.deleted == ["old.html"] and "www/old.html" not in keys  # what the manifest may name still goes
    assert len(result.warnings) == 1 and "ignored 16 names" in result.warnings[0], result.warnings
    written = json.loads(aws.get_object(Bucket=name, Key=f"www/{MANIFEST}")["Body"].read())
    assert sorted(written["files"]) == sorted(site_names(site))  # only what this publish wrote

    aws.put_object(Bucket=name, Key=f"www/{MANIFEST}", Body=b"\x00 not json")
    make_site(site, gone=("components/c0.html",))
    broken = publish(site, url, endpoint_url=s3, delete=True)
    assert broken.deleted == [] and "cannot read" in broken.warnings[0]
    assert set(planted) <= {o["Key"] for o in aws.list_objects_v2(Bucket=name)["Contents"]}


# -- symlinks ------------------------------------------------------------------------------------


def test_links_in_the_site_are_not_published(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    site = make_site(tmp_path / "site")
    (tmp_path / "secret.txt").write_text("SECRET-FILE")
    (tmp_path / "secrets").mkdir()
    (tmp_path / "secrets/key.html").write_text("SECRET-DIR")
    (site / "leak.html").symlink_to(tmp_path / "secret.txt")
    (site / "more").symlink_to(tmp_path / "secrets", target_is_directory=True)

    result = invoke("--site", "site", "--to", "www")

    assert result.exit_code == 0, result.output
    assert not (tmp_path / "www/leak.html").exists() and not (tmp_path / "www/more").exists()
    assert not any(b"SECRET" in v for v in snapshot(tmp_path / "www").values() if isinstance(v, bytes))
    assert "leak.html" in result.stderr and "more" in result.stderr  # named, not silently dropped


def test_links_in_the_target_are_never_written_or_deleted_through(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    site = make_site(tmp_path / "site")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / "c0.html").write_text("someone else's")
    (tmp_path / "victim.html").write_text("someone else's")
    assert invoke("--site", "site", "--to", "www").exit_code == 0
    (tmp_path / "www/index.html").unlink()
    (tmp_path / "www/index.html").symlink_to(tmp_path / "victim.html")
    make_site(site, css="body{color:red}")
    before = snapshot(tmp_path)

    refused = invoke("--site", "site", "--to", "www", "--delete")
    assert refused.exit_code == 1 and "symlink" in refused.output, refused.output
    assert snapshot(tmp_path) == before

    (tmp_path / "www/index.html").unlink()
    (tmp_path / "www/components").rename(tmp_path / "components-old")
    (tmp_path / "www/components").symlink_to(elsewhere, target_is_directory=True)
    before = snapshot(tmp_path)
    through_a_folder = invoke("--site", "site", "--to", "www", "--delete")
    assert through_a_folder.exit_code == 1 and "symlink" in through_a_folder.output, through_a_folder.output
    assert snapshot(tmp_path) == before

    make_site(site, css="body{color:red}", components=0)  # nothing to write below the link, only to delete
    deleting = invoke("--site", "site", "--to", "www", "--delete")
    assert deleting.exit_code == 0, deleting.output
    assert snapshot(elsewhere) == {"c0.html": b"someone else's"}
    assert (tmp_path / "www/components").is_symlink()


# -- order -------------------------------------------------------------------------------------------


def renames_into(monkeypatch, folder: Path) -> list[str]:
    """Every file renamed into place under `folder`, in order (how a whole file arrives)."""
    seen: list[str] = []
    for function in ("replace", "rename"):
        original = getattr(os, function)

        def recording(src, dst, *args, _original=original, **kwargs):
            _original(src, dst, *args, **kwargs)
            if Path(dst).is_relative_to(folder) and Path(dst).is_file():
                seen.append(Path(dst).relative_to(folder).as_posix())

        monkeypatch.setattr(os, function, recording)
    return seen


def assert_in_order(sequence: list[str]) -> None:
    sequence = [n for n in sequence if n != MANIFEST]
    kinds = [kind(n) for n in sequence]
    assert kinds == sorted(kinds) and set(kinds) == {0, 1, 2, 3}, list(zip(kinds, sequence))


def test_a_folder_gets_assets_then_pages_then_index_then_json(tmp_path, monkeypatch):
    site = make_site(tmp_path / "site")
    (tmp_path / "www").mkdir()
    (tmp_path / "www/robots.txt").write_text("not statusgen's, so the folder is filled in place")
    seen = renames_into(monkeypatch, tmp_path / "www")
    publish(site, str(tmp_path / "www"))
    assert_in_order(seen)
    assert len([n for n in seen if n != MANIFEST]) == len(site_names(site))


def test_a_bucket_gets_assets_then_pages_then_index_then_json(aws, s3, tmp_path, monkeypatch):
    aws.create_bucket(Bucket="ordered")
    site = make_site(tmp_path / "site")
    seen: list[str] = []
    upload = Bucket.upload
    monkeypatch.setattr(Bucket, "upload", lambda self, path, relative, **kw: (seen.append(relative), upload(self, path, relative, **kw)))
    publish(site, "s3://ordered/www", endpoint_url=s3)
    assert_in_order(seen)


# -- a publish cut off half-way -------------------------------------------------------------------


@pytest.mark.parametrize("target", ["foreign", "own"])
def test_a_publish_failing_at_any_step_leaves_every_page_with_its_stylesheet(tmp_path, monkeypatch, target):
    """A failure injected at the 1st, 2nd, … rename or replace of the publish, until one succeeds."""
    site, www = tmp_path / "site", tmp_path / "www"
    make_site(site)
    if target == "foreign":
        www.mkdir()
        (www / "robots.txt").write_text("not statusgen's")
    publish(site, str(www))
    old = snapshot(www)
    make_site(site, css="body{color:red}")
    for step in range(1, 200):
        calls = {"n": 0}
        for function in ("replace", "rename"):
            original = getattr(os, function)

            def failing(src, dst, *args, _original=original, **kwargs):
                calls["n"] += 1
                if calls["n"] == step:
                    raise OSError(28, "No space left on device")
                return _original(src, dst, *args, **kwargs)

            monkeypatch.setattr(os, function, failing)
        try:
            publish(site, str(www), delete=True)
            finished = True
        except PublishError:
            finished = False
        monkeypatch.undo()
        assert www.is_dir() and missing_stylesheets(www) == [], (step, missing_stylesheets(www))
        if target == "own" and not finished:
            assert snapshot(www) == old, step  # swapped whole or not at all
        if finished:
            break
        make_site(site)  # back to where the step starts from
        publish(site, str(www), delete=True)
        old = snapshot(www)
        make_site(site, css="body{color:red}")
    # A copy in place has a step per file; a swap has two (aside, then in).
    assert finished and step > (3 if target == "foreign" else 2)


def touched(folder: Path) -> int:
    """Files under `folder` modified since their times were set to 0 (a publish renames its
    temporary files away while this looks)."""
    count = 0
    for top, _, names in os.walk(folder):
        for name in names:
            try:
                count += os.stat(os.path.join(top, name), follow_symlinks=False).st_mtime > 0
            except FileNotFoundError:
                pass
    return count


def test_a_publish_killed_mid_way_leaves_every_page_with_its_stylesheet(tmp_path):
    site, www = tmp_path / "site", tmp_path / "www"
    make_site(site, components=1500)
    www.mkdir()
    (www / "robots.txt").write_text("not statusgen's, so the folder is filled in place")
    publish(site, str(www))
    for path in www.rglob("*"):
        os.utime(path, (0, 0))  # so that whatever the publish below touches stands out
    make_site(site, css="body{color:red}", components=1500)
    process = subprocess.Popen([sys.executable, "-m", "statusgen", "publish", "--site", str(site), "--to", str(www)],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    while process.poll() is None:
        if touched(www) >= 5:
            os.kill(process.pid, signal.SIGKILL)
            break
    process.wait()
    assert process.returncode == -signal.SIGKILL, "the publish ended before it was killed; this tested nothing"
    assert missing_stylesheets(www) == []

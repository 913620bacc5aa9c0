"""Publishing the built site: to a folder (GitHub Pages, any web server) or an S3 prefix.

Only what changed is written: files are compared by content (MD5, which is S3's ETag for
single-part uploads). Each file gets its Content-Type, and a Cache-Control that lets
browsers keep fingerprinted assets for a year but ask again for pages and JSON within a
minute, so a status change shows quickly.
"""

from __future__ import annotations

import mimetypes
import os
import re
import shutil
from dataclasses import dataclass, field
from pathlib import Path

from statusgen import s3
from statusgen.errors import StatusgenError

SHORT_CACHE = "public, max-age=60"
LONG_CACHE = "public, max-age=31536000, immutable"
_FINGERPRINTED = re.compile(r"\.[0-9a-f]{8,}\.[A-Za-z0-9]+$")
TYPES = {
    ".html": "text/html; charset=utf-8",
    ".json": "application/json",
    ".css": "text/css; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".svg": "image/svg+xml",
    ".xml": "application/atom+xml",
    ".txt": "text/plain; charset=utf-8",
}


class PublishError(StatusgenError):
    """The site could not be published; what was published before is as it was."""


@dataclass
class PublishResult:
    uploaded: list[str] = field(default_factory=list)
    unchanged: int = 0
    deleted: list[str] = field(default_factory=list)
    dry_run: bool = False


def content_type(name: str) -> str:
    suffix = Path(name).suffix.lower()
    return TYPES.get(suffix) or mimetypes.guess_type(name)[0] or "application/octet-stream"


def cache_control(name: str) -> str:
    return LONG_CACHE if _FINGERPRINTED.search(name) else SHORT_CACHE


def site_files(site: Path) -> dict[str, Path]:
    """Every file of a built site by its relative path, the statusgen marker left out."""
    if not (site / ".statusgen-site").exists():
        raise PublishError(f"{site} is not a site statusgen built (run statusgen render first)")
    return {p.relative_to(site).as_posix(): p for p in sorted(site.rglob("*")) if p.is_file() and p.name != ".statusgen-site"}


def publish(site: Path, target: str, *, delete: bool = False, dry_run: bool = False, endpoint_url: str | None = None) -> PublishResult:
    files = site_files(site)
    if target.startswith("s3://"):
        return _to_s3(files, target, delete, dry_run, endpoint_url)
    return _to_folder(files, Path(target), delete, dry_run)


def _to_folder(files: dict[str, Path], folder: Path, delete: bool, dry_run: bool) -> PublishResult:
    result = PublishResult(dry_run=dry_run)
    present = {p.relative_to(folder).as_posix(): p for p in folder.rglob("*") if p.is_file()} if folder.exists() else {}
    try:
        for name, source in files.items():
            existing = present.get(name)
            if existing is not None and existing.stat().st_size == source.stat().st_size and s3.md5(existing) == s3.md5(source):
                result.unchanged += 1
                continue
            result.uploaded.append(name)
            if not dry_run:
                target = folder / name
                target.parent.mkdir(parents=True, exist_ok=True)
                temporary = target.with_name(f".{target.name}.tmp")
                shutil.copyfile(source, temporary)
                os.replace(temporary, target)
        if delete:
            for name in sorted(set(present) - set(files)):
                result.deleted.append(name)
                if not dry_run:
                    present[name].unlink()
    except OSError as exc:
        raise PublishError(f"cannot publish to {folder}: {exc.strerror}") from None
    return result


def _to_s3(files: dict[str, Path], target: str, delete: bool, dry_run: bool, endpoint_url: str | None) -> PublishResult:
    bucket = s3.Bucket.from_url(target, endpoint_url, error=PublishError)
    result = PublishResult(dry_run=dry_run)
    remote = bucket.list()
    for name, path in files.items():
        if remote.get(name) == s3.md5(path):
            result.unchanged += 1
            continue
        result.uploaded.append(name)
        if not dry_run:
            bucket.upload(path, name, content_type=content_type(name), cache_control=cache_control(name))
    if delete:
        # Pages first, then what they no longer use: a reader never meets a missing asset.
        for name in sorted(set(remote) - set(files)):
            result.deleted.append(name)
        if not dry_run:
            bucket.delete(result.deleted)
    return result

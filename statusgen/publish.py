"""Publishing the built site: to a folder (GitHub Pages, any web server) or an S3 prefix.

Only what changed is written: files are compared by content (MD5, which is S3's ETag for
single-part uploads). Each file gets its Content-Type, and a Cache-Control that lets
browsers keep fingerprinted assets for a year but ask again for pages and JSON within a
minute, so a status change shows quickly.

A target is shared ground: a folder may hold another app, a `.git`, or (given the wrong
`--to`) the project itself, and whoever can write to the bucket can write to the prefix. So:

- Each publish records the names it wrote in a manifest (MANIFEST) beside them, and
  `--delete` removes only names an earlier manifest lists that the site no longer has. A
  manifest is read as untrusted input: a name that no site could have is ignored.
- A folder that is, holds or lies inside the site, that holds a `sources.yaml` or a history,
  or that is the filesystem root or holds the home folder is refused before anything changes.
- No symlink is followed, in the site or in the target.
- Files arrive in an order no reader sees broken: assets, pages, `index.html`, JSON and
  feeds; deletions come last. A folder that holds nothing but an earlier publish is instead
  rebuilt beside itself and swapped in whole.
"""

from __future__ import annotations

import errno
import json
import mimetypes
import os
import re
import secrets
import shutil
import stat
import tempfile
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Callable

from statusgen import formats, s3
from statusgen.errors import StatusgenError
from statusgen.history import is_history
from statusgen.site import MARKER
from statusgen.site.swap import swap_in

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
    ".atom": "application/atom+xml",
    ".rss": "application/rss+xml",
    ".ics": "text/calendar; charset=utf-8",
    ".txt": "text/plain; charset=utf-8",
}
MANIFEST = ".statusgen-published.json"
MANIFEST_VERSION = formats.PUBLISHED.version
# Far above any real site (2,000 components make about 6,000 names), so that a planted
# manifest cannot make a publish read without end.
MANIFEST_LIMIT = 16 << 20
_ASSETS = {".css", ".js", ".svg", ".png", ".jpg", ".jpeg", ".gif", ".webp", ".ico", ".woff", ".woff2"}
_FEEDS = {".json", ".xml", ".atom", ".rss", ".ics"}
_TEMPORARY = re.compile(r"^\..+\.[0-9a-f]{8}\.publishing$")  # what _replace writes before its rename
# What a failed rename of a folder means "this folder cannot be swapped" (a mount point,
# another filesystem, a parent we may not write), not "the disk is broken".
_CANNOT_SWAP = {errno.EBUSY, errno.EXDEV, errno.EACCES, errno.EPERM, errno.EROFS}


class PublishError(StatusgenError):
    """The site could not be published; what was published before is as it was."""


@dataclass
class PublishResult:
    uploaded: list[str] = field(default_factory=list)
    unchanged: int = 0
    deleted: list[str] = field(default_factory=list)
    dry_run: bool = False
    warnings: list[str] = field(default_factory=list)


def content_type(name: str) -> str:
    suffix = Path(name).suffix.lower()
    return TYPES.get(suffix) or mimetypes.guess_type(name)[0] or "application/octet-stream"


def cache_control(name: str) -> str:
    return LONG_CACHE if _FINGERPRINTED.search(name) else SHORT_CACHE


def upload_order(name: str) -> tuple[int, str]:
    """Sort key: what pages link (fingerprinted files, badges, images) first, so a page never
    arrives before its stylesheet; then the other pages, so index.html links only pages that
    are there; then index.html; then JSON and feeds, which report the status the pages show."""
    suffix = PurePosixPath(name).suffix.lower()
    if _FINGERPRINTED.search(name) or suffix in _ASSETS:
        rank = 0
    elif suffix in _FEEDS:
        rank = 3
    elif name == "index.html":
        rank = 2
    else:
        rank = 1
    return rank, name


def site_files(site: Path, warnings: list[str]) -> dict[str, Path]:
    """Every regular file of a built site by its relative path, the statusgen marker left out.
    A symlink is not published (it could point anywhere), nor a name no site has; each such
    entry is named in `warnings`."""
    if not (site / MARKER).is_file():
        raise PublishError(f"{site} is not a site statusgen built (run statusgen render first)")
    files: dict[str, Path] = {}
    skipped: list[str] = []
    for top, folders, names in os.walk(site):
        here = Path(top)
        for name in sorted(folders):
            if (here / name).is_symlink():
                skipped.append((here / name).relative_to(site).as_posix())  # os.walk does not enter it
        for name in sorted(names):
            path = here / name
            relative = path.relative_to(site).as_posix()
            if relative == MARKER:
                continue
            try:
                s3.check_relative(relative)
            except s3.UnsafeKey:
                skipped.append(relative)
                continue
            if path.is_symlink() or not path.is_file():
                skipped.append(relative)
                continue
            files[relative] = path
    if skipped:
        warnings.append(f"not published: {_some(skipped)} (symlinks, or not plain files with plain names)")
    return dict(sorted(files.items()))


def parse_manifest(data: bytes, where: str, warnings: list[str]) -> set[str] | None:
    """The names an earlier publish recorded, or None where the record cannot be used.

    Whoever can write to the target can write this file, so only a name that a site could
    have is kept (a plain relative path: no `..`, nothing absolute, nothing hidden); the rest
    are ignored and named in `warnings`."""
    try:
        document = json.loads(data)
    except (ValueError, UnicodeDecodeError):
        document = None
    if not isinstance(document, dict) or not isinstance(document.get("files"), list):
        warnings.append(f"cannot read {where}, so nothing is deleted (the next publish writes a new one)")
        return None
    version = document.get("version")
    if version != MANIFEST_VERSION:
        newer = isinstance(version, int) and version > MANIFEST_VERSION
        warnings.append(f"{where} is {'from a newer statusgen' if newer else 'of an unknown version'}, so nothing is deleted")
        return None
    names: set[str] = set()
    ignored: list[object] = []
    for entry in document["files"]:
        try:
            if not isinstance(entry, str):
                raise s3.UnsafeKey("not a name")
            s3.check_relative(entry)
            names.add(entry)
        except s3.UnsafeKey:
            ignored.append(entry)
    if ignored:
        warnings.append(f"ignored {len(ignored)} names in {where} that no publish could have written: {_some(ignored)}")
    return names


def manifest_bytes(names: set[str]) -> bytes:
    document = {"version": MANIFEST_VERSION, "written_by": "statusgen publish", "files": sorted(names)}
    return (json.dumps(document, indent=1) + "\n").encode()


def publish(site: Path, target: str, *, delete: bool = False, dry_run: bool = False, endpoint_url: str | None = None) -> PublishResult:
    result = PublishResult(dry_run=dry_run)
    files = site_files(site, result.warnings)
    if target.startswith("s3://"):
        _to_s3(files, target, delete, result, endpoint_url)
    else:
        _to_folder(site, files, Path(target), delete, result)
    return result


@dataclass
class _Plan:
    """What a publish does, worked out before it changes anything."""

    changed: list[str]  # in upload order
    stale: list[str]  # recorded by an earlier publish, gone from the site, still there
    gone: list[str]  # what of `stale` is deleted (all of it with --delete, else nothing)
    previous: set[str] | None  # the earlier record, if there is a usable one


def _plan(files: dict[str, Path], same: Callable[[str, Path], bool], previous: set[str] | None,
          present: Callable[[str], bool], delete: bool, result: PublishResult) -> _Plan:
    changed = sorted((n for n, p in files.items() if not same(n, p)), key=upload_order)
    stale = sorted(n for n in (previous or set()) - set(files) if present(n))
    result.uploaded, result.unchanged = changed, len(files) - len(changed)
    result.deleted = stale if delete else []
    return _Plan(changed, stale, result.deleted, previous)


def _apply_in_order(files: dict[str, Path], plan: _Plan, record: Callable[[set[str]], None],
                    put: Callable[[str], None], remove: Callable[[list[str]], None]) -> None:
    """The one sequence both kinds of target go through, so that no reader meets a page
    without what it links, and nothing written goes unrecorded."""
    previous = plan.previous or set()
    recorded = set(files) | set(plan.stale)
    # Recorded before the writes, so that what a publish killed half-way wrote is still
    # deleted by a later --delete once the site drops it.
    if plan.previous is None or not recorded <= previous:
        record(recorded | previous)
    for name in plan.changed:
        put(name)
    # Pages first, then what they no longer use: a reader never meets a missing asset.
    if plan.gone:
        remove(plan.gone)
    if recorded - set(plan.gone) != plan.previous:
        record(recorded - set(plan.gone))


def _no_record(delete: bool, previous: set[str] | None, where: str, anything_else: bool, result: PublishResult) -> None:
    if delete and previous is None and anything_else:
        result.warnings.append(f"{where} has no {MANIFEST} from an earlier publish, so nothing is deleted this time; "
                               "this publish records what it writes, and the next --delete removes what the site drops")


# -- S3 ---------------------------------------------------------------------------------------


def _to_s3(files: dict[str, Path], target: str, delete: bool, result: PublishResult, endpoint_url: str | None) -> None:
    bucket = s3.Bucket.from_url(target, endpoint_url, error=PublishError)
    remote = bucket.list()
    previous = None
    if remote.pop(MANIFEST, None) is not None:
        where = f"{bucket.url}/{MANIFEST}"
        data = bucket.read(MANIFEST, MANIFEST_LIMIT)
        if data is None:
            result.warnings.append(f"{where} is larger than {MANIFEST_LIMIT} bytes, so nothing is deleted")
        else:
            previous = parse_manifest(data, where, result.warnings)
    # Only names the listing has can be deleted: that keeps every deletion under the prefix.
    plan = _plan(files, lambda name, path: remote.get(name) == s3.md5(path), previous, lambda name: name in remote, delete, result)
    _no_record(delete, previous, bucket.url, bool(set(remote) - set(files)), result)
    if result.dry_run:
        return
    _apply_in_order(
        files, plan,
        record=lambda names: bucket.put(MANIFEST, manifest_bytes(names), content_type="application/json", cache_control="no-store"),
        put=lambda name: bucket.upload(files[name], name, content_type=content_type(name), cache_control=cache_control(name)),
        remove=bucket.delete,
    )


# -- a folder ---------------------------------------------------------------------------------------


def _to_folder(site: Path, files: dict[str, Path], folder: Path, delete: bool, result: PublishResult) -> None:
    folder = _safe_target(site, folder)
    if folder.exists() and not folder.is_dir():
        raise PublishError(f"cannot publish to {folder}: it is a file, not a folder")
    try:
        previous = _folder_manifest(folder, result.warnings)
        paths = {}
        for name in files:
            try:
                paths[name] = s3.local_path(folder, name)
            except s3.UnsafeKey as exc:
                raise PublishError(f"cannot publish {name} to {folder}: {exc}") from None
        plan = _plan(files, lambda name, path: _same_file(paths[name], path), previous,
                     lambda name: _deletable(folder, name, result.warnings if delete else []), delete, result)
        _no_record(delete, previous, str(folder), folder.exists() and any(folder.iterdir()), result)
        if result.dry_run:
            return
        if not folder.exists() or (previous is not None and _only_published(folder, previous)):
            if _swap(folder, files, plan):
                return
        folder.mkdir(parents=True, exist_ok=True)
        _apply_in_order(
            files, plan,
            record=lambda names: _replace(folder / MANIFEST, lambda handle: handle.write(manifest_bytes(names))),
            put=lambda name: _replace(paths[name], lambda handle: _copy_from(files[name], handle)),
            remove=lambda names: _remove(folder, names),
        )
    except OSError as exc:
        raise PublishError(f"cannot publish to {folder}: {exc.strerror or exc}") from None


def _safe_target(site: Path, folder: Path) -> Path:
    """The target resolved, or PublishError if publishing there could destroy what is not a site."""
    site, target = site.resolve(), folder.resolve()
    try:
        home = Path.home().resolve()
    except (RuntimeError, KeyError):  # no home folder known
        home = None
    if target == Path(target.anchor) or (home is not None and home.is_relative_to(target)):
        raise PublishError(f"refusing to publish to {folder}: it is the filesystem root or holds the home folder")
    if target.is_relative_to(site) or site.is_relative_to(target):
        how = "is" if target == site else "lies inside" if target.is_relative_to(site) else "holds"
        raise PublishError(f"refusing to publish to {folder}: it {how} the site folder {site}")
    found = _project_inside(target)
    if found is not None:
        raise PublishError(f"refusing to publish to {folder}: it holds {found}, which is not a site (choose a folder of its own)")
    return target


def _project_inside(target: Path, depth: int = 2) -> str | None:
    """A sources.yaml or a statusgen history in `target` or up to `depth` folders below it
    (the usual places: a project root, its `history/`, `deploy/history/`); links not followed."""
    level = [target] if target.is_dir() and not target.is_symlink() else []
    for _ in range(depth + 1):
        below = []
        for here in level:
            if os.path.lexists(here / "sources.yaml"):
                return str(here / "sources.yaml")
            if is_history(here):
                return f"a statusgen history ({here})"
            try:
                below += [p for p in here.iterdir() if p.is_dir() and not p.is_symlink() and not p.name.startswith(".")]
            except OSError:
                continue  # a folder we cannot list is no reason to refuse, nor to go on into
        level = below
    return None


def _folder_manifest(folder: Path, warnings: list[str]) -> set[str] | None:
    path = folder / MANIFEST
    if not os.path.lexists(path):
        return None
    if path.is_symlink() or not path.is_file():
        warnings.append(f"{path} is not a plain file, so nothing is deleted")
        return None
    with _open_regular(path) as handle:
        data = handle.read(MANIFEST_LIMIT + 1)
    if len(data) > MANIFEST_LIMIT:
        warnings.append(f"{path} is larger than {MANIFEST_LIMIT} bytes, so nothing is deleted")
        return None
    return parse_manifest(data, str(path), warnings)


def _same_file(existing: Path, source: Path) -> bool:
    return existing.is_file() and existing.stat().st_size == source.stat().st_size and s3.md5(existing) == s3.md5(source)


def _deletable(folder: Path, name: str, warnings: list[str]) -> bool:
    """Whether the recorded `name` is there as a plain file, reached through no symlink."""
    try:
        path = s3.local_path(folder, name)
    except s3.UnsafeKey as exc:
        warnings.append(f"not deleting {name} in {folder}: {exc}")
        return False
    return path.is_file()


def _only_published(folder: Path, previous: set[str]) -> bool:
    """Whether `folder` holds nothing but what the manifest lists (and the manifest): then
    swapping it whole drops nothing that is not statusgen's."""
    folders = {str(parent) for name in previous for parent in PurePosixPath(name).parents}
    for top, subfolders, names in os.walk(folder):
        here = Path(top)
        for name in subfolders:
            path = here / name
            if path.is_symlink() or path.relative_to(folder).as_posix() not in folders:
                return False
        for name in names:
            path = here / name
            relative = path.relative_to(folder).as_posix()
            if relative == MANIFEST or _TEMPORARY.match(name):
                continue  # ours: the record, and what a publish that was killed left half-written
            if relative not in previous or path.is_symlink() or not path.is_file():
                return False
    return True


def _swap(folder: Path, files: dict[str, Path], plan: _Plan) -> bool:
    """Build the new tree beside `folder` and swap it in. False if this folder cannot be
    swapped (a mount point, a parent we may not write): the caller then copies in order."""
    try:
        folder.parent.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=f".{folder.name}.", dir=folder.parent))
    except OSError as exc:
        if exc.errno in _CANNOT_SWAP:
            return False
        raise
    try:
        if folder.exists():
            os.chmod(staging, stat.S_IMODE(folder.stat().st_mode))  # the web server's access stays as it was
        else:
            os.chmod(staging, 0o755)  # not mkdtemp's 0700: a web server must read it
        kept = set(plan.stale) - set(plan.gone)
        sources = {**files, **{name: folder / name for name in kept}}
        for name, source in sources.items():
            target = staging / name
            target.parent.mkdir(parents=True, exist_ok=True)
            _write_new(target, lambda handle, source=source: _copy_from(source, handle))
        (staging / MANIFEST).write_bytes(manifest_bytes(set(sources)))
        swap_in(staging, folder)
    except OSError as exc:
        shutil.rmtree(staging, ignore_errors=True)
        if exc.errno in _CANNOT_SWAP:
            return False
        raise
    return True


def _remove(folder: Path, names: list[str]) -> None:
    for name in names:
        path = folder / name
        path.unlink()
        for parent in path.parents:  # a dropped component's folder must not linger empty
            if parent == folder or any(parent.iterdir()):
                break
            parent.rmdir()


def _replace(target: Path, write: Callable) -> None:
    """Write under a fresh hidden name beside `target`, then rename over it: a reader sees the
    old file or the new one, and a link planted at the temporary name is never written through."""
    temporary = target.with_name(f".{target.name}.{secrets.token_hex(4)}.publishing")
    target.parent.mkdir(parents=True, exist_ok=True)
    try:
        _write_new(temporary, write)
        os.replace(temporary, target)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise


def _write_new(target: Path, write: Callable) -> None:
    """Create `target`, which must not exist yet (not even as a link), and `write` into it."""
    descriptor = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o666)
    with open(descriptor, "wb") as handle:
        write(handle)


def _copy_from(source: Path, handle) -> None:
    with _open_regular(source) as data:
        shutil.copyfileobj(data, handle)


def _open_regular(path: Path):
    """Open for reading without following a link that appeared since the folder was listed."""
    return open(os.open(path, os.O_RDONLY | os.O_NOFOLLOW), "rb")


def _some(items: list, shown: int = 5) -> str:
    text = ", ".join(repr(i)[:80] for i in items[:shown])
    return text + (f" and {len(items) - shown} more" if len(items) > shown else "")

"""A bucket prefix, through boto3, with errors a person can act on.

Credentials come from the standard AWS chain (environment, profile, role); a custom
endpoint (`--endpoint-url` or AWS_ENDPOINT_URL) reaches S3-compatible stores.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

from statusgen.errors import StatusgenError


class UnsafeKey(ValueError):
    """A key that cannot become a file name in the folder it would be downloaded into."""


def check_relative(relative: str) -> None:
    """Raise UnsafeKey unless `relative` is a plain relative path: no empty, `.`, `..` or
    hidden segment, no backslash or NUL, no segment longer than a file name can be."""
    for part in relative.split("/"):
        if not part:
            raise UnsafeKey("an empty path segment (a leading, doubled or trailing /)")
        if part in (".", ".."):
            raise UnsafeKey(f"a {part!r} segment")
        if "\\" in part or "\0" in part:
            raise UnsafeKey("a backslash or NUL, which some systems read as a separator or an end")
        if part.startswith("."):
            # Hidden names are statusgen's own (history locks and temporary files, the publish
            # manifest), which a file or folder of that name would stand in the way of; and
            # a site never has one, so one named in a bucket came from somewhere else.
            raise UnsafeKey(f"the hidden name {part!r}")
        if len(part.encode()) > 255:
            raise UnsafeKey("a segment longer than a file name can be")


def local_path(folder: Path, relative: str) -> Path:
    """Where the object `relative` (its key below the prefix) goes in `folder`.

    A listing says whatever whoever can write to the bucket wants, and once a key such as
    `history/../../site-packages/x.pth` planted code that ran on the next Python start. So a
    key becomes a file name only as a plain relative path strictly inside `folder`, through
    no symlink and over nothing that is already there as the other kind (file or folder).
    """
    check_relative(relative)
    parts = relative.split("/")
    path = folder
    for depth, part in enumerate(parts, 1):
        path = path / part
        here = "/".join(parts[:depth])
        if path.is_symlink():
            raise UnsafeKey(f"{here!r} is a symlink here")
        if depth < len(parts) and path.exists() and not path.is_dir():
            raise UnsafeKey(f"{here!r} is a file here, not a folder")
    if path.is_dir():
        raise UnsafeKey("it is a folder here")
    # The rules above imply it; checked anyway, as it is the one property that matters.
    if not path.resolve().is_relative_to(folder.resolve()):
        raise UnsafeKey("it resolves outside the folder")
    return path


def md5(path: Path) -> str:
    """A file's MD5, which is what S3 reports as the ETag of an object uploaded in one part."""
    digest = hashlib.md5(usedforsecurity=False)
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


class Bucket:
    def __init__(self, name: str, prefix: str, client: Any, error: type[StatusgenError]):
        self.name = name
        self.prefix = prefix.strip("/")
        self.client = client
        self.error = error

    @classmethod
    def from_url(cls, url: str, endpoint_url: str | None = None, error: type[StatusgenError] = StatusgenError) -> Bucket:
        try:
            import boto3
            from botocore.config import Config
        except ImportError:
            raise error("S3 needs boto3: pip install 'statusgen[s3]'") from None
        bucket, _, prefix = url.removeprefix("s3://").partition("/")
        if not bucket:
            raise error(f"{url} names no bucket (s3://bucket/prefix)")
        settings = Config(retries={"max_attempts": 5, "mode": "standard"}, s3={"addressing_style": "path"} if endpoint_url else {})
        # A session of its own: the default one would keep credentials it found earlier.
        client = boto3.session.Session().client("s3", endpoint_url=endpoint_url, config=settings)
        return cls(bucket, prefix, client, error)

    @property
    def url(self) -> str:
        return f"s3://{self.name}/{self.prefix}" if self.prefix else f"s3://{self.name}"

    def key(self, relative: str) -> str:
        return f"{self.prefix}/{relative}" if self.prefix else relative

    def list(self) -> dict[str, str]:
        """Every object under the prefix: relative key → MD5 (the ETag, without quotes)."""
        found = {}
        start = f"{self.prefix}/" if self.prefix else ""
        with self._errors("list"):
            for page in self.client.get_paginator("list_objects_v2").paginate(Bucket=self.name, Prefix=start):
                for item in page.get("Contents", []):
                    found[item["Key"][len(start):]] = item["ETag"].strip('"')
        return found

    def upload(self, path: Path, relative: str, *, content_type: str | None = None, cache_control: str | None = None) -> None:
        extra = {k: v for k, v in (("ContentType", content_type), ("CacheControl", cache_control)) if v}
        with self._errors(f"upload {relative} to"):
            self.client.upload_file(str(path), self.name, self.key(relative), ExtraArgs=extra)

    def put(self, relative: str, data: bytes, *, content_type: str, cache_control: str) -> None:
        with self._errors(f"upload {relative} to"):
            self.client.put_object(Bucket=self.name, Key=self.key(relative), Body=data, ContentType=content_type, CacheControl=cache_control)

    def read(self, relative: str, limit: int) -> bytes | None:
        """The object's content, or None if it is larger than `limit` bytes."""
        with self._errors(f"read {relative} from"):
            body = self.client.get_object(Bucket=self.name, Key=self.key(relative))["Body"]
            data = body.read(limit + 1)
            body.close()
        return data if len(data) <= limit else None

    def download(self, relative: str, folder: Path) -> Path:
        """Download the object `relative` into `folder`, where local_path puts it (or UnsafeKey)."""
        path = local_path(folder, relative)
        path.parent.mkdir(parents=True, exist_ok=True)
        # Written under a hidden name, then renamed into place: even a link at `path` would be
        # replaced, never written through.
        temporary = path.with_name(f".{path.name}.download")
        with self._errors(f"download {relative} from"):
            self.client.download_file(self.name, self.key(relative), str(temporary))
        temporary.replace(path)
        return path

    def delete(self, relatives: list[str]) -> None:
        for start in range(0, len(relatives), 1000):  # the API's limit per call
            batch = [{"Key": self.key(r)} for r in relatives[start : start + 1000]]
            with self._errors("delete from"):
                answer = self.client.delete_objects(Bucket=self.name, Delete={"Objects": batch, "Quiet": True})
            if answer.get("Errors"):
                raise self.error(f"cannot delete {answer['Errors'][0].get('Key')} from {self.url}: {answer['Errors'][0].get('Code')}")

    def _errors(self, action: str):
        return _Translate(self, action)


class _Translate:
    """Turns boto errors into one line naming the bucket, never a traceback."""

    def __init__(self, bucket: Bucket, action: str):
        self.bucket = bucket
        self.action = action

    def __enter__(self) -> None:
        return None

    def __exit__(self, kind, exc, traceback) -> bool:
        if exc is None:
            return False
        from boto3.exceptions import Boto3Error
        from botocore.exceptions import BotoCoreError, ClientError, NoCredentialsError

        where = f"cannot {self.action} {self.bucket.url}"
        if isinstance(exc, Boto3Error) and isinstance(exc.__context__, (ClientError, NoCredentialsError)):
            exc = exc.__context__  # upload_file wraps the client's error
        if isinstance(exc, NoCredentialsError):
            raise self.bucket.error(f"{where}: no AWS credentials (set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, a profile or a role)") from None
        if isinstance(exc, ClientError):
            code = exc.response.get("Error", {}).get("Code", "error")
            if code in ("NoSuchBucket", "404"):
                raise self.bucket.error(f"{where}: bucket {self.bucket.name} does not exist") from None
            raise self.bucket.error(f"{where}: {code}") from None
        if isinstance(exc, (BotoCoreError, Boto3Error, OSError)):
            raise self.bucket.error(f"{where}: {str(exc).splitlines()[0][:300]}") from None
        return False

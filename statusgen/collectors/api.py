"""The HTTP client every API collector uses, so each gets the same safety for free.

Everything an API sends is untrusted: requests time out, retries back off (honouring
Retry-After) within a budget, bodies are bounded, a non-JSON answer (a login page) is
named as such, and no message ever carries a credential or a URL's user:password.
"""

from __future__ import annotations

import json
import time
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import Any, Mapping

import requests

from statusgen.errors import CollectorError, NotFoundError
from statusgen.files import read_text, write_text
from statusgen.urls import public_url

RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
MAX_RETRIES = 3
MAX_REDIRECTS = 5
USER_AGENT = "statusgen (+https://pypi.org/project/statusgen/)"
NOT_MODIFIED = object()


def github_headers(token: str | None) -> dict[str, str]:
    """What GitHub's REST API asks every client to send."""
    headers = {"Accept": "application/vnd.github+json", "X-GitHub-Api-Version": "2022-11-28"}
    return {**headers, "Authorization": f"Bearer {token}"} if token else headers


class ResponseCache:
    """ETags and bodies of earlier answers, kept between collections in one JSON file, so
    an API that answers `304 Not Modified` (and does not count it against a rate limit)
    is asked conditionally."""

    def __init__(self, path: Path, max_entries: int = 500):
        self.path = path
        self.max_entries = max_entries
        try:
            self.entries: dict[str, dict[str, Any]] = json.loads(read_text(path))
        except (OSError, ValueError):
            self.entries = {}  # no cache, a damaged one or a link: start afresh

    def save(self) -> None:
        newest = dict(list(self.entries.items())[-self.max_entries :])
        write_text(self.path, json.dumps(newest))


class GaveUp(CollectorError):
    """Raised for a request its caller stopped waiting for; the caller reports the timeout."""


class ApiClient:
    """JSON over HTTP for one connection; `timeout` bounds each call, retries included."""

    def __init__(
        self,
        connection_name: str,
        base_url: str,
        *,
        timeout: float,
        max_bytes: int = 20 * 1024 * 1024,
        headers: Mapping[str, str] | None = None,
        auth: tuple[str, str] | None = None,
        cache: ResponseCache | None = None,
        give_up_at: float | None = None,
    ):
        self.name = connection_name
        # A monotonic time after which no request starts: a caller that stopped waiting (a
        # discovery past its timeout) leaves a thread that must not go on asking forever.
        self.give_up_at = give_up_at
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout
        self.max_bytes = max_bytes
        self.cache = cache
        self.requests_made = 0
        self.last_headers: Mapping[str, str] = {}
        self.session = requests.Session()
        self.session.max_redirects = MAX_REDIRECTS
        self.session.headers.update({"Accept": "application/json", "User-Agent": USER_AGENT, **(headers or {})})
        self.session.auth = auth

    def set_header(self, name: str, value: str) -> None:
        self.session.headers[name] = value

    def get(self, path: str, params: Mapping[str, Any] | None = None) -> Any:
        if self.cache is None:
            return self.request("GET", path, params=params)
        key = f"{path}?{json.dumps(params or {}, sort_keys=True)}"
        cached = self.cache.entries.get(key)
        headers = {"If-None-Match": cached["etag"]} if cached else {}
        body = self.request("GET", path, params=params, headers=headers)
        if body is NOT_MODIFIED:
            return cached["body"]
        if self.last_headers.get("ETag"):
            self.cache.entries.pop(key, None)
            self.cache.entries[key] = {"etag": self.last_headers["ETag"], "body": body}
        return body

    def post(self, path: str, body: Any) -> Any:
        return self.request("POST", path, json=body)

    def request(self, method: str, path: str, **kwargs: Any) -> Any:
        url = f"{self.base_url}{path}"
        where = public_url(url, keep_query=False)  # a message names the place; its query may hold a token
        if self.give_up_at is not None and time.monotonic() > self.give_up_at:
            raise GaveUp(f"{self.name}: stopped, past the connection's timeout")
        deadline = time.monotonic() + self.timeout
        error = f"{self.name}: no answer within {self.timeout:g}s"
        for attempt in range(MAX_RETRIES + 1):
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise CollectorError(error)  # the last failure says more than "out of time"
            wait = None
            try:
                self.requests_made += 1
                response = self.session.request(method, url, timeout=(min(10, remaining), remaining), stream=True, **kwargs)
            except requests.TooManyRedirects:
                raise CollectorError(f"{self.name}: too many redirects from {where}") from None
            except requests.Timeout:
                error = f"{self.name}: timed out talking to {where}"
            except requests.ConnectionError:
                error = f"{self.name}: cannot connect to {public_url(self.base_url, keep_query=False)}"
            except requests.RequestException as exc:
                raise CollectorError(f"{self.name}: request to {where} failed: {type(exc).__name__}") from None
            else:
                limited = _rate_limited(response)
                if response.status_code not in RETRY_STATUSES and limited is None:
                    return self._json(response, where, deadline)
                error = f"{self.name}: HTTP {response.status_code} from {where}"
                if limited is not None:
                    error = f"{self.name}: rate limited until {time.strftime('%H:%M:%S UTC', time.gmtime(time.time() + limited))}"
                wait = limited if limited is not None else _retry_after(response.headers.get("Retry-After"))
                response.close()
                if wait is not None and wait > deadline - time.monotonic():
                    raise CollectorError(f"{error}; asked to retry after {wait:g}s, past the timeout")
            if attempt == MAX_RETRIES:
                raise CollectorError(error)
            backoff = wait if wait is not None else min(8.0, 0.5 * 2**attempt)
            time.sleep(max(0.0, min(backoff, deadline - time.monotonic())))
        raise AssertionError("unreachable: the last attempt returns or raises")

    def _json(self, response: requests.Response, where: str, deadline: float) -> Any:
        with response:
            self.last_headers = response.headers
            if response.status_code == 304:
                return NOT_MODIFIED
            if response.status_code in (401, 403):
                raise CollectorError(f"authentication failed for connection {self.name} (HTTP {response.status_code})")
            if response.status_code == 404:
                raise NotFoundError(f"not found: {where}{_reason(response)}")
            if response.status_code >= 400:
                raise CollectorError(f"{self.name}: HTTP {response.status_code} from {where}{_reason(response)}")
            body = bytearray()
            try:
                for chunk in response.iter_content(64 * 1024):
                    body += chunk
                    if len(body) > self.max_bytes:
                        raise CollectorError(f"{self.name}: answer from {where} is larger than {self.max_bytes // 1024 // 1024} MB")
                    if time.monotonic() > deadline:
                        raise CollectorError(f"{self.name}: answer from {where} took longer than {self.timeout:g}s")
            except requests.RequestException as exc:  # the body broke off: a read timeout, a reset
                raise CollectorError(f"{self.name}: answer from {where} broke off ({type(exc).__name__})") from None
            kind = response.headers.get("Content-Type", "")
            try:
                return json.loads(body)
            except ValueError:
                hint = " (a login page?)" if "html" in kind else ""
                raise CollectorError(f"{self.name}: expected JSON from {where}, got {kind or 'no content type'}{hint}") from None


def _reason(response: requests.Response) -> str:
    """The reason an error answer gives in JSON (`detail`, `message` or `error`) as ": why", else "".
    Only the first few KB are read: an error page can be large."""
    try:
        start = next(response.iter_content(4096), b"")
        body = json.loads(start)
    except (requests.RequestException, ValueError):
        return ""
    if not isinstance(body, dict):
        return ""
    why = next((body[k] for k in ("detail", "message", "error") if isinstance(body.get(k), str) and body[k].strip()), "")
    return f": {' '.join(why.split())[:300]}" if why else ""


def _rate_limited(response: requests.Response) -> float | None:
    """Seconds to wait on a 403/429 that is a rate limit, not a refusal: until a spent quota
    resets (x-ratelimit-*), or as Retry-After asks (GitHub's secondary limits leave quota)."""
    if response.status_code not in (403, 429):
        return None
    if response.headers.get("x-ratelimit-remaining") != "0":
        return _retry_after(response.headers.get("Retry-After"))
    try:
        return max(1.0, float(response.headers["x-ratelimit-reset"]) - time.time())
    except (KeyError, ValueError):
        return 60.0


def _retry_after(value: str | None) -> float | None:
    """Seconds to wait, from Retry-After's two forms: a number, or an HTTP date."""
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        return max(0.0, parsedate_to_datetime(value).timestamp() - time.time())
    except (TypeError, ValueError):
        return None


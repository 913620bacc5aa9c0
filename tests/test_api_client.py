"""The HTTP client every API collector shares: bounds, retries and safe messages."""

import pytest

from statusgen.collectors.api import ApiClient
from statusgen.errors import CollectorError
from tests.servers import free_port


def client(server, **settings):
    return ApiClient("conn", server.url_for("/").rstrip("/"), timeout=settings.pop("timeout", 5), **settings)


def test_bodies_past_the_bound_are_refused(httpserver):
    httpserver.expect_request("/big").respond_with_data(b'["' + b"x" * (2 * 1024 * 1024) + b'"]', content_type="application/json")
    with pytest.raises(CollectorError, match=r"answer from http://localhost:\d+/big is larger than 1 MB"):
        client(httpserver, max_bytes=1024 * 1024).get("/big")


def test_a_redirect_loop_is_cut_short(httpserver):
    httpserver.expect_request("/loop").respond_with_data("", status=302, headers={"Location": "/loop"})
    with pytest.raises(CollectorError, match="too many redirects"):
        client(httpserver).get("/loop")


def test_retries_stop_at_their_budget(httpserver):
    httpserver.expect_request("/flaky").respond_with_data("down", status=502)
    c = client(httpserver)
    with pytest.raises(CollectorError, match=r"conn: HTTP 502 from http://localhost:\d+/flaky"):
        c.get("/flaky")
    assert c.requests_made == 4  # the first try and three retries


def test_nothing_listening(tmp_path):
    c = ApiClient("conn", f"http://user:hunter2@127.0.0.1:{free_port()}", timeout=2)
    with pytest.raises(CollectorError) as caught:
        c.get("/x")
    assert str(caught.value) == f"conn: cannot connect to {c.base_url.replace('user:hunter2@', '')}"
    assert "hunter2" not in str(caught.value)


def test_queries_are_left_out_of_messages(httpserver):
    httpserver.expect_request("/x").respond_with_data("no", status=418)
    with pytest.raises(CollectorError) as caught:
        client(httpserver).get("/x", {"api_key": "s3cret"})
    assert "s3cret" not in str(caught.value) and "HTTP 418" in str(caught.value)

"""The one function that makes a URL fit to store or show: no user:password, ever; the rest
as written, so the link still leads where it did."""

import pytest

from statusgen.config import ComponentConfig, SiteConfig
from statusgen.urls import public_text, public_url


@pytest.mark.parametrize(
    "url, shown",
    [
        ("http://user:S3cretPW@127.0.0.1:3000/runs/r-1", "http://127.0.0.1:3000/runs/r-1"),
        ("https://user@dagster.example.com/runs/r-1", "https://dagster.example.com/runs/r-1"),
        ("http://user:pw@[2001:db8::1]:8080/runs/r-1", "http://[2001:db8::1]:8080/runs/r-1"),
        ("http://user:p%40ss@host/x", "http://host/x"),
        ("http://user:p@ss@host/x", "http://host/x"),  # unencoded, as urllib reads it: up to the last @
        ("https://user:pw@host/a?dag_id=d&run=1#logs", "https://host/a?dag_id=d&run=1#logs"),
        ("HTTP://user:pw@host", "HTTP://host"),
        ("  http://user:pw@host/", "http://host/"),
        ("http://user:pw\n@host/", "http://host/"),  # a browser drops the newline and would use the rest
        ("http://user:pw@[::1/x", "http://[::1/x"),  # broken, yet no exception
        ("http://user:pw@host:port/x", "http://host:port/x"),
    ],
)
def test_userinfo_is_removed_and_the_rest_kept(url, shown):
    assert public_url(url) == shown


@pytest.mark.parametrize(
    "url",
    ["http://host/a?b=1#c", "https://[::1]:8443/x", "https://host/users/@me", "mailto:team@example.com", "/relative", "#top", ""],
)
def test_a_url_without_userinfo_is_unchanged(url):
    assert public_url(url) == url


def test_a_message_names_the_place_without_its_query():
    assert public_url("https://user:pw@host/api/runs?token=t0k#x", keep_query=False) == "https://host/api/runs"
    assert public_url("https://host/api", keep_query=False) == "https://host/api"


def test_every_url_in_a_text_loses_its_userinfo():
    text = "cannot load from 'postgresql://etl:pw@db:5432/dw', see https://u:p@host/x?a=1 or mailto:a@b.c"
    assert public_text(text) == "cannot load from 'postgresql://db:5432/dw', see https://host/x?a=1 or mailto:a@b.c"


def test_urls_written_into_the_config_to_be_shown_carry_no_credentials():
    assert SiteConfig(url="https://viewer:pw@status.example.com/data").url == "https://status.example.com/data"
    component = ComponentConfig(id="c", name="C", depends_on=["s"], url="https://u:pw@bi.example.com/d/1")
    assert component.url == "https://bi.example.com/d/1"

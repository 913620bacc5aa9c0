"""What an audit of the page at 200 components found (issue #16, item 4), each checked on the
rendered files: a heading per page, an icon so browsers get no 404, badges that keep their
place while they load, and no words hidden from screen readers. Contrast and phone width
need a browser: tests/test_browser.py."""

import re
import struct
from dataclasses import replace
from html.parser import HTMLParser

import pytest

from bench.page_weight import synthetic_model
from statusgen.config import load_config
from statusgen.errors import StatusgenError
from statusgen.site import render_pages

VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}


class Outline(HTMLParser):
    """A page's h1 count, its icon links, and the text found inside aria-hidden elements."""

    def __init__(self):
        super().__init__()
        self.h1 = 0
        self.icons: list[str] = []
        self.hidden_depth = 0  # open elements at or inside an aria-hidden one
        self.hidden_text: list[str] = []

    def handle_starttag(self, tag, attrs):
        values = dict(attrs)
        self.h1 += tag == "h1"
        if tag == "link" and values.get("rel") == "icon":
            self.icons.append(values["href"])
        if tag not in VOID and (self.hidden_depth or values.get("aria-hidden") == "true"):
            self.hidden_depth += 1

    def handle_endtag(self, tag):
        if tag not in VOID and self.hidden_depth:
            self.hidden_depth -= 1

    def handle_data(self, data):
        if self.hidden_depth and data.strip():
            self.hidden_text.append(data.strip())


def outline(html: str) -> Outline:
    parsed = Outline()
    parsed.feed(html)
    return parsed


def compact_site(components: int = 40) -> dict[str, str | bytes]:
    """More components than the index lists: a page per group."""
    model = synthetic_model(components)
    config = replace(model.config, site=model.config.site.model_copy(update={"max_index_components": 10}))
    return render_pages(replace(model, config=config))


@pytest.fixture(scope="module")
def site():
    return compact_site()


def html_pages(pages):
    return {path: text for path, text in pages.items() if path.endswith(".html")}


def test_every_page_has_one_h1_group_pages_too(site):
    assert any(path.startswith("groups/") for path in site)
    assert {path: outline(text).h1 for path, text in html_pages(site).items() if outline(text).h1 != 1} == {}


def test_a_favicon_is_shipped_and_every_page_links_it(site):
    icon = site["favicon.ico"]
    assert struct.unpack("<HHH", icon[:6]) == (0, 1, 1)  # an ICO file holding one image
    for path, text in html_pages(site).items():
        # A tile lives in someone else's frame, whose page has the tab and its icon.
        assert outline(text).icons == ([] if path.startswith("tiles/") else ["../" * path.count("/") + "favicon.ico"]), path


def test_the_favicon_comes_from_site_favicon(write_config, tmp_path):
    (tmp_path / "icon.svg").write_text('<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 1 1"><rect width="1" height="1"/></svg>')
    config = load_config(write_config("site: {favicon: icon.svg}\ncomponents: []\n"), {})
    model = synthetic_model(3)
    pages = render_pages(replace(model, config=replace(model.config, site=config.site)))
    assert pages["favicon.svg"] == (tmp_path / "icon.svg").read_bytes() and "favicon.ico" not in pages
    assert outline(pages["index.html"]).icons == ["favicon.svg"]


def test_a_favicon_browsers_cannot_use_is_refused(write_config, tmp_path):
    (tmp_path / "icon.gif").write_bytes(b"GIF89a")
    with pytest.raises(StatusgenError, match=r"favicon.*must be a \.ico, \.png, \.svg file"):
        load_config(write_config("site: {favicon: icon.gif}\ncomponents: []\n"), {})


def test_the_badge_image_is_as_large_as_the_badge(site):
    for path, text in html_pages(site).items():
        if path.startswith("components/"):
            cid = path.removeprefix("components/").removesuffix(".html")
            svg = site[f"badges/{cid}.svg"]
            width, height = re.search(r'<svg [^>]*width="(\d+)" height="(\d+)"', svg).groups()
            assert f'src="../badges/{cid}.svg"' in text
            assert re.search(rf'src="../badges/{cid}.svg" alt="[^"]*" width="{width}" height="{height}"', text), path


def test_no_words_are_hidden_from_screen_readers(site):
    """Uptime and the axis's dates were in aria-hidden legends: seen, never read out."""
    assert {path: outline(text).hidden_text for path, text in html_pages(site).items() if outline(text).hidden_text} == {}

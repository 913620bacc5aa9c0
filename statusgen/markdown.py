"""Markdown to safe HTML, for every text people write: incidents, their updates, the footer.

Text is pasted in from anywhere, so what Markdown renders is sanitised before it reaches a
page. A module of its own because both the config (which checks `site.footer` where it is
written) and the incidents read it, and neither may import the other's layer.
"""

from __future__ import annotations

import markdown
import nh3

ALLOWED_TAGS = {
    "a", "abbr", "b", "blockquote", "br", "code", "del", "em", "h3", "h4", "hr", "i", "li", "ol", "p", "pre",
    "strong", "sub", "sup", "table", "tbody", "td", "th", "thead", "tr", "ul",
}


def render_markdown(text: str) -> str:
    """Markdown to HTML that can do no harm: no scripts, no event handlers, only http(s) and mailto links.
    ValueError for text nested too deeply to render."""
    try:
        html = markdown.markdown(text, extensions=["extra", "sane_lists"], output_format="html")
    except RecursionError:
        # Python-Markdown recurses once per level of a nested list; no person writes hundreds.
        raise ValueError("Markdown nested too deeply to render") from None
    return nh3.clean(html, tags=ALLOWED_TAGS, url_schemes={"http", "https", "mailto"}, link_rel="noopener noreferrer nofollow")

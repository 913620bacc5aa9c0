"""A URL fit to store or show: where it leads, never the user:password it may carry.

A connection URL can hold credentials (`http://user:PW@host` is how a webserver behind
basic auth is reached). The HTTP client turns them into an Authorization header, so the
request needs them, and no copy of the URL does: run links, site links and messages pass
through here before they are written, rendered or sent.

Parsing is by hand rather than with urlsplit: links come from APIs, and a broken one (an
unclosed IPv6 bracket, a port that is no number) must not make this raise.
"""

from __future__ import annotations

import re

# The authority as urllib reads it, and so as requests finds credentials in it: after "//",
# up to the first / ? or #. Its userinfo is everything before its last "@".
_AUTHORITY = re.compile(r"([a-z][a-z0-9+.-]*:)?//([^/?#]*)", re.IGNORECASE)
# Browsers and urllib drop these anywhere in a URL, and spaces before it: none may hide userinfo.
_DROPPED = re.compile(r"[\t\n\r]")
_LEADING = "".join(map(chr, range(33)))
# In free text, a URL ends at whitespace or at a character that quotes it.
_URL_IN_TEXT = re.compile(r"\b[a-z][a-z0-9+.-]*://[^\s<>\"'`]*", re.IGNORECASE)


def public_url(url: str, *, keep_query: bool = True) -> str:
    """`url` without user:password. A link keeps its query and fragment, which it may need to
    work; a message (`keep_query=False`) only names a place, and a query may hold a token."""
    cleaned = _DROPPED.sub("", url).lstrip(_LEADING)
    found = _AUTHORITY.match(cleaned)
    if found is not None:
        url = f"{found.group(1) or ''}//{found.group(2).rpartition('@')[2]}{cleaned[found.end() :]}"
    return url if keep_query else re.split(r"[?#]", url, maxsplit=1)[0]


def public_text(text: str) -> str:
    """`text` with every URL in it made public: an API's message may quote one."""
    return _URL_IN_TEXT.sub(lambda found: public_url(found.group()), text)

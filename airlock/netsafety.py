"""Is a URL safe for Airlock to call? (callbacks, webhooks)

Checked when a URL is accepted: the scheme, no credentials in the URL, and a host
that is not an internal name or a private, loopback, link-local or otherwise
non-global address, in any of the spellings an HTTP client would accept
(``127.1``, ``0x7f000001``, ``[::ffff:127.0.0.1]``). A public name can still
resolve to a private address; whatever sends to the URL must check the address it
connects to as well.
"""

from __future__ import annotations

import ipaddress
import re
from urllib.parse import urlsplit

MAX_URL_LENGTH = 2048

_INTERNAL_SUFFIXES = (
    ".localhost",
    ".local",
    ".internal",
    ".intranet",
    ".lan",
    ".home",
    ".corp",
    ".home.arpa",
    ".localdomain",
)
_NUMERIC_LABEL = re.compile(r"^(0x[0-9a-f]*|[0-9]+)$")


class UnsafeURL(ValueError):
    pass


def is_public_address(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    if isinstance(address, ipaddress.IPv6Address):
        embedded = address.ipv4_mapped or address.sixtofour
        if embedded is None and address.teredo:
            embedded = address.teredo[1]
        if embedded is not None:
            return is_public_address(embedded)
    return address.is_global and not address.is_multicast


def check_host(host: str) -> None:
    host = host.lower().rstrip(".")
    if not host:
        raise UnsafeURL("the URL has no host")
    try:
        address = ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        address = None
    if address is not None:
        if not is_public_address(address):
            raise UnsafeURL("the URL points at a private, loopback or link-local address")
        return
    labels = host.split(".")
    if _NUMERIC_LABEL.match(labels[-1]):
        # An HTTP client reads this as an IPv4 address in a shorthand spelling.
        raise UnsafeURL("write IP addresses in dotted-decimal form")
    if host == "localhost" or host.endswith(_INTERNAL_SUFFIXES):
        raise UnsafeURL("the URL points at an internal host name")
    if len(labels) < 2:
        raise UnsafeURL("the URL's host must be a fully qualified domain name")


def check_outbound_url(url: str, *, allow_http: bool, allow_private: bool) -> str:
    """The URL, if Airlock may call it; otherwise ``UnsafeURL`` saying why."""
    if len(url) > MAX_URL_LENGTH:
        raise UnsafeURL(f"the URL is longer than {MAX_URL_LENGTH} characters")
    if any(ord(ch) < 0x21 or ord(ch) == 0x7F for ch in url):
        raise UnsafeURL("the URL contains spaces or control characters")
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises ValueError on a bad port
    except ValueError as exc:
        raise UnsafeURL(f"not a valid URL: {exc}") from exc
    allowed = {"https", "http"} if allow_http else {"https"}
    if parts.scheme not in allowed:
        raise UnsafeURL("the URL must use https" + (" or http" if allow_http else ""))
    if parts.username is not None or parts.password is not None:
        raise UnsafeURL("the URL must not carry credentials")
    if not parts.hostname:
        raise UnsafeURL("the URL has no host")
    if not allow_private:
        check_host(parts.hostname)
    return url

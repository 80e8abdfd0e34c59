from __future__ import annotations

import pytest

from airlock.netsafety import UnsafeURL, check_outbound_url


@pytest.mark.parametrize(
    "url",
    [
        "https://10.1.2.3/",
        "https://100.64.0.1/",  # carrier-grade NAT
        "https://0.0.0.0/",
        "https://[::]/",
        "https://[fc00::1]/",
        "https://[2002:7f00:1::]/",  # 6to4 around 127.0.0.1
        "https://224.0.0.1/",
        "https://017700000001/",
        "https://0177.0.0.1/",
        "https://foo.localhost/",
        "https://printer.local/",
        "https://localhost./",
        "https://LOCALHOST/",
    ],
)
def test_internal_targets_are_refused(url):
    with pytest.raises(UnsafeURL):
        check_outbound_url(url, allow_http=False, allow_private=False)


def test_private_targets_are_allowed_when_configured():
    url = "http://127.0.0.1:9000/hook"
    assert check_outbound_url(url, allow_http=True, allow_private=True) == url


def test_credentials_are_refused_even_when_private_targets_are_allowed():
    with pytest.raises(UnsafeURL):
        check_outbound_url("https://u:p@example.com/", allow_http=True, allow_private=True)


@pytest.mark.parametrize(
    "url", ["https://hooks.example.com/a?b=c", "https://8.8.8.8/x", "https://[2606:4700::1111]/"]
)
def test_public_targets_pass(url):
    assert check_outbound_url(url, allow_http=False, allow_private=False) == url

"""``SFDC_PUBLIC_URL`` and ``SFDC_FORWARDED_HOPS``: where the proxy says callers reach it."""

from __future__ import annotations

import pytest

from sfdc.errors import ConfigError
from sfdc.settings.settings import load_settings


def test_by_default_one_router_is_trusted_and_no_url_is_fixed(seed_env: dict[str, str]) -> None:
    public = load_settings(seed_env).public
    assert (public.url, public.forwarded_hops) == (None, 1)


@pytest.mark.parametrize(
    ("raw", "url"),
    [
        ("https://sfdc.apps.example.com", "https://sfdc.apps.example.com"),
        ("https://sfdc.apps.example.com:8443/", "https://sfdc.apps.example.com:8443"),
        ("http://127.0.0.1:8080", "http://127.0.0.1:8080"),
        ("", None),
    ],
)
def test_a_public_url_is_scheme_and_host(seed_env: dict[str, str], raw: str, url: str) -> None:
    settings = load_settings({**seed_env, "SFDC_PUBLIC_URL": raw, "SFDC_FORWARDED_HOPS": "0"})
    assert (settings.public.url, settings.public.forwarded_hops) == (url, 0)


@pytest.mark.parametrize(
    ("name", "raw"),
    [
        ("SFDC_PUBLIC_URL", "http://sfdc.apps.example.com"),
        ("SFDC_PUBLIC_URL", "https://sfdc.apps.example.com/prefix"),
        ("SFDC_PUBLIC_URL", "https://user:pw@sfdc.apps.example.com"),
        ("SFDC_PUBLIC_URL", "sfdc.apps.example.com"),
        ("SFDC_FORWARDED_HOPS", "-1"),
        ("SFDC_FORWARDED_HOPS", "two"),
        ("SFDC_FORWARDED_HOPS", "9"),
    ],
)
def test_bad_values_stop_start_up_naming_the_setting(
    seed_env: dict[str, str], name: str, raw: str
) -> None:
    with pytest.raises(ConfigError, match=name) as caught:
        load_settings({**seed_env, name: raw})
    assert caught.value.hint
    assert "pw" not in caught.value.one_line()

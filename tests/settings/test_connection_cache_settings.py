"""SFDC_CONNECTION_CACHE_SIZE: how many connections' token sources each worker keeps."""

from __future__ import annotations

import pytest

from sfdc.errors import ConfigError
from sfdc.settings.connection_cache import DEFAULT_CONNECTION_CACHE_SIZE
from sfdc.settings.settings import load_settings


def test_unset_it_is_the_default(seed_env: dict[str, str]) -> None:
    assert load_settings(seed_env).connection_cache_size == DEFAULT_CONNECTION_CACHE_SIZE == 1000


@pytest.mark.parametrize(("raw", "expected"), [("1", 1), ("20000", 20000), (" 50 ", 50)])
def test_a_whole_number_is_taken(seed_env: dict[str, str], raw: str, expected: int) -> None:
    settings = load_settings({**seed_env, "SFDC_CONNECTION_CACHE_SIZE": raw})
    assert settings.connection_cache_size == expected


@pytest.mark.parametrize("raw", ["0", "-5", "1.5", "lots", "1e3", "2000000"])
def test_anything_else_stops_start_up_naming_the_setting(
    seed_env: dict[str, str], raw: str
) -> None:
    with pytest.raises(ConfigError, match="SFDC_CONNECTION_CACHE_SIZE") as caught:
        load_settings({**seed_env, "SFDC_CONNECTION_CACHE_SIZE": raw})
    assert caught.value.hint

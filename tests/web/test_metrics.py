"""``/metrics``: Prometheus text a scraper can parse, counting what happened."""

from __future__ import annotations

from flask.testing import FlaskClient
from prometheus_client.parser import text_string_to_metric_families

from tests.web.conftest import AUTH


def sample(text: str, name: str, **labels: str) -> float:
    """The value of one sample in a Prometheus text exposition, 0 if absent."""
    for family in text_string_to_metric_families(text):
        for found in family.samples:
            if found.name == name and all(found.labels.get(k) == v for k, v in labels.items()):
                return float(found.value)
    return 0.0


def test_metrics_count_exchanges_and_cache_lookups(client: FlaskClient) -> None:
    before = client.get("/metrics").get_data(as_text=True)
    for _ in range(3):
        assert client.get("/token", headers=AUTH).status_code == 200
    answer = client.get("/metrics")
    assert answer.status_code == 200
    assert answer.content_type.startswith("text/plain")
    after = answer.get_data(as_text=True)

    def grew(name: str, **labels: str) -> float:
        return sample(after, name, **labels) - sample(before, name, **labels)

    assert grew("sfdc_token_exchanges_total", outcome="ok") == 1
    assert grew("sfdc_token_cache_lookups_total", layer="process", result="miss") == 1
    assert grew("sfdc_token_cache_lookups_total", layer="process", result="hit") == 2
    assert grew("sfdc_token_exchange_seconds_count") == 1
    assert sample(after, "sfdc_token_age_seconds") >= 0
    assert "sfdc_token_age_seconds" in after


def test_metrics_are_public_and_hold_no_token(client: FlaskClient) -> None:
    token = client.get("/token", headers=AUTH).get_json()["access_token"]
    text = client.get("/metrics").get_data(as_text=True)
    assert token not in text

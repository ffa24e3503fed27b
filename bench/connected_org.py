"""A connected org: refresh grants under a dead-token stampede, and cached /token speed."""

from __future__ import annotations

import statistics
import urllib.parse
from typing import Any

from bench.harness import API_KEY, all_at_once, call, emulator_for, served, throughput
from tests.db_support import fresh_postgres
from tests.orgs_support import CALLBACK, PERSON, decide


def bench_connected_org(pair: Any) -> None:
    secret = "bench-consumer-secret"  # noqa: S105 - the emulated app's, made up for this run
    auth = {"Authorization": f"Bearer {API_KEY}"}
    acme = {**auth, "X-Sfdc-Connection": "acme"}
    query = "/api/data/v60.0/query?q=SELECT+Id+FROM+Account"
    with (
        emulator_for(
            pair,
            more_users=(PERSON,),
            consumer_secret=secret,
            callback_urls=(CALLBACK,),
            rotate_refresh_tokens=True,
        ) as emulator,
        fresh_postgres() as database,
        served(
            emulator.url,
            pair,
            workers=4,
            SFDC_CONSUMER_SECRET=secret,
            SFDC_ENCRYPTION_KEY="YmVuY2gtZW5jcnlwdGlvbi1rZXktMDEyMzQ1Njc4OWE=",
            SFDC_CALLBACK_URL=CALLBACK,
            DATABASE_URL=database,
        ) as port,
    ):
        _status, link = call(
            port,
            "POST",
            "/connections",
            {**auth, "Content-Type": "application/json"},
            {"name": "acme"},
        )
        back = decide(link["authorize_url"])
        status, _ = call(
            port,
            "GET",
            "/oauth/callback?" + urllib.parse.urlencode(back),
            {"Accept": "application/json"},
        )
        assert status == 200, "the connect flow failed"
        throughput(port, query, acme, seconds=1.0)  # every worker holds the token
        emulator.state.expire_all()
        statuses = all_at_once(port, query, acme)
        print(
            f"connected org: 200 concurrent proxied calls holding a dead token across 4 workers "
            f"-> {emulator.state.refresh_grants} refresh-token grant(s), rotation on "
            f"({statuses.count(200)} answered 200)"
        )
        throughput(port, "/token", acme, seconds=1.0)
        ratios = []
        for _ in range(3):
            jwt_rate = throughput(port, "/token", auth)
            org_rate = throughput(port, "/token", acme)
            ratios.append(org_rate / jwt_rate)
        print(
            f"cached /token for a stored connection: {statistics.median(ratios):.2f}x the "
            f"throughput of the JWT connection's (target >= 0.9; last run {org_rate:.0f} vs "
            f"{jwt_rate:.0f} req/s)"
        )

"""The whole connect flow in a real browser: Debian's Chromium, headless, via ChromeDriver.

The service runs on a real loopback port with no SFDC_CALLBACK_URL, so the
callback it registers is derived from how it was reached, as on Cloud Foundry
behind the router. A client's named key asks for a connect link; a person opens
it, reads on our page which client asked, goes on to the emulator's consent
page, picks a user and presses Allow; the browser follows the
redirect to our callback. The new connection then serves a proxied query.
`make test` installs chromium and chromium-driver (see the Makefile).
"""

from __future__ import annotations

import shutil
import socket
import threading
from collections.abc import Iterator
from typing import Any

import pytest
import requests
from flask import Flask
from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support.select import Select
from selenium.webdriver.support.wait import WebDriverWait
from werkzeug.serving import make_server

from sfdc.emulator import running_emulator
from sfdc.ops.smoke import Smoke
from sfdc.settings.settings import load_settings
from sfdc.web import create_app
from sfdc.web.extension import CONNECTIONS_KEY
from tests.conftest import API_KEY, CONSUMER_SECRET, ENCRYPTION_KEY, USERNAME, KeyPair
from tests.emulated import emulator_config
from tests.orgs_support import PERSON

AUTH = {"Authorization": f"Bearer {API_KEY}"}


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@pytest.fixture
def browser() -> Iterator[webdriver.Chrome]:
    chromium, driver = shutil.which("chromium"), shutil.which("chromedriver")
    missing = "is missing: `make test` installs Debian's chromium and chromium-driver."
    assert chromium, f"chromium {missing}"
    assert driver, f"chromedriver {missing}"
    options = webdriver.ChromeOptions()
    options.binary_location = chromium
    for argument in (
        "--headless=new",
        "--no-sandbox",  # as root in a container
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--disable-background-networking",
        "--no-first-run",
    ):
        options.add_argument(argument)
    chrome = webdriver.Chrome(service=Service(driver), options=options)
    chrome.set_page_load_timeout(30)
    try:
        yield chrome
    finally:
        chrome.quit()


@pytest.fixture
def service(keypair: KeyPair, seed_env: dict[str, str], sqlite_url: str) -> Iterator[str]:
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    config = emulator_config(
        keypair,
        usernames=(USERNAME, PERSON),
        consumer_secret=CONSUMER_SECRET,
        callback_urls=(f"{base}/oauth/callback",),
    )
    with running_emulator(config) as emulator:
        settings = load_settings(
            {
                **seed_env,
                "SFDC_LOGIN_URL": emulator.url,
                "SFDC_API_KEYS": API_KEY,
                "SFDC_CONSUMER_SECRET": CONSUMER_SECRET,
                "SFDC_ENCRYPTION_KEY": ENCRYPTION_KEY,
                "DATABASE_URL": sqlite_url,
            }
        )
        app: Flask = create_app(settings)
        server = make_server("127.0.0.1", port, app, threaded=True)
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        try:
            yield base
        finally:
            server.shutdown()
            thread.join(10)
            app.extensions[CONNECTIONS_KEY].store.dispose()


def test_a_person_connects_an_org_in_the_browser(browser: webdriver.Chrome, service: str) -> None:
    made = requests.post(
        f"{service}/keys",
        json={"client": "billing-app", "scopes": ["connections:acme"]},
        headers=AUTH,
        timeout=10,
    ).json()
    link: dict[str, Any] = requests.post(
        f"{service}/connections",
        json={"name": "acme"},
        headers={"Authorization": f"Bearer {made['key']}"},
        timeout=10,
    ).json()
    assert link["callback_url"] == f"{service}/oauth/callback"

    browser.get(link["connect_url"])  # our page first: who asks, for which name
    assert browser.find_element(By.ID, "client").text == "billing-app"
    assert "acme" in browser.find_element(By.ID, "request").text
    browser.find_element(By.ID, "continue").click()
    WebDriverWait(browser, 20).until(lambda b: not b.current_url.startswith(service))
    assert "acme" not in browser.current_url.split("?")[0]  # on the emulator's consent page
    Select(browser.find_element(By.ID, "username")).select_by_value(PERSON)
    browser.find_element(By.ID, "approve").click()
    WebDriverWait(browser, 20).until(lambda b: b.current_url.startswith(f"{service}/oauth/"))
    result = browser.find_element(By.ID, "result")
    assert result.get_attribute("data-status") == "connected"
    assert PERSON in result.text
    assert "billing-app" in result.text  # who asked for it
    assert "Connected" in browser.title

    query = requests.get(
        f"{service}/api/data/v60.0/query",
        params={"q": "SELECT Id, Name FROM Account"},
        headers={**AUTH, "X-Sfdc-Connection": "acme"},
        timeout=10,
    )
    assert query.status_code == 200
    assert "totalSize" in query.json()
    test = requests.get(
        f"{service}/connection", headers={**AUTH, "X-Sfdc-Connection": "acme"}, timeout=10
    ).json()
    assert test["user"]["username"] == PERSON

    # What CI runs after a deploy: the stored connection is checked like the JWT one.
    results = {
        r.name: r for r in Smoke(service, api_key=API_KEY, connections=("acme", "nope")).run()
    }
    assert results["connection acme"].status == "pass"
    assert PERSON in results["connection acme"].detail
    assert results["connection nope"].status == "fail"
    assert "unknown_connection" in results["connection nope"].detail


def test_pressing_deny_in_the_browser_stores_nothing(
    browser: webdriver.Chrome, service: str
) -> None:
    link = requests.post(
        f"{service}/connections", json={"name": "acme"}, headers=AUTH, timeout=10
    ).json()
    browser.get(link["connect_url"])
    browser.find_element(By.ID, "continue").click()
    WebDriverWait(browser, 20).until(lambda b: not b.current_url.startswith(service))
    browser.find_element(By.ID, "deny").click()
    WebDriverWait(browser, 20).until(lambda b: b.current_url.startswith(f"{service}/oauth/"))
    result = browser.find_element(By.ID, "result")
    assert result.get_attribute("data-status") == "access_denied"
    assert "new connect link" in result.text
    listed = requests.get(f"{service}/connections", headers=AUTH, timeout=10).json()
    assert listed["connections"] == []

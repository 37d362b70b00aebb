"""Outbound requests (webhook deliveries) never reach the sandbox's own listeners (issue 9, item 1).

A real `mocks serve` with Lagerkoll, Konducter and iStockist: a webhook URL that points at one of the
sandbox's own ports, in any spelling, is stored (it is a valid URL) but every delivery to it is refused
and recorded as that attempt's failure; the admin API it aimed at is untouched. A user's own handler
on loopback at another port still receives its deliveries. URLs that are not http(s) with a port in
1-65535 are refused when registered, with the API's own 400.
"""

from __future__ import annotations

import json
import socket
import time
from collections.abc import Iterator
from urllib.parse import urlsplit

import pytest
from securitykit import (
    KONDUCTER_APP,
    admin_client,
    execute_lagerkoll_webhook,
    first_attempt,
    konducter_headers,
    lagerkoll_headers,
    receiver,
    register_lagerkoll_webhook,
)
from servekit import Served, end, start_serve

SERVED = ["lagerkoll", "konducter", "istockist"]
PORTS = ["--port", "lagerkoll=0", "--port", "konducter=0", "--port", "konducter.local=0", "--port", "istockist=0"]
DOC_SITE = "00000000-0000-0000-0000-000000000000"
BAD_URLS = ["file:///etc/passwd", "gopher://hooks.example.com/x", "http://hooks.example.com:99999/x",
            "http://hooks.example.com:0/x", "http://:8080/x", "javascript:alert(1)", "ftp://hooks.example.com/",
            "hooks.example.com/x", "http://[::1]:8103/__mock/faults"]  # IPv6 literals: use a name
# every spelling of "this machine" that reaches a listener bound on 127.0.0.1
LOOPBACK_SPELLINGS = ["127.0.0.1", "localhost", "127.9.9.9", "0.0.0.0", "2130706433", "0x7f000001", "127.1",
                      "ip6-localhost"]


@pytest.fixture(scope="module")
def sandbox() -> Iterator[Served]:
    served = start_serve(*SERVED, *PORTS, "--limit", "konducter=100000/min", "--limit", "lagerkoll=100000/min")
    yield served
    end(served)


def port_of(served: Served, api: str, listener: str = "api") -> int:
    return urlsplit(served.urls[(api, listener)]).port


def resolves(name: str) -> bool:
    try:
        socket.getaddrinfo(name, 80)
    except OSError:
        return False
    return True


@pytest.mark.parametrize("url", BAD_URLS)
def test_lagerkoll_refuses_to_register_a_url_that_is_not_http_with_a_valid_port(sandbox, url):
    with sandbox.client("lagerkoll") as client:
        before = client.get("/v1/webhooks/articles", headers=lagerkoll_headers(sandbox)).json()
    response = register_lagerkoll_webhook(sandbox, url)
    assert response.status_code == 400, response.text
    assert response.json()["errorCode"] == 900101 and response.json()["errorField"] == "url"
    with sandbox.client("lagerkoll") as client:
        assert client.get("/v1/webhooks/articles", headers=lagerkoll_headers(sandbox)).json() == before


@pytest.mark.parametrize("url", BAD_URLS)
def test_konducter_refuses_to_register_a_handler_url_that_is_not_http_with_a_valid_port(sandbox, url):
    path = f"/applications/{KONDUCTER_APP}/subscription"
    with sandbox.client("konducter", "cloud") as client:
        before = client.get(path, headers=konducter_headers(sandbox)).json()
        response = client.put(path, headers=konducter_headers(sandbox),
                              json={"handlerUrl": url, "eventTriggers": ["order.created"]})
        assert response.status_code == 400, response.text
        assert client.get(path, headers=konducter_headers(sandbox)).json() == before


@pytest.mark.parametrize("host", LOOPBACK_SPELLINGS)
def test_a_webhook_aimed_at_the_sandboxs_admin_api_is_refused_at_send_time(sandbox, host):
    if not resolves(host.strip("[]")):
        pytest.skip(f"{host} does not resolve on this machine")
    target = f"http://{host}:{port_of(sandbox, 'istockist')}/__mock/faults"
    registered = register_lagerkoll_webhook(sandbox, target)
    assert registered.status_code == 200, registered.text  # a valid URL; where it leads is checked when sent
    delivery = execute_lagerkoll_webhook(sandbox, registered.json()["guid"], {"respond": 503})
    attempt = first_attempt(sandbox, "lagerkoll", delivery)
    assert "status" not in attempt
    assert "sandbox's own listeners" in attempt["error"], attempt
    with admin_client(sandbox, "istockist") as admin:
        assert admin.get("/__mock/faults").json() == {"faults": []}


@pytest.mark.parametrize(("api", "listener"), [("lagerkoll", "api"), ("konducter", "cloud"), ("konducter", "local")])
def test_every_listener_of_the_sandbox_is_refused_including_the_senders_own(sandbox, api, listener):
    registered = register_lagerkoll_webhook(sandbox, f"http://localhost:{port_of(sandbox, api, listener)}/__mock/clock")
    assert registered.status_code == 200, registered.text
    delivery = execute_lagerkoll_webhook(sandbox, registered.json()["guid"], {"advance": 86400})
    assert "sandbox's own listeners" in first_attempt(sandbox, "lagerkoll", delivery).get("error", "")


def test_a_konducter_handler_url_aimed_at_the_sandbox_is_refused_and_the_clock_stays(sandbox):
    with admin_client(sandbox, "konducter") as admin:
        clock_before = admin.get("/__mock/clock").json()["now"]
    handler = f"http://127.0.0.1:{port_of(sandbox, 'istockist')}/__mock/clock"
    with sandbox.client("konducter", "cloud") as client:
        subscribed = client.put(f"/applications/{KONDUCTER_APP}/subscription", headers=konducter_headers(sandbox),
                                json={"handlerUrl": handler, "eventTriggers": ["order.created"]})
        assert subscribed.status_code == 200, subscribed.text
        created = client.post(f"/sites/{DOC_SITE}/orders", headers=konducter_headers(sandbox), json={
            "externalId": "POS-guard", "channel": "inStore", "items": [{"name": "Classic Burger", "quantity": 1}]})
        assert created.status_code == 201, created.text
        client.put(f"/applications/{KONDUCTER_APP}/subscription", headers=konducter_headers(sandbox),
                   json={"handlerUrl": None, "eventTriggers": []})
    with admin_client(sandbox, "konducter") as admin:
        deliveries = [d for d in admin.get("/__mock/deliveries").json()["deliveries"] if d["url"] == handler]
        assert deliveries, "the order event was not queued for the handler"
        attempt = first_attempt(sandbox, "konducter", deliveries[0]["id"])
        assert "sandbox's own listeners" in attempt["error"]
        assert admin.get("/__mock/clock").json()["now"] - clock_before < 3600  # not moved a day ahead


def test_a_users_own_handler_on_loopback_at_another_port_receives_the_delivery(sandbox):
    with receiver() as (url, received):
        registered = register_lagerkoll_webhook(sandbox, url)
        assert registered.status_code == 200, registered.text
        payload = {"article": "A-100", "change": "created"}
        delivery = execute_lagerkoll_webhook(sandbox, registered.json()["guid"], payload)
        assert first_attempt(sandbox, "lagerkoll", delivery) ["status"] == 200
        deadline = time.monotonic() + 5
        while not received and time.monotonic() < deadline:
            time.sleep(0.02)
        assert [json.loads(body) for body in received] == [payload]

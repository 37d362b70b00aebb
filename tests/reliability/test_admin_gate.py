"""The admin API refuses what a web page or a rebound DNS name could send it (issue 9, items 2 and 3).

A real `mocks serve`: cross-origin requests, writes that are not JSON, and (while the admin API is
open on loopback) Host names that are not loopback are refused with a JSON error saying why, and
change nothing. Same-origin requests, as from a page the sandbox serves itself, keep working. Any
bind that is not loopback-only needs --admin-token or --no-admin; a non-ASCII token is a 401.
"""

from __future__ import annotations

import subprocess
from urllib.parse import urlsplit

import httpx
import pytest
from securitykit import admin_client, istockist_admin_fixture, istockist_sandbox_fixture  # noqa: F401 - fixtures, used by name
from servekit import COMMAND, ROOT, Served

FAULT = {"operation": "listProducts", "respond": 503}


def origin_of(sandbox: Served) -> str:
    url = urlsplit(sandbox.urls[("istockist", "api")])
    return f"{url.scheme}://{url.netloc}"


def assert_refused(response: httpx.Response, status: int, *words: str) -> None:
    assert response.status_code == status, response.text
    error = response.json()["error"]
    assert all(word in error for word in words), error


def no_faults(admin: httpx.Client) -> bool:
    return admin.get("/__mock/faults").json()["faults"] == []


@pytest.mark.parametrize("origin", ["http://evil.example", "http://localhost:1", "null", "https://localhost"])
def test_a_cross_origin_write_is_403_and_installs_nothing(istockist_admin, origin):
    response = istockist_admin.post("/__mock/faults", json=FAULT, headers={"Origin": origin})
    assert_refused(response, 403, "cross-origin", origin)
    assert no_faults(istockist_admin)


def test_a_cross_origin_read_is_403_too(istockist_admin):
    assert_refused(istockist_admin.get("/__mock/state", headers={"Origin": "http://evil.example"}), 403, "cross-origin")


@pytest.mark.parametrize("site", ["cross-site", "same-site"])
def test_sec_fetch_site_from_another_site_is_403(istockist_admin, site):
    assert_refused(istockist_admin.post("/__mock/faults", json=FAULT, headers={"Sec-Fetch-Site": site}), 403, site)
    assert_refused(istockist_admin.get("/__mock/journal", headers={"Sec-Fetch-Site": site}), 403, site)
    assert no_faults(istockist_admin)


@pytest.mark.parametrize("content_type", [None, "text/plain", "application/x-www-form-urlencoded",
                                          "multipart/form-data; boundary=x", "application/jsonx"])
@pytest.mark.parametrize(("method", "path"), [("POST", "/__mock/faults"), ("POST", "/__mock/reset"),
                                              ("DELETE", "/__mock/faults"), ("POST", "/__mock/clock")])
def test_a_write_that_is_not_json_is_415(istockist_admin, method, path, content_type):
    istockist_admin.post("/__mock/faults", json=FAULT)
    headers = {"Content-Type": content_type} if content_type else {}
    response = istockist_admin.request(method, path, content=b'{"operation": "listProducts", "respond": 503}', headers=headers)
    assert_refused(response, 415, "Content-Type: application/json")
    assert len(istockist_admin.get("/__mock/faults").json()["faults"]) == 1  # neither added nor cleared


def test_a_same_origin_request_works_as_from_a_page_the_sandbox_serves(istockist_sandbox, istockist_admin):
    page = {"Origin": origin_of(istockist_sandbox), "Sec-Fetch-Site": "same-origin"}
    response = istockist_admin.post("/__mock/faults", json=FAULT, headers=page)
    assert response.status_code == 201, response.text
    assert istockist_admin.get("/__mock/faults", headers={"Sec-Fetch-Site": "same-origin"}).json()["faults"][0]["respond"] == {
        "status": 503}


@pytest.mark.parametrize("host", ["localhost", "LOCALHOST", "127.0.0.1", "127.1.2.3", "[::1]"])
def test_loopback_host_names_reach_the_open_admin_api_with_or_without_a_port(istockist_sandbox, istockist_admin, host):
    port = urlsplit(istockist_sandbox.urls[("istockist", "api")]).port
    for value in (host, f"{host}:{port}"):
        response = istockist_admin.get("/__mock/info", headers={"Host": value})
        assert response.status_code == 200, (value, response.text)


@pytest.mark.parametrize("host", ["evil.example", "evil.example:8103", "192.168.1.10", "localhost.evil.example",
                                  "127.0.0.1.nip.io", "[::ffff:1.2.3.4]"])
def test_another_host_name_on_the_open_admin_api_is_421(istockist_admin, host):
    """A page whose DNS name was rebound to 127.0.0.1 sends its own name as Host."""
    response = istockist_admin.post("/__mock/faults", json=FAULT, headers={"Host": host})
    assert_refused(response, 421, host, "loopback")
    assert no_faults(istockist_admin)


def test_the_contract_api_itself_is_not_gated(istockist_sandbox):
    with istockist_sandbox.client("istockist", checked=False) as client:
        response = client.get("/v1/products", headers={"Host": "shop.example", "Origin": "http://evil.example"})
    assert response.status_code == 401  # the API's own answer (no credentials), not the admin gate's


def test_with_a_token_a_non_ascii_authorization_header_is_401(serve):
    served = serve("istockist", "--port", "istockist=0", "--admin-token", "s3cret")
    with admin_client(served, "istockist") as guarded:
        for value in (b"Bearer \xff\xfe", "Bearer s3cr\u00e9t".encode(), b"\xe9"):
            assert_refused(guarded.get("/__mock/info", headers={"Authorization": value}), 401, "Bearer")
        token = {"Authorization": "Bearer s3cret"}
        ok = guarded.get("/__mock/info", headers={**token, "Host": "sandbox.internal"})
        assert ok.status_code == 200  # with a token, any Host name may reach it
        assert_refused(guarded.post("/__mock/reset", headers=token), 415, "Content-Type")


@pytest.mark.parametrize("host", ["", "0.0.0.0", "::"])
def test_a_bind_beyond_loopback_needs_an_admin_token(host):
    result = subprocess.run([*COMMAND, "serve", "istockist", "--host", host, "--port", "istockist=0"],
                            check=False, cwd=ROOT,
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 2, result.stdout + result.stderr
    assert "needs --admin-token (or --no-admin)" in result.stderr
    assert "Serving" not in result.stdout

"""The environment a client under verification runs with: where the sandbox is, and who to be.

A small, stable contract, the same for every language:

    MOCKS_API            the API's name (konducter, lagerkoll, istockist, pingnetwork, plggr)
    MOCKS_BASE_URL       base URL of the API's primary listener, no trailing slash
    MOCKS_<LISTENER>_URL base URL of each listener by name (MOCKS_CLOUD_URL, MOCKS_LOCAL_URL, ...)
    MOCKS_PRINCIPAL      the sandbox principal the credentials below belong to
    MOCKS_SCOPE          that principal's default tenant scope (site, store, account, customer, company)
    MOCKS_AUTH_HEADERS   JSON object: the static headers that authenticate as that principal
    MOCKS_CREDENTIALS    JSON object: principal, scope, scopes, schemes, headers, grant, login
    MOCKS_TIMEOUT        seconds the client may take in all (its time budget)

plus a few API-friendly names for the same values (`FRIENDLY` below), e.g. MOCKS_CLIENT_ID for Plggr.

A client of several APIs gets each API's variables with the API's name after MOCKS_
(MOCKS_LAGERKOLL_BASE_URL, MOCKS_PLGGR_CLIENT_ID, ...), MOCKS_APIS (the names, comma-separated)
and MOCKS_TIMEOUT.
"""

from __future__ import annotations

import base64
import json
from typing import Any

from mocks.control import auth_headers
from mocks.fixtures import Credential

# API -> variable -> where its value comes from in `credentials_of()` (dotted path).
FRIENDLY: dict[str, dict[str, str]] = {
    "konducter": {"MOCKS_ACCESS_KEY": "schemes.AccessKey", "MOCKS_ACCESS_SECRET": "schemes.AccessSecret",
                  "MOCKS_SITE_ID": "scope", "MOCKS_APPLICATION_ID": "attributes.application_id"},
    "lagerkoll": {"MOCKS_STORE": "scope", "MOCKS_API_KEY": "schemes.ApiKey",
                  "MOCKS_USERNAME": "login.username", "MOCKS_PASSWORD": "login.password"},
    "istockist": {"MOCKS_API_KEY": "basic.user", "MOCKS_API_SECRET": "basic.password", "MOCKS_ACCOUNT": "scope"},
    "pingnetwork": {"MOCKS_API_TOKEN": "schemes.ApiKeyAuth", "MOCKS_CUSTOMER": "scope"},
    "plggr": {"MOCKS_CLIENT_ID": "grant.client_id", "MOCKS_CLIENT_SECRET": "grant.client_secret",
              "MOCKS_COMPANY_ID": "scope"},
}


def credentials_of(api) -> dict[str, Any]:
    """The first sandbox principal, as one JSON-able object (what MOCKS_CREDENTIALS holds)."""
    credentials: list[Credential] = api.fixtures.credentials
    if not credentials:
        return {}
    first = credentials[0]
    login = first.grant or next((c.grant for c in credentials if c.grant), None)
    out: dict[str, Any] = {
        "principal": first.principal.id,
        "scope": first.principal.default_scope,
        "scopes": list(first.principal.scopes),
        "schemes": {k: str(v) for k, v in first.schemes.items()},
        "headers": auth_headers(api, first.principal.id) if first.schemes else {},
        "attributes": first.principal.attributes,
    }
    if first.grant:
        out["grant"] = dict(first.grant)
    if login:
        out["login"] = dict(login)
    basic = next((str(v) for k, v in first.schemes.items()
                  if api.contract.security_schemes.get(k, {}).get("scheme", "").lower() == "basic"), None)
    if basic:
        user, _, password = basic.partition(":")
        out["basic"] = {"user": user, "password": password,
                        "header": "Basic " + base64.b64encode(basic.encode()).decode()}
    return out


def client_environment(api, urls: dict[str, str], timeout: float) -> dict[str, str]:
    """Every MOCKS_* variable for a client of `api` served at `urls` (listener name -> base URL)."""
    credentials = credentials_of(api)
    env = {
        "MOCKS_API": api.name,
        "MOCKS_BASE_URL": urls[api.primary_listener].rstrip("/"),
        "MOCKS_PRINCIPAL": str(credentials.get("principal", "")),
        "MOCKS_SCOPE": str(credentials.get("scope") or ""),
        "MOCKS_AUTH_HEADERS": json.dumps(credentials.get("headers", {})),
        "MOCKS_CREDENTIALS": json.dumps(credentials),
        "MOCKS_TIMEOUT": f"{timeout:g}",
    }
    for name, url in urls.items():
        env[f"MOCKS_{_upper(name)}_URL"] = url.rstrip("/")
    for variable, source in FRIENDLY.get(api.name, {}).items():
        value = _dig(credentials, source)
        if value is not None:
            env[variable] = str(value)
    return env


def several_environment(apis: list, urls: dict[str, dict[str, str]], timeout: float) -> dict[str, str]:
    """The variables of a client of several APIs: each API's own, named MOCKS_<API>_..."""
    env = {"MOCKS_APIS": ",".join(api.name for api in apis), "MOCKS_TIMEOUT": f"{timeout:g}"}
    for api in apis:
        prefix = f"MOCKS_{_upper(api.name)}_"
        for name, value in client_environment(api, urls[api.name], timeout).items():
            if name not in ("MOCKS_TIMEOUT", "MOCKS_API"):
                env[prefix + name.removeprefix("MOCKS_")] = value
    return env


def _dig(value: Any, dotted: str) -> Any:
    for part in dotted.split("."):
        if not isinstance(value, dict):
            return None
        value = value.get(part)
    return value


def _upper(name: str) -> str:
    return "".join(c if c.isalnum() else "_" for c in name).upper()


def main(argv: list[str] | None = None) -> int:
    """`python -m mocks.verify.client.environment API [LISTENER=URL ...]`: export lines for a shell.

    Run a client by hand against `mocks serve` (e.g. to replay a scenario) with the same
    variables verify-client gives it. URLs default to the contract's ports on localhost.
    """
    import shlex
    import sys

    from mocks.registry import load_api

    args = sys.argv[1:] if argv is None else argv
    if not args:
        print(__doc__.split("\n\n")[0] + "\n\nusage: python -m mocks.verify.client.environment API [LISTENER=URL ...]")
        return 2
    api = load_api(args[0])
    urls = {name: f"http://localhost:{spec.get('port', 0)}{api.contract.prefix}"
            for name, spec in api.contract.listeners.items()}
    for pair in args[1:]:
        name, _, url = pair.rpartition("=")
        urls[name or api.primary_listener] = url
    for name, value in client_environment(api, urls, 30).items():
        print(f"export {name}={shlex.quote(value)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""GET /__mock/journal.har: the journal as HAR 1.2, for browser developer tools and HAR viewers.

Times are on the mock clock, like everything else the sandbox records. Bodies are as the journal
keeps them (long ones cut). An exchange whose connection an injected fault dropped has status 0,
as browsers record a request that got no answer.
"""

from __future__ import annotations

from http import HTTPStatus
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

from mocks.admin.table import json_response, route
from mocks.clock import iso_timestamp
from mocks.types import MockRequest, MockResponse

if TYPE_CHECKING:
    from mocks.engine import Api


def har_of(entries: list[dict[str, Any]], api_name: str) -> dict[str, Any]:
    return {"log": {"version": "1.2", "creator": {"name": "commerce-api-sandbox", "version": _version()},
                    "comment": f"{api_name} sandbox journal", "entries": [_entry(e) for e in entries]}}


def _entry(entry: dict[str, Any]) -> dict[str, Any]:
    request_headers = entry["request_headers"]
    response_headers = dict(entry["response_headers"])
    media_type = entry.get("response_media_type")
    if media_type:
        response_headers.setdefault("content-type", media_type)
    status = 0 if entry["dropped"] else entry["status"]
    request_body, response_body = entry["request_body"], entry["response_body"]
    har: dict[str, Any] = {
        "startedDateTime": iso_timestamp(entry["arrived"]),
        "time": entry["duration_ms"],
        "request": {
            "method": entry["method"],
            "url": _url(entry),
            "httpVersion": "HTTP/1.1",
            "cookies": [],
            "headers": _pairs(request_headers.items()),
            "queryString": _pairs((name, value) for name, values in entry["query"].items() for value in values),
            "headersSize": -1,
            "bodySize": len(request_body.encode()),
        },
        "response": {
            "status": status,
            "statusText": _reason(status),
            "httpVersion": "" if entry["dropped"] else "HTTP/1.1",
            "cookies": [],
            "headers": _pairs(response_headers.items()),
            "content": {"size": len(response_body.encode()), "mimeType": media_type or "x-unknown",
                        **({"text": response_body} if response_body else {})},
            "redirectURL": next((v for k, v in response_headers.items() if k.lower() == "location"), ""),
            "headersSize": -1,
            "bodySize": -1 if entry["dropped"] else len(response_body.encode()),
        },
        "cache": {},
        "timings": {"send": 0, "wait": entry["duration_ms"], "receive": 0},
        "_seq": entry["seq"],
        "_operation": entry["operation"],
        "_principal": entry["principal"],
        "_fault": entry["fault"],
    }
    if request_body:
        har["request"]["postData"] = {"mimeType": request_headers.get("content-type", ""), "text": request_body}
    if entry["dropped"]:
        har["comment"] = "connection dropped by an injected fault: no response"
    return har


def _url(entry: dict[str, Any]) -> str:
    host = entry["request_headers"].get("host", "localhost")
    query = urlencode([(k, v) for k, values in entry["query"].items() for v in values])
    return f"{entry.get('scheme', 'http')}://{host}{entry['path']}" + (f"?{query}" if query else "")


def _pairs(items) -> list[dict[str, str]]:
    return [{"name": str(name), "value": str(value)} for name, value in items]


def _reason(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return ""


def _version() -> str:
    # importlib.metadata costs ~50 ms of start-up; a HAR export is the only reader
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("commerce-api-sandbox")
    except PackageNotFoundError:
        return "unknown"


@route("GET", "/journal.har")
def journal_har(api: Api, listener: str, request: MockRequest, params: dict[str, str]) -> MockResponse:
    response = json_response(200, har_of(api.journal.entries(), api.name))
    response.add_header("Content-Disposition", f'attachment; filename="{api.name}-journal.har"')
    return response

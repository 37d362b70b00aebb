"""Serve one benchmark app with uvicorn: `python -m benchmarks.serve bare|mock PORT`."""

from __future__ import annotations

import sys

import uvicorn

from benchmarks.run import bare_app, mock_app

if __name__ == "__main__":
    kind, port = sys.argv[1], int(sys.argv[2])
    app = bare_app() if kind == "bare" else mock_app()[0]
    uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning", access_log=False)

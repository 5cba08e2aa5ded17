"""A stdio MCP server for the tests: ``python stdio_server.py [name]``."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # run as a script: make ``tests`` importable

from tests.mcp_servers.tools import build_server

if __name__ == "__main__":
    build_server(sys.argv[1] if len(sys.argv) > 1 else "test-tools").run("stdio")

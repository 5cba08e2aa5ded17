"""MCP servers written with the ``mcp`` SDK that the tests start (stdio scripts and a loopback HTTP app)."""

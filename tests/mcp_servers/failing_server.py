"""A "server" that fails at start, writing a diagnosis to stderr first."""

from __future__ import annotations

import sys

if __name__ == "__main__":
    for line in range(30):
        sys.stderr.write(f"noise line {line}\n")
    sys.stderr.write("fatal: config file /nowhere/server.toml not found\n")
    sys.exit(2)

"""The tools every test server offers: echo, add, an image, a hang, a raise, a huge text, an exit mid-call."""

from __future__ import annotations

import os
import struct
import sys
import threading
import zlib

import anyio
from mcp.server.mcpserver import Image, MCPServer

HUGE_TEXT_CHARS = 300_000


def tiny_png() -> bytes:
    """A valid 1x1 red PNG."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    header = struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0)
    pixels = zlib.compress(b"\x00\xff\x00\x00")
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", pixels) + chunk(b"IEND", b"")


def build_server(name: str = "test-tools") -> MCPServer:
    """A server whose tools cover every result shape and fault the app must handle."""
    server = MCPServer(name)

    @server.tool(description="Repeat the given text back.")
    def echo(text: str) -> str:
        return text

    @server.tool(description="Add two integers.")
    def add(a: int, b: int) -> int:
        return a + b

    @server.tool(description="A 1x1 red PNG image.")
    def red_pixel() -> Image:
        return Image(data=tiny_png(), format="png")

    @server.tool(description="Never returns.")
    async def hang() -> str:
        sys.stderr.write("hang started\n")
        sys.stderr.flush()
        try:
            await anyio.sleep_forever()
        finally:  # the client's cancellation reached the server
            sys.stderr.write("hang cancelled\n")
            sys.stderr.flush()
        return "unreachable"

    @server.tool(description="Always fails.")
    def explode(reason: str = "boom") -> str:
        raise RuntimeError(f"the tool failed: {reason}")

    @server.tool(description="A very long text.")
    def huge() -> str:
        return "x" * HUGE_TEXT_CHARS

    @server.tool(description="The server process exits while answering.")
    def die() -> str:
        sys.stderr.write("about to exit mid-call\n")
        sys.stderr.flush()
        os._exit(3)

    arrived: list[anyio.Event] = []

    @server.tool(description="Returns only once `parties` calls are running at the same time.")
    async def rendezvous(parties: int) -> int:
        event = anyio.Event()
        arrived.append(event)
        if len(arrived) >= parties:
            for waiting in arrived:
                waiting.set()
        await event.wait()
        return len(arrived)

    @server.tool(description="Answers, then the server process exits a moment later.")
    def exit_soon() -> str:
        threading.Timer(0.2, lambda: os._exit(4)).start()
        return "bye"

    @server.tool(description="The server's process id.")
    def pid() -> int:
        return os.getpid()

    @server.tool(description="The value of an environment variable.")
    def env(key: str) -> str:
        return os.environ.get(key, "")

    @server.tool(description="The working folder.")
    def cwd() -> str:
        return os.getcwd()

    return server

"""Time from exec to the main window on screen, for the README's numbers (Linux, X11).

    python3 packaging/measure_start.py [--runs N] -- COMMAND [ARGS...]

for example ``-- dist/desktop-assistant/desktop-assistant`` or ``-- .venv/bin/python -m desktop_assistant``.
Needs ``DISPLAY`` (an X server such as ``Xvfb :57``) and ``xdotool``. Each run starts COMMAND with an empty
home folder and an endpoint on a closed loopback port (nothing leaves the machine), polls every 5 ms for a
visible window titled "Desktop Assistant", then terminates the app. Prints each run and the median, in seconds.
The first run also pays for reading the files from disk; later ones come from the page cache.
"""

from __future__ import annotations

import argparse
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def window_shown() -> bool:
    out = subprocess.run(["xdotool", "search", "--onlyvisible", "--name", "^Desktop Assistant$"],
                         capture_output=True, text=True, check=False)
    return bool(out.stdout.strip())


def one_run(command: list[str], timeout: float) -> float:
    home = tempfile.mkdtemp(prefix="da-start-")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DBUS_", "XDG_", "OPENAI_", "PYTHON"))}
    env.update(HOME=home, XDG_DATA_HOME=f"{home}/data", XDG_CONFIG_HOME=f"{home}/config",
               XDG_CACHE_HOME=f"{home}/cache", OPENAI_API_KEY="sk-start-time-0000",
               OPENAI_BASE_URL=f"http://127.0.0.1:{closed_port()}/v1")
    env.pop("QT_QPA_PLATFORM", None)
    started = time.monotonic()
    proc = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        while not window_shown():
            if proc.poll() is not None:
                raise RuntimeError(f"{command[0]} exited with {proc.returncode} before showing a window")
            if time.monotonic() - started > timeout:
                raise RuntimeError("no window in time")
            time.sleep(0.005)
        return time.monotonic() - started
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        shutil.rmtree(home, ignore_errors=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--timeout", type=float, default=60.0)
    parser.add_argument("command", nargs=argparse.REMAINDER)
    args = parser.parse_args(argv)
    command = args.command[1:] if args.command[:1] == ["--"] else args.command
    if not command or not os.environ.get("DISPLAY") or not shutil.which("xdotool"):
        parser.error("give a COMMAND after --, and run with DISPLAY set and xdotool installed")
    times = [one_run(command, args.timeout) for _ in range(args.runs)]
    print("runs: " + " ".join(f"{t:.3f}" for t in times))
    print(f"median: {statistics.median(times):.3f} s (first run {times[0]:.3f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Start: launch to the main window painted with the last conversation shown, against a bare QMainWindow.

Each run is a fresh process (``_launcher.py``); the time is from just before the spawn to the first Paint
event of the newest message of the transcript (app) or of the label (bare window), on the same monotonic
clock. App and bare window alternate; medians and their ratio are printed. Target: ratio <= 1.5.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _common import BENCH_DIR, Figure, alternate, banner, median, prepare_xdg_home, quiet_environment, report

BENCH = "start"


def launch(mode: str, env: dict[str, str], idle: float | None = None, timeout: float = 60.0,
           quit_after: bool = False) -> dict[str, float]:
    """Run the launcher once; returns its JSON plus ``spawn`` (the parent's clock just before the spawn).
    ``quit_after``: the app closes normally after the measure, as a person closes it (see _launcher.py)."""
    args = [sys.executable, str(BENCH_DIR / "_launcher.py"), mode]
    if idle is not None:
        args += ["--idle", str(idle)]
    if quit_after:
        args.append("--quit")
    spawn = time.monotonic()
    proc = subprocess.run(args, env=env, capture_output=True, text=True, timeout=timeout, check=False)
    lines = [line for line in proc.stdout.splitlines() if line.startswith("{")]
    if proc.returncode != 0 or not lines:
        raise RuntimeError(f"{mode} launcher failed (exit {proc.returncode}):\n{proc.stdout}\n{proc.stderr}")
    result: dict[str, float] = json.loads(lines[-1])
    result["spawn"] = spawn
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="3 rounds instead of 10")
    parser.add_argument("--rounds", type=int, default=None)
    args = parser.parse_args()
    rounds = args.rounds or (3 if args.quick else 10)
    quiet_environment()
    banner(f"start: {rounds} rounds, app vs bare QMainWindow")

    from tests.fake_openai.server import FakeOpenAI

    with FakeOpenAI() as server, tempfile.TemporaryDirectory(prefix="da-bench-start-") as tmp:
        env = prepare_xdg_home(Path(tmp), [("Older chat", 6, 800), ("Last chat", 20, 1500)], server.base_url)
        # warm the file cache and the bytecode cache; closed as a person closes it, so that the starts measured
        # follow a normal close, as they do for a person (what the app keeps at close, it keeps)
        launch("app", env, quit_after=True)
        launch("bare", env)
        details: dict[str, list[dict[str, float]]] = {"app": [], "bare": []}

        def run(mode: str) -> float:
            r = launch(mode, env)
            details[mode].append(r)
            return (r["paint"] - r["spawn"]) * 1000.0

        apps, bares = alternate(rounds, lambda: run("app"), lambda: run("bare"))

    interp = median([(r["launcher"] - r["spawn"]) * 1000.0 for r in details["app"] + details["bare"]])
    app_import_build = median([(r["built"] - r["launcher"]) * 1000.0 for r in details["app"]])
    app_show_paint = median([(r["paint"] - r["built"]) * 1000.0 for r in details["app"]])
    print(f"  app runs (ms): {', '.join(f'{v:.0f}' for v in apps)}")
    print(f"  bare runs (ms): {', '.join(f'{v:.0f}' for v in bares)}")
    print(f"  interpreter start to launcher: {interp:.0f} ms; app imports+build: {app_import_build:.0f} ms; "
          f"app show to transcript paint: {app_show_paint:.0f} ms")
    ratio = median(apps) / median(bares)
    report(Figure(BENCH, "launch to transcript painted (median)", median(apps), "ms", baseline=median(bares),
                  target="ratio <= 1.5", met=ratio <= 1.5))
    # each app run and the bare run next to it share the machine's state of the moment; on a machine that
    # switches between a fast and a slow state, the ratio of the two medians can pair a fast app with a slow bare
    paired = [app / bare for app, bare in zip(apps, bares, strict=True)]
    print(f"  app/bare per adjacent pair: {', '.join(f'{r:.2f}' for r in paired)}")
    report(Figure(BENCH, "launch to transcript painted, app/bare of adjacent runs (median)", median(paired), "x",
                  target="<= 1.5", met=median(paired) <= 1.5))
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Idle memory: RSS of the app with the last conversation open, 10 s after start, beside a bare PySide6 window.

Both run as fresh processes (``_launcher.py --idle``): the app through its real ``main()`` (so the after-first-
paint work, keyring and tiktoken, has happened; the SDK waits for the first words typed), the bare window
with a label. Target: app RSS <= 150 MB (Linux).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path
from typing import Any

from _common import Figure, alternate, banner, median, prepare_xdg_home, quiet_environment, report
from bench_start import launch

BENCH = "idle memory"
LIMIT_MB = 150.0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="measure 3 s after start, one round")
    parser.add_argument("--seconds", type=float, default=None)
    parser.add_argument("--rounds", type=int, default=None)
    args = parser.parse_args()
    seconds = args.seconds or (3.0 if args.quick else 10.0)
    rounds = args.rounds or (1 if args.quick else 2)
    quiet_environment()
    banner(f"idle memory: RSS {seconds:g} s after start, {rounds} round(s)")

    from tests.fake_openai.server import FakeOpenAI

    with FakeOpenAI() as server, tempfile.TemporaryDirectory(prefix="da-bench-idle-") as tmp:
        env = prepare_xdg_home(Path(tmp), [("Older chat", 6, 800), ("Last chat", 20, 1500)], server.base_url)
        # a first start, as after an install: it counts the conversation once (loading the tokenizer) and keeps
        # the counts; the starts measured are the ones that follow, as every start after the first
        first = launch("app", env, idle=seconds, timeout=seconds + 60, quit_after=True)
        details: list[dict[str, Any]] = []

        def app() -> float:
            details.append(launch("app", env, idle=seconds, timeout=seconds + 60))
            return float(details[-1]["rss_kb"]) / 1024.0

        apps, bares = alternate(
            rounds, app, lambda: launch("bare", env, idle=seconds, timeout=seconds + 60)["rss_kb"] / 1024.0)
    last = details[-1]
    print(f"  app RSS (MB): {', '.join(f'{v:.1f}' for v in apps)}; bare: {', '.join(f'{v:.1f}' for v in bares)}; "
          f"the first start (counting the conversation, tokenizer loaded: "
          f"{', '.join(first.get('encodings', [])) or 'none'}): {first['rss_kb'] / 1024.0:.1f}")
    print(f"  app at idle: {last.get('modules', 0)} modules; loaded: {', '.join(last.get('loaded', [])) or 'none'}; "
          f"tokenizers: {', '.join(last.get('encodings', [])) or 'none'}; module source cached in linecache: "
          f"{last.get('linecache_mb', 0.0):.1f} MB", flush=True)
    value = median(apps)
    report(Figure(BENCH, f"RSS {seconds:g} s after start", value, "MB", baseline=median(bares),
                  target=f"<= {LIMIT_MB:g} MB", met=value <= LIMIT_MB))
    return 0


if __name__ == "__main__":
    sys.exit(main())

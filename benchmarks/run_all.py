"""Run every benchmark and print one table of figures.

    .venv/bin/python benchmarks/run_all.py [--quick] [--only NAME ...]

``--quick`` runs small sizes and few repetitions (well under 90 s on 2 cores): for CI, so the benchmarks cannot
rot. The exit status is 0 whatever the figures; it is non-zero only when a benchmark crashed (or hung).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
BENCHMARKS = ["bench_start", "bench_streaming", "bench_long_conversation", "bench_token_count", "bench_idle_memory",
              "bench_usage_queries", "bench_search", "bench_spelling"]


def fmt(value: Any, unit: str = "") -> str:
    """A number for the table."""
    if value is None:
        return ""
    return f"{value:,.2f}{(' ' + unit) if unit else ''}"


def table(rows: list[dict[str, Any]]) -> str:
    """The figures as a markdown table."""
    lines = ["| benchmark | figure | value | baseline | ratio | target | met? |", "|---|---|---|---|---|---|---|"]
    for r in rows:
        met = "n/a" if r["met"] is None else ("yes" if r["met"] else "**no**")
        lines.append(f"| {r['benchmark']} | {r['figure']} | {fmt(r['value'], r['unit'])} | "
                     f"{fmt(r['baseline'], r['unit'])} | {fmt(r['ratio'])} | {r['target']} | {met} |")
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="small sizes, few repetitions (CI)")
    parser.add_argument("--only", nargs="*", choices=BENCHMARKS, help="run only these")
    parser.add_argument("--timeout", type=float, default=None, help="seconds per benchmark")
    args = parser.parse_args()
    timeout = args.timeout or (120.0 if args.quick else 1200.0)
    env = dict(os.environ)
    env.setdefault("QT_QPA_PLATFORM", "offscreen")
    env["PYTHONUNBUFFERED"] = "1"
    rows: list[dict[str, Any]] = []
    failed: list[str] = []
    started = time.perf_counter()
    for name in args.only or BENCHMARKS:
        command = [sys.executable, str(HERE / f"{name}.py"), *(["--quick"] if args.quick else [])]
        t0 = time.perf_counter()
        try:
            proc = subprocess.run(command, env=env, capture_output=True, text=True, timeout=timeout, check=False,
                                  cwd=HERE.parent)
        except subprocess.TimeoutExpired as exc:
            out = exc.stdout.decode() if isinstance(exc.stdout, bytes) else (exc.stdout or "")
            print(out, end="")
            print(f"!! {name} did not finish in {timeout:g} s", flush=True)
            failed.append(name)
            continue
        for line in proc.stdout.splitlines():
            if line.startswith("RESULT "):
                rows.append(json.loads(line[len("RESULT "):]))
            else:
                print(line)
        if proc.returncode != 0:
            print(proc.stderr, end="", file=sys.stderr)
            print(f"!! {name} crashed (exit {proc.returncode})", flush=True)
            failed.append(name)
        print(f"   ({name}: {time.perf_counter() - t0:.1f} s)", flush=True)
    print()
    print(table(rows))
    print(f"\n{len(rows)} figures in {time.perf_counter() - started:.0f} s"
          + (f"; crashed: {', '.join(failed)}" if failed else ""))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())

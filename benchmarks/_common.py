"""Shared helpers for the benchmarks: heartbeat, percentiles, alternating runs, RSS, test data, results.

Every benchmark script puts the repository root on ``sys.path`` (so ``desktop_assistant`` and
``tests.fake_openai`` import from the checkout) and prints one ``RESULT {json}`` line per figure, which
``run_all.py`` gathers into a table.
"""

from __future__ import annotations

import json
import math
import os
import random
import statistics
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

# DA_BENCH_SOURCE: measure another copy of the sources (e.g. an exported commit) with these scripts
ROOT = Path(os.environ.get("DA_BENCH_SOURCE") or Path(__file__).resolve().parent.parent).resolve()
BENCH_DIR = Path(__file__).resolve().parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

HEARTBEAT_MS = 4


def quiet_environment() -> None:
    """Offscreen unless a display platform was chosen; never touch the session's keyring; the app's bytecode
    compiled, as an installer leaves it (pip and the frozen build both do), so that start-up is not measured
    compiling sources again on every launch where ``PYTHONDONTWRITEBYTECODE`` is set."""
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    os.environ.pop("DBUS_SESSION_BUS_ADDRESS", None)
    import compileall

    compileall.compile_dir(str(ROOT / "desktop_assistant"), quiet=1)


# -- statistics -----------------------------------------------------------------------------------------------

def percentile(values: Sequence[float], q: float) -> float:
    """The ``q``-th percentile (0..100) by linear interpolation; NaN for no values."""
    if not values:
        return math.nan
    ordered = sorted(values)
    k = (len(ordered) - 1) * q / 100.0
    lo, hi = math.floor(k), math.ceil(k)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (k - lo)


def median(values: Sequence[float]) -> float:
    """The median; NaN for no values."""
    return statistics.median(values) if values else math.nan


def alternate(rounds: int, subject: Callable[[], float], baseline: Callable[[], float]
              ) -> tuple[list[float], list[float]]:
    """Run subject and baseline ``rounds`` times each, alternating ABBA so slow drift hits both alike."""
    subjects: list[float] = []
    baselines: list[float] = []
    for i in range(rounds):
        if i % 2 == 0:
            subjects.append(subject())
            baselines.append(baseline())
        else:
            baselines.append(baseline())
            subjects.append(subject())
    return subjects, baselines


# -- memory ---------------------------------------------------------------------------------------------------

def rss_kb(pid: int | str = "self") -> int:
    """Resident set size in kB, from /proc (Linux); 0 where /proc is missing."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def rss_mb(pid: int | str = "self") -> float:
    """Resident set size in MB (MiB)."""
    return rss_kb(pid) / 1024.0


# -- results --------------------------------------------------------------------------------------------------

@dataclass
class Figure:
    """One measured figure, its baseline and its target."""

    benchmark: str
    figure: str
    value: float
    unit: str
    baseline: float | None = None
    target: str = ""
    met: bool | None = None

    @property
    def ratio(self) -> float | None:
        """value / baseline, when there is a baseline."""
        if self.baseline is None or not self.baseline:
            return None
        return self.value / self.baseline


def report(fig: Figure) -> None:
    """Print a figure for people and a ``RESULT`` line for ``run_all.py``."""
    ratio = fig.ratio
    parts = [f"{fig.figure}: {fig.value:.2f} {fig.unit}"]
    if fig.baseline is not None:
        parts.append(f"baseline {fig.baseline:.2f} {fig.unit}")
    if ratio is not None:
        parts.append(f"ratio {ratio:.2f}")
    if fig.target:
        verdict = "n/a" if fig.met is None else ("met" if fig.met else "NOT met")
        parts.append(f"target {fig.target}: {verdict}")
    print("  " + " | ".join(parts), flush=True)
    payload: dict[str, Any] = asdict(fig)
    payload["ratio"] = ratio
    print("RESULT " + json.dumps(payload), flush=True)


def gap_figures(benchmark: str, what: str, gaps_ms: Sequence[float], p99_target: float | None = 16.0,
                max_target: float | None = 50.0) -> None:
    """Report the p50 / p99 / max of heartbeat gaps."""
    p99, worst = percentile(gaps_ms, 99), max(gaps_ms, default=math.nan)
    print(f"  {what}: {len(gaps_ms)} heartbeats, p50 {percentile(gaps_ms, 50):.1f} ms", flush=True)
    report(Figure(benchmark, f"{what}: heartbeat gap p99", p99, "ms",
                  target=f"<= {p99_target:g} ms" if p99_target else "",
                  met=None if p99_target is None else p99 <= p99_target))
    report(Figure(benchmark, f"{what}: heartbeat gap max", worst, "ms",
                  target=f"<= {max_target:g} ms" if max_target else "",
                  met=None if max_target is None else worst <= max_target))


# -- Qt helpers (imported lazily so that launchers can time their own imports) ------------------------------

class Heartbeat:
    """A ``Qt.PreciseTimer`` ticking every few ms on the UI thread; the gaps between ticks show event-loop stalls.

    A gap of ``interval`` ms means the loop was free; a gap of 40 ms means something held the UI thread for
    about 36 ms.
    """

    def __init__(self, interval_ms: int = HEARTBEAT_MS) -> None:
        from PySide6.QtCore import Qt, QTimer

        self._timer = QTimer()
        self._timer.setTimerType(Qt.TimerType.PreciseTimer)
        self._timer.setInterval(interval_ms)
        self._timer.timeout.connect(self._tick)
        self._last: float | None = None
        self.gaps_ms: list[float] = []

    def _tick(self) -> None:
        now = time.perf_counter()
        if self._last is not None:
            self.gaps_ms.append((now - self._last) * 1000.0)
        self._last = now

    def start(self) -> None:
        """Start recording (clears earlier gaps)."""
        self.gaps_ms = []
        self._last = None
        self._timer.start()

    def stop(self) -> list[float]:
        """Stop; returns the gaps in ms (including the final one up to now)."""
        self._tick()
        self._timer.stop()
        return list(self.gaps_ms)

    @contextmanager
    def running(self) -> Iterator[Heartbeat]:
        """Record while the block runs."""
        self.start()
        try:
            yield self
        finally:
            self.stop()


def install_paint_probe(widget: Any, on_paint: Callable[[float], None]) -> Any:
    """Call ``on_paint(time.perf_counter())`` on the first Paint event ``widget`` receives; returns the filter."""
    from PySide6.QtCore import QEvent, QObject

    class _Probe(QObject):
        def __init__(self) -> None:
            super().__init__()
            self.fired = False

        def eventFilter(self, watched: QObject, event: QEvent) -> bool:
            if not self.fired and event.type() == QEvent.Type.Paint:
                self.fired = True
                on_paint(time.perf_counter())
            return False

    probe = _Probe()
    widget.installEventFilter(probe)
    return probe


def silence_offscreen_warnings() -> None:
    """Drop the offscreen platform's "does not support propagateSizeHints()" noise; keep other messages."""
    from PySide6.QtCore import QMessageLogContext, QtMsgType, qInstallMessageHandler

    def handler(kind: QtMsgType, context: QMessageLogContext, message: str) -> None:
        if "propagateSizeHints" not in message:
            sys.stderr.write(message + "\n")

    qInstallMessageHandler(handler)


def qasync_run(main: Callable[[], Any]) -> Any:
    """Run the coroutine ``main()`` on a qasync loop over a (new or existing) QApplication."""
    import asyncio

    import qasync
    from PySide6.QtWidgets import QApplication

    app = QApplication.instance() or QApplication(sys.argv[:1])
    silence_offscreen_warnings()
    loop = qasync.QEventLoop(app)
    asyncio.set_event_loop(loop)
    with loop:
        return loop.run_until_complete(main())


# -- test data ------------------------------------------------------------------------------------------------

_WORD_TEXT = ("the of and to in is that for it as with was on be by this are or from at an which have not but they "
          "function value request token stream window layout render cache thread index queue buffer return error "
          "message context budget model reply paint widget signal document block frame cursor height width")
_WORDS = _WORD_TEXT.split()


def _sentence(rng: random.Random, words: int) -> str:
    body = " ".join(rng.choice(_WORDS) for _ in range(words))
    return body[0].upper() + body[1:] + "."


def _code_block(rng: random.Random, lines: int) -> str:
    out = ["```python"]
    for i in range(lines):
        name = rng.choice(_WORDS)
        out.append(f"def {name}_{i}(value: int, items: list[str]) -> dict[str, int]:")
        out.append(f"    result = {{k: len(k) * value for k in items if k != '{rng.choice(_WORDS)}'}}")
        out.append(f"    return result  # {rng.choice(_WORDS)} {rng.choice(_WORDS)}")
    out.append("```")
    return "\n".join(out)


def markdown_reply(seed: int, approx_chars: int) -> str:
    """A deterministic assistant reply in markdown: heading, paragraphs, a list, inline code and code blocks."""
    rng = random.Random(seed)
    parts: list[str] = [f"## Section {seed}"]
    size = len(parts[0])
    while size < approx_chars:
        kind = rng.random()
        if kind < 0.45:
            piece = " ".join(_sentence(rng, rng.randint(8, 20)) for _ in range(rng.randint(2, 4)))
            piece = piece.replace(" value ", " `value` ", 1)
        elif kind < 0.65:
            piece = "\n".join(f"- **{rng.choice(_WORDS)}**: {_sentence(rng, rng.randint(5, 10))}"
                              for _ in range(rng.randint(2, 5)))
        else:
            piece = _code_block(rng, rng.randint(2, 6))
        parts.append(piece)
        size += len(piece) + 2
    return "\n\n".join(parts)


def user_question(seed: int, approx_chars: int = 240) -> str:
    """A deterministic question in plain text."""
    rng = random.Random(seed * 7919 + 1)
    text = ""
    while len(text) < approx_chars:
        text += _sentence(rng, rng.randint(6, 14)) + " "
    return text.strip() + " How would you do it?"


def prepare_home(root: Path, conversations: Sequence[tuple[str, int, int]], last: int = 0,
                 base_url: str = "http://127.0.0.1:9/v1") -> list[int]:
    """Create the app's data and settings under ``root`` (laid out as :meth:`AppPaths.under`).

    ``conversations``: (title, message count, average reply chars) each; messages alternate question and
    markdown reply. Settings say onboarded, with conversation index ``last`` as the last one shown.
    Returns the conversation ids. Uses the app's own Store and SettingsStore.
    """
    import asyncio

    from desktop_assistant.core.models import Role, text_part
    from desktop_assistant.core.settings import Settings
    from desktop_assistant.services.paths import AppPaths
    from desktop_assistant.services.settings import SettingsStore
    from desktop_assistant.services.store import Store

    paths = AppPaths.under(root)
    paths.ensure()
    store = Store(paths.database)
    store.open()

    async def fill() -> list[int]:
        ids: list[int] = []
        for title, count, reply_chars in conversations:
            conv = await store.create_conversation("gpt-4o-mini", title=title)
            parent: int | None = None
            for i in range(count):
                if i % 2 == 0:
                    msg = await store.add_message(conv.id, parent, Role.USER, [text_part(user_question(i))])
                else:
                    msg = await store.add_message(conv.id, parent, Role.ASSISTANT,
                                                  [text_part(markdown_reply(i, reply_chars))], model="gpt-4o-mini")
                parent = msg.id
            ids.append(conv.id)
        await store.close()
        return ids

    ids = asyncio.run(fill())
    SettingsStore(paths.settings_file).save(
        Settings(onboarded=True, last_conversation_id=ids[last] if ids else None, base_url=base_url))
    return ids


def xdg_environ(root: Path, base_url: str) -> dict[str, str]:
    """An environment for ``python -m desktop_assistant`` whose data and settings folders are under ``root``.

    ``prepare_home(root / "home" / ...)`` must match :meth:`AppPaths.default` under these variables, see
    :func:`prepare_xdg_home`.
    """
    env = dict(os.environ)
    env.pop("DBUS_SESSION_BUS_ADDRESS", None)
    home = root / "home"
    runtime = root / "runtime"
    runtime.mkdir(parents=True, exist_ok=True, mode=0o700)
    env.update({
        "HOME": str(home),
        "XDG_DATA_HOME": str(home / ".local" / "share"),
        "XDG_CONFIG_HOME": str(home / ".config"),
        "XDG_CACHE_HOME": str(home / ".cache"),
        "XDG_STATE_HOME": str(home / ".local" / "state"),
        "XDG_RUNTIME_DIR": str(runtime),
        "OPENAI_BASE_URL": base_url,
        "OPENAI_API_KEY": "sk-test",
        "PYTHONPATH": str(ROOT) + os.pathsep + env.get("PYTHONPATH", ""),
    })
    env.setdefault("QT_QPA_PLATFORM", "offscreen")
    return env


def prepare_xdg_home(root: Path, conversations: Sequence[tuple[str, int, int]], base_url: str) -> dict[str, str]:
    """Prepare data + settings where the app looks under :func:`xdg_environ`; returns that environment."""
    env = xdg_environ(root, base_url)
    home = Path(env["HOME"])
    # AppPaths.default() on Linux: $XDG_DATA_HOME/desktop-assistant and $XDG_CONFIG_HOME/desktop-assistant
    from desktop_assistant import APP_ID

    data = home / ".local" / "share" / APP_ID
    config = home / ".config" / APP_ID
    staging = root / "staging"
    prepare_home(staging, conversations, base_url=base_url)
    data.parent.mkdir(parents=True, exist_ok=True)
    config.parent.mkdir(parents=True, exist_ok=True)
    (staging / "data").rename(data)
    (staging / "config").rename(config)
    return env


def banner(title: str) -> None:
    """A heading line for the benchmark's output."""
    print(f"== {title} ({os.environ.get('QT_QPA_PLATFORM', 'offscreen')}, {os.cpu_count()} CPUs)", flush=True)

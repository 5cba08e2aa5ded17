#!/usr/bin/env bash
# Installs everything the tests need on a fresh Debian/Ubuntu machine, builds the wheel, installs it into
# .venv with the dev tools, and runs lint, types, layer contracts and the test suite against the installed
# wheel (not the checkout), with a real Secret Service for the keyring tests.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
export QT_QPA_PLATFORM="${QT_QPA_PLATFORM:-offscreen}"
python="${PYTHON:-python3}"
if ! "$python" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
  echo "The app needs Python 3.11 or newer; $python is $("$python" --version 2>/dev/null || echo "not installed")." >&2
  echo "Install it and run again with PYTHON=python3.11 (or newer)." >&2
  exit 1
fi

# Qt's offscreen and xcb platforms, a Secret Service for the keyring, fonts for text layout.
sys_pkgs=(libegl1 libgl1 libxkbcommon0 libxkbcommon-x11-0 libfontconfig1 libdbus-1-3 libxcb-cursor0
  libxcb-icccm4 libxcb-keysyms1 libxcb-shape0 libxcb-xinerama0 libxcb-randr0 libxcb-render-util0
  libxcb-image0 dbus gnome-keyring fonts-dejavu-core python3-venv binutils patchelf libpulse0)
if command -v apt-get >/dev/null 2>&1; then
  missing=()
  for p in "${sys_pkgs[@]}"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
  if [ "${#missing[@]}" -gt 0 ]; then
    sudo=""; [ "$(id -u)" = 0 ] || sudo="sudo"
    echo "== installing system packages: ${missing[*]}"
    $sudo apt-get update -q
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -q --no-install-recommends "${missing[@]}"
  fi
fi

venv="${DA_VENV:-$root/.venv}"
[ -x "$venv/bin/python" ] || "$python" -m venv "$venv"
"$venv/bin/python" -m pip install -q --upgrade pip build
rm -rf "$root/dist"
"$venv/bin/python" -m build -q --wheel --outdir "$root/dist" "$root" >/dev/null
wheel="$(ls "$root"/dist/desktop_assistant-*.whl)"
"$venv/bin/python" -m pip install -q --force-reinstall --no-deps "$wheel"
"$venv/bin/python" -m pip install -q "$wheel[dev]"

echo "== ruff";         "$venv/bin/ruff" check .
echo "== mypy";         "$venv/bin/mypy"
echo "== lint-imports"; "$venv/bin/lint-imports"

# Benchmarks run quickly so they cannot rot; their figures are printed, never failed on (see benchmarks/README.md).
if [ "${DA_SKIP_BENCHMARKS:-}" != "1" ]; then
  echo "== benchmarks (quick)"
  (cd "$root" && env -u DBUS_SESSION_BUS_ADDRESS "$venv/bin/python" benchmarks/run_all.py --quick)
fi

# The frozen Linux bundle (PyInstaller), built once from the installed wheel; tests/e2e/test_frozen.py runs it.
if [ "${DA_SKIP_FROZEN:-}" != "1" ]; then
  echo "== frozen bundle"
  "$venv/bin/python" -m pip install -q 'pyinstaller>=6.10' certifi
  DA_VENV="$venv" "$root/packaging/build.sh" linux --bundle-only
  export DA_FROZEN_BUNDLE="$root/dist/desktop-assistant"
fi

# Run the suite from a copy of tests/ so that `import desktop_assistant` finds the installed wheel.
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
cp -r "$root/tests" "$root/pyproject.toml" "$work/"
export DA_SHARED_DIR="${DA_SHARED_DIR:-$(cd "$root/.." && pwd)/shared}"
export DA_TEST_INSTALLED=1
export DA_SOURCE_ROOT="$root"  # the checkout, for the tests of what is not in the wheel (packaging/)
cd "$work"
echo "== pytest"
if command -v dbus-run-session >/dev/null 2>&1 && command -v gnome-keyring-daemon >/dev/null 2>&1; then
  dbus-run-session -- bash -c '
    echo -n pw | gnome-keyring-daemon --unlock --components=secrets >/dev/null
    exec "$0" -m pytest -p no:cacheprovider "$@"' "$venv/bin/python" "$@"
else
  "$venv/bin/python" -m pytest -p no:cacheprovider "$@"
fi

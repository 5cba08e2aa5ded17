#!/usr/bin/env bash
# Builds Desktop Assistant's frozen bundle and its packages (see packaging/README.md).
#
#   packaging/build.sh linux [--bundle-only]
#       dist/desktop-assistant/                           the one-folder bundle; executable desktop-assistant
#       dist/desktop-assistant-<version>-linux-<arch>.tar.gz   that folder, packed
#       dist/desktop-assistant_<version>_<debarch>.deb    /opt/desktop-assistant + launcher, menu entry, icons
#   packaging/build.sh macos [--bundle-only]
#       dist/Desktop Assistant.app, then (packaging/macos/make_dmg.sh) dist/Desktop-Assistant-<version>-macos-<arch>.dmg,
#       signed and notarized when the DA_CODESIGN_IDENTITY / DA_NOTARY_* variables are set (macos/SIGNING.md)
#   Windows: packaging\windows\build.ps1
#
# Run from a checkout after `python3 -m venv .venv && .venv/bin/pip install '.[dev]'`. It uses the Python of
# $DA_VENV (default .venv), installs PyInstaller into it when missing, and freezes the *installed*
# desktop-assistant package: the checkout is reinstalled into the venv (without dependencies) when the installed
# copy is missing or differs from it. Intermediate files go to build/, outputs to dist/.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

usage() { echo "usage: packaging/build.sh linux|macos [--bundle-only]" >&2; exit 2; }
target="${1:-}"
[ $# -gt 0 ] && shift
bundle_only=0
for arg in "$@"; do
  case "$arg" in
    --bundle-only) bundle_only=1 ;;
    *) usage ;;
  esac
done
case "$target" in
  linux|macos) ;;
  windows) printf '%s\n' 'On Windows run: powershell -ExecutionPolicy Bypass -File packaging\windows\build.ps1' >&2; exit 2 ;;
  *) usage ;;
esac

venv="${DA_VENV:-$root/.venv}"
py="$venv/bin/python"
[ -x "$py" ] || { echo "no Python at $py: run 'python3 -m venv .venv && .venv/bin/pip install .[dev]' first" >&2; exit 1; }
start=$(date +%s)
export QT_QPA_PLATFORM=offscreen  # the icon renderer needs no display

# 1. The package to freeze: the installed one, as long as it is this checkout.
if ! "$py" - "$root" <<'EOF'
import filecmp, importlib.metadata, sys
from pathlib import Path
root = Path(sys.argv[1])
try:
    importlib.metadata.version("desktop-assistant")
    import desktop_assistant
except Exception:
    sys.exit(1)
installed = Path(desktop_assistant.__file__).resolve().parent
source = (root / "desktop_assistant").resolve()
if installed == source:
    sys.exit(0)  # an editable install
def same(a: Path, b: Path) -> bool:
    cmp = filecmp.dircmp(a, b, ignore=["__pycache__"])
    _, mismatch, errors = filecmp.cmpfiles(a, b, cmp.common_files, shallow=False)
    return (not (cmp.left_only or cmp.right_only or mismatch or errors)
            and all(same(a / d, b / d) for d in cmp.common_dirs))
sys.exit(0 if same(source, installed) else 1)
EOF
then
  echo "== installing desktop-assistant from the checkout into $venv (no dependencies)"
  "$py" -m pip install -q --no-deps --force-reinstall "$root"
fi
version="$("$py" -c 'import importlib.metadata as m; print(m.version("desktop-assistant"))')"

# 2. The tools: PyInstaller, and certifi for the fallback CA bundle.
if ! "$py" -c 'import PyInstaller, certifi' 2>/dev/null; then
  echo "== installing PyInstaller into $venv"
  "$py" -m pip install -q 'pyinstaller>=6.10' certifi
fi

# 3. Icons, then the bundle.
rm -rf "$root/build/icons" "$root/build/pyinstaller" "$root/dist/desktop-assistant" "$root/dist/Desktop Assistant.app"
"$py" "$root/packaging/make_icons.py" "$root/build/icons" >/dev/null
if [ "$target" = macos ]; then
  iconutil -c icns "$root/build/icons/desktop-assistant.iconset" -o "$root/build/icons/desktop-assistant.icns"
fi
echo "== freezing desktop-assistant $version with PyInstaller"
mkdir -p "$root/build/pyinstaller"
# run from build/ so that `python -m` puts no checkout on sys.path: the installed package is what gets frozen
(cd "$root/build/pyinstaller" && DA_ICON_DIR="$root/build/icons" "$py" -m PyInstaller --noconfirm --clean \
  --log-level WARN --distpath "$root/dist" --workpath "$root/build/pyinstaller" \
  "$root/packaging/desktop-assistant.spec")
bundle="$root/dist/desktop-assistant"
if [ "$target" = linux ]; then
  # Extension modules of a Python built from source (pyenv, setup-python) carry the build machine's absolute
  # RUNPATH (/root/.pyenv/.../lib): drop such entries, keep the $ORIGIN ones Qt's plugins rely on.
  if command -v patchelf >/dev/null 2>&1; then
    cleaned=0
    while IFS= read -r -d '' file; do
      rpath="$(patchelf --print-rpath "$file" 2>/dev/null)" || continue
      case "$rpath" in /*|*:/*) ;; *) continue ;; esac
      kept="$(tr ':' '\n' <<<"$rpath" | grep -v '^/' | paste -sd: -)" || true
      if [ -n "$kept" ]; then patchelf --set-rpath "$kept" "$file"; else patchelf --remove-rpath "$file"; fi
      cleaned=$((cleaned + 1))
    done < <(find "$bundle" -type f -name '*.so*' -print0)
    echo "removed the build machine's RUNPATH from $cleaned libraries"
  else
    echo "note: no patchelf here; libraries keep the build machine's absolute RUNPATH (harmless, but untidy)"
  fi
  # libpython alone is stripped (a source build's carries ~17 MB of symbols): strip corrupts libraries a wheel
  # patched with patchelf (numpy's OpenBLAS, Qt's FFmpeg), so the spec strips nothing
  if command -v strip >/dev/null 2>&1; then
    find "$bundle/_internal" -maxdepth 1 -name 'libpython3*.so*' -type f -exec strip --strip-unneeded {} +
  fi
  # every library must still load: ldd says "not a dynamic executable" of one the loader refuses
  broken="$(find "$bundle" -type f -name '*.so*' -exec sh -c \
    'for f; do ldd "$f" 2>&1 | grep -q "not a dynamic executable" && echo "$f"; done' sh {} +)" || true
  if [ -n "$broken" ]; then
    echo "these libraries of the bundle cannot be loaded:" >&2
    echo "$broken" >&2
    exit 1
  fi
fi
exe="$bundle/desktop-assistant"
[ "$target" = macos ] && exe="$root/dist/Desktop Assistant.app/Contents/MacOS/desktop-assistant"
[ -x "$exe" ] || { echo "no executable at $exe" >&2; exit 1; }
frozen_version="$("$exe" --version)"
[ "$frozen_version" = "Desktop Assistant $version" ] || { echo "frozen --version said: $frozen_version" >&2; exit 1; }
size_of() { du -sk "$1" | awk '{printf "%.0f MiB", $1 / 1024}'; }
echo "bundle: $bundle ($(size_of "$bundle"), $(find "$bundle" -type f | wc -l | tr -d ' ') files); $frozen_version"

if [ "$bundle_only" = 1 ]; then
  echo "== done in $(( $(date +%s) - start )) s"
  exit 0
fi

if [ "$target" = macos ]; then
  "$root/packaging/macos/make_dmg.sh" "$root/dist/Desktop Assistant.app" "$version" "$root/dist"
  echo "== done in $(( $(date +%s) - start )) s"
  exit 0
fi

# 4. The tarball: the bundle folder as it is.
arch="$(uname -m)"
tarball="$root/dist/desktop-assistant-$version-linux-$arch.tar.gz"
# with how to add it to the menu and how to remove it (the .deb does both its own way, so they leave again)
extras=(README.txt install-menu-entry.sh desktop-assistant.desktop)
install -m 644 "$root/packaging/linux/README-tarball.txt" "$bundle/README.txt"
install -m 755 "$root/packaging/linux/install-menu-entry.sh" "$bundle/install-menu-entry.sh"
install -m 644 "$root/packaging/linux/desktop-assistant.desktop" "$bundle/desktop-assistant.desktop"
tar -C "$root/dist" --owner=0 --group=0 -czf "$tarball" desktop-assistant
for extra in "${extras[@]}"; do rm -f "$bundle/$extra"; done
echo "tarball: $tarball ($(size_of "$tarball"))"

# 5. The .deb (needs dpkg-deb: Debian and Ubuntu).
if command -v dpkg-deb >/dev/null 2>&1; then
  "$root/packaging/linux/build_deb.sh" "$bundle" "$root/build/icons" "$version" "$(dpkg --print-architecture)" \
    "$root/dist"
else
  echo "no dpkg-deb here: .deb skipped"
fi
echo "== done in $(( $(date +%s) - start )) s"

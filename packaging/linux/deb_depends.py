"""Work out a frozen bundle's Debian dependencies from its ELF files (a small dpkg-shlibdeps for one folder).

    python3 packaging/linux/deb_depends.py BUNDLE_DIR

prints two lines, ``Depends: ...`` and ``Recommends: ...``. For every shared library the bundle's ELF files
link against (DT_NEEDED) that is not in the bundle itself, it finds the package that ships it on this machine
(``ldconfig -p`` for the path, ``dpkg -S`` for the package), so the names fit the distribution the .deb is built
on (build on the oldest one you support). A library not installed here falls back to FALLBACK_PACKAGES.
``libc6 (>= X)`` takes X from the newest ``GLIBC_X`` symbol version the bundle uses.

Libraries used only by the Wayland plugins go to Recommends: without them the app still runs on X11 (Qt skips a
plugin it cannot load). Those of the GTK platform theme plugin are left out: it is used where GTK is installed
anyway (GNOME and friends), and a KDE system should not get GTK pulled in for it.

Standard library only: it runs with any python3 (no binutils needed).
"""

from __future__ import annotations

import re
import struct
import subprocess
import sys
from pathlib import Path

# soname -> Debian package, for libraries that may not be installed on the build machine (or that PyInstaller
# never bundles, such as libEGL/libGL); names valid on Debian 12+ and Ubuntu 22.04+.
FALLBACK_PACKAGES = {
    "libEGL.so.1": "libegl1", "libGL.so.1": "libgl1", "libOpenGL.so.0": "libopengl0",
    "libxkbcommon.so.0": "libxkbcommon0", "libxkbcommon-x11.so.0": "libxkbcommon-x11-0",
    "libxcb-cursor.so.0": "libxcb-cursor0", "libxcb-icccm.so.4": "libxcb-icccm4",
    "libxcb-image.so.0": "libxcb-image0", "libxcb-keysyms.so.1": "libxcb-keysyms1",
    "libxcb-randr.so.0": "libxcb-randr0", "libxcb-render-util.so.0": "libxcb-render-util0",
    "libxcb-render.so.0": "libxcb-render0", "libxcb-shape.so.0": "libxcb-shape0", "libxcb-shm.so.0": "libxcb-shm0",
    "libxcb-sync.so.1": "libxcb-sync1", "libxcb-util.so.1": "libxcb-util1", "libxcb-xfixes.so.0": "libxcb-xfixes0",
    "libxcb-xkb.so.1": "libxcb-xkb1", "libxcb-glx.so.0": "libxcb-glx0", "libxcb.so.1": "libxcb1",
    "libX11.so.6": "libx11-6", "libX11-xcb.so.1": "libx11-xcb1", "libfontconfig.so.1": "libfontconfig1",
    "libfreetype.so.6": "libfreetype6", "libdbus-1.so.3": "libdbus-1-3", "libglib-2.0.so.0": "libglib2.0-0",
    "libgthread-2.0.so.0": "libglib2.0-0", "libgssapi_krb5.so.2": "libgssapi-krb5-2",
    "libbrotlidec.so.1": "libbrotli1", "libbrotlicommon.so.1": "libbrotli1", "libzstd.so.1": "libzstd1",
    "libz.so.1": "zlib1g", "libstdc++.so.6": "libstdc++6", "libgcc_s.so.1": "libgcc-s1",
    "libwayland-client.so.0": "libwayland-client0", "libwayland-cursor.so.0": "libwayland-cursor0",
    "libwayland-egl.so.1": "libwayland-egl1", "libgtk-3.so.0": "libgtk-3-0", "libgdk-3.so.0": "libgtk-3-0",
}
GLIBC_SONAMES = {"libc.so.6", "libm.so.6", "libdl.so.2", "libpthread.so.0", "librt.so.1", "libresolv.so.2",
                 "libutil.so.1", "ld-linux-x86-64.so.2", "ld-linux-aarch64.so.1", "ld-linux-armhf.so.3"}
OPTIONAL = re.compile(r"wayland|WlShell", re.IGNORECASE)  # plugins (and their libraries) Qt can do without
IGNORED = re.compile(r"platformthemes/libqgtk3")

SHT_DYNAMIC, DT_NEEDED, DT_STRTAB = 6, 1, 5


def needed(path: Path) -> list[str] | None:
    """DT_NEEDED entries of an ELF file (None if it is not ELF)."""
    data = path.read_bytes()
    if data[:4] != b"\x7fELF":
        return None
    is64, endian = data[4] == 2, "<" if data[5] == 1 else ">"
    if is64:
        shoff, = struct.unpack_from(endian + "Q", data, 0x28)
        shentsize, shnum = struct.unpack_from(endian + "HH", data, 0x3A)
    else:
        shoff, = struct.unpack_from(endian + "I", data, 0x20)
        shentsize, shnum = struct.unpack_from(endian + "HH", data, 0x2E)
    sections = []
    for i in range(shnum):
        base = shoff + i * shentsize
        if is64:
            _name, sh_type, _flags, _addr, offset, size, link = struct.unpack_from(endian + "IIQQQQI", data, base)
        else:
            _name, sh_type, _flags, _addr, offset, size, link = struct.unpack_from(endian + "IIIIIII", data, base)
        sections.append((sh_type, offset, size, link))
    names: list[str] = []
    for sh_type, offset, size, link in sections:
        if sh_type != SHT_DYNAMIC:
            continue
        str_offset = sections[link][1]
        entry, fmt = (16, endian + "qQ") if is64 else (8, endian + "iI")
        for pos in range(offset, offset + size, entry):
            tag, value = struct.unpack_from(fmt, data, pos)
            if tag == 0:
                break
            if tag == DT_NEEDED:
                end = data.index(b"\0", str_offset + value)
                names.append(data[str_offset + value:end].decode())
    return names


def glibc_versions(path: Path) -> set[tuple[int, ...]]:
    return {tuple(int(p) for p in m.group(1).split(b"."))
            for m in re.finditer(rb"GLIBC_(2\.[0-9]+(?:\.[0-9]+)?)\0", path.read_bytes())}


def system_paths() -> dict[str, str]:
    """soname -> path, from the dynamic linker's cache (this machine's architecture first)."""
    out = subprocess.run(["ldconfig", "-p"], capture_output=True, text=True, check=False).stdout
    found: dict[str, str] = {}
    for line in out.splitlines()[1:]:
        match = re.match(r"\s*(\S+) \(([^)]*)\) => (\S+)", line)
        if match and match.group(1) not in found and ("x86-64" in match.group(2) or "64" in match.group(2)
                                                      or sys.maxsize < 2**32):
            found[match.group(1)] = match.group(3)
    return found


def package_of(path: str) -> str | None:
    for candidate in (path, str(Path(path).resolve())):
        out = subprocess.run(["dpkg", "-S", candidate], capture_output=True, text=True, check=False)
        if out.returncode == 0 and out.stdout:
            return out.stdout.split(":", 1)[0].split(",")[0].strip()
    return None


def main(argv: list[str]) -> int:
    bundle = Path(argv[1])
    files = [p for p in bundle.rglob("*") if p.is_file() and not p.is_symlink()]
    inside = {p.name for p in bundle.rglob("*")}
    required: set[str] = set()
    optional: set[str] = set()
    glibc: set[tuple[int, ...]] = set()
    for path in files:
        try:
            libs = needed(path)
        except (OSError, struct.error, ValueError, IndexError):
            continue
        if libs is None or IGNORED.search(path.as_posix()):
            continue
        glibc |= glibc_versions(path)
        missing = {lib for lib in libs if lib not in inside and lib not in GLIBC_SONAMES}
        (optional if OPTIONAL.search(str(path.relative_to(bundle))) else required).update(missing)
    optional -= required
    paths = system_paths()

    def packages(sonames: set[str]) -> list[str]:
        result = set()
        for soname in sorted(sonames):
            package = package_of(paths[soname]) if soname in paths else None
            package = package or FALLBACK_PACKAGES.get(soname)
            if package is None:
                print(f"warning: no package known for {soname}", file=sys.stderr)
                continue
            result.add(package)
        return sorted(result)

    newest = ".".join(str(p) for p in max(glibc)) if glibc else "2.34"
    depends = [f"libc6 (>= {newest})"] + [p for p in packages(required) if p != "libc6"]
    recommends = [p for p in packages(optional) if p not in depends]
    print("Depends: " + ", ".join(depends))
    print("Recommends: " + ", ".join(recommends))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))

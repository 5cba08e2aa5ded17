#!/usr/bin/env bash
# Packs a frozen Linux bundle into a .deb (called by packaging/build.sh linux). DA_DEB_MAINTAINER overrides the
# Maintainer field.
#
#   packaging/linux/build_deb.sh BUNDLE_DIR ICON_DIR VERSION ARCH OUT_DIR
#
# Layout: the bundle in /opt/desktop-assistant/, /usr/bin/desktop-assistant -> the bundle's executable,
# /usr/share/applications/desktop-assistant.desktop, icons in /usr/share/icons/hicolor/{N}x{N}/apps/ and
# scalable/apps/, /usr/share/doc/desktop-assistant/copyright. Dependencies come from the bundle's ELF files
# (deb_depends.py). No maintainer scripts: dpkg's triggers (hicolor-icon-theme, desktop-file-utils) refresh the
# icon cache and the menu.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
bundle="$1" icons="$2" version="$3" arch="$4" out="$5"
package=desktop-assistant
stage="$root/build/deb/${package}_${version}_${arch}"
rm -rf "$stage"
mkdir -p "$stage/DEBIAN" "$stage/opt" "$stage/usr/bin" "$stage/usr/share/applications" \
  "$stage/usr/share/doc/$package"

cp -a "$bundle" "$stage/opt/$package"
ln -s "/opt/$package/$package" "$stage/usr/bin/$package"
install -m 644 "$here/desktop-assistant.desktop" "$stage/usr/share/applications/$package.desktop"
mkdir -p "$stage/usr/share/icons"
cp -r "$icons/hicolor" "$stage/usr/share/icons/"
cat > "$stage/usr/share/doc/$package/copyright" <<COPYRIGHT
Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/
Upstream-Name: Desktop Assistant
Comment: The bundle in /opt/$package carries Python, Qt (PySide6, LGPLv3) and the Python packages the app
 uses, each under its own licence (see their *.dist-info folders in /opt/$package/_internal).

Files: *
Copyright: $(date -u +%Y) Desktop Assistant contributors
License: MIT
COPYRIGHT
# a native package's changelog: one entry for this build
cat > "$stage/usr/share/doc/$package/changelog" <<CHANGELOG
$package ($version) unstable; urgency=medium

  * Release $version: the PyInstaller bundle of desktop-assistant $version.

 -- ${DA_DEB_MAINTAINER:-Desktop Assistant contributors <desktop-assistant@localhost>}  $(date -u -R)
CHANGELOG
gzip -9n "$stage/usr/share/doc/$package/changelog"
# dpkg-deb wants sane modes: no group/world write, directories 755, shared libraries not executable
find "$stage" -type d -exec chmod 755 {} +
chmod -R u+rw,go-w,go+r "$stage"
find "$stage/opt" -type f -name '*.so*' -exec chmod 644 {} +

deps="$(python3 "$here/deb_depends.py" "$stage/opt/$package")"
# ca-certificates: HTTPS to the API is verified against the system's trust store (the bundled Mozilla bundle is
# only a fallback for systems without one)
depends="$(sed -n 's/^Depends: //p' <<<"$deps"), ca-certificates"
recommends="$(sed -n 's/^Recommends: //p' <<<"$deps")"
installed_size="$(du -sk --exclude=DEBIAN "$stage" | cut -f1)"
{
  echo "Package: $package"
  echo "Version: $version"
  echo "Architecture: $arch"
  echo "Maintainer: ${DA_DEB_MAINTAINER:-Desktop Assistant contributors <desktop-assistant@localhost>}"
  echo "Installed-Size: $installed_size"
  echo "Depends: $depends"
  [ -n "$recommends" ] && echo "Recommends: $recommends"
  echo "Suggests: gnome-keyring"
  echo "Section: utils"
  echo "Priority: optional"
  echo "Description: desktop window onto the OpenAI API, with your own key"
  echo " Desktop Assistant chats with OpenAI models, or any OpenAI-compatible server"
  echo " (Ollama, LM Studio), with streamed replies, safe Markdown rendering, and token"
  echo " and cost counts in view. The API key stays in the system keyring."
  echo " ."
  echo " This package carries its own Python and Qt in /opt/$package."
} > "$stage/DEBIAN/control"

deb="$out/${package}_${version}_${arch}.deb"
# zstd: fast to build and unpack; every dpkg on a supported system reads it (Debian 12+, Ubuntu 22.04+: the
# glibc 2.34 floor of the Qt wheels already excludes older ones)
dpkg-deb --build --root-owner-group -Zzstd -z9 "$stage" "$deb" >/dev/null
echo "deb: $deb ($(du -h "$deb" | cut -f1))"

#!/bin/sh
# Adds Desktop Assistant (this unpacked folder) to your applications menu, for you only; --remove takes it out.
# Shipped in the .tar.gz (the .deb installs its own menu entry).
set -eu
here="$(cd "$(dirname "$0")" && pwd)"
entry="${XDG_DATA_HOME:-$HOME/.local/share}/applications/desktop-assistant.desktop"
if [ "${1:-}" = "--remove" ]; then
  rm -f "$entry"
  echo "Removed the menu entry ($entry)."
  exit 0
fi
mkdir -p "$(dirname "$entry")"
sed -e "s|^Exec=.*|Exec=\"$here/desktop-assistant\"|" \
    -e "s|^Icon=.*|Icon=$here/_internal/desktop_assistant/resources/icons/app.svg|" \
    "$here/desktop-assistant.desktop" > "$entry"
echo "Added Desktop Assistant to your applications menu ($entry)."

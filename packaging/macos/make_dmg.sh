#!/usr/bin/env bash
# Signs, packs and notarizes the macOS app (called by packaging/build.sh macos; see SIGNING.md).
#
#   packaging/macos/make_dmg.sh "dist/Desktop Assistant.app" VERSION OUT_DIR
#
# Environment (all optional; without them the app keeps PyInstaller's ad-hoc signature, which runs on the
# machine that built it and, after a right-click > Open, on others):
#   DA_CODESIGN_IDENTITY   "Developer ID Application: Name (TEAMID)" in the keychain. packaging/build.sh passes it
#                          to PyInstaller too, which then signs every binary with the hardened runtime and
#                          packaging/macos/entitlements.plist; here the whole .app and the .dmg are (re)signed.
#   DA_NOTARY_PROFILE      a notarytool keychain profile (xcrun notarytool store-credentials), or else
#   DA_NOTARY_APPLE_ID, DA_NOTARY_TEAM_ID, DA_NOTARY_PASSWORD (an app-specific password).
#                          With either, the .app and then the .dmg are notarized and stapled.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
app="$1" version="$2" out="$3"
name="Desktop Assistant"
arch="$(uname -m)"
dmg="$out/Desktop-Assistant-$version-macos-$arch.dmg"
identity="${DA_CODESIGN_IDENTITY:-}"
entitlements="$here/entitlements.plist"

notary_args=()
if [ -n "${DA_NOTARY_PROFILE:-}" ]; then
  notary_args=(--keychain-profile "$DA_NOTARY_PROFILE")
elif [ -n "${DA_NOTARY_APPLE_ID:-}" ]; then
  notary_args=(--apple-id "$DA_NOTARY_APPLE_ID" --team-id "$DA_NOTARY_TEAM_ID" --password "$DA_NOTARY_PASSWORD")
fi

notarize() {  # submit, wait, show the log on failure, staple
  local file="$1" submit="$1"
  if [ -d "$file" ]; then  # an .app is submitted as a zip
    submit="$(mktemp -d)/$(basename "$file" .app).zip"
    ditto -c -k --keepParent "$file" "$submit"
  fi
  local result
  result="$(xcrun notarytool submit "$submit" "${notary_args[@]}" --wait --output-format json)"
  echo "$result"
  if ! grep -q '"status" *: *"Accepted"' <<<"$result"; then
    local id
    id="$(sed -n 's/.*"id" *: *"\([^"]*\)".*/\1/p' <<<"$result" | head -1)"
    if [ -n "$id" ]; then xcrun notarytool log "$id" "${notary_args[@]}" || true; fi
    echo "notarization of $file failed" >&2
    exit 1
  fi
  xcrun stapler staple "$file"
  xcrun stapler validate "$file"
}

if [ -n "$identity" ]; then
  echo "== signing $app as $identity (hardened runtime)"
  # PyInstaller signed each binary already; sign the bundle itself last (no --deep: nested code is signed)
  codesign --force --timestamp --options runtime --entitlements "$entitlements" --sign "$identity" "$app"
  codesign --verify --strict --verbose=2 "$app"
  if [ "${#notary_args[@]}" -gt 0 ]; then
    echo "== notarizing the app"
    notarize "$app"
  fi
else
  echo "== DA_CODESIGN_IDENTITY not set: the app keeps its ad-hoc signature, and is not notarized"
  codesign --verify --verbose=1 "$app" || true
fi

echo "== building $dmg"
stage="$(mktemp -d)"
ditto "$app" "$stage/$name.app"
ln -s /Applications "$stage/Applications"
rm -f "$dmg"
hdiutil create -volname "$name $version" -srcfolder "$stage" -fs HFS+ -format UDZO -imagekey zlib-level=9 \
  -ov "$dmg" >/dev/null
rm -rf "$stage"
if [ -n "$identity" ]; then
  codesign --force --timestamp --sign "$identity" "$dmg"
  if [ "${#notary_args[@]}" -gt 0 ]; then
    echo "== notarizing the dmg"
    notarize "$dmg"
    spctl --assess --type open --context context:primary-signature --verbose=2 "$dmg"
  fi
fi
echo "dmg: $dmg ($(du -h "$dmg" | cut -f1))"

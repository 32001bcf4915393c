#!/usr/bin/env bash
# Makes the app's PNG icons from the one source image, public/favicon.svg:
# 192 and 512 px as drawn, and a maskable 512 px one (the glyph inside the
# central safe zone on a full-bleed background, for phones that cut icons
# into their own shape). Run after changing the SVG; the PNGs are committed.
# Needs Chromium (scripts/setup.sh --test installs it).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
out="$root/public/icons"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
mkdir -p "$out"
svg="$(cat "$root/public/favicon.svg")"
# The maskable icon: the background fills the square (no rounded corners);
# the glyph, as drawn, keeps well inside the safe zone (a circle of 80 %).
glyph="$(sed -E 's/.*(<path[^>]*\/>).*/\1/' "$root/public/favicon.svg")"
maskable="<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 32 32\"><rect width=\"32\" height=\"32\" fill=\"#4f46e5\"/>$glyph</svg>"

shoot() { # name size svg
    printf '<html><body style="margin:0">%s</body></html>' \
        "$(sed -E "s/<svg /<svg width=\"$2\" height=\"$2\" /" <<<"$3")" >"$work/$1.html"
    chromium --headless --disable-gpu --no-sandbox --hide-scrollbars --default-background-color=00000000 \
        --window-size="$2,$2" --screenshot="$out/$1.png" "file://$work/$1.html" 2>/dev/null
}
shoot icon-192 192 "$svg"
shoot icon-512 512 "$svg"
shoot maskable-512 512 "$maskable"
ls -l "$out"

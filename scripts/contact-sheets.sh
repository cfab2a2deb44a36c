#!/usr/bin/env bash
# Pictures for reviewers (issue 17): every screen of the accessibility walk (welcome to result,
# e2e/src/a11y.rs) and of the other screens (error page, camera primer and recovery, handoff
# panel, liveness, idle warning), in each of the 26 languages, on a phone (Chromium's device
# emulation, 390x844 CSS px at 1x, the fake camera), composed into one contact sheet per language
# so that a native speaker reviews a language in one look:
#
#   scripts/contact-sheets.sh [LANG...]      (default: all 26)
#
#   target/contact-sheets/<lang>.png         the sheet: the screens in the walk's order, labelled
#   target/contact-sheets/shots/<lang>/      the screenshots, NN-<screen>.png (the labels; a page
#                                            taller than the phone also as NN-<screen>-scrolled.png)
#
# Not part of scripts/test.sh. Installs what it needs from Debian when missing (Chromium and its
# driver, the Noto fonts for all 26 scripts, ImageMagick's montage), builds the server (with
# `fault-injection`, as scripts/test-e2e.sh does) and dist/ if it is missing, then runs
# e2e/tests/contact_sheets.rs in Chromium. About 15 minutes for the 26 languages. With LANG
# arguments only those are shot again (the other languages' shots are kept and their sheets made
# again). The strings are dist/'s as it is: after changing locales/, run scripts/build-spa.sh.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="${CARGO_HOME:-$HOME/.cargo}/bin:$PATH"
log() { printf '\033[1m[sheets]\033[0m %s\n' "$*" >&2; }
SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"

# fonts-noto-core: Latin, Cyrillic, Arabic (Persian, Urdu; Nastaliq too), Devanagari (hi, ne),
# Bengali, Sinhala, Thai, Khmer, Myanmar; fonts-noto-cjk: Korean, Japanese, Chinese;
# fonts-dejavu-core: the sheets' labels.
apt_pkgs=()
for p in chromium chromium-driver fonts-noto-core fonts-noto-cjk fonts-dejavu-core imagemagick; do
  [ "$(dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null)" = installed ] || apt_pkgs+=("$p")
done
if [ ${#apt_pkgs[@]} -gt 0 ]; then
  log "apt: installing ${apt_pkgs[*]}"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${apt_pkgs[@]}" >/dev/null
  fc-cache >/dev/null 2>&1 || true
fi

export LIVEFORM_BIN="${LIVEFORM_BIN:-$PWD/target/debug/liveform}"
export LIVEFORM_DIST="${LIVEFORM_DIST:-$PWD/dist}"
cargo build -q -p liveform-server --features fault-injection --locked
[ -f "$LIVEFORM_DIST/index.html" ] || scripts/build-spa.sh
cargo build -q -p liveform-e2e --tests --locked

out="$PWD/${CARGO_TARGET_DIR:-target}/contact-sheets"
shots="$out/shots"
if [ $# -eq 0 ]; then
  rm -rf "$out"
fi
mkdir -p "$shots"
t0=$(date +%s)
status=0
CONTACT_SHEET_DIR="$shots" CONTACT_SHEET_LANGS="$*" E2E_BROWSER=chromium \
  cargo test -q -p liveform-e2e --locked --test contact_sheets || status=$?

# One sheet per language, whatever was shot (a failed language still gets what it reached).
font=$(fc-match -f '%{file}' 'DejaVu Sans')
rev=$(git rev-parse --short HEAD 2>/dev/null || echo '?')
made=0
for dir in "$shots"/*/; do
  [ -d "$dir" ] || continue
  lang=$(basename "$dir")
  args=()
  for f in "$dir"*.png; do
    [ -f "$f" ] || continue
    name=$(basename "$f" .png)
    args+=(-label "$name" "$f")
  done
  [ ${#args[@]} -gt 0 ] || continue
  # At most 8 columns (about 24 screens: 3 rows), each screenshot at its size.
  n=$(( ${#args[@]} / 3 ))
  cols=$(( n < 8 ? n : 8 ))
  /usr/bin/montage -font "$font" -pointsize 15 -background '#d1d5db' -fill '#111827' \
    "${args[@]}" -tile "${cols}x" -geometry +10+10 -depth 8 \
    -title "Liveform, $lang: every screen at 390x844 CSS px ($rev, $(date -u +%F))" \
    "$out/$lang.png"
  made=$((made + 1))
done
log "$made sheet(s) in $out/ (screenshots in $shots/) in $(( $(date +%s) - t0 ))s"
exit "$status"

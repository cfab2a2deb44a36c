#!/usr/bin/env bash
# Builds Chromium fake-camera feeds (MJPEG) from the stills in core/tests/media/ (see its NOTICE.md).
# Usage: scripts/make-feeds.sh [OUTDIR]   (default target/feeds; idempotent: up-to-date feeds are kept)
#
# Use a feed with Chromium's
#   --use-fake-device-for-media-stream --use-fake-ui-for-media-stream
#   --use-file-for-fake-video-capture=/abs/path/FEED.mjpeg
# (e2e: `liveform_e2e::Group { chromium_feed: Some(liveform_e2e::feed("card-sharp.mjpeg")), .. }`).
# Chromium loops the file and plays MJPEG at 30 fps whatever the encoding rate, so the feeds are
# encoded at 30 fps to keep their timing. They must be 4:2:0: ffmpeg's default for PNG input is
# 4:4:4, which Chromium shows as flat green without any error. And limited range (see TO_YUV).
#
# Feeds (640x480):
#   card-sharp       the ID card on gravel (card_640x480.png)                  -> passes the gate
#   card-front-back  front 3 s, gravel 1 s (card turned over), back 4 s; loops (8 s)
#   card-back        the back only (card_back_640x480.png)                     -> passes the gate
#   card-blur        card_640x480_blur.png                                      -> blur
#   card-glare       card_640x480_glare.png                                     -> glare
#   card-dark        card_640x480_dark.png                                      -> dark
#   card-small       card_desk_small_640x480.png                                -> too_small
#   no-document      gravel_640x480.png                                         -> no_document
#   passport         passport_scene_640x480.png (TD3)                           -> passes the gate
#   selfie           the portrait (face/tests/media/selfie_640x480.png) framed so the face sits
#                    in the oval at 38 % of the height                          -> selfie auto-capture
#   selfie-zoom      the same portrait framed smaller (face 31 %), looping 7 s: 3 s still, 1 s zoom
#                    in to 1.4x, 2 s still, 1 s zoom out: "move closer", then "move back"
set -euo pipefail
cd "$(dirname "$0")/.."
media=core/tests/media
out=${1:-target/feeds}
mkdir -p "$out"
command -v ffmpeg >/dev/null || { echo "ffmpeg missing: run scripts/ensure-tools.sh --browsers (or apt-get install ffmpeg)" >&2; exit 1; }

fresh=0
FPS=30
# Chromium's fake capture decodes the MJPEG's samples as limited range (BT.601, Y 16..235), not as
# JPEG's full range: a full-range (yuvj420p) feed shows up with stretched contrast (mid-grey 128
# -> 130, a dark card's mean 37 -> 24, whites clipped; pure primaries look right, which hides it).
# So the stills are converted to limited-range 4:2:0 (yuv420p, which the mjpeg encoder only
# writes with -strict unofficial); the frames then match the PNGs (luma MAD < 1.5 on 160x120).
TO_YUV="scale=out_range=limited:out_color_matrix=bt601:flags=accurate_rnd+full_chroma_int,format=yuv420p"
# Quality 3 (of 2..31): ~90 KB per frame (640x480), the print stays crisp.
Q=3

# up_to_date OUT INPUT...: OUT exists and is newer than every input and this script.
up_to_date() {
  local o=$1; shift
  [ -s "$o" ] || return 1
  for i in "$@" "$0"; do
    [ "$o" -nt "$i" ] || return 1
  done
}

# encode OUT GRAPH INPUT_ARGS...: GRAPH is a filtergraph over the inputs ending in one stream.
encode() {
  local o=$1 graph=$2; shift 2
  local tmp="$o.tmp.$$"
  ffmpeg -nostdin -hide_banner -loglevel error -y "$@" \
    -filter_complex "$graph,$TO_YUV" \
    -r $FPS -c:v mjpeg -q:v $Q -strict unofficial -f mjpeg "$tmp"
  mv -f "$tmp" "$o"
}

# still NAME IMAGE [SECONDS]: the image repeated (1 s is enough: the file loops).
still() {
  local name=$1 img=$media/$2 secs=${3:-1}
  local o=$out/$name.mjpeg
  if up_to_date "$o" "$img"; then fresh=$((fresh + 1)); return; fi
  encode "$o" "[0]null" -loop 1 -framerate $FPS -t "$secs" -i "$img"
  echo "feeds: $o ($(stat -c %s "$o") bytes)"
}

still card-sharp card_640x480.png
still card-back card_back_640x480.png
still card-blur card_640x480_blur.png
still card-glare card_640x480_glare.png
still card-dark card_640x480_dark.png
still card-small card_desk_small_640x480.png
still no-document gravel_640x480.png
still passport passport_scene_640x480.png

o=$out/card-front-back.mjpeg
front=$media/card_640x480.png gap=$media/gravel_640x480.png back=$media/card_back_640x480.png
if up_to_date "$o" "$front" "$gap" "$back"; then
  fresh=$((fresh + 1))
else
  encode "$o" "[0][1][2]concat=n=3:v=1:a=0" \
    -loop 1 -framerate $FPS -t 3 -i "$front" \
    -loop 1 -framerate $FPS -t 1 -i "$gap" \
    -loop 1 -framerate $FPS -t 4 -i "$back"
  echo "feeds: $o ($(stat -c %s "$o") bytes)"
fi
# The portrait: BlazeFace's box is x 223-343, y 49-169 (face/tests/detect.rs). The top is padded
# with the backdrop's colour so the face can sit a little above the middle, as in the oval.
portrait=face/tests/media/selfie_640x480.png
o=$out/selfie.mjpeg
if up_to_date "$o" "$portrait"; then
  fresh=$((fresh + 1))
else
  # Face 120 px -> 38 % of a 316 px crop, its centre (283, 109) at (50 %, 45 %).
  encode "$o" "[0]pad=640:560:0:80:color=0xC8C3BE,crop=421:316:72:47,scale=640:480" \
    -loop 1 -framerate $FPS -t 1 -i "$portrait"
  echo "feeds: $o ($(stat -c %s "$o") bytes)"
fi
o=$out/selfie-zoom.mjpeg
if up_to_date "$o" "$portrait"; then
  fresh=$((fresh + 1))
else
  # Face 120 px -> 31 % of a 387 px crop; zoom on the frame's centre, frame n of 210 (7 s).
  z="if(lt(mod(on,210),90),1,if(lt(mod(on,210),120),1+0.4*(mod(on,210)-90)/30,if(lt(mod(on,210),180),1.4,1.4-0.4*(mod(on,210)-180)/30)))"
  encode "$o" "[0]pad=640:560:0:80:color=0xC8C3BE,crop=516:387:25:15,scale=1280:960,zoompan=z='$z':d=1:x='iw/2-(iw/zoom/2)':y='ih/2-(ih/zoom/2)':s=640x480:fps=$FPS" \
    -loop 1 -framerate $FPS -t 7 -i "$portrait"
  echo "feeds: $o ($(stat -c %s "$o") bytes)"
fi
[ "$fresh" -eq 0 ] || echo "feeds: $fresh up to date in $out"

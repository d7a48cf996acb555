#!/usr/bin/env bash
# Regenerates samples/hello.ogg: synthetic speech (espeak-ng), no real person's voice, encoded as Discord
# encodes voice messages (Ogg Opus, 48 kHz, mono, 32 kbit/s). Needs: apt-get install espeak-ng opus-tools
set -euo pipefail
cd "$(dirname "$0")"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
espeak-ng -v en-us -s 150 -w "$tmp/a.wav" "Hello! I finally got the results back, and I can hardly believe it. We did it."
espeak-ng -v en-us -s 120 -p 30 -w "$tmp/b.wav" "But then the train was cancelled again, and I waited in the cold for two hours."
sox -n -r 22050 -c 1 "$tmp/gap.wav" trim 0.0 1.5
sox "$tmp/a.wav" "$tmp/gap.wav" "$tmp/b.wav" "$tmp/all.wav"
opusenc --quiet --bitrate 32 --comment "TITLE=Annamalai sample (espeak-ng)" "$tmp/all.wav" hello.ogg

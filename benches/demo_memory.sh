#!/bin/sh
# A class runs `packetpath demo` for an hour, a line a second: does its memory stay flat? This
# runs the real demo in a real terminal (tmux) and types LINES lines as alice, one every INTERVAL
# seconds (an hour's lines in a few minutes: what the demo holds grows with the lines and frames,
# not with the clock), sampling the demo's resident memory (VmRSS, /proc) every STEP lines. It
# prints the samples, the growth per line after the first STEP lines (a least-squares slope), and
# what an hour at a line a second adds at that slope.
#
#   benches/demo_memory.sh [LINES] [INTERVAL] [STEP]
#
# Defaults: 3600 lines, 0.02 s apart, sampled every 300. Needs tmux and packetpath's lab (as for
# `packetpath demo`). Environment: PACKETPATH (binary, default target/release/packetpath),
# DEMO_ARGS (more demo options, e.g. "--plain" or "--link wire").
set -eu
LINES=${1:-3600}
INTERVAL=${2:-0.02}
STEP=${3:-300}
BIN=$(realpath "${PACKETPATH:-target/release/packetpath}")
command -v tmux >/dev/null || { echo "needs tmux (apt-get install -y tmux)" >&2; exit 2; }
[ -x "$BIN" ] || { echo "no $BIN: cargo build --release first" >&2; exit 2; }
SOCKET=packetpath-demo-memory-$$
WORK=$(mktemp -d)
trap 'tmux -L "$SOCKET" kill-server 2>/dev/null || true; rm -rf "$WORK"' EXIT
tmux -L "$SOCKET" new-session -d -s demo -x 120 -y 40 \
    "cd '$WORK' && NO_COLOR=1 '$BIN' demo --certs certs ${DEMO_ARGS:-}; sleep 600"

screen() { tmux -L "$SOCKET" capture-pane -p -t demo; }
wait_for() {
    i=0
    until screen | grep -qF -- "$1"; do
        i=$((i + 1))
        if [ $i -gt 600 ]; then
            echo "timed out waiting for \"$1\"; the screen was:" >&2
            screen >&2
            exit 1
        fi
        sleep 0.1
    done
}
wait_for "alice> "
PID=$(pgrep -n -f "$BIN demo")
rss() { awk '/^VmRSS/ {print $2}' "/proc/$PID/status"; }
echo "demo (pid $PID, ${DEMO_ARGS:-TLS 1.3 on the lab loopback}): $LINES lines, one every $INTERVAL s"
echo "lines  VmRSS (kB)"
SAMPLES="$WORK/samples"
echo "0 $(rss)" | tee "$SAMPLES"
n=0
started=$(date +%s.%N)
while [ $n -lt "$LINES" ]; do
    n=$((n + 1))
    tmux -L "$SOCKET" send-keys -t demo -l "line $n of the hour, typed as alice"
    tmux -L "$SOCKET" send-keys -t demo Enter
    sleep "$INTERVAL"
    if [ $((n % STEP)) -eq 0 ] || [ $n -eq "$LINES" ]; then
        # Sample once bob has the line: everything it caused has been captured and shown.
        wait_for "line $n of the hour"
        echo "$n $(rss)" | tee -a "$SAMPLES"
    fi
done
took=$(echo "$(date +%s.%N) - $started" | bc)
HWM=$(awk '/^VmHWM/ {print $2}' "/proc/$PID/status")
tmux -L "$SOCKET" send-keys -t demo Escape
tmux -L "$SOCKET" send-keys -t demo q
awk -v step="$STEP" -v hwm="$HWM" -v took="$took" '
    $1 >= step { n++; sx += $1; sy += $2; sxx += $1 * $1; sxy += $1 * $2 }
    NR == 1 { base = $2 }
    END {
        slope = (n * sxy - sx * sy) / (n * sxx - sx * sx)
        printf "typed in %.0f s; peak VmHWM %.1f MB, %.1f MB at the start\n", took, hwm / 1024, base / 1024
        printf "growth after the first %d lines: %.2f kB per line; an hour at a line a second (3600 lines): %.1f MB\n", step, slope, slope * 3600 / 1024
    }' "$SAMPLES"

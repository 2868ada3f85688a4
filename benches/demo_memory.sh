#!/bin/sh
# A class runs `packetpath demo` for an hour, a line a second: does its memory stay flat? This
# runs the real demo in a real terminal (tmux) and types LINES lines as alice, one every INTERVAL
# seconds (an hour's lines in a few minutes: what the demo holds grows with the lines and frames,
# not with the clock), sampling the demo's resident memory (VmRSS, /proc) every STEP lines. It
# prints the samples, the growth per line from line FROM on (a least-squares slope), and what an
# hour at a line a second adds at that slope.
#
#   benches/demo_memory.sh [LINES] [INTERVAL] [STEP] [FROM]
#
# Defaults: 3600 lines, 0.02 s apart, sampled every 300, the slope from line STEP on. Needs tmux
# and packetpath's lab (as for `packetpath demo`). Environment: PACKETPATH (binary, default
# target/release/packetpath), DEMO_ARGS (more demo options, e.g. "--plain" or "--link wire").
#
# The demo forgets what is older than --keep minutes (default 15, a quarter of the hour's 3600
# lines at a line a second). Lines come about 30 times faster here, so the same share of the
# run is --keep 0.5: DEMO_ARGS="--keep 0.5" benches/demo_memory.sh 3600 0.02 300 1200 measures
# the slope once the window is full (DEMO_ARGS=--keep-all: the demo that keeps everything).
set -eu
LINES=${1:-3600}
INTERVAL=${2:-0.02}
STEP=${3:-300}
FROM=${4:-$STEP}
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
    if [ $((n % 10)) -eq 0 ]; then
        # Keep within 10 lines of the demo: typed further ahead (50 lines, or a few hundred),
        # keys queued for the terminal were lost now and then on this machine, with or without
        # --keep, and the run stopped waiting for a line never sent.
        wait_for "line $n of the hour"
    fi
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
# Let it finish (a --record file is completed on the way out).
i=0
while kill -0 "$PID" 2>/dev/null && [ $i -lt 600 ]; do
    i=$((i + 1))
    sleep 0.1
done
awk -v from="$FROM" -v hwm="$HWM" -v took="$took" '
    $1 >= from { n++; sx += $1; sy += $2; sxx += $1 * $1; sxy += $1 * $2 }
    NR == 1 { base = $2 }
    END {
        slope = (n * sxy - sx * sy) / (n * sxx - sx * sx)
        printf "typed in %.0f s; peak VmHWM %.1f MB, %.1f MB at the start\n", took, hwm / 1024, base / 1024
        printf "growth from line %d on: %.2f kB per line; an hour at a line a second (3600 lines): %.1f MB\n", from, slope, slope * 3600 / 1024
    }' "$SAMPLES"

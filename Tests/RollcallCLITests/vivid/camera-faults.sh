#!/bin/sh
# camera-faults.sh: guest script for ../shared/vivid/run.sh (read its README.md).
#
#   VP_RUN_OUT=<prepared dir> ../shared/vivid/run.sh Tests/RollcallCLITests/vivid/camera-faults.sh
#
# It runs INSIDE the QEMU guest, chrooted into this machine's root filesystem,
# with the working directory = $VP_RUN_OUT on the host. It loads the real
# `vivid` V4L2 driver, loops its HDMI output (/dev/video1) into its HDMI
# capture input (/dev/video0) at 640x480 YUYV, starts the capture program
# under test in the background, injects a known frame, and then takes the
# camera away twice:
#
#   1. simulated disconnect (vivid's `disconnect` control). The node stays;
#      on an fd that is open, poll() returns POLLPRI|POLLERR|POLLHUP and every
#      ioctl fails with ENODEV (a DQBUF may first still return a finished
#      buffer; then QBUF fails); open() of the node fails with ENODEV. When
#      the LAST fd of the vivid instance (capture and output nodes together)
#      is closed, vivid re-registers the nodes by itself: open() works again
#      with the loopback configuration intact. So the program must close its
#      fd and reopen; nothing else is needed (the output side is idle then).
#   2. real unplug: unbind the vivid platform device. An open fd gets
#      POLLPRI|POLLERR|POLLHUP and ENODEV (a DQBUF already blocked gets
#      EINVAL); the nodes disappear (open(): ENOENT). After UNPLUG_SECONDS the
#      device is bound again: the write to .../bind takes ~0.1 s and the nodes
#      exist when it returns. They come back as /dev/video0 and /dev/video1
#      only if every fd of the old device was closed by then; with an old fd
#      still open the numbers move (seen: capture = /dev/video1, output =
#      /dev/video2; event node_moved). The instance is new, so input, DV
#      timings, formats and loop_video are at their defaults: input 0
#      (webcam test pattern, 640x360 YUYV, 5 fps until the program sets
#      format and frame interval; 640x480 is one of its sizes).
#      With REBIND_SETUP=1 (default) this script re-applies the loopback, with
#      the program frozen meanwhile (step 5 explains why); the loopback is
#      then byte exact again.
#
# Inputs, in the working directory (prepared by the host):
#   inject.yuyv   one raw 640x480 YUYV 4:2:2 frame (614400 bytes). Streamed on
#                 the output node it arrives byte for byte on the capture node.
#   capture.env   shell fragment sourced by this script; must set CAPTURE_CMD.
#                 run.sh starts the guest with an EMPTY environment (env -i), so
#                 a CAPTURE_CMD exported on the host does NOT arrive here:
#                   CAPTURE_CMD='/ABSOLUTE/PATH/TO/rollcall camera stats --device /dev/video0 --seconds 25 --json --events'
#                 The command runs as `sh -c "exec $CAPTURE_CMD"` in its own
#                 process group. Its binary must be reachable by the same
#                 absolute path in the guest; /tmp, /run and /dev/shm are empty
#                 tmpfs mounts there (except the working directory itself), and
#                 /dev has no /dev/stdout or /dev/fd (use /proc/self/fd/N).
#                 The tunables below can be set there too.
#
# Outputs, in the working directory:
#   events.log    one line per event: "<event> <CLOCK_REALTIME s.ns>" (date +%s.%N).
#                 That is the GUEST clock, the one the program under test sees;
#                 it starts from the RTC, within ~1 s of the host clock, so
#                 compare guest times with guest times. Start events are
#                 stamped just before the action, stop events just after it;
#                 under emulation every fork costs 0.1-0.5 s, so a stamp can be
#                 that far from the action. Events, in order:
#                   setup_done          loopback configured, program not started yet
#                   capture_start       program started
#                   ready               (READY_PATTERN set) the program reported streaming;
#                                       the timeline below counts from here
#                   inject_start        output starts streaming inject.yuyv
#                   inject_stop         output stopped (fd closed; the capture
#                                       then shows vivid's no-signal noise)
#                   disconnect          the disconnect control is about to be set
#                   disconnect_cleared  open() of the capture node works again,
#                                       i.e. the program has closed its fd
#                                       (probed every ~0.3 s; missing if that
#                                       does not happen within DISCONNECT_SECONDS;
#                                       at once if the program had no fd open)
#                   unbind              about to unbind (unplug) vivid.0
#                   bind                about to bind (replug) vivid.0
#                   node_back           both nodes exist again
#                   node_moved          only if the capture node came back under
#                                       another /dev/videoN than at the start
#                   rebind_setup_done   loopback configured again, program resumed
#                   rebind_setup_failed (instead of done; the script then exits 3)
#                   reinject_start/_stop only with REINJECT_SECONDS > 0
#                   capture_term        (STOP_WHEN_DONE=1) SIGTERM sent to the program
#                   capture_exit        the program exited (status in capture.rc)
#                   capture_killed      it was still running at CAPTURE_TIMEOUT
#                   setup_failed        only when the script exits 2
#                   end                 script done
#   capture.out, capture.err   stdout / stderr of the program under test
#   capture.rc    exit status of the program, or "killed"
#   faults.log    human-readable log of every step (guest uptime, the
#                 v4l2-ctl commands with their output and status, read-backs)
#   inject.log, reinject.log   output of the v4l2-ctl that streams the frame
#   dmesg.txt     written by run.sh's init after this script
#
# Exit status: 0 when every step ran (whatever the program did: the host
# test judges that from events.log and capture.*); 2 when something needed
# before the program starts failed (CAPTURE_CMD, inject.yuyv, insmod,
# loopback setup); 3 when a later step failed (injection, disconnect,
# unbind, bind, setup after bind). The reason goes to stderr (the console
# log) and to faults.log.
#
# Timeline with the defaults (seconds after capture_start; later under load):
#   2 inject_start, 6 inject_stop, 7 disconnect, 12 unbind, 15 bind,
#   ~15.6 rebind_setup_done, then wait for the program (killed at 45).
#   Guest boot adds ~3 s before the script and setup ~5 s; run.sh's VP_TIMEOUT
#   (110 s) bounds the whole guest.
#
# Commands used (Debian 6.1 kernel's vivid, v4l-utils 1.22):
#   insmod vivid.ko n_devs=1 node_types=0x101 num_inputs=2 input_types=0xc \
#          num_outputs=1 output_types=0x1
#   v4l2-ctl -d /dev/video0 -i 1 ; v4l2-ctl -d /dev/video0 --list-dv-timings
#                                                  (640x480p59.94 is index 0)
#   v4l2-ctl -d /dev/video1 --set-dv-bt-timings index=0 -x width=640,height=480,pixelformat=YUYV
#   v4l2-ctl -d /dev/video0 -i 1 --set-dv-bt-timings index=0 \
#          -v width=640,height=480,pixelformat=YUYV -c loop_video=1,osd_text_mode=2
#   timeout 4 v4l2-ctl -d /dev/video1 --stream-out-mmap --stream-from=inject.yuyv \
#          --stream-loop --stream-no-query
#   v4l2-ctl -d /dev/video0 -c disconnect=1
#   echo vivid.0 > /sys/bus/platform/drivers/vivid/unbind   (and .../bind)
# Note: v4l2-ctl's exit status is 0 even when its stream ends with ENODEV.
set -u

# --- tunables (override in capture.env) --------------------------------------
CAPTURE_CMD=${CAPTURE_CMD:-}
WARMUP_SECONDS=2          # capture_start -> inject_start
INJECT_SECONDS=4          # how long inject.yuyv is streamed (59.94 fps nominal)
# (all *_SECONDS and CAPTURE_TIMEOUT: whole seconds)
PRE_DISCONNECT_SECONDS=1  # inject_stop -> disconnect
DISCONNECT_SECONDS=5      # disconnect -> unbind (time for the program to recover)
UNPLUG_SECONDS=3          # unbind -> bind
CAPTURE_TIMEOUT=45        # capture_start -> kill the program if still running
REBIND_SETUP=1            # 1: re-apply the loopback setup after bind, with the
                          #    program frozen meanwhile (see step 5); 0: leave
                          #    vivid at its defaults (input 0 = webcam pattern)
REINJECT_SECONDS=0        # >0: stream inject.yuyv again, 1 s after the rebind
                          #    setup (events reinject_start / reinject_stop)
UDEV=0                    # 1: run systemd-udevd (gives /dev/v4l/by-path links
                          #    and uevents, as on a real machine)
READY_PATTERN=            # non-empty: start the timeline when READY_FILE has a line matching it
READY_FILE=capture.out
READY_TIMEOUT=60
STOP_WHEN_DONE=0          # 1: SETTLE_SECONDS after the last step, SIGTERM the program and
SETTLE_SECONDS=3          #    wait for it to exit by itself (its status goes to capture.rc)
INJECT_FILE=inject.yuyv
WIDTH=640                 # frame size: needs DV timings of that size (CEA/DMT)
HEIGHT=480
[ -f ./capture.env ] && . ./capture.env

PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
FRAME_BYTES=$((WIDTH * HEIGHT * 2))
: > events.log
: > faults.log
rm -f capture.rc

log() { read -r u _ < /proc/uptime; echo "[up $u] $*" >> faults.log; }
# ev NAME: append "NAME <CLOCK_REALTIME s.ns>" to events.log
ev() { t=$(date +%s.%N); echo "$1 $t" >> events.log; log "EVENT $1 $t"; }
# run CMD...: run a command, its output and status go to faults.log
run() { out=$("$@" 2>&1); rc=$?; log "\$ $* -> rc=$rc${out:+
$out}"; return $rc; }
now_ns() { date +%s%N; }
# sleep_until NS: sleep until the CLOCK_REALTIME nanosecond value NS
sleep_until() {
  d=$(( ($1 - $(now_ns)) / 1000000 ))
  [ "$d" -gt 0 ] && sleep "$(awk -v m="$d" 'BEGIN{printf "%.3f", m/1000}')"
  return 0
}

CAP_PID=
# alive: the program under test is running (kill -0 alone is true for a zombie)
alive() {
  [ -n "$CAP_PID" ] && read -r _ _ st _ 2>/dev/null < /proc/"$CAP_PID"/stat && [ "$st" != Z ]
}
stop_capture() {  # TERM, then KILL after 3 s, the program's process group
  [ -n "$CAP_PID" ] || return 0
  if alive; then
    kill -CONT -"$CAP_PID" 2>/dev/null
    kill -TERM -"$CAP_PID" 2>/dev/null
    i=0
    while alive && [ $i -lt 30 ]; do sleep 0.1; i=$((i + 1)); done
    kill -KILL -"$CAP_PID" 2>/dev/null
  fi
  wait "$CAP_PID" 2>/dev/null
  CAP_PID=
}
die() {  # setup failure: message, stop the program, exit 2
  echo "camera-faults: FAIL: $*" >&2
  log "FAIL: $*"
  stop_capture
  ev setup_failed
  ev end
  exit 2
}
step_failed=
step_fail() { echo "camera-faults: step failed: $*" >&2; log "STEP FAILED: $*"; step_failed="$step_failed; $*"; }

# find_node NAME: /dev/videoN whose sysfs name is NAME (vivid-000-vid-cap or
# vivid-000-vid-out); empty if none. Names are safer than numbers: a node
# comes back under a new number if an fd of the old one is still open.
find_node() {
  for d in /sys/class/video4linux/video*; do
    [ -r "$d/name" ] && read -r n < "$d/name" && [ "$n" = "$1" ] && { echo "/dev/${d##*/}"; return 0; }
  done
  return 1
}
# wait_nodes SECONDS: set CAP and OUT once both device files exist
wait_nodes() {
  i=0
  while [ $i -lt $(($1 * 100)) ]; do
    CAP=$(find_node vivid-000-vid-cap) && OUT=$(find_node vivid-000-vid-out) &&
      [ -c "$CAP" ] && [ -c "$OUT" ] && return 0
    sleep 0.01; i=$((i + 1))
  done
  return 1
}

# setup_loop: HDMI output -> HDMI capture loopback at WIDTHxHEIGHT YUYV, in
# one v4l2-ctl call per node (each call costs ~0.2 s under emulation).
# v4l2-ctl applies, within one call: controls, then the input, then the DV
# timings, then the format; that is the order needed: the DV timings only
# exist once input 1 (HDMI) is selected, and S_INPUT / S_DV_TIMINGS reset the
# format. While a program has buffers on the capture node, S_INPUT,
# S_DV_TIMINGS and S_FMT fail there with EBUSY (unless nothing changes).
setup_loop() {
  run v4l2-ctl -d "$OUT" --set-dv-bt-timings index="$DV_INDEX" \
    -x width=$WIDTH,height=$HEIGHT,pixelformat=YUYV || return 1
  # loop_video: the capture shows what the output streams; osd_text_mode=2
  # removes vivid's text overlay, so the frame arrives byte for byte
  run v4l2-ctl -d "$CAP" -i 1 --set-dv-bt-timings index="$DV_INDEX" \
    -v width=$WIDTH,height=$HEIGHT,pixelformat=YUYV -c loop_video=1,osd_text_mode=2 || return 1
}
# check_loop: read the setup back (v4l2-ctl -v silently adjusts a format it
# cannot set), log it; fails unless both nodes are WIDTHxHEIGHT YUYV
check_loop() {
  v=$(v4l2-ctl -d "$CAP" -I -V -C loop_video,osd_text_mode 2>&1; v4l2-ctl -d "$OUT" -X 2>&1)
  log "read back: $(echo "$v" | grep -E 'input|Width/Height|Pixel Format|Size Image|loop_video|osd_text' | tr -s ' \n\t' ' ')"
  [ "$(echo "$v" | grep -c "Width/Height *: $WIDTH/$HEIGHT")" = 2 ] || return 1
  [ "$(echo "$v" | grep -c "Pixel Format *: 'YUYV'")" = 2 ] || return 1
  [ "$(echo "$v" | grep -c "Size Image *: $FRAME_BYTES")" = 2 ] || return 1
  echo "$v" | grep -q "Video input : 1 " && echo "$v" | grep -q "loop_video: 1" || return 1
}

# inject EVENT_PREFIX SECONDS: stream the frame file on the output node for
# SECONDS (time-bound, not a frame count: under emulation the output often
# runs below 59.94 fps). --stream-loop rewinds the one-frame file; timeout
# ends v4l2-ctl with SIGTERM (status 124), which closes the node and stops
# the output stream; the capture then shows vivid's no-signal noise.
inject() {
  ev ${1}_start
  # stdbuf -o0: v4l2-ctl prints one '>' per buffer on stdout; unbuffered, so
  # that the count survives the SIGTERM
  timeout "$2" stdbuf -o0 v4l2-ctl -d "$OUT" --stream-out-mmap --stream-from="$INJECT_FILE" \
    --stream-loop --stream-no-query > $1.log 2>&1
  irc=$?
  ev ${1}_stop
  queued=$(tr -cd '>' < $1.log | wc -c)
  log "$1: v4l2-ctl status $irc (124 = ended by timeout, as intended), $queued buffers queued; $(grep fps $1.log | tail -2 | tr -d '>' | tr '\n' ' ')"
  [ $irc = 124 ] && [ "$queued" -gt 0 ] || step_fail "streaming $INJECT_FILE on $OUT failed (status $irc, $queued buffers; see $1.log)"
}

log "guest kernel $(uname -r), script started at uptime ${VP_BOOT_UPTIME:-?}"

# --- 1. vivid + loopback ----------------------------------------------------
[ -n "$CAPTURE_CMD" ] || die "CAPTURE_CMD is empty (set it in ./capture.env: run.sh does not pass the host environment)"
[ -f "$INJECT_FILE" ] || die "$INJECT_FILE not found in $(pwd)"
sz=$(stat -c %s "$INJECT_FILE")
[ "$sz" = "$FRAME_BYTES" ] || die "$INJECT_FILE has $sz bytes, expected $FRAME_BYTES (${WIDTH}x${HEIGHT} YUYV)"

if [ "$UDEV" = 1 ] && [ -x /lib/systemd/systemd-udevd ]; then
  /lib/systemd/systemd-udevd --daemon >/dev/null 2>&1 || log "systemd-udevd did not start"
  udevadm monitor --udev --subsystem-match=video4linux > udev-events.log 2>&1 &
  UMON=$!
fi

if ! grep -q '^vivid ' /proc/modules; then
  # one instance: video0 = capture (input 0 webcam, input 1 HDMI),
  # video1 = output (output 0 HDMI); node_types 0x101 = vid-cap + vid-out
  run insmod "${VIVID_KO:?VIVID_KO not set: not run by run.sh?}" n_devs=1 node_types=0x101 \
    num_inputs=2 input_types=0xc num_outputs=1 output_types=0x1 || die "insmod vivid failed"
fi
wait_nodes 10 || die "vivid nodes did not appear: $(ls /sys/class/video4linux 2>&1 | tr '\n' ' ')"
log "capture node $CAP, output node $OUT"
[ "$UDEV" = 1 ] && udevadm settle -t 10 2>/dev/null && log "by-path: $(ls /dev/v4l/by-path 2>&1 | tr '\n' ' ')"
FIRST_CAP=$CAP

run v4l2-ctl -d "$CAP" -i 1 || die "cannot select input 1 (HDMI) on $CAP"
# index of 640x480p59.94 (index 0 in vivid's list), looked up like example-guest.sh
DV_INDEX=$(v4l2-ctl -d "$CAP" --list-dv-timings 2>/dev/null | awk -v w="$WIDTH" -v h="$HEIGHT" '
  $1 == "Index:" { i = $2; okw = 0 }
  $0 ~ "Active width: " w "$" { okw = 1 }
  $0 ~ "Active height: " h "$" && okw { print i; exit }')
[ -n "$DV_INDEX" ] || die "no ${WIDTH}x${HEIGHT} DV timings on $CAP"
log "DV timings index for ${WIDTH}x${HEIGHT}: $DV_INDEX"
setup_loop || die "loopback setup failed (see faults.log)"
check_loop || die "loopback setup did not stick (see faults.log)"
ev setup_done

# --- 2. the program under test ------------------------------------------------
# In its own process group (setsid, which execs here: $! is the program), so
# that SIGSTOP/SIGCONT/SIGTERM reach all of its processes (kill -SIG -PGID).
log "CAPTURE_CMD: $CAPTURE_CMD"
setsid sh -c "exec $CAPTURE_CMD" > capture.out 2> capture.err < /dev/null &
CAP_PID=$!
ev capture_start
T0=$(now_ns)
S=1000000000
# With READY_PATTERN set, the timeline starts when the program says it streams (a line matching
# the pattern in READY_FILE), not at a fixed time: under emulation a large binary can take many
# seconds to start, and a fault injected before it streams would test nothing.
if [ -n "$READY_PATTERN" ]; then
  while ! grep -q "$READY_PATTERN" "$READY_FILE" 2>/dev/null; do
    if [ "$(now_ns)" -ge $((T0 + READY_TIMEOUT * S)) ] || ! alive; then
      log "note: the program did not report streaming within ${READY_TIMEOUT}s"
      break
    fi
    sleep 0.2
  done
  ev ready
  T0=$(now_ns)
fi

# --- 3. inject the frame --------------------------------------------------------
sleep_until $((T0 + WARMUP_SECONDS * S))
alive || log "note: the program under test has already exited"
inject inject "$INJECT_SECONDS"

# --- 4. simulated disconnect ------------------------------------------------------
sleep_until $((T0 + (WARMUP_SECONDS + INJECT_SECONDS + PRE_DISCONNECT_SECONDS) * S))
ev disconnect
T1=$(now_ns)
run v4l2-ctl -d "$CAP" -c disconnect=1 || step_fail "setting the disconnect control failed"
# Until the last fd of the instance is closed, open() gives ENODEV; poll for
# the moment it works again (this probe opens and closes the node at once,
# it does not disturb the program).
cleared=0
first=1
while [ "$(now_ns)" -lt $((T1 + DISCONNECT_SECONDS * S)) ]; do
  if msg=$(v4l2-ctl -d "$CAP" -D 2>&1); then ev disconnect_cleared; cleared=1; break; fi
  [ $first = 1 ] && log "open while disconnected: $msg"
  first=0
  sleep 0.1
done
[ $cleared = 1 ] || log "capture node still disconnected after ${DISCONNECT_SECONDS}s (the program still holds an fd): $(v4l2-ctl -d "$CAP" -D 2>&1 | head -1)"
[ $cleared = 1 ] && run v4l2-ctl -d "$CAP" -I --get-dv-timings -C loop_video

# --- 5. unplug and replug ---------------------------------------------------------
sleep_until $((T1 + DISCONNECT_SECONDS * S))
ev unbind
T2=$(now_ns)
echo vivid.0 > /sys/bus/platform/drivers/vivid/unbind || step_fail "unbind failed"
log "after unbind: $(ls /dev/video* 2>&1 | tr '\n' ' ')"
sleep_until $((T2 + UNPLUG_SECONDS * S))
# The new instance starts at input 0 (webcam), default DV timings, loop_video=0.
# Re-applying the loopback races with the program: once it has opened the new
# node and allocated buffers, S_INPUT etc. fail with EBUSY, and if it has only
# opened it, the input switch changes the format under its feet. So, with
# REBIND_SETUP=1, the program is frozen (SIGSTOP to its process group) from
# just before bind until the setup is done (event rebind_setup_done or
# rebind_setup_failed, then SIGCONT); it cannot tell, except that its clock
# jumps by that time (~0.6 s here: bind ~0.1 s, two v4l2-ctl calls). Frozen
# or not, its retry loop must expect ENOENT for UNPLUG_SECONDS.
frozen=0
if [ "$REBIND_SETUP" = 1 ] && alive; then
  kill -STOP -"$CAP_PID" 2>/dev/null && frozen=1
fi
ev bind
echo vivid.0 > /sys/bus/platform/drivers/vivid/bind || step_fail "bind failed"
if wait_nodes 10; then
  ev node_back
  [ "$CAP" = "$FIRST_CAP" ] || { ev node_moved; log "capture node moved from $FIRST_CAP to $CAP"; }
  if [ "$REBIND_SETUP" = 1 ]; then
    if setup_loop; then ev rebind_setup_done; else ev rebind_setup_failed; step_fail "loopback setup after bind failed"; fi
  fi
else
  step_fail "vivid nodes did not come back after bind"
fi
[ $frozen = 1 ] && kill -CONT -"$CAP_PID" 2>/dev/null
log "after bind: capture node ${CAP:-?}, output node ${OUT:-?}; $(ls /dev/video* 2>&1 | tr '\n' ' ')"
[ "$UDEV" = 1 ] && udevadm settle -t 10 2>/dev/null && log "by-path: $(ls /dev/v4l/by-path 2>&1 | tr '\n' ' ')"
if [ "$REBIND_SETUP" = 1 ]; then
  # read-only check; it fails if the program has since set another format
  check_loop || log "read back after bind does not show the 640x480 YUYV loopback"
  if [ "$REINJECT_SECONDS" -gt 0 ]; then
    sleep 1
    inject reinject "$REINJECT_SECONDS"
  fi
fi

# --- 6. wait for the program (bounded) -------------------------------------------
deadline=$((T0 + CAPTURE_TIMEOUT * S))
if [ "$STOP_WHEN_DONE" = 1 ]; then
  # The program stops on SIGTERM by itself (and reports); give it SETTLE_SECONDS to show it streams.
  sleep "$SETTLE_SECONDS"
  if alive; then
    ev capture_term
    kill -TERM -"$CAP_PID" 2>/dev/null
    i=0
    while alive && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
  fi
fi
while alive && [ "$(now_ns)" -lt $deadline ]; do sleep 0.2; done
if alive; then
  ev capture_killed
  stop_capture
  echo killed > capture.rc
else
  wait "$CAP_PID"; rc=$?
  ev capture_exit
  echo $rc > capture.rc
  log "program exit status $rc"
  CAP_PID=
fi

if [ -n "${UMON:-}" ]; then udevadm settle -t 5 2>/dev/null; kill "$UMON" 2>/dev/null; fi
ev end
if [ -n "$step_failed" ]; then
  echo "camera-faults: FAIL:${step_failed#;}" >&2
  exit 3
fi
exit 0

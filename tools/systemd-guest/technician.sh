#!/bin/bash
# What a technician does with an installed door, run inside the systemd guest (tools/systemd_guest.py)
# by rollcall-guest-test.service once the guest has booted. Each step writes one line to
# /mnt/out/steps.log: "ok|FAIL <step> <seconds> <what was seen>"; the host prints them and fails on a
# FAIL or a missing step. Everything the units do runs as installed by `make install`, with one
# test-only drop-in (seccomp.conf, written by the host): a system call the units' filter denies
# kills the process (SystemCallErrorNumber=kill, audited by the kernel) instead of returning EPERM,
# so that no denied call can pass unseen.
set -u
out=/mnt/out
steps=$out/steps.log
: > "$steps"
exec > "$out/technician.log" 2>&1
set -x

now() { date +%s.%N; }
since() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.2f", b - a }'; }
step() { # STATUS NAME START DETAIL...
    local status=$1 name=$2 start=$3; shift 3
    echo "$status $name $(since "$start") $*" >> "$steps"
}
# wait_for SECONDS COMMAND...: runs COMMAND every 0.5 s until it succeeds; fails after SECONDS.
wait_for() {
    local limit=$1 start; start=$(date +%s); shift
    until "$@"; do
        [ $(( $(date +%s) - start )) -ge "$limit" ] && return 1
        sleep 0.5
    done
}
show() { systemctl show "$1" -p "$2" --value; }
status_json() { rollcall status --config /etc/rollcall/rollcall.toml --json 2>/dev/null; }
json_field() { # KEY: the first "KEY": value in stdin (numbers and strings)
    sed -n "s/.*\"$1\" *: *\"\{0,1\}\([^\",}]*\).*/\1/p" | head -n 1
}

# 1. The camera's stable name through the installed udev rule, narrowed to this board's camera as the
#    rule's comment says (the guest's camera is vivid, on the platform bus, not USB).
t=$(now)
sed -i 's/ENV{ID_PATH}=="\*usb-0:\*"/ENV{ID_PATH}=="platform-vivid.0"/' /etc/udev/rules.d/99-rollcall-camera.rules
udevadm control --reload
modprobe vivid n_devs=1 node_types=0x101 num_inputs=1 input_types=0x0 num_outputs=1 output_types=0x1
udevadm settle -t 30
if wait_for 30 test -e /dev/rollcall-camera; then
    step ok camera-udev "$t" "/dev/rollcall-camera -> $(readlink /dev/rollcall-camera), $(stat -L -c '%G %a' /dev/rollcall-camera)"
else
    step FAIL camera-udev "$t" "no /dev/rollcall-camera: $(ls -l /dev/video* 2>&1 | tr '\n' ' ')"
fi

# 2. The hub's unit, with the database the host provisioned.
t=$(now)
systemctl enable --now rollcall-hub.service
if wait_for 60 systemctl is-active -q rollcall-hub.service &&
    wait_for 30 bash -c 'exec 3<>/dev/tcp/127.0.0.1/8080'; then
    step ok hub-start "$t" "rollcall-hub.service $(show rollcall-hub.service ActiveState)/$(show rollcall-hub.service SubState), listening on 127.0.0.1:8080"
else
    step FAIL hub-start "$t" "$(systemctl status rollcall-hub.service --no-pager 2>&1 | tail -n 5 | tr '\n' ' ')"
fi

# 3. The door: token and configuration as the README says, then enable --now.
t=$(now)
install -m 0600 -o rollcall -g rollcall /mnt/out/hub-token /etc/rollcall/hub-token
# The emulated board is 10 to 30 times slower than a real one: 5 frames a second, not 30, leave the
# screen's browser some of its two CPUs.
sed -i -e 's|^url = .*|url = "http://127.0.0.1:8080"|' -e 's|^refresh_seconds = .*|refresh_seconds = 2|' \
    -e 's|^fps = .*|fps = 5|' /etc/rollcall/rollcall.toml
rollcall config check /etc/rollcall/rollcall.toml
systemctl enable --now rollcall.service
active=$(show rollcall.service ActiveState)/$(show rollcall.service SubState)
if [ "$active" = active/running ]; then
    step ok door-start "$t" "systemctl enable --now rollcall returned with the unit $active (Type=notify: READY=1 received)"
else
    step FAIL door-start "$t" "rollcall.service is $active: $(journalctl -u rollcall -n 10 --no-pager | tr '\n' ' ')"
fi

# 4. systemctl status shows the daemon's status line (STATUS=).
t=$(now)
wait_for 30 bash -c 'systemctl show rollcall.service -p StatusText --value | grep -q "camera streaming"'
# The line changes every second (frame rate, sync time): read it and look for it until both agree.
status_shown() {
    line=$(show rollcall.service StatusText)
    [ -n "$line" ] && systemctl status rollcall.service --no-pager | grep -F -q "Status: \"$line\""
}
if wait_for 10 status_shown; then
    step ok status-line "$t" "Status: \"$line\""
else
    step FAIL status-line "$t" "systemctl status: $(systemctl status rollcall.service --no-pager | head -n 8 | tr '\n' ' ')"
fi

# 5. The journal: the daemon's fields and priorities, and no noise from the capture library (libv4l2
#    writes a line to stderr for every buffer asked for that is not ready: once a frame, if asked wrongly).
t=$(now)
notice=$(journalctl -u rollcall.service -p notice -o verbose --no-pager | grep -c '^ *PRIORITY=5')
identifier=$(journalctl -u rollcall.service -o verbose --no-pager | grep -c '^ *SYSLOG_IDENTIFIER=rollcall')
noise=$(journalctl -u rollcall.service -o cat --no-pager | grep -c 'libv4l2: error')
if [ "$notice" -gt 0 ] && [ "$identifier" -gt 0 ] && [ "$noise" = 0 ]; then
    step ok journal "$t" "$notice notices (PRIORITY=5), $identifier entries with SYSLOG_IDENTIFIER=rollcall, no libv4l2 error lines; -p warning: $(journalctl -u rollcall.service -p warning -o cat --no-pager | wc -l) lines"
else
    step FAIL journal "$t" "notices=$notice identifier=$identifier libv4l2-errors=$noise: $(journalctl -u rollcall.service -o verbose -n 3 --no-pager | tr '\n' ' ')"
fi

# 6. Unplug (unbind vivid) and plug in again (bind): the status line says so, and streaming resumes.
t=$(now)
echo vivid.0 > /sys/bus/platform/drivers/vivid/unbind
lost=no
wait_for 30 bash -c 'systemctl show rollcall.service -p StatusText --value | grep -Eq "camera (lost|reconnecting)"' && lost=yes
lost_line=$(show rollcall.service StatusText)
sleep 2
echo vivid.0 > /sys/bus/platform/drivers/vivid/bind
udevadm settle -t 30
back=no
wait_for 60 bash -c 'systemctl show rollcall.service -p StatusText --value | grep -q "camera streaming"' && back=yes
reconnects=$(status_json | json_field reconnects)
if [ "$lost" = yes ] && [ "$back" = yes ] && [ "$(show rollcall.service ActiveState)" = active ]; then
    step ok unplug "$t" "unplugged: \"$lost_line\"; plugged in: \"$(show rollcall.service StatusText)\"; reconnects=$reconnects, restarts=$(show rollcall.service NRestarts)"
else
    step FAIL unplug "$t" "lost=$lost back=$back: \"$(show rollcall.service StatusText)\""
fi

# 7. systemctl reload applies a configuration change: the camera becomes the scenario video, whose
#    student is on the roster of the session the host provisioned; the check-in reaches the hub.
t=$(now)
sed -i 's|^# replay = .*|replay = "/var/lib/rollcall-test/scenario.avi"|' /etc/rollcall/rollcall.toml
systemctl reload rollcall.service
reloaded=no
wait_for 30 bash -c 'journalctl -u rollcall.service -o cat --no-pager | grep -q "configuration reloaded"' && reloaded=yes
checked_in=no
wait_for 240 bash -c 'runuser -u rollcall-hub -- rollcall-hub report session s-demo-7b --db /var/lib/rollcall-hub/hub.sqlite 2>/dev/null | grep -q "\"present\""' && checked_in=yes
camera=$(status_json | sed -n 's/.*"camera" *: *{[^}]*"state" *: *"\([a-z]*\)".*/\1/p')
if [ "$reloaded" = yes ] && [ "$checked_in" = yes ]; then
    step ok reload "$t" "configuration reloaded; the camera is the scenario video ($camera); the hub has the scenario's student present"
else
    step FAIL reload "$t" "reloaded=$reloaded checked_in=$checked_in; faces: $(journalctl -u rollcall.service -o cat --no-pager | grep -i -E 'face|checked in|no check-in' | tail -n 12 | tr '\n' ' '); last lines: $(journalctl -u rollcall.service -n 8 -o cat --no-pager | tr '\n' ' ')"
fi

# Back to the camera, as the technician would after the demonstration (another reload).
sed -i 's|^replay = .*|# replay = "/var/lib/rollcall/demo/scenario.avi"|' /etc/rollcall/rollcall.toml
systemctl reload rollcall.service
wait_for 60 bash -c 'systemctl show rollcall.service -p StatusText --value | grep -q "camera streaming"'

# 8. A daemon that stops feeding the watchdog is killed and restarted by systemd (a test-only
#    switch makes it stop feeding 5 s after READY=1; WatchdogSec is shortened to 10 s meanwhile).
t=$(now)
restarts=$(show rollcall.service NRestarts)
mkdir -p /run/systemd/system/rollcall.service.d
printf '[Service]\nWatchdogSec=10\nEnvironment=ROLLCALL_TEST_STARVE_WATCHDOG_AFTER=5\n' \
    > /run/systemd/system/rollcall.service.d/hang.conf
systemctl daemon-reload
systemctl restart rollcall.service
restarted=no
wait_for 90 bash -c "[ \"\$(systemctl show rollcall.service -p NRestarts --value)\" -gt $restarts ]" && restarted=yes
timeout_line=$(journalctl -u rollcall.service -o cat --no-pager | grep -m1 -i 'watchdog timeout')
rm /run/systemd/system/rollcall.service.d/hang.conf
systemctl daemon-reload
systemctl restart rollcall.service
if [ "$restarted" = yes ] && [ -n "$timeout_line" ] && systemctl is-active -q rollcall.service; then
    step ok watchdog "$t" "\"$timeout_line\"; NRestarts $restarts -> more; running again without the switch"
else
    step FAIL watchdog "$t" "restarted=$restarted timeout_line=$timeout_line"
fi

# 9. systemctl stop within 5 s, every committed event kept: what the outbox held before the stop is
#    there after a start (pending + synced + rejected), and the hub has what was synced.
t=$(now)
wait_for 60 bash -c '[ "$(rollcall status --config /etc/rollcall/rollcall.toml --json 2>/dev/null | sed -n "s/.*\"pending\" *: *\([0-9]*\).*/\1/p")" = 0 ]'
before=$(status_json)
committed_before=$(( $(echo "$before" | json_field pending) + $(echo "$before" | json_field synced) + $(echo "$before" | json_field rejected) ))
stop_start=$(now)
systemctl stop rollcall.service
stop_seconds=$(since "$stop_start")
systemctl start rollcall.service
after=$(status_json)
committed_after=$(( $(echo "$after" | json_field pending) + $(echo "$after" | json_field synced) + $(echo "$after" | json_field rejected) ))
if awk -v s="$stop_seconds" 'BEGIN { exit !(s <= 5) }' && [ "$committed_before" -gt 0 ] &&
    [ "$committed_before" = "$committed_after" ]; then
    step ok door-stop "$t" "systemctl stop took ${stop_seconds} s; committed events before $committed_before, after a start $committed_after"
else
    step FAIL door-stop "$t" "stop ${stop_seconds} s; committed before=$committed_before after=$committed_after"
fi

# 10. The screen: rollcall-screen.service (its own user, sandboxed) shows the signage page. Headless
#     here (a drop-in from the host: no display in this guest): a screenshot of what it shows.
t=$(now)
# The screen's user reads none of the door's data: the outbox (its events and the gallery's templates),
# the hub token, and the hub's database where the hub runs on the same machine.
apart=yes
for file in /var/lib/rollcall/outbox.sqlite /etc/rollcall/hub-token /var/lib/rollcall-hub/hub.sqlite; do
    if [ ! -e "$file" ]; then apart="$file is missing"; break; fi
    if runuser -u rollcall-screen -- head -c 1 "$file" > /dev/null 2>&1; then apart="rollcall-screen can read $file"; break; fi
done
systemctl start rollcall-screen.service
if wait_for 480 test -s /var/lib/rollcall-screen/screen.png && sleep 1 &&
    cp /var/lib/rollcall-screen/screen.png "$out/screen.png" &&
    [ "$(head -c 8 "$out/screen.png" | od -An -tx1 | tr -d ' \n')" = 89504e470d0a1a0a ] &&
    [ "$(stat -c %s "$out/screen.png")" -gt 4000 ] && [ "$apart" = yes ]; then
    step ok screen "$t" "rollcall-screen.service as $(show rollcall-screen.service User), ProtectSystem=$(show rollcall-screen.service ProtectSystem), cannot read the outbox, the hub token or the hub's database, Chromium's own sandbox off (emulation): PNG screenshot $(stat -c %s "$out/screen.png") bytes after $(show rollcall-screen.service NRestarts) restarts"
else
    step FAIL screen "$t" "apart: $apart; $(journalctl -u rollcall-screen.service -n 10 -o cat --no-pager | tr '\n' ' ')"
fi
systemctl stop rollcall-screen.service

# 11. The hub's unit stops within 5 s too.
t=$(now)
systemctl stop rollcall-hub.service
hub_stop=$(since "$t")
if awk -v s="$hub_stop" 'BEGIN { exit !(s <= 5) }' && [ "$(show rollcall-hub.service Result)" = success ]; then
    step ok hub-stop "$t" "systemctl stop rollcall-hub took ${hub_stop} s, result success"
else
    step FAIL hub-stop "$t" "stop took ${hub_stop} s, result $(show rollcall-hub.service Result)"
fi

# 12. No system call was denied by the filters during the whole run: a denied call would have killed
#     the process (SIGSYS) and left a kernel audit record (type=1326, SECCOMP).
t=$(now)
systemctl stop rollcall.service
seccomp=$(journalctl -k -o cat --no-pager | grep -c 'type=1326')
sigsys=$(journalctl -u rollcall.service -u rollcall-hub.service -u rollcall-screen.service -o cat --no-pager | grep -c -E 'status=31/SYS|SIGSYS')
if [ "$seccomp" = 0 ] && [ "$sigsys" = 0 ]; then
    step ok seccomp "$t" "no SECCOMP audit record, no SIGSYS in the units' journal"
else
    step FAIL seccomp "$t" "$seccomp SECCOMP records, $sigsys SIGSYS: $(journalctl -k -o cat --no-pager | grep 'type=1326' | head -n 3 | tr '\n' ' ')"
fi

journalctl -o short-monotonic --no-pager > "$out/journal.txt" 2>&1
echo done >> "$steps"

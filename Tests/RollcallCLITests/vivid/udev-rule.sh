#!/bin/sh
# udev-rule.sh: guest script for ../shared/vivid/run.sh. Checks udev/99-rollcall-camera.rules with
# the real udev and the real vivid driver, then runs the technician commands on the stable name.
#
# Inputs in the working directory (written by the host test):
#   rollcall-camera.rules  the rule, its ID_PATH narrowed to vivid's ("platform-vivid.0")
#   udev.env               ROLLCALL=<absolute path of the rollcall binary>
# Outputs: link.txt (where /dev/rollcall-camera points), perms.txt ("GROUP MODE" of that node),
# output-link.txt (nodes other than the capture node that got the name: must be empty),
# list.txt, snapshot.txt/.rc/.png, faults.log.
set -u
. ./udev.env
log() { echo "$*" >> faults.log; }
: > faults.log

mkdir -p /run/udev/rules.d
cp rollcall-camera.rules /run/udev/rules.d/99-rollcall-camera.rules || { log "cannot install the rule"; exit 2; }
/lib/systemd/systemd-udevd --daemon >> faults.log 2>&1 || { log "systemd-udevd did not start"; exit 2; }
# A capture node (video0), an output node (video1): only the first may get the name.
insmod "$VIVID_KO" n_devs=1 node_types=0x101 num_inputs=1 input_types=0x0 num_outputs=1 output_types=0x1 \
    >> faults.log 2>&1 || { log "insmod vivid failed"; exit 2; }
udevadm settle -t 15 >> faults.log 2>&1
ls -l /dev/video* /dev/rollcall-camera /dev/v4l/by-path >> faults.log 2>&1

readlink /dev/rollcall-camera > link.txt 2>> faults.log
target=$(readlink -f /dev/rollcall-camera)
[ -n "$target" ] && stat -c '%G %a' "$target" > perms.txt
: > output-link.txt
for node in /dev/video*; do
    [ "$node" = "$target" ] && continue
    udevadm info --query=symlink --name="$node" 2>/dev/null | grep -q rollcall-camera && echo "$node" >> output-link.txt
done
udevadm info --query=property --name=/dev/video0 >> faults.log 2>&1

"$ROLLCALL" camera list > list.txt 2>&1
"$ROLLCALL" camera snapshot --out snapshot.png > snapshot.txt 2>&1
echo $? > snapshot.rc
exit 0

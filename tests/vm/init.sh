#!/bin/sh
# /init of Ward's test VM: mounts what Ward needs, runs the suites and reports
# to the host over the serial console (WARD-VM-RESULT lines), then powers off.
export PATH=/ward/bin:/bin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
mount -t securityfs securityfs /sys/kernel/security
mount -t bpf bpf /sys/fs/bpf
mount -t tmpfs tmpfs /tmp
mount -t tmpfs tmpfs /run
mkdir -p /srv/work /var/lib /etc/ward
mount -t tmpfs ward-work /srv/work
hostname ward-vm
echo "WARD-VM-BOOTED kernel=$(uname -r) lsm=$(cat /sys/kernel/security/lsm) cpus=$(nproc)"

export WARD_BIN=/ward/bin WORK=/srv/work PIN_DIR=/sys/fs/bpf/ward WARD_PATH=lsm
start=$(date +%s)
for suite in $(cat /ward/suites); do
  echo "WARD-VM-SUITE $suite"
  sh "/ward/suite/$suite"
done
echo "WARD-VM-DONE seconds=$(($(date +%s) - start))"
poweroff -f

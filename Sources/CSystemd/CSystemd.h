// libsystemd's service notification (sd_notify) and watchdog query (sd_watchdog_enabled), from
// Debian's libsystemd-dev: READY=1, STATUS=..., WATCHDOG=1, RELOADING=1, STOPPING=1.
#ifndef CSYSTEMD_H
#define CSYSTEMD_H

#include <systemd/sd-daemon.h>

#endif

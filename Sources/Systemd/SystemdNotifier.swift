import CSystemd

/// Tells systemd how the service stands (`sd_notify`): `READY=1` once it serves, a one-line
/// `STATUS=`, `WATCHDOG=1` while it makes progress, `RELOADING=1` and `STOPPING=1`. Without
/// `NOTIFY_SOCKET` (not started by systemd) every call does nothing.
public enum SystemdNotifier {
    /// Sends one or more `KEY=value` lines.
    public static func notify(_ state: String) {
        _ = sd_notify(0, state)
    }

    /// The watchdog interval systemd expects pings within (`WatchdogSec=`), or nil when it set none.
    public static func watchdogInterval() -> Duration? {
        var microseconds: UInt64 = 0
        guard sd_watchdog_enabled(0, &microseconds) > 0, microseconds > 0 else { return nil }
        return .microseconds(Int64(microseconds))
    }
}

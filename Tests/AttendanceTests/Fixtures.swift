import Attendance
import Foundation

/// 2026-11-23 at `hour`:`minute`:`second` UTC (the day after with `day: 1`).
func time(_ hour: Int, _ minute: Int, _ second: Double = 0, day: Int = 0) -> Date {
    let midnight: TimeInterval = 1_795_392_000  // 2026-11-23T00:00:00Z
    return Date(timeIntervalSince1970: midnight + Double(day * 86_400 + hour * 3600 + minute * 60) + second)
}

/// Maths 08:00–08:45 (p-1, p-2), then art 08:50–09:35 (p-1, p-3) in room B12. With the default policy the
/// windows are 07:30–08:45 and 08:20–09:35: they overlap from 08:20 to 08:45.
let maths = Session(
    id: "s-maths", room: "B12", group: "7B", start: time(8, 0), end: time(8, 45), roster: ["p-1", "p-2"])
let art = Session(id: "s-art", room: "B12", group: "7C", start: time(8, 50), end: time(9, 35), roster: ["p-1", "p-3"])

func book(_ sessions: [Session] = [maths, art], policy: AttendancePolicy = AttendancePolicy()) -> AttendanceBook {
    AttendanceBook(schedule: SessionSchedule(room: "B12", policy: policy, sessions: sessions))
}

/// The example from the brief, with the end corrected to 09:45+01:00 (08:45Z): the brief's 08:45+01:00 is
/// 07:45Z, before the 08:00Z start, which the decoder rightly refuses.
let exampleScheduleJSON = """
    {
      "room": "B12",
      "timezone": "Europe/Berlin",
      "policy": {"grace_minutes": 5, "volunteer_debounce_seconds": 30},
      "sessions": [
        {"id": "s-1", "group": "7B", "start": "2026-11-23T08:00:00Z", "end": "2026-11-23T09:45:00+01:00", "roster": ["p-1", "p-2"]}
      ]
    }
    """

/// A schedule document around one session object given as JSON text.
func scheduleJSON(sessions: String...) -> String {
    #"{"room": "B12", "sessions": ["# + sessions.joined(separator: ", ") + "]}"
}

/// A session object with these fields replaced (or removed, with nil).
func sessionJSON(_ overrides: [String: String?] = [:]) -> String {
    var fields: [(String, String?)] = [
        ("id", #""s-1""#),
        ("group", #""7B""#),
        ("start", #""2026-11-23T08:00:00Z""#),
        ("end", #""2026-11-23T08:45:00Z""#),
        ("roster", #"["p-1"]"#),
    ]
    for (key, value) in overrides {
        if let index = fields.firstIndex(where: { $0.0 == key }) {
            fields[index].1 = value
        } else {
            fields.append((key, value))
        }
    }
    let members = fields.compactMap { key, value in value.map { "\"\(key)\": \($0)" } }
    return "{" + members.joined(separator: ", ") + "}"
}

/// The error decoding `json` throws, or nil if it decodes.
func scheduleError(_ json: String) -> ScheduleError? {
    do {
        _ = try SessionSchedule.decode(from: Data(json.utf8))
        return nil
    } catch {
        return error
    }
}

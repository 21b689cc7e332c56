public import Attendance
public import Foundation

/// A decision the door made, as `rollcall replay` prints it and the daemon commits and shows it.
public struct DoorDecision: Sendable, Equatable {
    /// What happened.
    public enum Kind: String, Sendable, CaseIterable {
        /// A student checked in to a session (by face or by badge).
        case checkin
        /// A recognised person was not checked in (no session now, not on the roster).
        case noCheckin = "no_checkin"
        /// A volunteer (or staff) badge signed in.
        case entry
        /// A volunteer (or staff) badge signed out.
        case exit
        /// A badge was refused (forged, expired, revoked, malformed...): kept for audit.
        case rejectedBadge = "rejected_badge"
        /// A face was seen clearly, several times, and matched nobody in the gallery.
        case unknownFace = "unknown_face"
    }

    /// How the person was identified.
    public enum Method: String, Sendable {
        case face, qr
    }

    public var kind: Kind
    /// The person's id (nil for unknown faces and unreadable badges).
    public var person: String?
    /// Index of the frame that completed the decision, from 0.
    public var frame: Int
    /// Seconds from the source's start to that frame.
    public var t: Double
    /// Wall-clock time of the decision.
    public var at: Date
    public var method: Method?
    /// Face decisions: distance to the person's nearest template, and margin to the next person.
    public var distance: Float?
    public var margin: Float?
    /// Check-ins: the session, `present` or `late`, and minutes late.
    public var session: String?
    public var status: CheckinStatus?
    public var minutesLate: Int?
    /// Exits: seconds on site.
    public var duration: TimeInterval?
    /// Refusals and non-check-ins: why, for a human; for rejected badges the reason code.
    public var reason: String?
    /// Face decisions: the track and the frame it was first seen on.
    public var track: Int?
    public var trackFirstFrame: Int?
    /// The event to commit to the outbox, when the decision is one.
    public var event: AttendanceEvent?
    /// Refused badges: the payload as scanned, for the audit record (not printed).
    public var badgePayload: String?
    /// Refused badges: the subject the payload claims (untrusted), for the audit record.
    public var claimedSubject: String?
    /// Face check-ins from a sighting good enough for a template refresh (`TemplateRefreshPolicy`): its
    /// encoding, offered to the hub when the hub asks for refreshes; never printed or stored at the door.
    public var sighting: [Float]?

    /// A decision of `kind` at a frame.
    public init(kind: Kind, person: String?, frame: Int, t: Double, at: Date) {
        self.kind = kind
        self.person = person
        self.frame = frame
        self.t = t
        self.at = at
    }

    /// One line of JSON: `kind`, `person`, `frame`, `t` first, then what the kind carries.
    public var jsonLine: String {
        var fields: [(String, String)] = [
            ("kind", quoted(kind.rawValue)), ("person", person.map(quoted) ?? "null"), ("frame", "\(frame)"),
            ("t", String(format: "%.3f", t)),
        ]
        let iso = ISO8601DateFormatter()
        iso.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        fields.append(("at", quoted(iso.string(from: at))))
        if let method { fields.append(("method", quoted(method.rawValue))) }
        if let distance, distance.isFinite { fields.append(("distance", String(format: "%.4f", distance))) }
        if let margin { fields.append(("margin", margin.isFinite ? String(format: "%.4f", margin) : "null")) }
        if let session { fields.append(("session", quoted(session))) }
        if let status { fields.append(("status", quoted(status.rawValue))) }
        if let minutesLate, status == .late { fields.append(("minutes_late", "\(minutesLate)")) }
        if let duration { fields.append(("duration", String(format: "%.3f", duration))) }
        if let reason { fields.append(("reason", quoted(reason))) }
        if let claimedSubject { fields.append(("claimed_subject", quoted(claimedSubject))) }
        if let track { fields.append(("track", "\(track)")) }
        if let trackFirstFrame { fields.append(("track_first_frame", "\(trackFirstFrame)")) }
        return "{" + fields.map { "\"\($0.0)\":\($0.1)" }.joined(separator: ",") + "}"
    }
}

/// A string as a JSON string literal.
func quoted(_ value: String) -> String {
    var out = "\""
    for scalar in value.unicodeScalars {
        switch scalar {
        case "\"": out += "\\\""
        case "\\": out += "\\\\"
        case "\n": out += "\\n"
        case "\r": out += "\\r"
        case "\t": out += "\\t"
        case let control where control.value < 0x20: out += String(format: "\\u%04x", control.value)
        default: out.unicodeScalars.append(scalar)
        }
    }
    return out + "\""
}

public import Attendance
public import Foundation

/// A decision the door made, as `rollcall replay` prints it and the daemon commits and shows it. Each
/// case carries what it means and nothing else: a check-in its attendance event and how the student was
/// identified, a refused badge what the audit keeps, an unknown face the match that failed.
public enum DoorDecision: Sendable, Equatable {
    /// A student checked in to a session (by face or by badge): `event` is what is committed.
    case checkin(AttendanceEvent, by: IdentifiedBy, when: DecisionTime)
    /// A recognised person was not checked in (no session now, not on the roster); `reason` is for a human.
    case noCheckin(person: String, reason: String, by: IdentifiedBy, when: DecisionTime)
    /// A volunteer (or staff) badge signed in.
    case entry(AttendanceEvent, when: DecisionTime)
    /// A volunteer (or staff) badge signed out.
    case exit(AttendanceEvent, when: DecisionTime)
    /// A badge was refused (forged, expired, revoked, malformed...): kept for audit.
    case rejectedBadge(RejectedBadge, when: DecisionTime)
    /// A face was seen clearly, several times, and matched nobody in the gallery.
    case unknownFace(FaceEvidence, when: DecisionTime)
    /// A face that matched someone was refused as a presentation attack (a photo or a screen held up to
    /// the camera): nothing is checked in, the screen says only that the face was not recognised, and the
    /// audit keeps whom it matched and why.
    case refusedFace(FaceRefusal, when: DecisionTime)

    /// The kinds of decisions, with the names `replay --json` prints.
    public enum Kind: String, Sendable, CaseIterable, Codable {
        case checkin
        case noCheckin = "no_checkin"
        case entry
        case exit
        case rejectedBadge = "rejected_badge"
        case unknownFace = "unknown_face"
        case refusedFace = "refused_face"
    }

    public var kind: Kind {
        switch self {
        case .checkin: .checkin
        case .noCheckin: .noCheckin
        case .entry: .entry
        case .exit: .exit
        case .rejectedBadge: .rejectedBadge
        case .unknownFace: .unknownFace
        case .refusedFace: .refusedFace
        }
    }

    /// The frame, the seconds from the source's start and the wall-clock time of the decision.
    public var when: DecisionTime {
        switch self {
        case .checkin(_, _, let when), .noCheckin(_, _, _, let when), .entry(_, let when), .exit(_, let when),
            .rejectedBadge(_, let when), .unknownFace(_, let when), .refusedFace(_, let when):
            when
        }
    }

    /// The wall-clock time of the decision.
    public var at: Date { when.at }

    /// The attendance event to commit (check-ins, entries and exits).
    public var event: AttendanceEvent? {
        switch self {
        case .checkin(let event, _, _), .entry(let event, _), .exit(let event, _): event
        case .noCheckin, .rejectedBadge, .unknownFace, .refusedFace: nil
        }
    }

    /// The person's id (nil for unknown faces, refused badges and refused faces: whom a refused badge or face
    /// claims to be is untrusted).
    public var person: String? {
        switch self {
        case .noCheckin(let person, _, _, _): person
        default: event?.person
        }
    }

    /// How the person was identified: a badge for entries, exits and refused badges.
    public var method: IdentificationMethod {
        switch self {
        case .checkin(_, let by, _), .noCheckin(_, _, let by, _): by.method
        case .entry, .exit, .rejectedBadge: .qr
        case .unknownFace, .refusedFace: .face
        }
    }

    /// The face match a face decision rests on.
    public var face: FaceEvidence? {
        switch self {
        case .checkin(_, .face(let evidence), _), .noCheckin(_, _, .face(let evidence), _),
            .unknownFace(let evidence, _):
            evidence
        case .refusedFace(let refusal, _): refusal.evidence
        default: nil
        }
    }

    /// Why nothing was checked in, for a human; for refused badges the reason code.
    public var reason: String? {
        switch self {
        case .noCheckin(_, let reason, _, _): reason
        case .rejectedBadge(let badge, _): badge.reason
        case .refusedFace(let refusal, _): refusal.reason
        default: nil
        }
    }

    /// A check-in's session, status and minutes late; an exit's seconds on site.
    public var session: String? { event?.session }
    public var status: CheckinStatus? { event?.status }
    public var minutesLate: Int? { event?.minutesLate }
    public var duration: TimeInterval? { kind == .exit ? event?.duration : nil }
}

/// When the door decided.
public struct DecisionTime: Sendable, Equatable {
    /// Index of the frame that completed the decision, from 0.
    public var frame: Int
    /// Seconds from the source's start to that frame.
    public var t: Double
    /// Wall-clock time of the decision.
    public var at: Date

    public init(frame: Int, t: Double, at: Date) {
        self.frame = frame
        self.t = t
        self.at = at
    }
}

/// How the door knew who it was.
public enum IdentifiedBy: Sendable, Equatable {
    /// A face, agreed on over a track's frames.
    case face(FaceEvidence)
    /// A signed QR badge.
    case badge

    public var method: IdentificationMethod {
        switch self {
        case .face: .face
        case .badge: .qr
        }
    }
}

/// What a face decision rests on.
public struct FaceEvidence: Sendable, Equatable {
    /// Distance to the person's nearest template, and margin to the next person (nil: an empty gallery).
    public var distance: Float?
    public var margin: Float?
    /// The track, and the frame it was first seen on.
    public var track: Int
    public var trackFirstFrame: Int?
    /// Check-ins from a sighting good enough for a template refresh (`TemplateRefreshPolicy`): its
    /// encoding, offered to the hub when the hub asks for refreshes; never printed or stored at the door.
    public var sighting: [Float]?
    /// The presentation-attack stage's scores for a face it found live (nil: the stage did not run).
    public var liveness: [String: Double]?

    public init(
        distance: Float?, margin: Float?, track: Int, trackFirstFrame: Int?, sighting: [Float]? = nil,
        liveness: [String: Double]? = nil
    ) {
        self.distance = distance
        self.margin = margin
        self.track = track
        self.trackFirstFrame = trackFirstFrame
        self.sighting = sighting
        self.liveness = liveness
    }
}

/// A face refused as a presentation attack, as the audit record keeps it (no image).
public struct FaceRefusal: Sendable, Equatable {
    /// The person the face matched: whom the attack claims to be (untrusted).
    public var claimedPerson: String
    /// Which cue refused it: `planar_motion` (the face moved as a flat picture does), `screen_or_print`
    /// (a bezel, a paper edge, moiré or glare around or on the face). Never shown at the door.
    public var reason: String
    /// The detectors' scores by name (`planarity`, `appearance`, ...), for the audit.
    public var scores: [String: Double]
    /// The match it rests on.
    public var evidence: FaceEvidence

    public init(claimedPerson: String, reason: String, scores: [String: Double], evidence: FaceEvidence) {
        self.claimedPerson = claimedPerson
        self.reason = reason
        self.scores = scores
        self.evidence = evidence
    }
}

/// A refused badge, as the audit record keeps it.
public struct RejectedBadge: Sendable, Equatable {
    /// The reason code (`BadgeRejection`'s raw value: `bad_signature`, `expired`, ...).
    public var reason: String
    /// The payload as scanned (not printed).
    public var payload: String
    /// The subject the payload claims (untrusted).
    public var claimedSubject: String?

    public init(reason: String, payload: String, claimedSubject: String?) {
        self.reason = reason
        self.payload = payload
        self.claimedSubject = claimedSubject
    }
}

extension DoorDecision: Encodable {
    private enum CodingKeys: String, CodingKey {
        case kind, person, frame, t, at, method, distance, margin, session, status, reason, track
        case minutesLate = "minutes_late"
        case duration
        case claimedSubject = "claimed_subject"
        case claimedPerson = "claimed_person"
        case scores, liveness
        case trackFirstFrame = "track_first_frame"
    }

    /// The line `replay --json` prints: `kind`, `person` (null when none), `frame`, `t` (seconds, to the
    /// millisecond), `at` (ISO 8601 with milliseconds), `method`, then what the kind carries: `distance`
    /// and `margin` (to 1e-4; an infinite margin, with one person in the gallery, is null), `session`,
    /// `status`, `minutes_late` (late only), `duration` (exits, seconds), `reason`, `claimed_subject`,
    /// `track`, `track_first_frame`, `liveness` (the presentation-attack stage's scores for a face it found live), and for a refused face `claimed_person` and `scores`. The payload of a refused badge and a sighting's encoding are left out.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(kind, forKey: .kind)
        try container.encode(person, forKey: .person)
        try container.encode(when.frame, forKey: .frame)
        try container.encode(rounded(when.t, 3), forKey: .t)
        try container.encode(ISO8601Time.formatMilliseconds(when.at), forKey: .at)
        try container.encode(method, forKey: .method)
        if let face {
            if let distance = face.distance, distance.isFinite {
                try container.encode(rounded(Double(distance), 4), forKey: .distance)
            }
            if let margin = face.margin {
                try container.encode(margin.isFinite ? rounded(Double(margin), 4) : nil, forKey: .margin)
            }
            try container.encode(face.track, forKey: .track)
            try container.encodeIfPresent(face.trackFirstFrame, forKey: .trackFirstFrame)
            if let liveness = face.liveness {
                try container.encode(
                    Dictionary(uniqueKeysWithValues: liveness.map { ($0.key, rounded($0.value, 4)) }), forKey: .liveness
                )
            }
        }
        try container.encodeIfPresent(session, forKey: .session)
        try container.encodeIfPresent(status, forKey: .status)
        if status == .late { try container.encodeIfPresent(minutesLate, forKey: .minutesLate) }
        try container.encodeIfPresent(duration.map { rounded($0, 3) }, forKey: .duration)
        try container.encodeIfPresent(reason, forKey: .reason)
        if case .rejectedBadge(let badge, _) = self {
            try container.encodeIfPresent(badge.claimedSubject, forKey: .claimedSubject)
        }
        if case .refusedFace(let refusal, _) = self {
            try container.encode(refusal.claimedPerson, forKey: .claimedPerson)
            try container.encode(
                Dictionary(uniqueKeysWithValues: refusal.scores.map { ($0.key, rounded($0.value, 4)) }), forKey: .scores
            )
        }
    }

    /// One line of JSON (keys sorted).
    public var jsonLine: String { JSONLine.encode(self) }
}

/// `value` to `digits` decimals, as the printed figures carry them.
func rounded(_ value: Double, _ digits: Int) -> Double {
    let scale = pow(10, Double(digits))
    return (value * scale).rounded() / scale
}

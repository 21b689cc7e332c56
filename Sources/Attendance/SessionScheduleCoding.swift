public import Foundation

extension SessionSchedule: Codable {
    private enum CodingKeys: String, CodingKey {
        case room
        case timezone
        case policy
        case sessions
    }

    private enum SessionKeys: String, CodingKey {
        case id
        case room
        case group
        case start
        case end
        case roster
    }

    /// Reads a sessions file:
    /// ```json
    /// {"room": "B12", "timezone": "Europe/Berlin", "policy": {"grace_minutes": 5},
    ///  "sessions": [{"id": "s-1", "group": "7B", "start": "2026-11-23T08:00:00Z",
    ///                "end": "2026-11-23T08:45:00+01:00", "roster": ["p-1", "p-2"]}]}
    /// ```
    /// `timezone`, `policy` and a session's `room` are optional; times are ISO 8601 with `Z` or an offset.
    ///
    /// - Throws: `ScheduleError` for a bad time, a session ending before it starts, a duplicate or empty id
    ///   or a negative policy value; the decoder's own errors for missing fields and wrong types
    ///   (`decode(from:)` turns those into `ScheduleError` too).
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        let room = try container.decode(String.self, forKey: .room)
        let timezone = try container.decodeIfPresent(String.self, forKey: .timezone)
        let policy = try container.decodeIfPresent(AttendancePolicy.self, forKey: .policy) ?? AttendancePolicy()
        var list = try container.nestedUnkeyedContainer(forKey: .sessions)
        var sessions: [Session] = []
        var indexByID: [String: Int] = [:]
        while !list.isAtEnd {
            let index = list.currentIndex
            let item = try list.nestedContainer(keyedBy: SessionKeys.self)
            let id = try item.decode(String.self, forKey: .id)
            let idPath = ScheduleError.path(item.codingPath + [SessionKeys.id])
            if id.isEmpty {
                throw ScheduleError(
                    code: .invalidValue,
                    path: idPath,
                    message: "\(idPath) is empty: give every session a unique id"
                )
            }
            if let first = indexByID[id] {
                throw ScheduleError(
                    code: .duplicateSessionID,
                    path: idPath,
                    message: "\(idPath): \"\(id)\" is also the id of sessions[\(first)]: session ids must be unique"
                )
            }
            indexByID[id] = index
            let session = Session(
                id: id,
                room: try item.decodeIfPresent(String.self, forKey: .room) ?? room,
                group: try item.decode(String.self, forKey: .group),
                start: try Self.time(in: item, forKey: .start),
                end: try Self.time(in: item, forKey: .end),
                roster: try item.decode([String].self, forKey: .roster)
            )
            if session.end < session.start {
                let path = ScheduleError.path(item.codingPath)
                throw ScheduleError(
                    code: .endBeforeStart,
                    path: path,
                    message: "\(path): end is before start (\(ISO8601Time.format(session.end)) < "
                        + "\(ISO8601Time.format(session.start))): fix the session's times"
                )
            }
            sessions.append(session)
        }
        self.init(room: room, timezone: timezone, policy: policy, sessions: sessions)
    }

    /// Writes the sessions-file form; a session's `room` is written only when it differs from the schedule's.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(room, forKey: .room)
        try container.encodeIfPresent(timezone, forKey: .timezone)
        try container.encode(policy, forKey: .policy)
        var list = container.nestedUnkeyedContainer(forKey: .sessions)
        for session in sessions {
            var item = list.nestedContainer(keyedBy: SessionKeys.self)
            try item.encode(session.id, forKey: .id)
            if session.room != room {
                try item.encode(session.room, forKey: .room)
            }
            try item.encode(session.group, forKey: .group)
            try item.encode(ISO8601Time.format(session.start), forKey: .start)
            try item.encode(ISO8601Time.format(session.end), forKey: .end)
            try item.encode(session.roster, forKey: .roster)
        }
    }

    /// Reads a sessions file.
    ///
    /// - Throws: `ScheduleError` naming the field and the fix: not JSON, a missing field (with its path), a
    ///   wrong type, a time that is not ISO 8601 with a time zone, a session ending before it starts, a
    ///   duplicate session id, a negative policy value.
    public static func decode(from data: Data) throws(ScheduleError) -> SessionSchedule {
        do {
            return try JSONDecoder().decode(SessionSchedule.self, from: data)
        } catch let error as ScheduleError {
            throw error
        } catch let error as DecodingError {
            throw ScheduleError(error, data: data)
        } catch {
            throw ScheduleError(code: .notJSON, path: "", message: "the schedule could not be read (\(error))")
        }
    }

    /// The sessions-file form, pretty-printed with sorted keys; `decode(from:)` reads it back unchanged.
    public func encode() -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        do {
            return try encoder.encode(self)
        } catch {
            // Only strings, finite numbers and arrays of them are written: encoding cannot fail.
            preconditionFailure("encoding a session schedule failed: \(error)")
        }
    }

    private static func time(
        in container: KeyedDecodingContainer<SessionKeys>,
        forKey key: SessionKeys
    ) throws -> Date {
        let text = try container.decode(String.self, forKey: key)
        if let date = ISO8601Time.parse(text) {
            return date
        }
        let path = ScheduleError.path(container.codingPath + [key])
        let message =
            ISO8601Time.parse(text + "Z") != nil
            ? "\(path): \"\(text)\" has no time zone: add Z for UTC or an offset such as +01:00"
            : "\(path): \"\(text)\" is not an ISO 8601 time such as 2026-11-23T08:00:00Z"
        throw ScheduleError(code: .invalidTime, path: path, message: message)
    }
}

import Attendance
public import Capture
import Foundation
import Signage

/// What `rollcall status` shows and `GET /status` answers: the running daemon as a technician needs it.
/// JSON with snake_case keys.
public struct KioskStatus: Codable, Sendable, Equatable {
    public var device: String
    public var room: String?
    public var startedAt: String
    public var uptimeSeconds: Double
    public var camera: Camera
    public var processing: Processing
    public var gallery: GallerySummary
    public var queue: Queue
    public var sync: SyncSummary
    /// The session running in the room now, if any.
    public var session: SessionSummary?
    /// The reason `/healthz` gives, or nil when healthy.
    public var problem: String?

    /// The camera (or the replayed file).
    public struct Camera: Codable, Sendable, Equatable {
        /// `starting`, `streaming`, `lost`, `reconnecting`, `stopped`, or `ended` (a replayed file).
        public var state: CameraState
        public var device: String
        public var node: String?
        public var format: String?
        /// Frames delivered per second over the last few seconds.
        public var fps: Double
        public var frames: Int
        public var drops: Int
        public var reconnects: Int
        public var lastError: String?

        enum CodingKeys: String, CodingKey {
            case state, device, node, format, fps, frames, drops, reconnects
            case lastError = "last_error"
        }
    }

    /// The vision pipeline.
    public struct Processing: Codable, Sendable, Equatable {
        public var frames: Int
        public var fps: Double
        public var decisions: Int
        public var lastDecisionAt: String?

        enum CodingKeys: String, CodingKey {
            case frames, fps, decisions
            case lastDecisionAt = "last_decision_at"
        }
    }

    /// The gallery the door matches against.
    public struct GallerySummary: Codable, Sendable, Equatable {
        public var version: Int64
        public var people: Int
        public var templates: Int
    }

    /// The outbox.
    public struct Queue: Codable, Sendable, Equatable {
        /// Committed, not yet acknowledged by the hub.
        public var pending: Int
        public var synced: Int
        public var rejected: Int
    }

    /// The hub.
    public struct SyncSummary: Codable, Sendable, Equatable {
        public var hub: String?
        public var online: Bool
        public var lastSuccess: String?
        public var lastError: String?
        public var clockOffsetSeconds: Double?

        enum CodingKeys: String, CodingKey {
            case hub, online
            case lastSuccess = "last_success"
            case lastError = "last_error"
            case clockOffsetSeconds = "clock_offset_seconds"
        }
    }

    /// A session, as the signage page and the status show it.
    public struct SessionSummary: Codable, Sendable, Equatable {
        public var id: String
        public var group: String
        public var start: String
        public var end: String
    }

    enum CodingKeys: String, CodingKey {
        case device, room, camera, processing, gallery, queue, sync, session, problem
        case startedAt = "started_at"
        case uptimeSeconds = "uptime_seconds"
    }

    /// The one-line `STATUS=` for `systemctl status`: camera and fps, queue, last sync, gallery.
    public var line: String {
        var camera = "camera \(self.camera.state.rawValue)"
        if self.camera.state == .streaming { camera += String(format: " %.0f fps", self.camera.fps) }
        let sync: String
        if self.sync.hub == nil {
            sync = "no hub"
        } else if let last = self.sync.lastSuccess {
            sync = (self.sync.online ? "synced " : "offline, last sync ") + last
        } else {
            sync = self.sync.online ? "not synced yet" : "offline, never synced"
        }
        return "\(camera); queue \(queue.pending); \(sync); gallery \(gallery.people) people (v\(gallery.version))"
    }
}

extension KioskStatus {
    /// The status as `/status` answers it.
    public var json: String { JSONLine.encode(self) }

    /// The page's `state` event for this status. Without a hub the door is offline by design; the page
    /// says so with the queue size.
    var pageState: PageState<SessionSummary> {
        PageState(
            online: sync.online, queue: queue.pending, session: session, room: room, camera: camera.state.rawValue)
    }
}

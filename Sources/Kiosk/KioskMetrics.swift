import Capture
import Foundation
public import Prometheus

/// The daemon's `/metrics` (Prometheus text format), through swift-prometheus.
public final class KioskMetrics: Sendable {
    public let registry = PrometheusCollectorRegistry()
    let cameraStreaming: Gauge
    let cameraFPS: Gauge
    let cameraFrames: Gauge
    let cameraDrops: Gauge
    let cameraReconnects: Gauge
    let processedFrames: Gauge
    let queuePending: Gauge
    let queueRejected: Gauge
    let galleryPeople: Gauge
    let galleryVersion: Gauge
    let syncOnline: Gauge
    let lastSync: Gauge
    let clockOffset: Gauge
    let uptime: Gauge
    let commitSeconds: DurationHistogram
    let commitFailures: Counter
    let reloads: Counter
    private let decisionKinds = [
        "checkin", "no_checkin", "entry", "exit", "rejected_badge", "unknown_face", "refused_face",
    ]
    private let decisions: [String: Counter]

    public init() {
        cameraStreaming = registry.makeGauge(
            descriptor: Self.name("camera_streaming", "1 while the camera (or replayed file) delivers frames"))
        cameraFPS = registry.makeGauge(descriptor: Self.name("camera_fps", "Frames per second the camera delivers"))
        cameraFrames = registry.makeGauge(
            descriptor: Self.name("camera_frames", "Frames delivered since the camera was last (re)started"))
        cameraDrops = registry.makeGauge(
            descriptor: Self.name("camera_dropped_frames", "Frames replaced by a newer one before processing"))
        cameraReconnects = registry.makeGauge(
            descriptor: Self.name("camera_reconnects", "Times the camera came back after being lost"))
        processedFrames = registry.makeGauge(
            descriptor: Self.name("processed_frames", "Frames the vision pipeline has processed"))
        queuePending = registry.makeGauge(
            descriptor: Self.name("queue_pending_events", "Committed events not yet acknowledged by the hub"))
        queueRejected = registry.makeGauge(
            descriptor: Self.name("queue_rejected_events", "Events the hub refused (kept for audit)"))
        galleryPeople = registry.makeGauge(descriptor: Self.name("gallery_people", "People in the door's gallery"))
        galleryVersion = registry.makeGauge(descriptor: Self.name("gallery_version", "The gallery's version"))
        syncOnline = registry.makeGauge(descriptor: Self.name("hub_online", "1 when the hub answered the last request"))
        lastSync = registry.makeGauge(
            descriptor: Self.name("hub_last_success_timestamp_seconds", "Unix time of the hub's last good answer"))
        clockOffset = registry.makeGauge(
            descriptor: Self.name("clock_offset_seconds", "The hub's clock minus this device's"))
        uptime = registry.makeGauge(descriptor: Self.name("uptime_seconds", "Seconds since the daemon started"))
        commitSeconds = registry.makeDurationHistogram(
            descriptor: Self.name("commit_seconds", "Time to commit a decision's event durably to the outbox"),
            buckets: [
                .milliseconds(1), .milliseconds(2), .milliseconds(5), .milliseconds(10), .milliseconds(25),
                .milliseconds(50), .milliseconds(100), .milliseconds(250),
            ])
        commitFailures = registry.makeCounter(
            descriptor: Self.name("commit_failures_total", "Decisions that could not be committed (not shown)"))
        reloads = registry.makeCounter(descriptor: Self.name("reloads_total", "Configuration reloads (SIGHUP)"))
        var decisions: [String: Counter] = [:]
        for kind in decisionKinds {
            decisions[kind] = registry.makeCounter(
                descriptor: Self.name("decisions_total", "Decisions made at the door"), labels: [("kind", kind)])
        }
        self.decisions = decisions
    }

    private static func name(_ metric: String, _ help: String) -> MetricNameDescriptor {
        MetricNameDescriptor(namespace: "rollcall", metricName: metric, unitName: "", helpText: help)
    }

    func countDecision(_ kind: String) { decisions[kind]?.increment() }

    /// Counts a face refused as a presentation attack, by the cue that refused it. A reason that is not a
    /// short snake_case name is counted as `other`, so that the label's values stay few.
    func countPresentationAttack(reason: String) {
        let name =
            reason.count <= 64 && !reason.isEmpty
                && reason.allSatisfy { ("a"..."z").contains($0) || ("0"..."9").contains($0) || $0 == "_" }
            ? reason : "other"
        // The registry hands back the same counter for the same name and label.
        registry.makeCounter(
            descriptor: Self.name("presentation_attacks_total", "Faces refused as presentation attacks, by reason"),
            labels: [("reason", name)]
        ).increment()
    }

    func update(from status: KioskStatus) {
        cameraStreaming.set(status.camera.state == .streaming ? 1.0 : 0.0)
        cameraFPS.set(status.camera.fps)
        cameraFrames.set(Double(status.camera.frames))
        cameraDrops.set(Double(status.camera.drops))
        cameraReconnects.set(Double(status.camera.reconnects))
        processedFrames.set(Double(status.processing.frames))
        queuePending.set(Double(status.queue.pending))
        queueRejected.set(Double(status.queue.rejected))
        galleryPeople.set(Double(status.gallery.people))
        galleryVersion.set(Double(status.gallery.version))
        syncOnline.set(status.sync.online ? 1.0 : 0.0)
        if let last = status.sync.lastSuccess, let date = ISO8601DateFormatter().date(from: last) {
            lastSync.set(date.timeIntervalSince1970)
        }
        clockOffset.set(status.sync.clockOffsetSeconds ?? 0)
        uptime.set(status.uptimeSeconds)
    }

    /// The text `/metrics` serves.
    public func text() -> String { registry.emitToString() }
}

import Foundation
import Hummingbird
import Prometheus
import SyncProtocol

/// The hub's `/metrics` (Prometheus text format, through swift-prometheus): requests by route group,
/// method and status, their latency, and what ingest made of the events. Each process counts its own:
/// with several hubs behind a load balancer, Prometheus scrapes each one and sums.
public final class HubMetrics: Sendable {
    let registry = PrometheusCollectorRegistry()
    private let started = Date()
    private let uptime: Gauge
    private let events: [String: Counter]
    private let doorAlerts: [String: Counter]
    private let reportsRunning: Gauge
    private let reportsWaiting: Gauge

    public init() {
        uptime = registry.makeGauge(
            descriptor: Self.name("hub_uptime_seconds", "Seconds since this hub process started"))
        var events: [String: Counter] = [:]
        for outcome in ["accepted", "duplicate", "rejected"] {
            events[outcome] = registry.makeCounter(
                descriptor: Self.name("hub_events_total", "Events received from doors, by what ingest made of them"),
                labels: [("outcome", outcome)])
        }
        self.events = events
        var doorAlerts: [String: Counter] = [:]
        for outcome in ["accepted", "duplicate"] {
            doorAlerts[outcome] = registry.makeCounter(
                descriptor: Self.name(
                    "hub_door_alerts_total",
                    "Door audit records (faces refused as presentation attacks) received, by what the hub made of them"),
                labels: [("outcome", outcome)])
        }
        self.doorAlerts = doorAlerts
        reportsRunning = registry.makeGauge(
            descriptor: Self.name("hub_reports_running", "Reports being computed now (at most --report-concurrency)"))
        reportsWaiting = registry.makeGauge(
            descriptor: Self.name("hub_reports_waiting", "Reports waiting for their turn"))
    }

    func setReports(_ counts: (running: Int, waiting: Int)) {
        reportsRunning.set(Double(counts.running))
        reportsWaiting.set(Double(counts.waiting))
    }

    /// PostgreSQL only: the pool's size and the statements or transactions that want a connection now
    /// (in use, and waiting for one when above the size).
    func setPool(size: Int, wanted: Int) {
        registry.makeGauge(descriptor: Self.name("hub_db_pool_size", "Connections the pool may open (--pool-size)"))
            .set(Double(size))
        registry.makeGauge(
            descriptor: Self.name(
                "hub_db_connections_wanted",
                "Database work under way: connections in use, and waiting when above the pool size")
        ).set(Double(wanted))
    }

    static func name(_ metric: String, _ help: String) -> MetricNameDescriptor {
        MetricNameDescriptor(namespace: "rollcall", metricName: metric, unitName: "", helpText: help)
    }

    /// The route group a path belongs to (a bounded label, unlike the path itself).
    static func group(_ path: String) -> String {
        for (prefix, group) in [
            ("/api/v1/device/", "device"), ("/api/v1/admin/", "admin"), ("/api/v1/reports/", "reports"),
            ("/api/v1/staff/", "staff"), ("/api/v1/public/", "public"), ("/reports/", "pages"),
        ] where path.hasPrefix(prefix) {
            return group
        }
        return path == "/healthz" || path == "/metrics" ? "operations" : "other"
    }

    func record(group: String, method: String, status: Int, seconds: Double) {
        registry.makeCounter(
            descriptor: Self.name("hub_requests_total", "Requests answered, by route group, method and status"),
            labels: [("group", group), ("method", method), ("status", "\(status)")]
        ).increment()
        registry.makeDurationHistogram(
            descriptor: Self.name("hub_request_seconds", "Time to answer a request, by route group"),
            labels: [("group", group)],
            buckets: [
                .milliseconds(1), .milliseconds(5), .milliseconds(10), .milliseconds(25), .milliseconds(50),
                .milliseconds(100), .milliseconds(250), .milliseconds(500), .seconds(1), .seconds(2.5),
            ]
        ).recordNanoseconds(Int64(seconds * 1e9))
    }

    func record(_ result: EventBatchResult) {
        events["accepted"]?.increment(by: Int64(result.accepted.count))
        events["duplicate"]?.increment(by: Int64(result.duplicate.count))
        events["rejected"]?.increment(by: Int64(result.rejected.count))
    }

    func record(_ result: DoorAuditBatchResult) {
        doorAlerts["accepted"]?.increment(by: Int64(result.accepted.count))
        doorAlerts["duplicate"]?.increment(by: Int64(result.duplicate.count))
    }

    /// The text `/metrics` serves.
    public func text() -> String {
        uptime.set(Date().timeIntervalSince(started))
        return registry.emitToString()
    }
}

/// Counts and times every request (outermost, so that it sees the status actually sent).
struct MetricsMiddleware<Context: RequestContext>: RouterMiddleware {
    let metrics: HubMetrics

    func handle(
        _ request: Request, context: Context, next: (Request, Context) async throws -> Response
    ) async throws -> Response {
        let start = ContinuousClock.now
        let response = try await next(request, context)
        let elapsed = ContinuousClock.now - start
        metrics.record(
            group: HubMetrics.group(request.uri.path), method: request.method.rawValue, status: response.status.code,
            seconds: Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18)
        return response
    }
}

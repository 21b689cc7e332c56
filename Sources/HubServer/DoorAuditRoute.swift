import Foundation
import Hub
import Hummingbird
import Logging
import SyncProtocol

extension HubServer {
    /// `POST /api/v1/device/audit`: a door's audit records (faces it refused as presentation attacks), for
    /// the door alerts page. Which door sent them, and its room, come from its token; the body is checked
    /// whole (`DoorAlertRules`), and a batch with anything wrong in it is answered 400 with nothing stored.
    static func addAuditRoute(
        _ device: RouterGroup<DeviceRequestContext>, storage: any HubStorage, configuration: HubServerConfiguration
    ) {
        device.post("audit") { request, context in
            // 100 records of 8 scores each are well under 64 KB.
            let batch: DoorAuditBatch = try await decodeBody(request, limit: 256 * 1024)
            let result = try await storage.recordDoorAlerts(batch, from: context.device, receivedAt: Date())
            configuration.metrics.record(result)
            if !result.accepted.isEmpty {
                context.logger.notice(
                    "door alerts: a door refused faces as presentation attacks",
                    metadata: [
                        "device": "\(context.device.id)", "room": "\(context.device.room)",
                        "accepted": "\(result.accepted.count)",
                    ])
            }
            return try json(result)
        }
    }
}

import Attendance
import Badges
import CQREncode
import Foundation
import Hub
import Hummingbird
import Recognition

/// Badge cards from the web app: a signed QR badge for a person (the way anyone without consent for face
/// check-in checks in), printed as a card. Signed with the hub's own key, which the doors already trust.
extension WebApp {
    /// How long a printed card is valid.
    static let cardValidity: TimeInterval = 365 * 86_400

    static func addBadgeRoutes(_ group: RouterGroup<WebRequestContext>, storage: any HubStorage) {
        group.get("people/:id/badge") { _, context in
            try requirePeople(context)
            let id = HubServer.parameter(context, "id")
            guard let person = try await storage.personRecord(id) else { throw HubServer.unknown("person", id) }
            let role = PersonRole(rawValue: person.role.rawValue) ?? .student
            let issuer = try await storage.hubBadgeIssuer()
            let now = Date()
            let badge: (payload: String, id: String)
            do {
                badge = try issuer.issue(subject: id, role: role, issued: now, expires: now + cardValidity)
            } catch {
                throw HubError(.badRequest, "no badge can be made for \(id.prefix(60)): \(error)")
            }
            let until = ISO8601Time.format(now + cardValidity).prefix(10)
            try await audit(
                storage, context, "change", "person:\(id)", "badge card issued: \(badge.id), until \(until)")
            return try page(
                "badge", title: "Badge card: \(person.name)", context: context,
                data: [
                    "name": person.name, "role": role.rawValue, "groups": person.groups.joined(separator: ", "),
                    "qr": try qrSVG(badge.payload), "badgeID": badge.id, "until": String(until), "path": path(id),
                ], current: "/people")
        }
    }

    /// A QR code of `payload` (error correction M, 4-module quiet zone) as an SVG: one path of squares.
    static func qrSVG(_ payload: String) throws(HubError) -> String {
        let bytes = Array(payload.utf8)
        guard let code = QRcode_encodeData(Int32(bytes.count), bytes, 0, QR_ECLEVEL_M) else {
            throw HubError(.internal, "the badge does not fit a QR code")
        }
        defer { QRcode_free(code) }
        let width = Int(code.pointee.width)
        let side = width + 8
        var path = ""
        for y in 0..<width {
            for x in 0..<width where code.pointee.data[y * width + x] & 1 != 0 {
                path += "M\(x + 4) \(y + 4)h1v1h-1z"
            }
        }
        return """
            <svg class="qr" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 \(side) \(side)" role="img" \
            aria-label="QR code of the badge" shape-rendering="crispEdges"><rect width="\(side)" height="\(side)" \
            fill="#fff"/><path d="\(path)" fill="#000"/></svg>
            """
    }
}

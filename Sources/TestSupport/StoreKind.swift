public import Foundation
public import Hub
public import Recognition

/// The hub's two stores: every storage test runs against both. PostgreSQL runs in a throwaway cluster
/// the tests start themselves (`PostgresCluster`), whenever its server is installed, and always under
/// CI (where a missing server fails the run).
public enum StoreKind: String, CaseIterable, Sendable, CustomStringConvertible {
    case sqlite, postgres

    public var description: String { rawValue }

    /// The stores that can run here.
    public static var available: [StoreKind] { PostgresCluster.enabled ? allCases : [.sqlite] }

    /// A new, empty store of this kind; its files (SQLite) go in `folder`.
    public func open(in folder: URL) async throws -> any HubStorage {
        switch self {
        case .sqlite:
            return try SQLiteHubStorage(path: folder.appendingPathComponent("hub.sqlite").path)
        case .postgres:
            let key = try PersonSealer.load(
                file: nil, database: folder.appendingPathComponent("hub").path, environment: [:])
            return try await PostgresHubStorage.open(
                url: try PostgresCluster.shared().database(), sealer: key, maximumConnections: 4)
        }
    }
}

extension AdminStorage {
    /// Adds or replaces a person as a test enrolls them: with a guardian's consent recorded when the entry
    /// has templates (the hub refuses templates without it).
    @discardableResult
    public func upsertConsented(_ person: GalleryDocument.Entry) async throws(HubError) -> Int64 {
        let consent =
            person.templates.isEmpty
            ? nil
            : ConsentRecord(
                person: person.id, state: .granted, givenBy: .guardian, at: Date(), evidence: "test consent form",
                recordedBy: "cli")
        return try await upsertPerson(person, consent: consent)
    }
}

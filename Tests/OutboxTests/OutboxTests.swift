import Attendance
import Foundation
import GRDB
import InMemoryLogging
import Logging
import Outbox
import SyncProtocol
import TestSupport
import Testing

/// A check-in, an entry and an exit at fixed times.
let start = Date(timeIntervalSince1970: 1_795_420_800)
func checkin(_ person: String, at seconds: Double = 60) -> AttendanceEvent {
    .checkin(session: "s-1", person: person, at: start + seconds, status: .present, minutesLate: 0)
}
let face = EventEvidence(method: .face, distance: 0.33, margin: 0.5, confidence: 0.9, model: "dlib_resnet_v1")

func temporaryOutboxPath() throws -> (folder: URL, path: String) {
    let folder = try TestResources.temporaryDirectory()
    return (folder, folder.appendingPathComponent("outbox.sqlite").path)
}

struct OutboxTests {
    @Test("a committed event is read back whole, in order, after the outbox is opened again")
    func persistence() async throws {
        let (folder, path) = try temporaryOutboxPath()
        defer { try? FileManager.default.removeItem(at: folder) }
        var ids: [String] = []
        do {
            let outbox = try Outbox(path: path, deviceID: "door-b12")
            for index in 0..<5 {
                let queued = try await outbox.enqueue(checkin("p-\(index)", at: Double(index)), evidence: face)
                ids.append(queued.id)
            }
            try await outbox.enqueue(.entry(person: "v-ada", at: start + 10), evidence: EventEvidence(method: .qr))
            try await outbox.enqueue(
                .exit(person: "v-ada", at: start + 70.5, entryAt: start + 10), evidence: EventEvidence(method: .qr))
        }
        let reopened = try Outbox(path: path, deviceID: "door-b12")
        let pending = try await reopened.pending()
        #expect(pending.count == 7)
        #expect(Array(pending.prefix(5).map(\.id)) == ids)
        let first = try #require(pending.first)
        #expect(first.kind == "checkin" && first.person == "p-0" && first.session == "s-1")
        #expect(first.at == start.milliseconds && first.status == "present" && first.minutesLate == 0)
        #expect(first.method == "face" && first.source == "signage:door-b12" && first.model == "dlib_resnet_v1")
        #expect(abs((first.distance ?? 0) - 0.33) < 1e-6 && abs((first.margin ?? 0) - 0.5) < 1e-6)
        let exit = try #require(pending.last)
        #expect(exit.kind == "exit" && exit.durationMs == 60_500 && exit.entryAt == (start + 10).milliseconds)
        #expect(exit.attendanceEvent == .exit(person: "v-ada", at: start + 70.5, entryAt: start + 10))
        #expect(try await reopened.pending(limit: 2).map(\.person) == ["p-0", "p-1"])
        let durability = try await reopened.durability()
        #expect(durability.journalMode == "wal" && durability.synchronous == 2)
    }

    @Test("synced, rejected and pending events: counts, no resending, and only old synced ones pruned")
    func deliveryStates() async throws {
        let (folder, path) = try temporaryOutboxPath()
        defer { try? FileManager.default.removeItem(at: folder) }
        let outbox = try Outbox(path: path, deviceID: "d")
        var ids: [String] = []
        for index in 0..<6 { ids.append(try await outbox.enqueue(checkin("p-\(index)"), evidence: face).id) }
        try await outbox.countAttempt(Array(ids.prefix(3)))
        try await outbox.markSynced(Array(ids.prefix(3)), at: start + 100)
        try await outbox.markRejected(ids[3], reason: "unknown session s-1")
        #expect(try await outbox.counts() == [.pending: 2, .synced: 3, .rejected: 1])
        #expect(try await outbox.pending().map(\.id) == Array(ids.suffix(2)))
        let all = try await outbox.allEvents()
        #expect(all[3].rejectReason == "unknown session s-1" && all[0].attempts == 1 && all[0].syncedAt != nil)
        #expect(try await outbox.prune(syncedBefore: start + 100) == 0)
        #expect(try await outbox.prune(syncedBefore: start + 101) == 3)
        #expect(try await outbox.counts() == [.pending: 2, .synced: 0, .rejected: 1])
    }

    @Test("the attendance rules rebuilt from the outbox's history decide as before the restart")
    func restart() async throws {
        let (folder, path) = try temporaryOutboxPath()
        defer { try? FileManager.default.removeItem(at: folder) }
        let schedule = SessionSchedule(
            room: "B12",
            sessions: [
                Session(id: "s-1", room: "B12", group: "7B", start: start, end: start + 2700, roster: ["p-1"])
            ])
        var book = AttendanceBook(schedule: schedule)
        let outbox = try Outbox(path: path, deviceID: "d")
        for decision in [
            book.studentIdentified(person: "p-1", at: start + 30),
            book.volunteerScanned(person: "v-ada", at: start + 40),
        ] {
            let event = try #require(decision.event)
            try await outbox.enqueue(event, evidence: face)
        }
        var rebuilt = AttendanceBook(schedule: schedule, history: try await Outbox(path: path, deviceID: "d").history())
        #expect(rebuilt == book)
        #expect(rebuilt.studentIdentified(person: "p-1", at: start + 90).kind == .alreadyCheckedIn)
        #expect(rebuilt.volunteerScanned(person: "v-ada", at: start + 400).kind == .exit)
    }

    @Test("the cached manifest (the last one written) and refused badges are kept")
    func stateAndAudit() async throws {
        let (folder, path) = try temporaryOutboxPath()
        defer { try? FileManager.default.removeItem(at: folder) }
        let outbox = try Outbox(path: path, deviceID: "d")
        let one = DeviceManifest(
            schedule: SessionSchedule(room: "B12", sessions: []), galleryVersion: 1, badgeKeysVersion: 1)
        var two = one
        two.galleryVersion = 2
        try await outbox.cacheManifest(one, etag: "\"one\"")
        try await outbox.cacheManifest(two, etag: "\"two\"")
        #expect(try await outbox.cachedManifest() == CachedManifest(manifest: two, etag: "\"two\""))
        #expect(try await outbox.cachedBadgeKeys() == nil)
        try await outbox.recordRejectedScan(
            RejectedScan(
                at: start, reason: "bad_signature", claimedSubject: "v-mallory",
                payload: String(repeating: "A", count: 300)))
        let scans = try await outbox.rejectedScans()
        #expect(scans.count == 1 && scans[0].reason == "bad_signature" && scans[0].payloadPrefix.count == 48)
    }

    @Test("an outbox in a folder that does not exist is a clear error")
    func missingFolder() throws {
        #expect {
            _ = try Outbox(path: "/nonexistent-rollcall/outbox.sqlite", deviceID: "d")
        } throws: { error in
            "\(error)".contains("cannot create the outbox /nonexistent-rollcall/outbox.sqlite")
        }
    }

    @Test("event ids are UUIDv7: version 7, the RFC variant, the time in front, unique")
    func eventIDs() {
        let ids = (0..<1000).map { EventID.make(at: start + Double($0) / 10) }
        #expect(Set(ids).count == 1000)
        #expect(ids.allSatisfy { $0.count == 36 && Array($0)[14] == "7" && "89ab".contains(Array($0)[19]) })
        #expect(ids == ids.sorted(), "ids made later sort later")
        let milliseconds = UInt64(ids[0].replacingOccurrences(of: "-", with: "").prefix(12), radix: 16)
        #expect(milliseconds == UInt64(start.milliseconds))
    }
}

struct OutboxRecoveryTests {
    /// An outbox whose log lines are kept.
    func logged() -> (Logger, InMemoryLogHandler) {
        let handler = InMemoryLogHandler()
        return (Logger(label: "test", factory: { _ in handler }), handler)
    }

    @Test("a file that is not a database is moved aside loudly and a new outbox works")
    func notADatabase() async throws {
        let (folder, path) = try temporaryOutboxPath()
        defer { try? FileManager.default.removeItem(at: folder) }
        try Data(repeating: 0x5A, count: 10_000).write(to: URL(fileURLWithPath: path))
        let (logger, handler) = logged()
        let outbox = try Outbox(path: path, deviceID: "d", logger: logger)
        try await outbox.enqueue(checkin("p-1"), evidence: face)
        #expect(try await outbox.counts()[.pending] == 1)
        // Nothing of it can be read, nor rewritten to erase a cached gallery: it is deleted, and the
        // marker says its recovery is done.
        let aside = try FileManager.default.contentsOfDirectory(atPath: folder.path).filter { $0.contains(".corrupt-") }
        #expect(aside.count == 1 && aside[0].hasSuffix(".recovered"), "\(aside)")
        #expect(handler.entries.filter { $0.level == .critical }.count == 3)
        #expect(handler.entries.contains { "\($0.message)".contains("corrupt") })
        #expect(handler.entries.contains { "\($0.message)".contains("so it was deleted") })
    }

    @Test("a database with damaged pages: moved aside, every readable event recovered, the loss counted")
    func damagedPages() async throws {
        let (folder, path) = try temporaryOutboxPath()
        defer { try? FileManager.default.removeItem(at: folder) }
        var ids = Set<String>()
        do {
            let outbox = try Outbox(path: path, deviceID: "d")
            for index in 0..<400 { ids.insert(try await outbox.enqueue(checkin("p-\(index)"), evidence: face).id) }
            for index in 0..<3 {
                try await outbox.recordRejectedScan(
                    RejectedScan(
                        at: start + Double(index), reason: "bad_signature", claimedSubject: "v-\(index)",
                        payload: "RC1.forged-\(index)"))
            }
        }
        // Overwrite two pages in the middle of the file (the event table's leaves are most of it).
        let handle = try FileHandle(forUpdating: URL(fileURLWithPath: path))
        let size = try handle.seekToEnd()
        try handle.seek(toOffset: size / 2 - size / 2 % 4096)
        handle.write(Data(repeating: 0xC3, count: 8192))
        try handle.close()

        let (logger, handler) = logged()
        let outbox = try Outbox(path: path, deviceID: "d", logger: logger)
        let recovered = try await outbox.allEvents()
        #expect(recovered.count > 200 && recovered.count < 400, "\(recovered.count) recovered")
        #expect(recovered.allSatisfy { ids.contains($0.id) }, "nothing invented")
        #expect(Set(recovered.map(\.id)).count == recovered.count, "nothing doubled")
        let summary = try #require(handler.entries.last { "\($0.message)" == "outbox recovery finished" })
        #expect(summary.metadata["events_recovered"] == "\(recovered.count)")
        #expect(summary.metadata["rows_unreadable"] == "\(400 - recovered.count)", "\(summary.metadata)")
        // The refused badges' audit rows come across too (they were dropped before).
        #expect(try await outbox.rejectedScans().map(\.claimedSubject) == ["v-0", "v-1", "v-2"])
        #expect(summary.metadata["refused_badges_recovered"] == "3")
        // The new outbox is healthy and takes new events.
        try await outbox.enqueue(checkin("p-new"), evidence: face)
        #expect(try await outbox.counts()[.pending] == recovered.count + 1)
    }
}

struct OutboxUnfinishedRecoveryTests {
    @Test("a recovery cut short (the disk filled while copying) is finished at the next start, once")
    func finishedLater() async throws {
        let (folder, path) = try temporaryOutboxPath()
        defer { try? FileManager.default.removeItem(at: folder) }
        // What a cut-short recovery leaves: the damaged file moved aside, no ".recovered" mark beside it.
        let aside = path + ".corrupt-2026-12-03T080000Z"
        var ids = Set<String>()
        do {
            let old = try Outbox(path: aside, deviceID: "d")
            for index in 0..<400 { ids.insert(try await old.enqueue(checkin("p-\(index)"), evidence: face).id) }
            try await old.recordRejectedScan(
                RejectedScan(at: start, reason: "expired", claimedSubject: "v-1", payload: "RC1.old"))
            try await old.checkpoint()
        }
        let handle = try FileHandle(forUpdating: URL(fileURLWithPath: aside))
        let size = try handle.seekToEnd()
        try handle.seek(toOffset: size / 2 - size / 2 % 4096)
        handle.write(Data(repeating: 0xC3, count: 4096))
        try handle.close()
        let outbox = try Outbox(path: path, deviceID: "d")
        let recovered = try await outbox.allEvents()
        #expect(recovered.count > 300 && recovered.allSatisfy { ids.contains($0.id) }, "\(recovered.count)")
        #expect(try await outbox.rejectedScans().map(\.claimedSubject) == ["v-1"])
        #expect(FileManager.default.fileExists(atPath: aside + ".recovered"))
        let again = try Outbox(path: path, deviceID: "d")
        #expect(try await again.allEvents().count == recovered.count, "a finished recovery is not run again")
        #expect(try await again.rejectedScans().count == 1)
    }
}

struct OutboxDiskFullTests {
    @Test(
        "a full disk (the outbox at its size cap) is an error that says so; the outbox keeps working once space is made"
    )
    func diskFull() async throws {
        let (folder, path) = try temporaryOutboxPath()
        defer { try? FileManager.default.removeItem(at: folder) }
        let outbox = try Outbox(path: path, deviceID: "d", maximumBytes: 128 * 1024)
        var committed: [String] = []
        // Some events the server has already acknowledged.
        for index in 0..<200 { committed.append(try await outbox.enqueue(checkin("p-\(index)"), evidence: face).id) }
        try await outbox.markSynced(committed, at: start)
        var failure: OutboxError?
        for index in 200..<5000 {
            do {
                committed.append(try await outbox.enqueue(checkin("p-\(index)"), evidence: face).id)
            } catch {
                failure = error
                break
            }
        }
        let error = try #require(failure, "the cap must be reached")
        #expect(error.isDiskFull && error.message.contains("is full"), "\(error.message)")
        // Every event committed before the disk filled is there; the failed one is not.
        #expect(try await outbox.allEvents().map(\.id) == committed)
        // Pruning what the server has acknowledged makes room, and commits succeed again.
        #expect(try await outbox.prune(syncedBefore: start + 1) == 200)
        #expect(try await outbox.enqueue(checkin("p-after"), evidence: face).person == "p-after")
    }
}

struct OutboxOpenErrorTests {
    @Test("a locked outbox is an error that says so, not corruption: the file stays where it is, with its events")
    func locked() async throws {
        let (folder, path) = try temporaryOutboxPath()
        defer { try? FileManager.default.removeItem(at: folder) }
        do {
            let outbox = try Outbox(path: path, deviceID: "d")
            try await outbox.enqueue(checkin("p-1"), evidence: face)
        }
        // Another process holds the file exclusively (a second daemon, a technician's sqlite3 shell).
        var configuration = Configuration()
        configuration.prepareDatabase { db in try db.execute(sql: "PRAGMA locking_mode = EXCLUSIVE") }
        let holder = try DatabaseQueue(path: path, configuration: configuration)
        try await holder.write { db in try db.execute(sql: "CREATE TABLE IF NOT EXISTS lockHolder (x)") }
        let error = #expect(throws: OutboxError.self) { _ = try Outbox(path: path, deviceID: "d") }
        #expect(error?.message.contains("locked") == true, "\(error?.message ?? "")")
        let aside = try FileManager.default.contentsOfDirectory(atPath: folder.path).filter { $0.contains(".corrupt-") }
        #expect(aside.isEmpty, "a locked file is not moved aside")
        try holder.close()
        let reopened = try Outbox(path: path, deviceID: "d")
        #expect(try await reopened.allEvents().map(\.person) == ["p-1"])
    }
}

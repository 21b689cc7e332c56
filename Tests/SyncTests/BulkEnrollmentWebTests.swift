import AsyncHTTPClient
import Attendance
import Foundation
import Hub
import NIOCore
import NIOHTTP1
import Recognition
import SyncProtocol
import Synchronization
import TestSupport
import Testing
import ZIPFoundation

@testable import HubServer

/// A photo checker without a vision core: a "photo" is the text `face:N` (one face, whose encoding is the
/// N-th unit vector), `faces:2` (two faces) or anything else (no face). A face already in the gallery as
/// someone else is refused, as the real checker refuses it.
final class FakePhotoChecker: PhotoChecker {
    /// The photos examined, in order.
    let examined = Mutex<[String]>([])
    /// A photo whose check waits until `release()` (the streaming test holds a row with it).
    let heldPhoto: String?
    private let held = Mutex<CheckedContinuation<Void, Never>?>(nil)
    private let released = Mutex(false)

    init(holding photo: String? = nil) { heldPhoto = photo }

    static func encoding(_ face: Int) -> [Float] {
        var values = [Float](repeating: 0, count: 128)
        values[face % 128] = 1
        return values
    }

    func check(_ photo: Data, person: String, gallery: GalleryDocument) async -> Result<[Float], PhotoRefusal> {
        let text = String(decoding: photo, as: UTF8.self)
        examined.withLock { $0.append(text) }
        if text == heldPhoto {
            await withCheckedContinuation { continuation in
                let go = released.withLock { released in
                    if !released { held.withLock { $0 = continuation } }
                    return released
                }
                if go { continuation.resume() }
            }
        }
        guard text.hasPrefix("face:"), let face = Int(text.dropFirst(5)) else {
            return .failure(
                PhotoRefusal(
                    text == "faces:2"
                        ? "2 faces found: use a photo with exactly one face"
                        : "no face found: use a photo where the face is clearly visible"))
        }
        let encoding = Self.encoding(face)
        for other in gallery.people where other.id != person {
            if other.templates.contains(where: { $0.encoding == encoding }) {
                return .failure(PhotoRefusal("this face is already enrolled as \(other.id) (distance 0.000)"))
            }
        }
        return .success(encoding)
    }

    /// Lets the held photo's check finish.
    func release() {
        released.withLock { $0 = true }
        held.withLock { continuation in
            continuation?.resume()
            continuation = nil
        }
    }
}

/// A ZIP made with ZIPFoundation (deflated, or stored).
func makeZIP(_ files: [(String, Data)], deflate: Bool = true) throws -> Data {
    let archive = try Archive(data: Data(), accessMode: .create)
    for (path, data) in files {
        if path.hasSuffix("/") {
            try archive.addEntry(
                with: path, type: .directory, uncompressedSize: Int64(0), provider: { (_: Int64, _: Int) in Data() })
            continue
        }
        try archive.addEntry(
            with: path, type: .file, uncompressedSize: Int64(data.count), compressionMethod: deflate ? .deflate : .none,
            provider: { position, size in data.subdata(in: Int(position)..<Int(position) + size) })
    }
    return try #require(archive.data)
}

/// `data` with the 32-bit little-endian value at `offset` replaced.
func patched(_ data: Data, at offset: Int, _ value: UInt32) -> Data {
    var copy = data
    for index in 0..<4 { copy[copy.startIndex + offset + index] = UInt8(truncatingIfNeeded: value >> (8 * index)) }
    return copy
}

/// The offsets of a 4-byte signature in `data`.
func offsets(of signature: [UInt8], in data: Data) -> [Int] {
    let bytes = [UInt8](data)
    return (0..<max(0, bytes.count - 3)).filter { Array(bytes[$0..<$0 + 4]) == signature }
}

extension Browser {
    /// A `multipart/form-data` POST, as a browser sends a form with files.
    func upload(
        _ path: String, fields: [(String, String)], files: [(field: String, name: String, data: Data)],
        accept: String = "application/x-ndjson"
    ) async throws -> Answer {
        var request = HTTPClientRequest(url: base + path)
        request.method = .POST
        let boundary = "----rollcall-test-\(UUID().uuidString)"
        var body = Data()
        for (name, value) in fields {
            body.append(
                Data("--\(boundary)\r\nContent-Disposition: form-data; name=\"\(name)\"\r\n\r\n\(value)\r\n".utf8))
        }
        for file in files {
            body.append(
                Data(
                    ("--\(boundary)\r\nContent-Disposition: form-data; name=\"\(file.field)\"; filename=\"\(file.name)\"\r\n"
                        + "Content-Type: application/octet-stream\r\n\r\n").utf8))
            body.append(file.data)
            body.append(Data("\r\n".utf8))
        }
        body.append(Data("--\(boundary)--\r\n".utf8))
        request.headers.add(name: "Content-Type", value: "multipart/form-data; boundary=\(boundary)")
        request.headers.add(name: "Accept", value: accept)
        request.headers.add(name: "Cookie", value: cookies.map { "\($0.key)=\($0.value)" }.joined(separator: "; "))
        request.body = .bytes(ByteBuffer(bytes: body))
        let response = try await client.execute(request, timeout: .seconds(60))
        let text = try await response.body.collect(upTo: 16 << 20)
        return Answer(status: Int(response.status.code), text: String(buffer: text), headers: response.headers)
    }

    /// A bulk enrollment with the session's CSRF token.
    func bulk(
        csv: String, zip: Data?, replace: Bool = false, accept: String = "application/x-ndjson", csrf: Bool = true
    ) async throws -> Answer {
        var fields: [(String, String)] = []
        if csrf { fields.append(("csrf", try await self.csrf("/people"))) }
        if replace { fields.append(("replace", "1")) }
        var files: [(field: String, name: String, data: Data)] = [("csv", "people.csv", Data(csv.utf8))]
        if let zip { files.append(("photos", "photos.zip", zip)) }
        return try await upload("/people/bulk", fields: fields, files: files, accept: accept)
    }
}

/// The JSON lines of a streamed report.
func reportLines(_ text: String) throws -> [[String: Any]] {
    try text.split(separator: "\n").map {
        try #require(try JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any])
    }
}

struct BulkEnrollmentWebTests {
    static let header = "id,name,role,groups,photos,consent,evidence\n"

    static func withBulkHub(
        _ checker: FakePhotoChecker, limits: BulkLimits = BulkLimits(),
        _ body: @escaping @Sendable (any HubStorage, Browser, Int) async throws -> Void
    ) async throws {
        let configure: (inout HubServerConfiguration) -> Void = {
            $0.web.photos = checker
            $0.web.bulk = limits
        }
        try await WebAppTests.withHub(configure: configure) { store, port in
            let browser = Browser(port: port)
            #expect(try await browser.signIn("sec", password("sec")).status == 303)
            try await body(store, browser, port)
        }
    }

    @Test("a CSV and a ZIP enroll each row as the command line does and report it, one JSON line per row")
    func enrollsAndReports() async throws {
        let checker = FakePhotoChecker()
        try await Self.withBulkHub(checker) { store, browser, _ in
            let csv =
                Self.header + """
                    n-1,Nia One,student,7B;Chess,a.jpg;class/b.jpg,guardian,form 2026-51
                    n-2,Noor Two,student,7B,c.jpg,self,form 2026-52
                    n-3,Nat Three,student,7B,d.jpg,,
                    n-4,Ned Four,student,7B,missing.jpg,guardian,form 2026-54
                    n-5,Nell Five,student,7B,a.jpg;e.jpg,guardian,form 2026-55
                    v-2,Val Two,volunteer,,,,
                    ,No Id,student,7B,a.jpg,,
                    n-6,Nico Six,teacher,7B,,,
                    n-7,Nina Seven,student,7B,f.jpg,guardian,
                    """
            let zip = try makeZIP([
                ("class/", Data()), ("a.jpg", Data("face:1".utf8)), ("class/b.jpg", Data("face:2".utf8)),
                ("c.jpg", Data("face:1".utf8)), ("d.jpg", Data("face:4".utf8)), ("e.jpg", Data("faces:2".utf8)),
                ("f.jpg", Data("face:6".utf8)), ("__MACOSX/._a.jpg", Data("face:9".utf8)),
            ])
            let answer = try await browser.bulk(csv: csv, zip: zip)
            #expect(answer.status == 200)
            #expect(answer.headers.first(name: "Content-Type")?.hasPrefix("application/x-ndjson") == true)
            #expect(answer.headers.first(name: "X-Accel-Buffering") == "no")
            let lines = try reportLines(answer.text)
            try #require(lines.count == 11, "start, 9 rows, summary: \(answer.text)")
            #expect(lines[0]["type"] as? String == "start" && lines[0]["rows"] as? Int == 9)
            let rows = lines.dropFirst().prefix(9).map { $0 }
            #expect(rows.map { $0["row"] as? Int } == Array(1...9))
            func text(_ index: Int) -> String { rows[index]["text"] as? String ?? "" }
            #expect(text(0) == "line 2 n-1: 2 of 2 photos enrolled")
            #expect(
                rows[0]["outcome"] as? String == "stored" && rows[0]["consent"] as? String == "guardian (form 2026-51)")
            // The gallery is kept up to date between rows: n-2's photo is n-1's face.
            #expect(
                text(1)
                    == "line 3 n-2: nothing stored; refused c.jpg: this face is already enrolled as n-1 (distance 0.000)"
            )
            #expect(
                text(2)
                    == "line 4 n-3: nothing stored; refused person n-3 has no consent on record for face check-in: "
                    + "record a guardian's (or their own) consent first, or check them in by badge")
            #expect(text(3) == "line 5 n-4: nothing stored; refused missing.jpg: not in the ZIP")
            #expect(
                text(4)
                    == "line 6 n-5: nothing stored; refused a.jpg: this face is already enrolled as n-1 "
                    + "(distance 0.000); e.jpg: 2 faces found: use a photo with exactly one face")
            #expect(rows[4]["outcome"] as? String == "refused")
            #expect(text(5) == "line 7 v-2: 0 of 0 photos enrolled" && rows[5]["outcome"] as? String == "stored")
            #expect(text(6) == "line 8: refused: id and name are required, role is student, volunteer or staff")
            #expect(text(7) == "line 9: refused: id and name are required, role is student, volunteer or staff")
            #expect(
                text(8)
                    == "line 10: refused: consent needs its evidence: the reference of the signed form or message")
            let summary = try #require(lines.last)
            #expect(summary["type"] as? String == "summary")
            // Problems as the command line counts them: n-2 2, n-3 2, n-4 2, n-5 3, three invalid rows 3.
            #expect(summary["text"] as? String == "2 of 9 people stored, 12 problems")
            #expect(summary["checked"] as? Int == 5)
            let csvReport = try #require(summary["csv"] as? String)
            #expect(csvReport.hasPrefix("line,id,name,outcome,enrolled,photos,consent recorded,refused\r\n"))
            #expect(csvReport.contains("5,n-4,Ned Four,refused,0,1,,missing.jpg: not in the ZIP\r\n"))
            // No photo of a row without consent is examined; the __MACOSX copy is not a photo.
            #expect(checker.examined.withLock { $0 } == ["face:1", "face:2", "face:1", "face:1", "faces:2"])
            // The store holds exactly what was accepted.
            let people = Dictionary(uniqueKeysWithValues: try await store.people().map { ($0.person.id, $0) })
            #expect(people["n-1"]?.templates == 2 && people["n-1"]?.consent == .granted)
            #expect(people["n-1"]?.person.groups == ["7B", "Chess"])
            #expect(people["v-2"]?.templates == 0 && people["v-2"]?.person.role == .volunteer)
            for refused in ["n-2", "n-3", "n-4", "n-5", "n-6", "n-7"] { #expect(people[refused] == nil, "\(refused)") }
            let history = try await store.consentHistory("n-1")
            #expect(history.map(\.recordedBy) == ["user:sec"] && history.first?.evidence == "form 2026-51")
            let gallery = try await store.galleryDelta(since: 0).upserts.first { $0.id == "n-1" }
            #expect(gallery?.templates.map(\.source) == ["a.jpg", "class/b.jpg"])
            let audit = try await store.auditEntries(from: .distantPast, to: .distantFuture, limit: 1000)
            #expect(
                audit.contains {
                    $0.actor == "user:sec" && $0.action == "change" && $0.subject == "person:n-1"
                        && $0.detail == "bulk enrollment, line 2: 2 face templates enrolled"
                })
            #expect(audit.contains { $0.action == "consent" && $0.subject == "person:n-1" })
            #expect(audit.contains { $0.subject == "person:v-2" && $0.detail.hasSuffix("stored without photos") })
            #expect(
                audit.contains {
                    $0.subject == "people"
                        && $0.detail
                            == "bulk enrollment from people.csv and photos.zip: 2 of 9 people stored, 12 problems"
                })
        }
    }

    @Test("without the page's script the same form answers with the report page, filled in row by row")
    func reportPage() async throws {
        let checker = FakePhotoChecker()
        try await Self.withBulkHub(checker) { store, browser, _ in
            let csv = Self.header + "n-1,Nia <One>,student,7B,a.jpg,guardian,form 1\nn-2,Noor,student,7B,b.jpg,,\n"
            let zip = try makeZIP([("a.jpg", Data("face:1".utf8)), ("b.jpg", Data("face:2".utf8))])
            let answer = try await browser.bulk(
                csv: csv, zip: zip, accept: "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8")
            #expect(answer.status == 200)
            #expect(answer.headers.first(name: "Content-Type")?.hasPrefix("text/html") == true)
            #expect(answer.headers.first(name: "Content-Security-Policy") != nil)
            let page = answer.text
            #expect(page.contains("<title>Bulk enrollment · rollcall</title>") && page.contains("</html>"))
            #expect(page.contains("<td>n-1</td><td>Nia &lt;One&gt;</td><td>stored</td><td>1 of 1</td>"))
            #expect(page.contains("<tr class=\"refused\"><td>3</td><td>n-2</td>"))
            #expect(page.contains("1 of 2 people stored, 2 problems."))
            #expect(
                page.contains("download=\"bulk-enrollment-report.csv\" href=\"data:text/csv;charset=utf-8,line%2Cid"))
            #expect(try await store.people().first { $0.person.id == "n-1" }?.templates == 1)
        }
    }

    @Test("the report streams: a row's line reaches the browser while the next row's photo is being checked")
    func streams() async throws {
        let checker = FakePhotoChecker(holding: "face:2")
        try await Self.withBulkHub(checker) { _, browser, _ in
            let csv = Self.header + "n-1,One,student,7B,a.jpg,guardian,f1\nn-2,Two,student,7B,b.jpg,guardian,f2\n"
            let zip = try makeZIP([("a.jpg", Data("face:1".utf8)), ("b.jpg", Data("face:2".utf8))])
            var request = HTTPClientRequest(url: browser.base + "/people/bulk")
            request.method = .POST
            let token = try await browser.csrf("/people")
            let boundary = "b-\(UUID().uuidString)"
            var body = Data("--\(boundary)\r\nContent-Disposition: form-data; name=\"csrf\"\r\n\r\n\(token)\r\n".utf8)
            for (field, name, data) in [("csv", "people.csv", Data(csv.utf8)), ("photos", "photos.zip", zip)] {
                body.append(
                    Data(
                        "--\(boundary)\r\nContent-Disposition: form-data; name=\"\(field)\"; filename=\"\(name)\"\r\n\r\n"
                            .utf8))
                body.append(data)
                body.append(Data("\r\n".utf8))
            }
            body.append(Data("--\(boundary)--\r\n".utf8))
            request.headers.add(name: "Content-Type", value: "multipart/form-data; boundary=\(boundary)")
            request.headers.add(name: "Accept", value: "application/x-ndjson")
            request.headers.add(
                name: "Cookie", value: browser.cookies.map { "\($0.key)=\($0.value)" }.joined(separator: "; "))
            request.body = .bytes(ByteBuffer(bytes: body))
            // Should the hub hold the lines back, the held check is let go after a while and the test fails.
            let watchdog = Task {
                try await Task.sleep(for: .seconds(20))
                checker.release()
            }
            defer { watchdog.cancel() }
            let response = try await browser.client.execute(request, timeout: .seconds(60))
            var received = ""
            var sawRowBeforeRelease = false
            for try await chunk in response.body {
                received += String(buffer: chunk)
                // Row 2 cannot be done before its photo's check is let go: row 1's line alone shows it streams.
                if !sawRowBeforeRelease, received.contains("\"type\":\"row\"") {
                    sawRowBeforeRelease = !received.contains("\"row\":2")
                    checker.release()
                }
            }
            #expect(sawRowBeforeRelease, "row 1's line arrived while row 2's photo was still being checked")
            let lines = try reportLines(received)
            #expect(lines.last?["text"] as? String == "2 of 2 people stored, 0 problems")
        }
    }

    @Test("re-enrollment keeps the old templates unless replacing, and replaces them only for an accepted photo")
    func replacing() async throws {
        let checker = FakePhotoChecker()
        try await Self.withBulkHub(checker) { store, browser, _ in
            func templates() async throws -> [[Float]] {
                try await store.galleryDelta(since: 0).upserts.first { $0.id == "p-3" }?.templates.map(\.encoding) ?? []
            }
            let old = try await templates()
            #expect(old.count == 1)
            // p-3's consent is on record (granted when the test's hub was made); every new photo fails.
            let failing = try await browser.bulk(
                csv: Self.header + "p-3,p-3,student,7B,two.jpg;none.jpg,,\n",
                zip: try makeZIP([("two.jpg", Data("faces:2".utf8)), ("none.jpg", Data("blank".utf8))]),
                replace: true)
            #expect(try reportLines(failing.text)[1]["outcome"] as? String == "refused")
            #expect(try await templates() == old, "all new photos refused: the old template stays")
            // Without photos, replace changes no template either.
            _ = try await browser.bulk(csv: Self.header + "p-3,Pia Three,student,7B,,,\n", zip: nil, replace: true)
            #expect(try await templates() == old)
            #expect(try await store.personRecord("p-3")?.name == "Pia Three")
            // One accepted photo out of two: it replaces the old template.
            let one = try await browser.bulk(
                csv: Self.header + "p-3,p-3,student,7B,good.jpg;two.jpg,,\n",
                zip: try makeZIP([("good.jpg", Data("face:33".utf8)), ("two.jpg", Data("faces:2".utf8))]),
                replace: true)
            let row = try reportLines(one.text)[1]
            #expect(row["outcome"] as? String == "partly" && row["enrolled"] as? Int == 1)
            #expect(try await templates() == [FakePhotoChecker.encoding(33)])
            // Without replace a new photo is added to them.
            _ = try await browser.bulk(
                csv: Self.header + "p-3,p-3,student,7B,more.jpg,,\n",
                zip: try makeZIP([("more.jpg", Data("face:34".utf8))]))
            #expect(try await templates() == [FakePhotoChecker.encoding(33), FakePhotoChecker.encoding(34)])
            let audit = try await store.auditEntries(from: .distantPast, to: .distantFuture, limit: 1000)
            #expect(
                audit.contains {
                    $0.detail == "bulk enrollment, line 2: 1 face templates enrolled, replacing the earlier ones"
                })
        }
    }

    @Test("a damaged or hostile upload is refused 400 with the reason, before any row is enrolled")
    func hostileUploads() async throws {
        var limits = BulkLimits()
        limits.entryBytes = 1 << 20
        limits.entries = 20
        limits.rows = 5
        limits.csvBytes = 4096
        let checker = FakePhotoChecker()
        try await Self.withBulkHub(checker, limits: limits) { store, browser, _ in
            let csv = Self.header + "n-1,One,student,7B,a.jpg,guardian,f1\n"
            let good = try makeZIP([("a.jpg", Data(repeating: 0x41, count: 70_000))], deflate: false)
            // A zip bomb: 4 MB of zeros whose headers say 1,000 bytes.
            var bomb = try makeZIP([("a.jpg", Data(count: 4 << 20))])
            for offset in offsets(of: [0x50, 0x4B, 0x03, 0x04], in: bomb) {
                bomb = patched(bomb, at: offset + 22, 1000)
            }
            for offset in offsets(of: [0x50, 0x4B, 0x01, 0x02], in: bomb) {
                bomb = patched(bomb, at: offset + 24, 1000)
            }
            // A deflate stream that never ends: a stored block of 65,535 bytes that the entry cuts short
            // (ZIPFoundation's own inflate loop, on Linux, would read on past it for ever).
            var endless = try makeZIP([
                ("a.jpg", Data((0..<3000).map { UInt8(truncatingIfNeeded: $0 &* 2_654_435_761 >> 7) }))
            ])
            let nameLength = Int(endless[26]) | Int(endless[27]) << 8
            let extraLength = Int(endless[28]) | Int(endless[29]) << 8
            for (index, byte) in [UInt8(0x00), 0xFF, 0xFF, 0x00, 0x00].enumerated() {
                endless[30 + nameLength + extraLength + index] = byte
            }
            let cases: [(String, String, Data?, String)] = [
                (
                    "a stream without end", csv, endless,
                    "the file a.jpg in the ZIP is damaged (its deflate stream is cut short)"
                ),
                ("not a ZIP", csv, Data("just some text, no archive".utf8), "is not a ZIP file"),
                ("cut short", csv, good.prefix(good.count / 2), "is not a ZIP file"),
                (
                    "changed bytes", csv,
                    {
                        var damaged = good
                        damaged[damaged.startIndex + 1000] ^= 0xFF
                        return damaged
                    }(), "the file a.jpg in the ZIP is damaged (its checksum differs from its header's)"
                ),
                (
                    "a photo over the bound", csv, try makeZIP([("a.jpg", Data(count: 2 << 20))]),
                    "the file a.jpg in the ZIP unpacks to 2 MB; a photo may be at most 1 MB"
                ),
                (
                    "a zip bomb", csv, bomb,
                    "the file a.jpg in the ZIP unpacks to more than its header says (1000 bytes)"
                ),
                (
                    "too many entries", csv, try makeZIP((0..<21).map { ("f\($0).jpg", Data("x".utf8)) }),
                    "the ZIP holds 21 entries, more than 20"
                ),
                (
                    "not CSV", Self.header + "n-1,\"One\"x,student,7B,,,\n", good,
                    "the CSV cannot be read: Can't have non-quote here: x"
                ),
                (
                    "no columns", "id;name;role\nn-1;One;student\n", good,
                    "the CSV's header lacks id, name, role, groups, photos"
                ),
                (
                    "too many rows", Self.header + String(repeating: "n-1,One,student,7B,,,\n", count: 6), good,
                    "the CSV has more than 5 rows"
                ),
                ("too large", Self.header + String(repeating: "x", count: 5000), good, "the CSV is larger than 4 KB"),
            ]
            for (what, csv, zip, reason) in cases {
                let answer = try await browser.bulk(csv: csv, zip: zip)
                #expect(answer.status == 400, "\(what): \(answer.status)")
                let text = answer.text.replacingOccurrences(of: "&#39;", with: "'")
                #expect(text.lowercased().contains(reason.lowercased()), "\(what): \(answer.text.prefix(2000))")
            }
            let latin1 = try await browser.upload(
                "/people/bulk", fields: [("csrf", try await browser.csrf("/people"))],
                files: [("csv", "people.csv", Data([0x69, 0x64, 0xE9, 0x0A]))])
            #expect(latin1.status == 400 && latin1.text.contains("The CSV is not UTF-8 text"))
            #expect(checker.examined.withLock { $0 }.isEmpty, "no photo examined")
            #expect(try await store.personRecord("n-1") == nil, "nothing stored")
        }
    }

    @Test("a zip bomb is stopped when it passes the size its header declares, holding no more than that")
    func bombStopsEarly() throws {
        var bomb = try makeZIP([("bomb.jpg", Data(count: 8 << 20))])
        for offset in offsets(of: [0x50, 0x4B, 0x03, 0x04], in: bomb) { bomb = patched(bomb, at: offset + 22, 5000) }
        for offset in offsets(of: [0x50, 0x4B, 0x01, 0x02], in: bomb) { bomb = patched(bomb, at: offset + 24, 5000) }
        let archive = try BulkArchive(bomb, limits: BulkLimits())
        #expect(archive.declaredSize("bomb.jpg") == 5000)
        guard case .failure(let failure) = archive.unpack("bomb.jpg", limit: 15 << 20) else {
            Issue.record("the bomb was unpacked")
            return
        }
        #expect(failure.code == .tooLarge && failure.kept <= 5000, "held \(failure.kept) bytes")
        // An honest entry over the limit stops at the limit.
        let big = try BulkArchive(try makeZIP([("big.jpg", Data(count: 3 << 20))]), limits: BulkLimits())
        guard case .failure(let over) = big.unpack("big.jpg", limit: 1 << 20) else {
            Issue.record("the entry over the limit was unpacked")
            return
        }
        #expect(over.code == .tooLarge && over.kept <= 1 << 20)
    }

    @Test("ZIPs cut short or with changed bytes are refused or read, never a crash or a hang")
    func damagedZIPs() throws {
        let csv = Data((Self.header + "n-1,One,student,7B,a.jpg;dir/b.jpg;c.jpg,,\n").utf8)
        let zip = try makeZIP([
            ("a.jpg", Data(repeating: 0x41, count: 3000)), ("dir/", Data()), ("dir/b.jpg", Data("face:2".utf8)),
            ("c.jpg", Data((0..<2000).map { UInt8(truncatingIfNeeded: $0 * 7) })),
        ])
        // The directory is the last part of a ZIP: most changes go there, where the offsets are.
        let directory = offsets(of: [0x50, 0x4B, 0x01, 0x02], in: zip).first ?? 0
        // ROLLCALL_FUZZ_ROUNDS runs more (the default keeps the suite fast).
        let rounds = Int(ProcessInfo.processInfo.environment["ROLLCALL_FUZZ_ROUNDS"] ?? "") ?? 1500
        var random = SplitMix64(seed: 18)
        var read = 0
        var refused = 0
        for round in 0..<rounds {
            var damaged = zip
            switch round % 4 {
            case 0:
                damaged = zip.prefix(Int(random.next() % UInt64(zip.count)))
            case 1:
                let cut = Int(random.next() % UInt64(zip.count))
                damaged = zip.prefix(cut) + zip.suffix(from: zip.startIndex + min(zip.count, cut + 1 + round % 7))
            default:
                let from = round % 4 == 2 ? directory : 0
                for _ in 0...(round % 6) {
                    let index = damaged.startIndex + from + Int(random.next() % UInt64(damaged.count - from))
                    damaged[index] = UInt8(truncatingIfNeeded: random.next())
                }
            }
            do {
                _ = try BulkUpload.read(csv: csv, zip: damaged, limits: BulkLimits())
                read += 1
            } catch {
                #expect(error.code == .badRequest, "\(error)")
                refused += 1
            }
        }
        #expect(read + refused == rounds && refused > rounds / 4, "\(read) read, \(refused) refused")
    }

    @Test("the bulk form needs its CSRF token; a teacher or an assistant is refused 403; nothing is stored")
    func refusals() async throws {
        let checker = FakePhotoChecker()
        try await Self.withBulkHub(checker) { store, browser, port in
            let csv = Self.header + "n-1,One,student,7B,a.jpg,guardian,f1\n"
            let zip = try makeZIP([("a.jpg", Data("face:1".utf8))])
            let forged = try await browser.bulk(csv: csv, zip: zip, csrf: false)
            #expect(forged.status == 403 && forged.text.contains("did not come from this site"))
            let audit = try await store.auditEntries(from: .distantPast, to: .distantFuture, limit: 1000)
            #expect(audit.contains { $0.action == "form-refused" && $0.subject == "form:/people/bulk" })
            for username in ["lovelace", "assist"] {
                let other = Browser(port: port)
                #expect(try await other.signIn(username, password(username)).status == 303)
                let token = try await other.csrf("/account/password")
                let answer = try await other.upload(
                    "/people/bulk", fields: [("csrf", token)],
                    files: [("csv", "people.csv", Data(csv.utf8)), ("photos", "photos.zip", zip)])
                #expect(answer.status == 403, "\(username)")
            }
            #expect(checker.examined.withLock { $0 }.isEmpty)
            #expect(try await store.personRecord("n-1") == nil)
        }
    }
}

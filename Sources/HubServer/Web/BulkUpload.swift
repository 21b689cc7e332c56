import Foundation
import Hub
import SwiftCSV
import ZIPFoundation

/// The bounds a bulk enrollment's upload is held to (the CSV of people and the ZIP of their photos). Both
/// files come from a browser and are read as hostile: nothing in them decides how much memory or time the
/// hub spends. The whole form is at most `FormGuard.bulkUploadLimit` (200 MB).
public struct BulkLimits: Sendable {
    /// The CSV's size in bytes (1 MB holds some 10,000 rows of a class list).
    public var csvBytes = 1 << 20
    /// The CSV's rows: one person each.
    public var rows = 2000
    /// The photos one row may name (as the single person's form takes 10 at once).
    public var photosPerRow = 10
    /// Entries in the ZIP, folders and the `__MACOSX/` copies a Mac adds included.
    public var entries = 4000
    /// One photo unpacked, checked against the ZIP's header and again while unpacking.
    public var entryBytes = 15 << 20
    /// All the photos the CSV names, unpacked (photos hardly compress: a 200 MB ZIP of them unpacks to
    /// about as much).
    public var photoBytes = 400 << 20

    /// The bounds of the README: 1 MB and 2,000 rows of CSV, 4,000 ZIP entries, 15 MB a photo.
    public init() {}
}

/// A bulk enrollment's upload, read and checked: the CSV's rows, and the photos they name unpacked from the
/// ZIP. Reading it is CPU work (inflating up to hundreds of megabytes): call `read` on a thread pool, not on
/// a request's thread.
struct BulkUpload: Sendable {
    /// A row of the CSV, as the command line's `import people` reads it.
    struct Row: Sendable {
        /// The row's line in the file (the header is line 1).
        var line: Int
        var fields: [String: String]

        /// A field, trimmed; empty when absent.
        func field(_ name: String) -> String { (fields[name] ?? "").trimmingCharacters(in: .whitespaces) }

        /// A `;`-separated field's items, trimmed, empty ones left out.
        func list(_ name: String) -> [String] {
            field(name).split(separator: ";").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        }
    }

    /// What the ZIP holds under a name the CSV gives.
    enum Photo: Sendable {
        case found(Data)
        case missing
        /// Several files end with the name: the CSV must give the path inside the ZIP.
        case ambiguous([String])
    }

    /// The columns the CSV must have (those of `rollcall-hub import people`).
    static let columns = ["id", "name", "role", "groups", "photos"]

    var rows: [Row]
    /// By the name as the CSV writes it.
    var photos: [String: Photo]
    /// How many files (not folders, not `__MACOSX/`) the ZIP holds.
    var files: Int

    /// Reads the CSV and the photos it names from the ZIP (nil: no ZIP was sent); throws a `badRequest`
    /// saying what is wrong with either file when it is damaged or over a bound.
    static func read(csv: Data, zip: Data?, limits: BulkLimits) throws(HubError) -> BulkUpload {
        let rows = try Self.rows(csv, limits: limits)
        var names: [String] = []
        var seen = Set<String>()
        for row in rows {
            for name in row.list("photos") where seen.insert(name).inserted { names.append(name) }
        }
        guard let zip, !zip.isEmpty else {
            return BulkUpload(
                rows: rows, photos: Dictionary(uniqueKeysWithValues: names.map { ($0, .missing) }), files: 0)
        }
        let archive = try BulkArchive(zip, limits: limits)
        // Every name resolved first, so that the photos' total is known before anything is unpacked.
        var resolved: [String: [String]] = [:]
        var total: UInt64 = 0
        var counted = Set<String>()
        for name in names {
            let paths = archive.paths(matching: name)
            resolved[name] = paths
            if paths.count == 1, let path = paths.first, counted.insert(path).inserted {
                total += archive.declaredSize(path)
            }
        }
        guard total <= UInt64(limits.photoBytes) else {
            throw HubError(
                .badRequest,
                "the photos the CSV names come to \(megabytes(total)) unpacked, more than the "
                    + "\(megabytes(UInt64(limits.photoBytes))) one upload may hold: split the CSV and the ZIP")
        }
        var unpacked: [String: Data] = [:]
        var photos: [String: Photo] = [:]
        for name in names {
            let paths = resolved[name] ?? []
            guard paths.count == 1, let path = paths.first else {
                photos[name] = paths.isEmpty ? .missing : .ambiguous(paths)
                continue
            }
            if let data = unpacked[path] {
                photos[name] = .found(data)
                continue
            }
            switch archive.unpack(path, limit: limits.entryBytes) {
            case .success(let data):
                unpacked[path] = data
                photos[name] = .found(data)
            case .failure(let failure):
                throw HubError(.badRequest, failure.message)
            }
        }
        return BulkUpload(rows: rows, photos: photos, files: archive.files.count)
    }

    /// The CSV's rows, after its size, encoding, header and row count are checked.
    static func rows(_ csv: Data, limits: BulkLimits) throws(HubError) -> [Row] {
        guard csv.count <= limits.csvBytes else {
            throw HubError(
                .badRequest, "the CSV is larger than \(megabytes(UInt64(limits.csvBytes))): split it into several")
        }
        guard let text = String(validating: csv, as: UTF8.self) else {
            throw HubError(
                .badRequest,
                "the CSV is not UTF-8 text: save it as \"CSV UTF-8\" (a spreadsheet offers it) and try again")
        }
        let parsed: CSV<Named>
        do {
            parsed = try CSV<Named>(string: text, delimiter: .comma, loadColumns: false, rowLimit: limits.rows + 1)
        } catch let error as CSVParseError {
            switch error {
            case .generic(let message), .quotation(let message):
                throw HubError(.badRequest, "the CSV cannot be read: \(message)")
            }
        } catch {
            throw HubError(.badRequest, "the CSV cannot be read: \(error)")
        }
        let missing = columns.filter { !parsed.header.contains($0) }
        guard missing.isEmpty else {
            throw HubError(
                .badRequest,
                "the CSV's header lacks \(missing.joined(separator: ", ")): its first line names the columns "
                    + "\(columns.joined(separator: ",")) (and optionally consent,evidence), separated by commas")
        }
        guard parsed.rows.count <= limits.rows else {
            throw HubError(.badRequest, "the CSV has more than \(limits.rows) rows: split it into several")
        }
        guard !parsed.rows.isEmpty else { throw HubError(.badRequest, "the CSV has a header and no rows") }
        return parsed.rows.enumerated().map { Row(line: $0.offset + 2, fields: $0.element) }
    }

    static func megabytes(_ bytes: UInt64) -> String {
        bytes < 1 << 20 ? "\(bytes / 1024) KB" : "\(bytes >> 20) MB"
    }
}

/// A ZIP of photos in memory, read as hostile: its directory is checked first (`ZIPLayout`), the number of
/// entries and each entry's declared size are bounded before anything is unpacked, and an entry is
/// unpacked only up to the size its header declares (a zip bomb, whose header understates what it unpacks
/// to, is stopped there, holding no more than that).
struct BulkArchive {
    /// Why an entry was not unpacked.
    struct Failure: Error {
        enum Code {
            /// It unpacks to more than its header says, or than a photo may be.
            case tooLarge
            /// Its bytes do not unpack to what the header says (cut short, changed).
            case damaged
        }

        var code: Code
        var path: String
        /// The bytes held when unpacking stopped.
        var kept: Int
        var message: String
    }

    private let data: Data
    /// The files (not folders, links or `__MACOSX/` copies) by their path, `/`-separated.
    let files: [String: ZIPLayout.Entry]
    /// The paths of the files by their last component.
    private let byName: [String: [String]]

    init(_ data: Data, limits: BulkLimits) throws(HubError) {
        let layout = try ZIPLayout(data, maximumEntries: limits.entries)
        // The directory checked, ZIPFoundation reads the entries' names and kinds.
        let archive: Archive
        do {
            archive = try Archive(data: data, accessMode: .read)
        } catch {
            throw HubError(.badRequest, "the ZIP cannot be read (\(error)): make it again")
        }
        var files: [String: ZIPLayout.Entry] = [:]
        var byName: [String: [String]] = [:]
        var index = 0
        for entry in archive {
            guard index < layout.entries.count else { throw ZIPLayout.damaged("its directory") }
            let item = layout.entries[index]
            index += 1
            let path = Self.normalized(entry.path)
            guard entry.type == .file, !path.isEmpty, !path.hasSuffix("/"), !path.hasPrefix("__MACOSX/") else {
                continue
            }
            guard item.uncompressedSize <= limits.entryBytes else {
                throw HubError(
                    .badRequest,
                    "the file \(path.prefix(200)) in the ZIP unpacks to "
                        + "\(BulkUpload.megabytes(UInt64(item.uncompressedSize))); "
                        + "a photo may be at most \(BulkUpload.megabytes(UInt64(limits.entryBytes)))")
            }
            guard files[path] == nil else { continue }
            files[path] = item
            byName[String(path.split(separator: "/").last ?? ""), default: []].append(path)
        }
        guard index == layout.entries.count else {
            throw ZIPLayout.damaged(
                "\(layout.entries.count - index) of its \(layout.entries.count) entries cannot be read")
        }
        self.data = data
        self.files = files
        self.byName = byName
    }

    /// A path inside the ZIP or the CSV's name for it: `/` between folders, no leading `./` or `/`.
    static func normalized(_ path: String) -> String {
        var path = Substring(path.replacingOccurrences(of: "\\", with: "/"))
        while true {
            if path.hasPrefix("./") {
                path = path.dropFirst(2)
            } else if path.hasPrefix("/") {
                path = path.dropFirst()
            } else {
                return String(path)
            }
        }
    }

    /// The files a CSV's name stands for: the file of that path, else every file whose path ends with
    /// it (a bare file name finds the file in whatever folder it is).
    func paths(matching name: String) -> [String] {
        let name = Self.normalized(name)
        if files[name] != nil { return [name] }
        let last = String(name.split(separator: "/").last ?? "")
        return (byName[last] ?? []).filter { $0.hasSuffix("/" + name) }.sorted()
    }

    /// The size the ZIP's header declares for a file.
    func declaredSize(_ path: String) -> UInt64 { UInt64(files[path]?.uncompressedSize ?? 0) }

    /// A file's bytes, unpacked up to what its header declares and at most `limit` bytes: more is a
    /// failure, before the excess is held. The checksum is compared too.
    func unpack(_ path: String, limit: Int) -> Result<Data, Failure> {
        guard let entry = files[path] else {
            return .failure(Failure(code: .damaged, path: path, kept: 0, message: "\(path) is not in the ZIP"))
        }
        switch ZIPLayout.unpack(entry, from: data, limit: limit) {
        case .success(let bytes):
            return .success(bytes)
        case .failure(.tooLarge(let kept)):
            return .failure(
                Failure(
                    code: .tooLarge, path: path, kept: kept,
                    message: "the file \(path.prefix(200)) in the ZIP unpacks to more than "
                        + (entry.uncompressedSize <= limit
                            ? "its header says (\(entry.uncompressedSize) bytes): the ZIP is damaged or made to do harm"
                            : "\(BulkUpload.megabytes(UInt64(limit))), the most a photo may be")))
        case .failure(.damaged(let reason)):
            return .failure(
                Failure(
                    code: .damaged, path: path, kept: 0,
                    message: "the file \(path.prefix(200)) in the ZIP is damaged (\(reason)): make the ZIP again"))
        }
    }
}

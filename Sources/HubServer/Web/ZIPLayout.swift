import CZlibInflate
import Foundation
import Hub

/// A ZIP's directory, checked by the rules of the format before ZIPFoundation reads it, and its entries'
/// bytes, unpacked with bounds.
///
/// ZIPFoundation 0.9.20 trusts the offsets it finds: an in-memory archive whose directory points past its
/// end stops the process (a range trap in its memory file), and so does a ZIP64 offset past `Int64.max`;
/// and on Linux its inflate loop reads on past a deflate stream that never ends, for ever. So here every
/// offset and length is checked against the data, ZIP64 and encryption are refused (a ZIP of a class's
/// photos is far below 4 GB), and the bytes are unpacked with zlib, reading no more than the entry's
/// compressed size and writing no more than a bound.
struct ZIPLayout {
    /// An entry as the central directory and its local header describe it.
    struct Entry {
        /// 0: stored, 8: deflated.
        var method: Int
        var crc: UInt32
        var compressedSize: Int
        var uncompressedSize: Int
        /// Where its bytes begin in the data.
        var dataOffset: Int
    }

    /// Why an entry's bytes were not unpacked.
    enum UnpackError: Error {
        /// It unpacks to more than the bound; `kept` bytes were held when unpacking stopped.
        case tooLarge(kept: Int)
        /// The bytes are not a deflate stream that ends within the entry, or their checksum differs.
        case damaged(String)
    }

    /// The entries, in the order of the central directory (ZIPFoundation's order).
    let entries: [Entry]

    /// Reads and checks the directory of `data`; throws a `badRequest` saying what is wrong.
    init(_ data: Data, maximumEntries: Int) throws(HubError) {
        let read = data.withUnsafeBytes { (bytes: UnsafeRawBufferPointer) -> Result<[Entry], HubError> in
            Result { () throws(HubError) -> [Entry] in try Self.entries(bytes, maximumEntries: maximumEntries) }
        }
        entries = try read.get()
    }

    static func damaged(_ what: String) -> HubError {
        HubError(.badRequest, "the ZIP is damaged (\(what)): make it again")
    }

    private static func entries(_ bytes: UnsafeRawBufferPointer, maximumEntries: Int) throws(HubError) -> [Entry] {
        func u16(_ at: Int) -> Int { Int(bytes[at]) | Int(bytes[at + 1]) << 8 }
        func u32(_ at: Int) -> Int { u16(at) | u16(at + 2) << 16 }
        let count = bytes.count
        // The end record: the last one, within the 22 + 65,535 bytes before the end (as ZIPFoundation looks).
        var end: Int?
        if count >= 22 {
            for start in stride(from: count - 22, through: max(0, count - 22 - 0xFFFF), by: -1)
            where u32(start) == 0x0605_4B50 {
                end = start
                break
            }
        }
        guard let end else {
            throw HubError(
                .badRequest, "the photos file is not a ZIP file (or it is cut short): make a ZIP of the photos")
        }
        if end >= 20, u32(end - 20) == 0x0706_4B50 {
            throw HubError(
                .badRequest, "the ZIP is a ZIP64 archive: make an ordinary ZIP (a class's photos need no more)")
        }
        let total = u16(end + 10)
        let directorySize = u32(end + 12)
        let directoryStart = u32(end + 16)
        guard u16(end + 4) == 0, u16(end + 6) == 0, u16(end + 8) == total else {
            throw HubError(.badRequest, "the ZIP is split across several files: make it one ZIP")
        }
        guard total != 0xFFFF, directorySize != 0xFFFF_FFFF, directoryStart != 0xFFFF_FFFF else {
            throw HubError(
                .badRequest, "the ZIP is a ZIP64 archive: make an ordinary ZIP (a class's photos need no more)")
        }
        guard total <= maximumEntries else {
            throw HubError(
                .badRequest, "the ZIP holds \(total) entries, more than \(maximumEntries): split it into several")
        }
        guard directoryStart + directorySize <= end else { throw damaged("its directory lies outside it") }
        var entries: [Entry] = []
        entries.reserveCapacity(total)
        var position = directoryStart
        for _ in 0..<total {
            guard position + 46 <= end, u32(position) == 0x0201_4B50 else { throw damaged("an entry of its directory") }
            let flags = u16(position + 8)
            let method = u16(position + 10)
            let compressed = u32(position + 20)
            let uncompressed = u32(position + 24)
            let nameLength = u16(position + 28)
            let extraLength = u16(position + 30)
            let commentLength = u16(position + 32)
            let local = u32(position + 42)
            let next = position + 46 + nameLength + extraLength + commentLength
            guard next <= end else { throw damaged("an entry of its directory") }
            guard compressed != 0xFFFF_FFFF, uncompressed != 0xFFFF_FFFF, local != 0xFFFF_FFFF,
                !hasZIP64Field(bytes, from: position + 46 + nameLength, length: extraLength)
            else {
                throw HubError(
                    .badRequest, "the ZIP is a ZIP64 archive: make an ordinary ZIP (a class's photos need no more)")
            }
            guard flags & 1 == 0 else {
                throw HubError(.badRequest, "the ZIP is encrypted: make it without a password")
            }
            guard method == 0 || method == 8 else {
                throw HubError(.badRequest, "the ZIP uses a compression other than deflate: make an ordinary ZIP")
            }
            guard method == 8 || compressed == uncompressed else { throw damaged("a stored entry's sizes differ") }
            guard local + 30 <= count, u32(local) == 0x0403_4B50 else { throw damaged("an entry's local header") }
            let localName = u16(local + 26)
            let localExtra = u16(local + 28)
            guard !hasZIP64Field(bytes, from: local + 30 + localName, length: localExtra) else {
                throw HubError(
                    .badRequest, "the ZIP is a ZIP64 archive: make an ordinary ZIP (a class's photos need no more)")
            }
            let dataOffset = local + 30 + localName + localExtra
            // The data (and a data descriptor after it, which ZIPFoundation reads) within the file.
            guard dataOffset + compressed <= count else { throw damaged("an entry's data is cut short") }
            entries.append(
                Entry(
                    method: method, crc: UInt32(u32(position + 16)), compressedSize: compressed,
                    uncompressedSize: uncompressed, dataOffset: dataOffset))
            position = next
        }
        return entries
    }

    /// Whether an extra field holds a ZIP64 block (walked as ZIPFoundation walks it, and a little further).
    private static func hasZIP64Field(_ bytes: UnsafeRawBufferPointer, from start: Int, length: Int) -> Bool {
        let end = min(start + length, bytes.count)
        var offset = start
        while offset + 4 <= end {
            if Int(bytes[offset]) | Int(bytes[offset + 1]) << 8 == 0x0001 { return true }
            offset += 4 + (Int(bytes[offset + 2]) | Int(bytes[offset + 3]) << 8)
        }
        return false
    }

    /// An entry's bytes: exactly its declared size, at most `limit` bytes, with the checksum its header says.
    static func unpack(_ entry: Entry, from data: Data, limit: Int) -> Result<Data, UnpackError> {
        data.withUnsafeBytes { (bytes: UnsafeRawBufferPointer) -> Result<Data, UnpackError> in
            let input = UnsafeRawBufferPointer(
                rebasing: bytes[entry.dataOffset..<entry.dataOffset + entry.compressedSize])
            let bound = min(entry.uncompressedSize, limit)
            let output: Data
            if entry.method == 0 {
                guard input.count <= bound else { return .failure(.tooLarge(kept: 0)) }
                output = Data(input)
            } else {
                switch inflate(input, limit: bound) {
                case .success(let inflated): output = inflated
                case .failure(let error): return .failure(error)
                }
            }
            guard output.count == entry.uncompressedSize else {
                return .failure(
                    .damaged("it unpacks to \(output.count) bytes, its header says \(entry.uncompressedSize)"))
            }
            let crc = output.withUnsafeBytes { raw -> UInt32 in
                guard let base = raw.bindMemory(to: Bytef.self).baseAddress else { return 0 }
                return UInt32(truncatingIfNeeded: crc32(0, base, uInt(raw.count)))
            }
            guard crc == entry.crc else { return .failure(.damaged("its checksum differs from its header's")) }
            return .success(output)
        }
    }

    /// A raw deflate stream's bytes, reading only `input` and writing at most `limit` bytes; a stream that
    /// does not end within its input is damaged.
    static func inflate(_ input: UnsafeRawBufferPointer, limit: Int) -> Result<Data, UnpackError> {
        var stream = z_stream()
        guard CZlibInflate_initRaw(&stream) == Z_OK else { return .failure(.damaged("zlib could not start")) }
        defer { inflateEnd(&stream) }
        guard let base = input.bindMemory(to: Bytef.self).baseAddress else {
            return .failure(.damaged("it holds no deflate stream"))
        }
        stream.next_in = UnsafeMutablePointer(mutating: base)
        stream.avail_in = uInt(input.count)
        var output = Data()
        output.reserveCapacity(min(limit, 16 << 20))
        var chunk = [Bytef](repeating: 0, count: 64 << 10)
        while true {
            let available = stream.avail_in
            let (result, produced) = chunk.withUnsafeMutableBufferPointer { buffer -> (Int32, Int) in
                stream.next_out = buffer.baseAddress
                stream.avail_out = uInt(buffer.count)
                let result = CZlibInflate.inflate(&stream, Z_NO_FLUSH)
                return (result, buffer.count - Int(stream.avail_out))
            }
            // zlib promises progress with every Z_OK; should it ever not, this is no loop for ever.
            if result == Z_OK, produced == 0, stream.avail_in == available {
                return .failure(.damaged("its deflate stream makes no progress"))
            }
            if produced > 0 {
                guard output.count + produced <= limit else { return .failure(.tooLarge(kept: output.count)) }
                output.append(contentsOf: chunk[0..<produced])
            }
            switch result {
            case Z_STREAM_END: return .success(output)
            // Progress was made (input read or output written, both finite): go on.
            case Z_OK: continue
            // No progress is possible: the input ended before the stream did.
            case Z_BUF_ERROR: return .failure(.damaged("its deflate stream is cut short"))
            default: return .failure(.damaged("its deflate stream is damaged"))
            }
        }
    }
}

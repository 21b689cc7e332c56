import CMatch

/// The instruction set the matcher's 8-bit search runs on. Every kernel gives the same exact integer
/// distances; they differ only in speed. The door uses `best`, detected once from the CPU; tests and
/// `rollcall bench match --kernel` force the others the CPU supports.
public enum MatchKernel: Int, CaseIterable, Sendable, CustomStringConvertible {
    case scalar = 0
    case sse42 = 1
    case avx = 2
    case avx2 = 3
    case avx512bw = 4
    case avx512vnni = 5
    case neon = 6

    /// The name `doctor` and `bench match` print, and `--kernel` takes.
    public var name: String {
        switch self {
        case .scalar: "scalar"
        case .sse42: "sse4.2"
        case .avx: "avx"
        case .avx2: "avx2"
        case .avx512bw: "avx512bw"
        case .avx512vnni: "avx512vnni"
        case .neon: "neon"
        }
    }

    public var description: String { name }

    /// The kernel named `name` (as `name` prints it), if there is one.
    public init?(name: String) {
        guard let kernel = Self.allCases.first(where: { $0.name == name.lowercased() }) else { return nil }
        self = kernel
    }

    /// Whether this binary has the kernel and this CPU (and its operating system) can run it.
    public var isSupported: Bool { cmatch_kernel_supported(cmatch_kernel(UInt32(rawValue))) != 0 }

    /// The fastest kernel this CPU runs.
    public static let best: MatchKernel = MatchKernel(rawValue: Int(cmatch_best_kernel().rawValue)) ?? .scalar

    /// Every kernel this CPU runs, slowest first.
    public static var supported: [MatchKernel] { allCases.filter(\.isSupported) }

    /// Squared distances in quantized units from an 8-bit probe (128 values) to `count` consecutive
    /// 8-bit templates. The kernel must be supported.
    @inline(__always)
    func distances(
        _ query: UnsafePointer<Int8>, _ rows: UnsafePointer<Int8>, _ count: Int, _ out: UnsafeMutablePointer<Int32>
    ) {
        cmatch_distances(cmatch_kernel(UInt32(rawValue)), query, rows, count, out)
    }

    /// The squared distances from `query` to each template of `rows` (128 values each), with this
    /// kernel: what tests compare across kernels. Nil when the CPU cannot run it.
    public func distances(from query: [Int8], to rows: [Int8]) -> [Int32]? {
        precondition(query.count == Gallery.dimensions && rows.count % Gallery.dimensions == 0)
        guard isSupported else { return nil }
        let count = rows.count / Gallery.dimensions
        return [Int32](unsafeUninitializedCapacity: count) { out, initialized in
            query.withUnsafeBufferPointer { query in
                rows.withUnsafeBufferPointer { rows in
                    if count > 0 { distances(query.baseAddress!, rows.baseAddress!, count, out.baseAddress!) }
                }
            }
            initialized = count
        }
    }

    /// Reads `bytes` once and returns their XOR (for timing how fast one core streams memory).
    public static func readMemory(_ bytes: UnsafeRawBufferPointer) -> UInt64 {
        guard let base = bytes.baseAddress else { return 0 }
        return cmatch_read_memory(base, UInt(bytes.count))
    }
}

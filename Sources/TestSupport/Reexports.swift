@_exported public import struct Recognition.SplitMix64

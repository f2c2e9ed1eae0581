import CStreamStoreShims

/// CRC32C (Castagnoli) through the C shim: SSE4.2 when the CPU has it, a table otherwise.
package enum CRC32C {
    package static func checksum(_ buffer: UnsafeRawBufferPointer, continuing crc: UInt32 = 0) -> UInt32 {
        guard let base = buffer.baseAddress else { return crc }
        return ss_crc32c(crc, base, buffer.count)
    }

    package static func checksum(_ bytes: [UInt8], continuing crc: UInt32 = 0) -> UInt32 {
        bytes.withUnsafeBytes { checksum($0, continuing: crc) }
    }

    package static func checksum(_ bytes: ArraySlice<UInt8>, continuing crc: UInt32 = 0) -> UInt32 {
        bytes.withUnsafeBytes { checksum($0, continuing: crc) }
    }

    static var isHardwareAccelerated: Bool { ss_crc32c_is_hardware() != 0 }
}


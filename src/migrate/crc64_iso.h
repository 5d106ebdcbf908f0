// CRC-64 with the ISO polynomial exactly as Go's hash/crc64 computes it with crc64.MakeTable(ISO)
// (reflected, all-ones initial value and final xor; check value of "123456789" is
// 0xb90956c775a41001). tar-split stores this checksum for every file of a layer. Computed by
// ISA-L's carry-less-multiply implementation, several GB/s. Stateless; thread-safe.
#pragma once

#include <cstddef>
#include <cstdint>

namespace strata {

// Continues a checksum: Crc64Iso(Crc64Iso(0, a), b) == Crc64Iso(0, a + b).
uint64_t Crc64Iso(uint64_t crc, const void* data, size_t size);

}  // namespace strata

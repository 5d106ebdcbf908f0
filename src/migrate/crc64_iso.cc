#include "migrate/crc64_iso.h"

#include <isa-l/crc64.h>

namespace strata {

uint64_t Crc64Iso(uint64_t crc, const void* data, size_t size) {
  // ISA-L's reflected variant inverts on entry and exit, as Go's update() does.
  return crc64_iso_refl(crc, static_cast<const unsigned char*>(data), size);
}

}  // namespace strata

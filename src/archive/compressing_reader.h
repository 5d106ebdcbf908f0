// A reader of the compressed form of another stream (gzip or zstd), for uploads that compress a
// layer while sending it: the compressor runs in the reading thread, one input buffer at a time,
// so nothing but a buffer's worth of output is ever held. Not thread-safe.
#pragma once

#include <memory>

#include "archive/compression.h"
#include "util/io.h"
#include "util/result.h"

namespace strata {

// `level` for gzip: 1..3 use ISA-L's igzip (fast; about zlib -1..-4 in size), 0 and 4..9 zlib;
// -1 (the default) is igzip level 1, since compression is what a push waits for. For zstd:
// 1..19, 0 or -1 its default (3).
// The returned reader reads from `source`, which must outlive it.
Result<std::unique_ptr<Reader>> NewCompressingReader(Reader& source, Compression compression,
                                                     int level = -1);

}  // namespace strata

// A reader of the compressed form of another stream (gzip or zstd), for uploads that compress a
// layer while sending it: the compressor runs in the reading thread, one input buffer at a time,
// so nothing but a buffer's worth of output is ever held. Not thread-safe.
#pragma once

#include <memory>

#include "archive/compression.h"
#include "util/io.h"
#include "util/result.h"

namespace strata {

// `level`: zlib's -1 (default 6) or 0..9 for gzip; zstd's 1..19 (0 or -1: its default, 3).
// The returned reader reads from `source`, which must outlive it.
Result<std::unique_ptr<Reader>> NewCompressingReader(Reader& source, Compression compression,
                                                     int level = -1);

}  // namespace strata

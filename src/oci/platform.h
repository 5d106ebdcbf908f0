// Platforms as "os/arch[/variant]" strings (docker --platform) and the host's own, in Go's
// GOOS/GOARCH names that image indexes use. Stateless; thread-safe.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "oci/manifest.h"
#include "util/result.h"

namespace strata {

// linux/amd64 on x86_64, linux/arm64/v8 on aarch64, linux/arm/v7 on armv7l, ...
Platform HostPlatform();

// "linux/amd64", "linux/arm64/v8", "linux/arm/v7"; also "amd64" alone (os linux).
Result<Platform> ParsePlatform(std::string_view text);

std::string FormatPlatform(const Platform& platform);

// Wanted by whoever reads every image of an index: SelectIndexEntry picks the first.
inline const Platform kAnyPlatform{"*", "*", ""};

// The entry of a multi-platform index for `wanted` (default: HostPlatform()); fails naming the
// wanted platform and the ones the index has.
Result<IndexEntry> SelectIndexEntry(const std::vector<IndexEntry>& entries,
                                    const std::optional<Platform>& wanted);

}  // namespace strata

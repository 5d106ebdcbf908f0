// Lexical path cleaning for tar entry names (Go's path.Clean rules) and the two ways of placing a
// name under an extraction root: strict (climbing above the root is an error) and clamped (".."
// at the root stays at the root, as inside a chroot).
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace strata {

// Go's path.Clean: collapses "//", ".", "dir/.."; "" becomes "."; a rooted path stays rooted and
// ".." cannot climb above "/".
std::string CleanPath(std::string_view path);

// A tar entry name relative to the extraction root: leading slashes dropped, then cleaned. The root
// itself is "". nullopt when the cleaned name climbs above the root ("../x", "/../x", "a/../../x").
std::optional<std::string> RootRelative(std::string_view name);

// A hard link target as Docker resolves it inside a chroot: cleaned as if rooted at "/", so ".."
// never leaves the root ("../../etc/passwd" is "etc/passwd"). The root itself is "".
std::string ClampedRootRelative(std::string_view name);

}  // namespace strata

#include "oci/platform.h"

#include <sys/utsname.h>

#include <vector>

namespace strata {

Platform HostPlatform() {
  struct utsname u {};
  std::string machine = ::uname(&u) == 0 ? u.machine : "x86_64";
  if (machine == "x86_64" || machine == "amd64") return {"linux", "amd64", ""};
  if (machine == "aarch64" || machine == "arm64") return {"linux", "arm64", "v8"};
  if (machine == "armv7l" || machine == "armv7") return {"linux", "arm", "v7"};
  if (machine == "armv6l") return {"linux", "arm", "v6"};
  if (machine == "i386" || machine == "i686") return {"linux", "386", ""};
  if (machine == "ppc64le") return {"linux", "ppc64le", ""};
  if (machine == "s390x") return {"linux", "s390x", ""};
  if (machine == "riscv64") return {"linux", "riscv64", ""};
  return {"linux", machine, ""};
}

Result<Platform> ParsePlatform(std::string_view text) {
  std::vector<std::string> parts;
  size_t start = 0;
  for (;;) {
    size_t slash = text.find('/', start);
    parts.emplace_back(text.substr(start, slash - start));
    if (slash == std::string_view::npos) break;
    start = slash + 1;
  }
  for (const std::string& p : parts) {
    if (p.empty())
      return Fail(ErrorCode::kInvalidArgument,
                  "invalid platform \"" + std::string(text) + "\": empty component");
  }
  if (parts.size() == 1) return Platform{"linux", parts[0], ""};
  if (parts.size() == 2) return Platform{parts[0], parts[1], ""};
  if (parts.size() == 3) return Platform{parts[0], parts[1], parts[2]};
  return Fail(ErrorCode::kInvalidArgument,
              "invalid platform \"" + std::string(text) + "\": expected os/arch[/variant]");
}

Result<IndexEntry> SelectIndexEntry(const std::vector<IndexEntry>& entries,
                                    const std::optional<Platform>& wanted) {
  const Platform p = wanted.value_or(HostPlatform());
  if (p.os == kAnyPlatform.os && !entries.empty()) return entries.front();
  return SelectPlatform(entries, p.os, p.architecture, p.variant);
}

std::string FormatPlatform(const Platform& p) {
  std::string s = p.os + "/" + p.architecture;
  if (!p.variant.empty()) s += "/" + p.variant;
  return s;
}

}  // namespace strata

#include "migrate/driver_layout.h"

#include <algorithm>

#include "util/file.h"

namespace strata {

std::optional<std::string> DriverLayerDir(const std::string& data_root, const std::string& driver,
                                          const std::string& id) {
  if (driver == "overlay2" || driver == "fuse-overlayfs") {
    return data_root + "/" + driver + "/" + id + "/diff";
  }
  if (driver == "aufs") return data_root + "/aufs/diff/" + id;
  if (driver == "vfs") return data_root + "/vfs/dir/" + id;
  if (driver == "btrfs") return data_root + "/btrfs/subvolumes/" + id;
  if (driver == "overlay") {
    // The first overlay driver keeps image layers as whole trees in root/; a layer that is
    // still an overlay of its parent has its changes in upper/.
    const std::string base = data_root + "/overlay/" + id;
    return IsDirectory(base + "/root") ? base + "/root" : base + "/upper";
  }
  return std::nullopt;
}

bool DriverKeepsAufsBranches(const std::string& driver) { return driver == "aufs"; }

std::vector<std::string> DriversPresent(const std::string& data_root) {
  std::vector<std::string> out;
  for (const char* d :
       {"overlay2", "aufs", "overlay", "vfs", "btrfs", "fuse-overlayfs", "zfs", "devicemapper"}) {
    if (IsDirectory(data_root + "/" + d)) out.emplace_back(d);
  }
  return out;
}

std::optional<std::string> ChooseDriver(const std::vector<std::string>& present,
                                        const std::string& wanted, std::string* error) {
  auto list = [&] {
    std::string s;
    for (const std::string& d : present) s += (s.empty() ? "" : ", ") + d;
    return s.empty() ? std::string("none") : s;
  };
  if (!wanted.empty()) {
    if (std::find(present.begin(), present.end(), wanted) != present.end()) return wanted;
    *error = "storage driver " + wanted + " is not in use there (found: " + list() + ")";
    return std::nullopt;
  }
  if (present.size() == 1) return present[0];
  *error = present.empty() ? "no storage driver directory found"
                           : "several storage drivers are in use (" + list() +
                                 "): choose one with --storage-driver";
  return std::nullopt;
}

}  // namespace strata

// Where each Docker storage driver keeps a layer's files on disk, for the drivers whose layers
// are plain directories. Block-device and dataset drivers (devicemapper, zfs) cannot be read
// without mounting, which a read-only migration does not do. Stateless; thread-safe.
#pragma once

#include <optional>
#include <string>
#include <vector>

namespace strata {

// The directory holding the files of layer `id` (cache-id, or v1 id in the legacy layout), or
// nullopt for a driver strata cannot read.
std::optional<std::string> DriverLayerDir(const std::string& data_root, const std::string& driver,
                                          const std::string& id);

// Whether the driver stores each layer as its own changes only (a diff branch, whiteouts as
// .wh. files: aufs) rather than a whole tree (vfs, overlay's root) or an overlay upper dir.
bool DriverKeepsAufsBranches(const std::string& driver);

// Drivers whose directory exists under the data root, among those Docker has had.
std::vector<std::string> DriversPresent(const std::string& data_root);

// Picks `wanted` if given (it must be present), else the only driver present.
std::optional<std::string> ChooseDriver(const std::vector<std::string>& present,
                                        const std::string& wanted, std::string* error);

}  // namespace strata

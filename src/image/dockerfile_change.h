// The Dockerfile instructions `docker import --change` accepts (CMD, ENTRYPOINT, ENV, EXPOSE,
// LABEL, ONBUILD, STOPSIGNAL, USER, VOLUME, WORKDIR), applied to a container config.
#pragma once

#include <string>
#include <vector>

#include "image/container_config.h"
#include "util/result.h"

namespace strata {

// Applies each instruction in order; an unknown or malformed one fails naming it.
Status ApplyDockerfileChanges(ContainerConfig& config, const std::vector<std::string>& changes);

}  // namespace strata

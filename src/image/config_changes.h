// Dockerfile metadata instructions applied to a container config, following Docker 20.10's
// classic builder (buildkit parser + builder/dockerfile dispatchers). ApplyChanges is
// BuildFromConfig, i.e. `docker import --change` / `docker commit --change`.
#pragma once

#include <span>
#include <string>
#include <string_view>

#include "image/container_config.h"
#include "util/result.h"

namespace strata {

// Applies instructions one at a time, keeping the builder state (whether CMD was set, so a
// later ENTRYPOINT keeps it). Not thread-safe; one editor per config being built.
class ConfigEditor {
 public:
  explicit ConfigEditor(ContainerConfig config, std::string os = "linux")
      : config_(std::move(config)), os_(std::move(os)) {}

  // One logical Dockerfile line, keyword case-insensitive: CMD, ENTRYPOINT, ENV, LABEL, EXPOSE,
  // VOLUME, USER, WORKDIR, ONBUILD, HEALTHCHECK, STOPSIGNAL, SHELL. Exec form (JSON array) and
  // shell form ("CMD sh" -> ["/bin/sh","-c","sh"]) as Docker; ENV/LABEL/USER/WORKDIR/VOLUME/
  // STOPSIGNAL/EXPOSE values get variable substitution from the current Env. Errors use Docker's
  // wording. On error the config is unchanged.
  Status Apply(std::string_view line);

  const ContainerConfig& config() const { return config_; }
  ContainerConfig Take() && { return std::move(config_); }

 private:
  ContainerConfig config_;
  std::string os_;
  bool cmd_set_ = false;
};

// Docker's BuildFromConfig: the changes are joined with "\n" and read as a Dockerfile (comments,
// blank lines and '\' continuations allowed); every instruction must be one of cmd, entrypoint,
// healthcheck, env, expose, label, onbuild, user, volume, workdir ("<x> is not a valid change
// command" otherwise — note Docker 20.10 rejects STOPSIGNAL and SHELL here); then they are applied
// in order. No changes returns `base` unchanged.
Result<ContainerConfig> ApplyChanges(const ContainerConfig& base,
                                     std::span<const std::string> changes,
                                     std::string_view os = "linux");

}  // namespace strata

// Docker 20.10's container.Config (the "config" and "container_config" objects of an image
// config) as a typed value, with Go-compatible decoding and struct-order encoding. Docker always
// re-marshals this struct from its decoded form (commit, build, v1 IDs in docker save), so unknown
// keys are dropped, nil slices/maps become null and omitempty fields vanish; ToJson reproduces
// that.
#pragma once

#include <cstdint>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "util/result.h"

namespace strata {

// container.HealthConfig; every field is omitempty. Durations are nanoseconds.
struct HealthConfig {
  std::vector<std::string> test;
  int64_t interval_ns = 0;
  int64_t timeout_ns = 0;
  int64_t start_period_ns = 0;
  int64_t retries = 0;

  bool operator==(const HealthConfig&) const = default;
};

// Field order and omitempty rules of Docker 20.10 (API 1.41): Hostname, Domainname, User,
// AttachStdin, AttachStdout, AttachStderr, ExposedPorts*, Tty, OpenStdin, StdinOnce, Env, Cmd,
// Healthcheck*, ArgsEscaped*, Image, Volumes, WorkingDir, Entrypoint, NetworkDisabled*,
// MacAddress*, OnBuild, Labels, StopSignal*, StopTimeout*, Shell* (* = omitempty).
// std::nullopt is Go's nil (marshalled as null); an engaged empty container marshals as []/{}.
struct ContainerConfig {
  std::string hostname;
  std::string domainname;
  std::string user;
  bool attach_stdin = false;
  bool attach_stdout = false;
  bool attach_stderr = false;
  std::set<std::string> exposed_ports;  // "80/tcp"; omitted when empty
  bool tty = false;
  bool open_stdin = false;
  bool stdin_once = false;
  std::optional<std::vector<std::string>> env;
  std::optional<std::vector<std::string>> cmd;
  std::optional<HealthConfig> healthcheck;
  bool args_escaped = false;
  std::string image;
  std::optional<std::set<std::string>> volumes;
  std::string working_dir;
  std::optional<std::vector<std::string>> entrypoint;
  bool network_disabled = false;
  std::string mac_address;
  std::optional<std::vector<std::string>> on_build;
  std::optional<std::map<std::string, std::string>> labels;
  std::string stop_signal;
  std::optional<int64_t> stop_timeout;
  std::vector<std::string> shell;  // omitted when empty

  bool operator==(const ContainerConfig&) const = default;

  // The object in Go struct order, ready for GoMarshal.
  nlohmann::ordered_json ToJson() const;

  // Decodes like json.Unmarshal into container.Config. `path` names the object in errors
  // (e.g. "config"). null is the zero config.
  static Result<ContainerConfig> FromJson(const nlohmann::ordered_json& value,
                                          std::string_view path);
};

// Docker 20.10's zero-valued container.Config in struct order: what `docker import` writes for
// container_config (and for config when no --change is given).
nlohmann::ordered_json ContainerConfigTemplate();

}  // namespace strata

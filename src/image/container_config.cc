#include "image/container_config.h"

#include <array>

#include "util/go_decode.h"

namespace strata {
namespace {

using Json = nlohmann::ordered_json;

Json StringListJson(const std::optional<std::vector<std::string>>& list) {
  if (!list) return nullptr;
  Json array = Json::array();
  for (const auto& s : *list) array.push_back(s);
  return array;
}

Json HealthJson(const HealthConfig& h) {
  Json out = Json::object();
  if (!h.test.empty()) out["Test"] = h.test;
  if (h.interval_ns != 0) out["Interval"] = h.interval_ns;
  if (h.timeout_ns != 0) out["Timeout"] = h.timeout_ns;
  if (h.start_period_ns != 0) out["StartPeriod"] = h.start_period_ns;
  if (h.retries != 0) out["Retries"] = h.retries;
  return out;
}

Result<HealthConfig> HealthFromJson(const Json& value, std::string_view path) {
  static constexpr std::array<std::string_view, 5> kFields = {"Test", "Interval", "Timeout",
                                                              "StartPeriod", "Retries"};
  if (!value.is_object()) {
    return Fail(std::string(path) + ": cannot unmarshal " + go_decode::TypeName(value) +
                " into a health config object");
  }
  HealthConfig h;
  for (const auto& [key, member] : value.items()) {
    std::string field = go_decode::Join(path, key);
    switch (go_decode::MatchField(kFields, key)) {
      case 0: {
        std::optional<std::vector<std::string>> test;
        STRATA_TRY(go_decode::StringList(member, field, &test));
        h.test = test.value_or(std::vector<std::string>{});
        break;
      }
      case 1:
        STRATA_TRY(go_decode::Int64(member, field, &h.interval_ns));
        break;
      case 2:
        STRATA_TRY(go_decode::Int64(member, field, &h.timeout_ns));
        break;
      case 3:
        STRATA_TRY(go_decode::Int64(member, field, &h.start_period_ns));
        break;
      case 4:
        STRATA_TRY(go_decode::Int64(member, field, &h.retries));
        break;
      default:
        break;
    }
  }
  return h;
}

}  // namespace

Json ContainerConfig::ToJson() const {
  Json out = Json::object();
  out["Hostname"] = hostname;
  out["Domainname"] = domainname;
  out["User"] = user;
  out["AttachStdin"] = attach_stdin;
  out["AttachStdout"] = attach_stdout;
  out["AttachStderr"] = attach_stderr;
  if (!exposed_ports.empty()) {
    Json ports = Json::object();
    for (const auto& p : exposed_ports) ports[p] = Json::object();
    out["ExposedPorts"] = std::move(ports);
  }
  out["Tty"] = tty;
  out["OpenStdin"] = open_stdin;
  out["StdinOnce"] = stdin_once;
  out["Env"] = StringListJson(env);
  out["Cmd"] = StringListJson(cmd);
  if (healthcheck) out["Healthcheck"] = HealthJson(*healthcheck);
  if (args_escaped) out["ArgsEscaped"] = true;
  out["Image"] = image;
  if (volumes) {
    Json v = Json::object();
    for (const auto& path : *volumes) v[path] = Json::object();
    out["Volumes"] = std::move(v);
  } else {
    out["Volumes"] = nullptr;
  }
  out["WorkingDir"] = working_dir;
  out["Entrypoint"] = StringListJson(entrypoint);
  if (network_disabled) out["NetworkDisabled"] = true;
  if (!mac_address.empty()) out["MacAddress"] = mac_address;
  out["OnBuild"] = StringListJson(on_build);
  if (labels) {
    Json l = Json::object();
    for (const auto& [k, v] : *labels) l[k] = v;
    out["Labels"] = std::move(l);
  } else {
    out["Labels"] = nullptr;
  }
  if (!stop_signal.empty()) out["StopSignal"] = stop_signal;
  if (stop_timeout) out["StopTimeout"] = *stop_timeout;
  if (!shell.empty()) out["Shell"] = shell;
  return out;
}

Result<ContainerConfig> ContainerConfig::FromJson(const Json& value, std::string_view path) {
  static constexpr std::array<std::string_view, 25> kFields = {
      "Hostname",     "Domainname",   "User",        "AttachStdin",     "AttachStdout",
      "AttachStderr", "ExposedPorts", "Tty",         "OpenStdin",       "StdinOnce",
      "Env",          "Cmd",          "Healthcheck", "ArgsEscaped",     "Image",
      "Volumes",      "WorkingDir",   "Entrypoint",  "NetworkDisabled", "MacAddress",
      "OnBuild",      "Labels",       "StopSignal",  "StopTimeout",     "Shell"};
  ContainerConfig c;
  if (value.is_null()) return c;
  if (!value.is_object()) {
    return Fail(std::string(path) + ": cannot unmarshal " + go_decode::TypeName(value) +
                " into a container config object");
  }
  for (const auto& [key, member] : value.items()) {
    std::string field = go_decode::Join(path, key);
    switch (go_decode::MatchField(kFields, key)) {
      case 0:
        STRATA_TRY(go_decode::String(member, field, &c.hostname));
        break;
      case 1:
        STRATA_TRY(go_decode::String(member, field, &c.domainname));
        break;
      case 2:
        STRATA_TRY(go_decode::String(member, field, &c.user));
        break;
      case 3:
        STRATA_TRY(go_decode::Bool(member, field, &c.attach_stdin));
        break;
      case 4:
        STRATA_TRY(go_decode::Bool(member, field, &c.attach_stdout));
        break;
      case 5:
        STRATA_TRY(go_decode::Bool(member, field, &c.attach_stderr));
        break;
      case 6: {
        std::optional<std::set<std::string>> ports;
        STRATA_TRY(go_decode::StringSet(member, field, &ports));
        c.exposed_ports = ports.value_or(std::set<std::string>{});
        break;
      }
      case 7:
        STRATA_TRY(go_decode::Bool(member, field, &c.tty));
        break;
      case 8:
        STRATA_TRY(go_decode::Bool(member, field, &c.open_stdin));
        break;
      case 9:
        STRATA_TRY(go_decode::Bool(member, field, &c.stdin_once));
        break;
      case 10:
        STRATA_TRY(go_decode::StringList(member, field, &c.env));
        break;
      case 11:
        STRATA_TRY(go_decode::StrSlice(member, field, &c.cmd));
        break;
      case 12:
        if (member.is_null()) {
          c.healthcheck.reset();
        } else {
          STRATA_ASSIGN(health, HealthFromJson(member, field));
          c.healthcheck = std::move(health);
        }
        break;
      case 13:
        STRATA_TRY(go_decode::Bool(member, field, &c.args_escaped));
        break;
      case 14:
        STRATA_TRY(go_decode::String(member, field, &c.image));
        break;
      case 15:
        STRATA_TRY(go_decode::StringSet(member, field, &c.volumes));
        break;
      case 16:
        STRATA_TRY(go_decode::String(member, field, &c.working_dir));
        break;
      case 17:
        STRATA_TRY(go_decode::StrSlice(member, field, &c.entrypoint));
        break;
      case 18:
        STRATA_TRY(go_decode::Bool(member, field, &c.network_disabled));
        break;
      case 19:
        STRATA_TRY(go_decode::String(member, field, &c.mac_address));
        break;
      case 20:
        STRATA_TRY(go_decode::StringList(member, field, &c.on_build));
        break;
      case 21:
        STRATA_TRY(go_decode::StringMap(member, field, &c.labels));
        break;
      case 22:
        STRATA_TRY(go_decode::String(member, field, &c.stop_signal));
        break;
      case 23:
        if (member.is_null()) {
          c.stop_timeout.reset();
        } else {
          int64_t timeout = 0;
          STRATA_TRY(go_decode::Int64(member, field, &timeout));
          c.stop_timeout = timeout;
        }
        break;
      case 24: {
        std::optional<std::vector<std::string>> shell;
        STRATA_TRY(go_decode::StrSlice(member, field, &shell));
        c.shell = shell.value_or(std::vector<std::string>{});
        break;
      }
      default:
        break;  // unknown keys are dropped, as Go does
    }
  }
  return c;
}

nlohmann::ordered_json ContainerConfigTemplate() { return ContainerConfig{}.ToJson(); }

}  // namespace strata

#include "registry/credentials.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <nlohmann/json.hpp>

#include "util/base64.h"
#include "util/file.h"

namespace strata {
namespace {

constexpr const char* kHubKey = "https://index.docker.io/v1/";

bool IsHub(const std::string& host) {
  return host == "docker.io" || host == "registry-1.docker.io" || host == "index.docker.io";
}

// "https://host/v2/" -> "host"
std::string HostOfKey(std::string key) {
  for (const char* scheme : {"https://", "http://"}) {
    if (key.rfind(scheme, 0) == 0) key = key.substr(std::strlen(scheme));
  }
  size_t slash = key.find('/');
  if (slash != std::string::npos) key.resize(slash);
  return key;
}

struct ProcessResult {
  int status = -1;
  std::string out;
};

// Runs a credential helper with `input` on stdin; captures stdout.
Result<ProcessResult> RunHelper(const std::string& program, const std::string& verb,
                                const std::string& input) {
  int in[2], out[2];
  if (::pipe2(in, O_CLOEXEC) != 0 || ::pipe2(out, O_CLOEXEC) != 0) {
    return Fail(std::string("pipe: ") + std::strerror(errno));
  }
  pid_t pid = ::fork();
  if (pid < 0) return Fail(std::string("fork: ") + std::strerror(errno));
  if (pid == 0) {
    ::dup2(in[0], 0);
    ::dup2(out[1], 1);
    ::execlp(program.c_str(), program.c_str(), verb.c_str(), static_cast<char*>(nullptr));
    ::_exit(127);
  }
  ::close(in[0]);
  ::close(out[1]);
  size_t off = 0;
  while (off < input.size()) {
    ssize_t n = ::write(in[1], input.data() + off, input.size() - off);
    if (n <= 0) break;
    off += static_cast<size_t>(n);
  }
  ::close(in[1]);
  ProcessResult result;
  char buf[4096];
  for (;;) {
    ssize_t n = ::read(out[0], buf, sizeof buf);
    if (n <= 0) break;
    result.out.append(buf, static_cast<size_t>(n));
  }
  ::close(out[0]);
  int status = 0;
  ::waitpid(pid, &status, 0);
  result.status = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  if (result.status == 127)
    return Fail(program + " not found (a credential helper named in config.json)");
  return result;
}

Result<nlohmann::ordered_json> ReadConfig(const std::string& path) {
  if (!PathExists(path)) return nlohmann::ordered_json::object();
  STRATA_ASSIGN(text, ReadFile(path));
  auto j = nlohmann::ordered_json::parse(text, nullptr, false);
  if (!j.is_object()) return Fail(path + ": not a JSON object");
  return j;
}

// The helper responsible for a host, if any.
std::optional<std::string> HelperFor(const nlohmann::ordered_json& config, const std::string& key) {
  if (config.contains("credHelpers") && config["credHelpers"].is_object()) {
    for (const auto& [k, v] : config["credHelpers"].items()) {
      if ((k == key || HostOfKey(k) == HostOfKey(key)) && v.is_string()) {
        return "docker-credential-" + v.get<std::string>();
      }
    }
  }
  if (config.contains("credsStore") && config["credsStore"].is_string() &&
      !config["credsStore"].get<std::string>().empty()) {
    return "docker-credential-" + config["credsStore"].get<std::string>();
  }
  return std::nullopt;
}

}  // namespace

std::string CredentialStore::DefaultPath() {
  if (const char* f = std::getenv("STRATA_AUTH_FILE"); f && *f) return f;
  if (const char* d = std::getenv("DOCKER_CONFIG"); d && *d) return std::string(d) + "/config.json";
  const char* home = std::getenv("HOME");
  return std::string(home && *home ? home : "/root") + "/.docker/config.json";
}

std::string CredentialStore::KeyFor(const std::string& host) {
  return IsHub(host) ? kHubKey : host;
}

Result<std::optional<Credentials>> CredentialStore::Get(const std::string& host) const {
  STRATA_ASSIGN(config, ReadConfig(path_));
  const std::string key = KeyFor(host);
  if (auto helper = HelperFor(config, key)) {
    STRATA_ASSIGN(r, RunHelper(*helper, "get", key));
    if (r.status != 0) {
      if (r.out.find("credentials not found") != std::string::npos) {
        return std::optional<Credentials>();
      }
      return Fail(*helper + " get " + key + " failed: " + r.out);
    }
    auto j = nlohmann::json::parse(r.out, nullptr, false);
    if (!j.is_object()) return Fail(*helper + " get " + key + ": not JSON");
    Credentials c{j.value("Username", ""), j.value("Secret", ""), ""};
    if (c.username == "<token>") c.identity_token = c.password;
    return std::optional<Credentials>(c);
  }
  if (!config.contains("auths") || !config["auths"].is_object()) {
    return std::optional<Credentials>();
  }
  for (const auto& [k, v] : config["auths"].items()) {
    const bool match =
        k == key || HostOfKey(k) == HostOfKey(key) || (IsHub(host) && IsHub(HostOfKey(k)));
    if (!match || !v.is_object()) continue;
    Credentials c;
    if (v.contains("auth") && v["auth"].is_string() && !v["auth"].get<std::string>().empty()) {
      STRATA_ASSIGN(decoded, Base64Decode(v["auth"].get<std::string>()));
      size_t colon = decoded.find(':');
      if (colon == std::string::npos)
        return Fail(path_ + ": auths." + k + ".auth is not user:password");
      c.username = decoded.substr(0, colon);
      c.password = decoded.substr(colon + 1);
    }
    if (v.contains("identitytoken") && v["identitytoken"].is_string()) {
      c.identity_token = v["identitytoken"].get<std::string>();
    }
    if (c.username.empty() && c.identity_token.empty()) continue;
    return std::optional<Credentials>(c);
  }
  return std::optional<Credentials>();
}

Status CredentialStore::Put(const std::string& host, const Credentials& credentials) const {
  STRATA_ASSIGN(config, ReadConfig(path_));
  const std::string key = KeyFor(host);
  if (auto helper = HelperFor(config, key)) {
    nlohmann::json in = {
        {"ServerURL", key}, {"Username", credentials.username}, {"Secret", credentials.password}};
    STRATA_ASSIGN(r, RunHelper(*helper, "store", in.dump()));
    if (r.status != 0) return Fail(*helper + " store " + key + " failed: " + r.out);
    if (!config.contains("auths")) config["auths"] = nlohmann::ordered_json::object();
    config["auths"][key] = nlohmann::ordered_json::object();
  } else {
    if (!config.contains("auths") || !config["auths"].is_object()) {
      config["auths"] = nlohmann::ordered_json::object();
    }
    config["auths"][key] = {
        {"auth", Base64Encode(credentials.username + ":" + credentials.password)}};
  }
  size_t slash = path_.rfind('/');
  if (slash != std::string::npos) STRATA_TRY(MakeDirs(path_.substr(0, slash)));
  return WriteFileAtomic(path_, config.dump(1, '\t') + "\n", 0600);
}

Result<bool> CredentialStore::Erase(const std::string& host) const {
  STRATA_ASSIGN(config, ReadConfig(path_));
  const std::string key = KeyFor(host);
  bool removed = false;
  if (auto helper = HelperFor(config, key)) {
    STRATA_ASSIGN(r, RunHelper(*helper, "erase", key));
    removed = r.status == 0;
  }
  if (config.contains("auths") && config["auths"].is_object()) {
    std::vector<std::string> drop;
    for (const auto& [k, v] : config["auths"].items()) {
      if (k == key || HostOfKey(k) == HostOfKey(key)) drop.push_back(k);
    }
    for (const std::string& k : drop) config["auths"].erase(k);
    removed |= !drop.empty();
  }
  if (removed && PathExists(path_)) {
    STRATA_TRY(WriteFileAtomic(path_, config.dump(1, '\t') + "\n", 0600));
  }
  return removed;
}

CredentialLookup CredentialStore::Lookup() const {
  const std::string path = path_;
  return [path](const std::string& host) -> std::optional<Credentials> {
    auto c = CredentialStore(path).Get(host);
    return c ? *c : std::nullopt;
  };
}

}  // namespace strata

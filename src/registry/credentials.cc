#include "registry/credentials.h"

#include <fcntl.h>
#include <pwd.h>
#include <signal.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <mutex>
#include <nlohmann/json.hpp>

#include "util/base64.h"
#include "util/file.h"
#include "util/json_depth.h"

extern char** environ;

namespace strata {
namespace {

using Json = nlohmann::ordered_json;

constexpr const char* kHubKey = "https://index.docker.io/v1/";
constexpr const char* kTokenUsername = "<token>";  // docker's marker for an identity token

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

// Whether a config.json key (in any spelling docker has written) names the same registry as
// `key` (as KeyFor makes it).
bool SameRegistry(const std::string& written, const std::string& key) {
  if (written == key) return true;
  const std::string a = HostOfKey(written), b = HostOfKey(key);
  return a == b || (IsHub(a) && IsHub(b));
}

std::string Errno(const std::string& what) { return what + ": " + std::strerror(errno); }

struct HelperOutput {
  int status = -1;  // exit status; -1 when killed by a signal
  std::string out;  // stdout (helpers print their error messages there too)
};

// Writes all of `input` to `fd` without letting a helper that exits early kill us with SIGPIPE:
// the signal is blocked for this thread during the write and a pending one is consumed.
void WriteIgnoringPipeErrors(int fd, const std::string& input) {
  sigset_t pipe_set, old;
  sigemptyset(&pipe_set);
  sigaddset(&pipe_set, SIGPIPE);
  pthread_sigmask(SIG_BLOCK, &pipe_set, &old);
  bool broken = false;
  size_t off = 0;
  while (off < input.size()) {
    ssize_t n = ::write(fd, input.data() + off, input.size() - off);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      broken = errno == EPIPE;
      break;
    }
    off += static_cast<size_t>(n);
  }
  if (broken) {
    const timespec zero{};
    while (sigtimedwait(&pipe_set, nullptr, &zero) < 0 && errno == EINTR) {
    }
  }
  pthread_sigmask(SIG_SETMASK, &old, nullptr);
}

// Runs `program verb` (found through PATH) with `input` on stdin and captures stdout; stderr is
// the user's. posix_spawn rather than fork: lookups run on the pull's download threads.
Result<HelperOutput> RunHelper(const std::string& program, const std::string& verb,
                               const std::string& input) {
  int in[2], out[2];
  if (::pipe2(in, O_CLOEXEC) != 0) return Fail(Errno("pipe for " + program));
  UniqueFd in_read(in[0]), in_write(in[1]);
  if (::pipe2(out, O_CLOEXEC) != 0) return Fail(Errno("pipe for " + program));
  UniqueFd out_read(out[0]), out_write(out[1]);

  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, in_read.get(), 0);
  posix_spawn_file_actions_adddup2(&actions, out_write.get(), 1);
  std::string arg0 = program, arg1 = verb;
  char* argv[] = {arg0.data(), arg1.data(), nullptr};
  pid_t pid = -1;
  int rc = posix_spawnp(&pid, program.c_str(), &actions, nullptr, argv, environ);
  posix_spawn_file_actions_destroy(&actions);
  if (rc == ENOENT) {
    return Fail(program + " not found in PATH (the credential helper config.json names)");
  }
  if (rc != 0) return Fail("starting " + program + ": " + std::strerror(rc));
  in_read = UniqueFd();
  out_write = UniqueFd();

  WriteIgnoringPipeErrors(in_write.get(), input);
  in_write = UniqueFd();
  HelperOutput result;
  char buf[4096];
  for (;;) {
    ssize_t n = ::read(out_read.get(), buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    result.out.append(buf, static_cast<size_t>(n));
  }
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0) {
    if (errno != EINTR) return Fail(Errno("waiting for " + program));
  }
  result.status = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  if (result.status == 127) return Fail(program + " could not be run (exit status 127)");
  return result;
}

// The protocol's answer when the helper has nothing for a server.
bool NotFound(const HelperOutput& r) {
  return r.out.find("credentials not found") != std::string::npos;
}

std::string Trimmed(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == '\r' || s.back() == ' ')) s.pop_back();
  return s;
}

Result<Json> ReadConfig(const std::string& path) {
  if (!PathExists(path)) return Json::object();
  STRATA_ASSIGN(text, ReadFile(path));
  // docker accepts an empty file as an empty configuration.
  if (text.find_first_not_of(" \t\r\n") == std::string::npos) return Json::object();
  Json j;
  try {
    j = Json::parse(text);
  } catch (const Json::parse_error& e) {
    return Fail(path + ": not valid JSON: " + e.what());
  }
  if (!j.is_object()) return Fail(path + ": not a JSON object");
  return j;
}

// config.json may be a symlink (dotfile managers): write through it, as docker does.
std::string WriteTarget(const std::string& path) {
  std::error_code ec;
  if (!std::filesystem::is_symlink(path, ec)) return path;
  auto target = std::filesystem::canonical(path, ec);
  return ec ? path : target.string();
}

Status WriteConfig(const std::string& path, const Json& config) {
  const std::string target = WriteTarget(path);
  size_t slash = target.rfind('/');
  if (slash != std::string::npos && slash > 0) STRATA_TRY(MakeDirs(target.substr(0, slash), 0700));
  return WriteFileAtomic(target, config.dump(1, '\t') + "\n", 0600);
}

const Json* ObjectAt(const Json& config, const char* name) {
  auto it = config.find(name);
  return it != config.end() && it->is_object() ? &*it : nullptr;
}

// The helper program responsible for a key: credHelpers (any spelling of the host), else
// credsStore.
std::optional<std::string> HelperIn(const Json& config, const std::string& key) {
  if (const Json* helpers = ObjectAt(config, "credHelpers")) {
    for (const auto& [k, v] : helpers->items()) {
      if (SameRegistry(k, key) && v.is_string() && !v.get<std::string>().empty()) {
        return "docker-credential-" + v.get<std::string>();
      }
    }
  }
  auto store = config.find("credsStore");
  if (store != config.end() && store->is_string() && !store->get<std::string>().empty()) {
    return "docker-credential-" + store->get<std::string>();
  }
  return std::nullopt;
}

Result<std::optional<Credentials>> GetFromHelper(const std::string& helper,
                                                 const std::string& key) {
  STRATA_ASSIGN(r, RunHelper(helper, "get", key));
  if (r.status != 0) {
    if (NotFound(r)) return std::optional<Credentials>();
    return Fail(helper + " get " + key + " failed: " + Trimmed(r.out));
  }
  Json j = ParseUntrustedJson<nlohmann::ordered_json>(r.out);
  if (!j.is_object()) return Fail(helper + " get " + key + ": answer is not a JSON object");
  Credentials c;
  const std::string user = j.value("Username", ""), secret = j.value("Secret", "");
  if (user == kTokenUsername) {
    c.identity_token = secret;
  } else {
    c.username = user;
    c.password = secret;
  }
  if (c.username.empty() && c.password.empty() && c.identity_token.empty()) {
    return std::optional<Credentials>();
  }
  return std::optional<Credentials>(std::move(c));
}

// One "auths" entry; nullopt when it holds no credentials (helper placeholders are "{}").
Result<std::optional<Credentials>> FromAuthEntry(const std::string& path, const std::string& key,
                                                 const Json& entry) {
  if (!entry.is_object()) return std::optional<Credentials>();
  Credentials c;
  auto auth = entry.find("auth");
  if (auth != entry.end() && auth->is_string() && !auth->get<std::string>().empty()) {
    auto decoded = Base64Decode(auth->get<std::string>());
    if (!decoded) return Wrap(path + ": auths." + key + ".auth", decoded.error());
    size_t colon = decoded->find(':');
    if (colon == std::string::npos) {
      return Fail(path + ": auths." + key + ".auth is not base64 of user:password");
    }
    c.username = decoded->substr(0, colon);
    c.password = decoded->substr(colon + 1);
  }
  auto token = entry.find("identitytoken");
  if (token != entry.end() && token->is_string()) c.identity_token = token->get<std::string>();
  if (c.username.empty() && c.identity_token.empty()) return std::optional<Credentials>();
  return std::optional<Credentials>(std::move(c));
}

}  // namespace

std::string CredentialStore::DefaultPath() {
  if (const char* f = std::getenv("STRATA_AUTH_FILE"); f && *f) return f;
  if (const char* d = std::getenv("DOCKER_CONFIG"); d && *d) return std::string(d) + "/config.json";
  std::string home;
  if (const char* h = std::getenv("HOME"); h && *h) {
    home = h;
  } else if (const passwd* pw = ::getpwuid(::getuid()); pw != nullptr && pw->pw_dir != nullptr) {
    home = pw->pw_dir;
  }
  return home + "/.docker/config.json";
}

std::string CredentialStore::KeyFor(const std::string& host) {
  return IsHub(host) ? kHubKey : host;
}

Result<std::string> CredentialStore::HelperFor(const std::string& host) const {
  STRATA_ASSIGN(config, ReadConfig(path_));
  return HelperIn(config, KeyFor(host)).value_or("");
}

Result<std::optional<Credentials>> CredentialStore::Get(const std::string& host) const {
  STRATA_ASSIGN(config, ReadConfig(path_));
  const std::string key = KeyFor(host);
  if (auto helper = HelperIn(config, key)) return GetFromHelper(*helper, key);
  const Json* auths = ObjectAt(config, "auths");
  if (auths == nullptr) return std::optional<Credentials>();
  // The exact key first: a stale entry under an old spelling must not shadow a fresh login.
  if (auto exact = auths->find(key); exact != auths->end()) {
    STRATA_ASSIGN(c, FromAuthEntry(path_, key, *exact));
    if (c) return c;
  }
  for (const auto& [k, v] : auths->items()) {
    if (k == key || !SameRegistry(k, key)) continue;
    STRATA_ASSIGN(c, FromAuthEntry(path_, k, v));
    if (c) return c;
  }
  return std::optional<Credentials>();
}

Status CredentialStore::Put(const std::string& host, const Credentials& credentials) const {
  STRATA_ASSIGN(config, ReadConfig(path_));
  const std::string key = KeyFor(host);
  if (!config.contains("auths") || !config["auths"].is_object()) config["auths"] = Json::object();
  if (auto helper = HelperIn(config, key)) {
    const bool token = !credentials.identity_token.empty();
    nlohmann::json in = {{"ServerURL", key},
                         {"Username", token ? kTokenUsername : credentials.username},
                         {"Secret", token ? credentials.identity_token : credentials.password}};
    STRATA_ASSIGN(r, RunHelper(*helper, "store", in.dump()));
    if (r.status != 0) return Fail(*helper + " store " + key + " failed: " + Trimmed(r.out));
    config["auths"][key] = Json::object();  // docker's placeholder: the helper has it
  } else {
    Json entry = Json::object();
    if (!credentials.username.empty() || !credentials.password.empty()) {
      entry["auth"] = Base64Encode(credentials.username + ":" + credentials.password);
    }
    if (!credentials.identity_token.empty()) entry["identitytoken"] = credentials.identity_token;
    config["auths"][key] = std::move(entry);
  }
  return WriteConfig(path_, config);
}

Result<bool> CredentialStore::Erase(const std::string& host) const {
  STRATA_ASSIGN(config, ReadConfig(path_));
  const std::string key = KeyFor(host);
  bool removed = false;
  if (auto helper = HelperIn(config, key)) {
    STRATA_ASSIGN(r, RunHelper(*helper, "erase", key));
    if (r.status == 0) {
      removed = true;
    } else if (!NotFound(r)) {
      return Fail(*helper + " erase " + key + " failed: " + Trimmed(r.out));
    }
  }
  if (config.contains("auths") && config["auths"].is_object()) {
    std::vector<std::string> drop;
    for (const auto& [k, v] : config["auths"].items()) {
      if (SameRegistry(k, key)) drop.push_back(k);
    }
    for (const std::string& k : drop) config["auths"].erase(k);
    if (!drop.empty()) {
      removed = true;
      STRATA_TRY(WriteConfig(path_, config));
    }
  }
  return removed;
}

Result<std::map<std::string, std::string>> CredentialStore::List() const {
  STRATA_ASSIGN(config, ReadConfig(path_));
  std::map<std::string, std::string> out;
  if (const Json* auths = ObjectAt(config, "auths")) {
    for (const auto& [k, v] : auths->items()) {
      STRATA_ASSIGN(c, FromAuthEntry(path_, k, v));
      if (c) out[k] = c->username.empty() ? kTokenUsername : c->username;
    }
  }
  auto store = config.find("credsStore");
  if (store != config.end() && store->is_string() && !store->get<std::string>().empty()) {
    const std::string helper = "docker-credential-" + store->get<std::string>();
    STRATA_ASSIGN(r, RunHelper(helper, "list", ""));
    if (r.status != 0) return Fail(helper + " list failed: " + Trimmed(r.out));
    Json j = ParseUntrustedJson<nlohmann::ordered_json>(r.out);
    if (!j.is_object()) return Fail(helper + " list: answer is not a JSON object");
    for (const auto& [server, user] : j.items()) {
      if (user.is_string()) out[server] = user.get<std::string>();
    }
  }
  if (const Json* helpers = ObjectAt(config, "credHelpers")) {
    for (const auto& [server, name] : helpers->items()) {
      if (!name.is_string()) continue;
      STRATA_ASSIGN(c, GetFromHelper("docker-credential-" + name.get<std::string>(), server));
      if (c) out[server] = c->username.empty() ? kTokenUsername : c->username;
    }
  }
  return out;
}

Status CredentialStore::Validate() const {
  STRATA_ASSIGN(config, ReadConfig(path_));
  (void)config;
  return {};
}

CredentialLookup CredentialStore::Lookup() const {
  struct Cache {
    std::mutex mu;
    std::map<std::string, std::optional<Credentials>> by_key;
  };
  auto cache = std::make_shared<Cache>();
  const std::string path = path_;
  return [path, cache](const std::string& host) -> std::optional<Credentials> {
    const std::string key = KeyFor(host);
    // Held across the helper run so parallel transfers ask the helper once.
    std::lock_guard<std::mutex> lock(cache->mu);
    if (auto it = cache->by_key.find(key); it != cache->by_key.end()) return it->second;
    auto c = CredentialStore(path).Get(host);
    if (!c) return std::nullopt;  // not cached: a later call may succeed
    cache->by_key[key] = *c;
    return *c;
  };
}

}  // namespace strata

// What a registry holds, without touching the store: the tags of a repository (skopeo
// list-tags) and a manifest or index as the registry stores it (docker manifest inspect). Not
// thread-safe (one Engine, one operation).
#pragma once

#include <string>
#include <vector>

#include "engine/engine.h"

namespace strata {

struct RepositoryTags {
  Reference repository;  // the fully qualified name, without tag
  std::vector<std::string> tags;
};

// The tags the registry lists for `name` (read as a push reads it: no search of short names),
// asked of the registry itself, never a mirror.
Result<RepositoryTags> ListTags(Engine& engine, const std::string& name);

struct RemoteManifest {
  Reference ref;      // the fully qualified reference asked for
  std::string host;   // the endpoint that answered (a mirror or the registry)
  ManifestBlob blob;  // the bytes as stored, and their media type
};

// The manifest or index `name` (resolved as a pull resolves it) names, from the first source
// that has it: mirrors first, then the registry. When none has it, the error lists each
// source's failure and takes the kind of the registry's.
Result<RemoteManifest> InspectManifest(Engine& engine, const std::string& name);

}  // namespace strata

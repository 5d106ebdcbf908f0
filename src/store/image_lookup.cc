#include "store/image_lookup.h"

#include "reference/reference.h"

namespace strata {
namespace {

bool IsHexPrefix(std::string_view text) {
  if (text.empty() || text.size() > 64) return false;
  for (char c : text) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

}  // namespace

Result<Digest> ResolveImage(Store& store, std::string_view text) {
  Metadata& md = store.metadata();
  const std::string quoted = "\"" + std::string(text) + "\"";
  auto any = ParseAnyReference(text);
  if (any) {
    if (const Digest* id = std::get_if<Digest>(&*any)) {
      STRATA_ASSIGN(image, md.GetImage(*id));
      if (image) return image->id;
      return Fail(ErrorCode::kNotFound, "No such image: " + std::string(text));
    }
    const Reference& ref = std::get<Reference>(*any);
    STRATA_ASSIGN(found, md.GetRef(TagNameOnly(ref).String()));
    if (found) return found->image_id;
  }
  std::string_view prefix = text;
  if (prefix.starts_with("sha256:")) prefix.remove_prefix(7);
  if (IsHexPrefix(prefix)) {
    STRATA_ASSIGN(matches, md.FindImagesByPrefix(std::string(prefix)));
    if (matches.size() == 1) return matches[0];
    if (matches.size() > 1) {
      return Fail(ErrorCode::kInvalidArgument, "image ID prefix " + quoted +
                                                   " is ambiguous: it matches " +
                                                   std::to_string(matches.size()) + " images");
    }
  }
  if (!any) return tl::unexpected(any.error());
  return Fail(ErrorCode::kNotFound, "No such image: " + std::string(text));
}

Result<ImageConfig> LoadImageConfig(Store& store, const Digest& id) {
  STRATA_ASSIGN(bytes, store.content().ReadVerified(id));
  auto config = ImageConfig::Parse(std::move(bytes));
  if (!config) return Wrap("image " + id.str(), config.error());
  return config;
}

}  // namespace strata

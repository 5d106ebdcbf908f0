// Lists the images of a strata store through libstrata: one line per image, newest first,
// "<image ID>\t<tags, comma-separated, or <none>>\t<size in bytes>". A program built against
// the installed library (see README.md beside this file).
//
//   list_images [STORE_ROOT]    (default: strata's own default root)
#include <strata/store/image_views.h>
#include <strata/store/store.h>

#include <cstdio>
#include <string>

int main(int argc, char** argv) {
  if (argc > 2) {
    std::fprintf(stderr, "usage: %s [STORE_ROOT]\n", argv[0]);
    return 2;
  }
  const std::string root = argc == 2 ? argv[1] : strata::DefaultStoreRoot();
  auto store = strata::Store::Open(root);
  if (!store) {
    std::fprintf(stderr, "list_images: %s\n", store.error().message.c_str());
    return 1;
  }
  auto images = strata::ListImages(**store);
  if (!images) {
    std::fprintf(stderr, "list_images: %s\n", images.error().message.c_str());
    return 1;
  }
  for (const strata::ImageSummary& image : *images) {
    std::string tags;
    for (const std::string& tag : image.repo_tags) tags += (tags.empty() ? "" : ",") + tag;
    std::printf("%s\t%s\t%lld\n", image.id.str().c_str(), tags.empty() ? "<none>" : tags.c_str(),
                static_cast<long long>(image.size));
  }
  return 0;
}

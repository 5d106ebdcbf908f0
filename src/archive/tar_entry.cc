#include "archive/tar_entry.h"

namespace strata {

std::string_view TarTypeName(TarType type) {
  switch (type) {
    case TarType::kRegular:
      return "regular file";
    case TarType::kHardlink:
      return "hard link";
    case TarType::kSymlink:
      return "symlink";
    case TarType::kCharDevice:
      return "character device";
    case TarType::kBlockDevice:
      return "block device";
    case TarType::kDirectory:
      return "directory";
    case TarType::kFifo:
      return "fifo";
    case TarType::kOther:
      break;
  }
  return "other";
}

char TarTypeflagFor(TarType type) {
  switch (type) {
    case TarType::kRegular:
      return '0';
    case TarType::kHardlink:
      return '1';
    case TarType::kSymlink:
      return '2';
    case TarType::kCharDevice:
      return '3';
    case TarType::kBlockDevice:
      return '4';
    case TarType::kDirectory:
      return '5';
    case TarType::kFifo:
      return '6';
    case TarType::kOther:
      break;
  }
  return '\0';
}

}  // namespace strata

// Compiled with util's include path by the test layering.upward_include_fails, which passes only
// if this fails to compile because util cannot see store's headers (CMakeLists.txt, modules).
#include "store/store.h"

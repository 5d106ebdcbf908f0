// `strata --debug`: one line per phase on stderr, stamped with the time since the process began
// ("[  1.234s] layer 9195e4f4bf76: staged"), so that a slow command shows where its time went.
// Off by default; lines are written whole, so threads do not interleave within a line.
#pragma once

#include <string_view>

namespace strata {

void EnableDebugLog();
bool DebugLogEnabled();
// Prints `what` when --debug is on; costs one relaxed load when it is off.
void DebugLog(std::string_view what);

}  // namespace strata

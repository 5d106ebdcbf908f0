// Dockerfile variable substitution and quote removal (buildkit's shell.Lex with the default
// escape token '\'), used by ENV, LABEL, USER, WORKDIR, VOLUME, STOPSIGNAL and EXPOSE.
// Supports '…' (literal), "…" (with $ expansion and \" \$ \\ escapes), \x outside quotes,
// $NAME, ${NAME}, ${NAME:-word}, ${NAME:+word}. Unset variables expand to "". Stateless.
#pragma once

#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "util/result.h"

namespace strata {

// `env` holds "KEY=value" entries; the first entry with a matching key wins.
// Whitespace is kept: ProcessShellWord("a  $X", …) keeps both spaces.
Result<std::string> ProcessShellWord(std::string_view word, std::span<const std::string> env);

// Same, then split into words on unquoted whitespace, including whitespace that came from an
// unquoted expansion (EXPOSE $PORTS with PORTS="80 443" gives two words).
Result<std::vector<std::string>> ProcessShellWords(std::string_view word,
                                                   std::span<const std::string> env);

}  // namespace strata

#include "image/shell_words.h"

#include <gtest/gtest.h>

namespace strata {
namespace STRATA_UNITY_ID {

const std::vector<std::string> kEnv = {"A=one", "B=two words", "EMPTY=", "A=shadowed"};

std::string Word(std::string_view w) {
  auto r = ProcessShellWord(w, kEnv);
  return r ? *r : "ERROR: " + r.error().message;
}

TEST(ShellWords, Expansion) {
  EXPECT_EQ(Word("$A"), "one");
  EXPECT_EQ(Word("${A}x"), "onex");
  EXPECT_EQ(Word("$Ax"), "");  // the name is "Ax", unset
  EXPECT_EQ(Word("pre-${B}-post"), "pre-two words-post");
  EXPECT_EQ(Word("${UNSET:-fallback $A}"), "fallback one");
  EXPECT_EQ(Word("${EMPTY:-d}"), "d");
  EXPECT_EQ(Word("${A:-d}"), "one");
  EXPECT_EQ(Word("${A:+alt}|${EMPTY:+alt}"), "alt|");
  EXPECT_EQ(Word("cost: $"), "cost: $");
  EXPECT_EQ(Word("$ 5"), "$ 5");
}

TEST(ShellWords, QuotesAndEscapes) {
  EXPECT_EQ(Word("'$A \"x\"'"), "$A \"x\"");
  EXPECT_EQ(Word("\"$A \\\"q\\\" \\$A \\n\""), "one \"q\" $A \\n");
  EXPECT_EQ(Word("\\$A\\ \\\"x"), "$A \"x");
  EXPECT_EQ(Word("a   b"), "a   b");
  EXPECT_EQ(Word("trailing\\"), "trailing");
}

TEST(ShellWords, Errors) {
  EXPECT_EQ(Word("'open"),
            "ERROR: failed to process \"'open\": unexpected end of statement while looking for "
            "matching single-quote");
  EXPECT_NE(Word("\"open").find("matching double-quote"), std::string::npos);
  EXPECT_NE(Word("${").find("syntax error: missing '}'"), std::string::npos);
  EXPECT_NE(Word("${A").find("missing ':' in substitution"), std::string::npos);  // as buildkit
  EXPECT_NE(Word("${A:-x").find("syntax error: missing '}'"), std::string::npos);
  EXPECT_NE(Word("${}").find("bad substitution"), std::string::npos);
  EXPECT_NE(Word("${A?x}").find("missing ':' in substitution"), std::string::npos);
  EXPECT_NE(Word("${A:=x}").find("unsupported modifier (=) in substitution"), std::string::npos);
}

TEST(ShellWords, WordSplitting) {
  auto words = ProcessShellWords("80 $B \"443 8080\" ''", kEnv);
  ASSERT_TRUE(words);
  EXPECT_EQ(*words, (std::vector<std::string>{"80", "two", "words", "443 8080", ""}));
}

}  // namespace STRATA_UNITY_ID
}  // namespace strata

#include "migrate/tar_split.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include "archive/compression.h"
#include "archive/tar_writer.h"
#include "digest/digest.h"
#include "migrate/crc64_iso.h"
#include "util/file.h"

namespace strata {
namespace STRATA_UNITY_ID {

TarSplitEntry Entry(TarSplitEntry::Type type, std::string name, int64_t size = 0,
                    std::string payload = "") {
  TarSplitEntry e;
  e.type = type;
  e.name = std::move(name);
  e.size = size;
  e.payload = std::move(payload);
  return e;
}
constexpr auto kFile = TarSplitEntry::Type::kFile;
constexpr auto kSegment = TarSplitEntry::Type::kSegment;

class TarSplitTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/strata-tarsplit-XXXXXX";
    dir_ = ::mkdtemp(tmpl);
    files_ = dir_ + "/files";
    ASSERT_TRUE(MakeDirs(files_));
  }
  void TearDown() override { (void)RemoveAll(dir_); }

  // A tar with a directory, files (one with a long PAX name), a hard link and a symlink, plus
  // its files unpacked under files_.
  std::string MakeLayer() {
    StringWriter out;
    TarWriter tar(out);
    auto add = [&](const std::string& name, TarType type, const std::string& content = "",
                   const std::string& linkname = "") {
      TarEntry e;
      e.name = name;
      e.type = type;
      e.mode = type == TarType::kDirectory ? 0755 : 0644;
      e.linkname = linkname;
      e.size = static_cast<int64_t>(content.size());
      EXPECT_TRUE(tar.WriteHeader(e));
      if (!content.empty()) {
        EXPECT_TRUE(tar.WriteContent(content.data(), content.size()));
      }
    };
    add("etc/", TarType::kDirectory);
    add("etc/passwd", TarType::kRegular, "root:x:0:0\n");
    const std::string long_dir = "etc/" + std::string(120, 'd') + "/";
    add(long_dir, TarType::kDirectory);
    add(long_dir + "big", TarType::kRegular, std::string(70000, 'x'));
    add("etc/empty", TarType::kRegular);
    add("etc/link", TarType::kHardlink, "", "etc/passwd");
    add("etc/sym", TarType::kSymlink, "", "passwd");
    EXPECT_TRUE(tar.Close());
    EXPECT_TRUE(MakeDirs(files_ + "/" + long_dir));
    EXPECT_TRUE(WriteFileAtomic(files_ + "/etc/passwd", "root:x:0:0\n"));
    EXPECT_TRUE(WriteFileAtomic(files_ + "/" + long_dir + "big", std::string(70000, 'x')));
    EXPECT_TRUE(WriteFileAtomic(files_ + "/etc/empty", ""));
    return out.out;
  }

  std::string WriteSplit(const std::vector<TarSplitEntry>& entries) {
    std::string lines;
    for (size_t i = 0; i < entries.size(); ++i) {
      lines += MarshalTarSplitLine(entries[i], static_cast<int64_t>(i)) + "\n";
    }
    StringWriter gz;
    GzipWriter writer(gz);
    EXPECT_TRUE(writer.Write(lines.data(), lines.size()));
    EXPECT_TRUE(writer.Close());
    const std::string path = dir_ + "/tar-split.json.gz";
    EXPECT_TRUE(WriteFileAtomic(path, gz.out));
    return path;
  }

  Result<std::string> Assemble(const std::string& split_path) {
    STRATA_ASSIGN(a, TarSplitAssembler::Open(split_path, files_));
    StringWriter out;
    STRATA_TRY(Copy(*a, out));
    return out.out;
  }

  std::string dir_, files_;
};

TEST(Crc64Iso, GoCheckValue) {
  EXPECT_EQ(Crc64Iso(0, "123456789", 9), 0xb90956c775a41001ULL);
  EXPECT_EQ(Crc64Iso(Crc64Iso(0, "1234", 4), "56789", 5), 0xb90956c775a41001ULL);
}

TEST_F(TarSplitTest, ReassemblesTheExactBytes) {
  const std::string tar = MakeLayer();
  auto entries = DisassembleTar(tar);
  ASSERT_TRUE(entries) << entries.error().message;
  int files = 0;
  for (const auto& e : *entries) files += e.type == TarSplitEntry::Type::kFile;
  EXPECT_EQ(files, 7);
  auto out = Assemble(WriteSplit(*entries));
  ASSERT_TRUE(out) << out.error().message;
  EXPECT_EQ(Digest::Sha256Of(*out), Digest::Sha256Of(tar));
}

TEST_F(TarSplitTest, LineFormatMatchesTarSplit) {
  TarSplitEntry seg = Entry(kSegment, "", 0, "ab");
  EXPECT_EQ(MarshalTarSplitLine(seg, 0), R"({"type":2,"payload":"YWI=","position":0})");
  TarSplitEntry dir = Entry(kFile, "a/");
  EXPECT_EQ(MarshalTarSplitLine(dir, 3), R"({"type":1,"name":"a/","payload":null,"position":3})");
  TarSplitEntry raw{.type = TarSplitEntry::Type::kFile,
                    .name = "\xff",
                    .size = 1,
                    .payload = std::string(8, '\0')};
  const std::string line = MarshalTarSplitLine(raw, 4);
  EXPECT_EQ(line, R"({"type":1,"name_raw":"/w==","size":1,"payload":"AAAAAAAAAAA=","position":4})");
  auto parsed = ParseTarSplitLine(line, 4);
  ASSERT_TRUE(parsed);
  EXPECT_EQ(parsed->name, "\xff");
  EXPECT_EQ(parsed->size, 1);
  EXPECT_FALSE(ParseTarSplitLine(line, 5));  // out of order
  // Go escapes '&' in names; both parsers must give the same entry.
  TarSplitEntry amp = Entry(kFile, "a&b/\xc3\xa9", 3, std::string(8, 'c'));
  const std::string amp_line = MarshalTarSplitLine(amp, 9);
  EXPECT_NE(amp_line.find("a\\u0026b"), std::string::npos) << amp_line;
  auto amp_parsed = ParseTarSplitLine(amp_line, 9);
  ASSERT_TRUE(amp_parsed);
  EXPECT_EQ(amp_parsed->name, "a&b/\xc3\xa9");
  EXPECT_EQ(amp_parsed->payload, std::string(8, 'c'));
  auto reordered = ParseTarSplitLine(R"({"position":2,"payload":"YWI=","type":2})",
                                     2);  // not the packer's key order
  ASSERT_TRUE(reordered);
  EXPECT_EQ(reordered->payload, "ab");
  EXPECT_FALSE(ParseTarSplitLine(R"({"type":7,"position":0})", 0));
  EXPECT_FALSE(ParseTarSplitLine("nope", 0));
}

TEST_F(TarSplitTest, ChangedFileFailsItsChecksum) {
  auto entries = DisassembleTar(MakeLayer());
  ASSERT_TRUE(entries);
  ASSERT_TRUE(WriteFileAtomic(files_ + "/etc/passwd", "root:y:0:0\n"));
  auto out = Assemble(WriteSplit(*entries));
  ASSERT_FALSE(out);
  EXPECT_NE(out.error().message.find("checksum failed for " + files_ + "/etc/passwd"),
            std::string::npos)
      << out.error().message;
}

TEST_F(TarSplitTest, TruncatedFileIsNamed) {
  auto entries = DisassembleTar(MakeLayer());
  ASSERT_TRUE(entries);
  ASSERT_TRUE(WriteFileAtomic(files_ + "/etc/passwd", "root"));
  auto out = Assemble(WriteSplit(*entries));
  ASSERT_FALSE(out);
  EXPECT_NE(out.error().message.find("etc/passwd is truncated"), std::string::npos)
      << out.error().message;
}

TEST_F(TarSplitTest, RecordsCannotReachOutsideTheLayer) {
  ASSERT_TRUE(WriteFileAtomic(dir_ + "/secret", "secret"));
  ASSERT_EQ(::symlink("../secret", (files_ + "/escape").c_str()), 0);
  const std::string crc(8, '\0');
  for (const char* name : {"escape", "../secret"}) {
    std::vector<TarSplitEntry> entries = {Entry(kFile, name, 6, crc)};
    auto out = Assemble(WriteSplit(entries));
    EXPECT_FALSE(out) << name;
  }
}

TEST_F(TarSplitTest, DuplicatePathsAreRefused) {
  std::vector<TarSplitEntry> entries = {Entry(kFile, "a"), Entry(kFile, "./a")};
  auto out = Assemble(WriteSplit(entries));
  ASSERT_FALSE(out);
  EXPECT_NE(out.error().message.find("duplicate path"), std::string::npos);
}

TEST_F(TarSplitTest, CorruptSplitFileIsAnError) {
  ASSERT_TRUE(WriteFileAtomic(dir_ + "/bad.gz", "not gzip at all"));
  EXPECT_FALSE(Assemble(dir_ + "/bad.gz"));
}

}  // namespace STRATA_UNITY_ID
}  // namespace strata

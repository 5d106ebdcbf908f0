#include "archive/tar_writer.h"

#include <gtest/gtest.h>

#include <string>

#include "archive/tar_format.h"
#include "archive/tar_reader.h"
#include "digest/digest.h"

namespace strata {
namespace STRATA_UNITY_ID {

using namespace std::string_literals;

std::string Field(const std::string& block, tar::Field f) { return block.substr(f.offset, f.size); }

TarEntry Regular(const std::string& name, int64_t size) {
  TarEntry e;
  e.name = name;
  e.size = size;
  e.mode = 0644;
  e.uid = 1000;
  e.gid = 1000;
  e.mtime = {1700000000, 0};
  return e;
}

TEST(TarWriterTest, WritesPlainUstarHeader) {
  StringWriter out;
  TarWriter tar(out);
  TarEntry e = Regular("hello.txt", 5);
  e.uname = "alice";
  ASSERT_TRUE(tar.WriteEntry(e, "hello"));
  ASSERT_TRUE(tar.Close());
  ASSERT_EQ(out.out.size(), 512u + 512u + 1024u);
  const std::string h = out.out.substr(0, 512);
  EXPECT_EQ(Field(h, tar::kName).substr(0, 10), "hello.txt\0"s);
  EXPECT_EQ(Field(h, tar::kMode), "0000644\0"s);
  EXPECT_EQ(Field(h, tar::kUid), "0001750\0"s);
  EXPECT_EQ(Field(h, tar::kSize), "00000000005\0"s);
  EXPECT_EQ(Field(h, tar::kMtime), "14524770400\0"s);
  EXPECT_EQ(h[156], '0');
  EXPECT_EQ(Field(h, tar::kMagic) + Field(h, tar::kVersion),
            "ustar\0"
            "00"s);
  EXPECT_EQ(Field(h, tar::kUname).substr(0, 6), "alice\0"s);
  EXPECT_EQ(Field(h, tar::kDevmajor), "0000000\0"s);
  // "%06o\0 " checksum that matches the block.
  const std::string sum = Field(h, tar::kChecksum);
  EXPECT_EQ(sum.substr(6), "\0 "s);
  EXPECT_EQ(*tar::ParseNumeric(sum), tar::ComputeChecksum(h.data()).first);
  EXPECT_EQ(out.out.substr(512, 5), "hello");
  EXPECT_EQ(out.out.substr(517), std::string(512 - 5 + 1024, '\0'));
}

TEST(TarWriterTest, IsDeterministic) {
  auto build = [] {
    StringWriter out;
    TarWriter tar(out);
    TarEntry dir;
    dir.name = "etc/";
    dir.type = TarType::kDirectory;
    dir.mode = 0755;
    EXPECT_TRUE(tar.WriteEntry(dir));
    EXPECT_TRUE(tar.WriteEntry(Regular("etc/hosts", 10), "127.0.0.1\n"));
    EXPECT_TRUE(tar.Close());
    return out.out;
  };
  std::string a = build();
  std::string b = build();
  EXPECT_EQ(a, b);
  EXPECT_EQ(a.size(), 512u * 3 + 1024u);
}

TEST(TarWriterTest, SplitsLongAsciiNameIntoUstarPrefix) {
  const std::string dir(130, 'd');
  const std::string name = dir + "/file.txt";
  auto header = EncodeTarHeader(Regular(name, 0));
  ASSERT_TRUE(header) << header.error().message;
  ASSERT_EQ(header->size(), 512u);  // no PAX header needed
  EXPECT_EQ(tar::ParseString(Field(*header, tar::kName)), "file.txt");
  EXPECT_EQ(tar::ParseString(Field(*header, tar::kPrefix)), dir);
}

TEST(TarWriterTest, UsesPaxForNamesUstarCannotHold) {
  const std::string name = std::string(120, 'a') + "/" + std::string(120, 'b');  // suffix > 100
  auto header = EncodeTarHeader(Regular(name, 0));
  ASSERT_TRUE(header) << header.error().message;
  ASSERT_EQ(header->size(), 512u * 3);  // PAX header, one block of records, main header
  const std::string ext = header->substr(0, 512);
  EXPECT_EQ(ext[156], 'x');
  // Go names it path.Join(dir, "PaxHeaders.0", file), cut to 100 bytes.
  EXPECT_EQ(tar::ParseString(Field(ext, tar::kName)),
            (std::string(120, 'a') + "/PaxHeaders.0/" + std::string(120, 'b')).substr(0, 100));
  EXPECT_EQ(Field(ext, tar::kMode), "0000000\0"s);
  const std::string record = tar::FormatPaxRecord("path", name);
  EXPECT_EQ(*tar::ParseNumeric(Field(ext, tar::kSize)), static_cast<int64_t>(record.size()));
  EXPECT_EQ(header->substr(512, record.size()), record);
  const std::string main = header->substr(1024);
  EXPECT_EQ(main[156], '0');
  EXPECT_EQ(Field(main, tar::kName), name.substr(0, 100));
  EXPECT_EQ(Field(main, tar::kMagic), "ustar\0"s);
}

TEST(TarWriterTest, NonAsciiNameGoesToPaxWithAsciiFallback) {
  const std::string name = "caf\xc3\xa9/\xe6\x97\xa5\xe6\x9c\xac.txt";
  auto header = EncodeTarHeader(Regular(name, 0));
  ASSERT_TRUE(header);
  ASSERT_EQ(header->size(), 512u * 3);
  EXPECT_EQ(tar::ParseString(Field(*header, tar::kName)), "caf/PaxHeaders.0/.txt");
  EXPECT_EQ(header->substr(512, tar::FormatPaxRecord("path", name).size()),
            tar::FormatPaxRecord("path", name));
  EXPECT_EQ(tar::ParseString(Field(header->substr(1024), tar::kName)), "caf/.txt");
}

TEST(TarWriterTest, SizesOver8GiBUsePaxSizeRecord) {
  const int64_t size = 10737418240;  // 10 GiB
  auto header = EncodeTarHeader(Regular("big.img", size));
  ASSERT_TRUE(header);
  ASSERT_EQ(header->size(), 512u * 3);
  EXPECT_EQ(header->substr(512, 20), "20 size=10737418240\n");
  // The ustar size field cannot hold it; Go writes zeros there.
  EXPECT_EQ(Field(header->substr(1024), tar::kSize), "00000000000\0"s);

  // A reader sees the PAX size (the content itself is missing here).
  StringReader in(*header);
  TarReader reader(in);
  auto entry = reader.Next();
  ASSERT_TRUE(entry) << entry.error().message;
  ASSERT_TRUE(entry->has_value());
  EXPECT_EQ((*entry)->size, size);
  char buf[16];
  auto n = reader.content().Read(buf, sizeof buf);
  ASSERT_FALSE(n);
  EXPECT_EQ(n.error().message, "unexpected end of tar archive in entry big.img");
}

TEST(TarWriterTest, LargestUstarSizeStaysUstar) {
  auto header = EncodeTarHeader(Regular("edge", 8589934591));  // 8 GiB - 1
  ASSERT_TRUE(header);
  EXPECT_EQ(header->size(), 512u);
  EXPECT_EQ(Field(*header, tar::kSize), "77777777777\0"s);
}

TEST(TarWriterTest, NanosecondsAndXattrsForcePax) {
  TarEntry e = Regular("f", 0);
  e.mtime = {1700000000, 500};
  e.xattrs["security.capability"] = "\x01\x00\x00\x02"s;
  auto header = EncodeTarHeader(e);
  ASSERT_TRUE(header);
  ASSERT_EQ(header->size(), 512u * 3);
  const std::string records =
      tar::FormatPaxRecord("SCHILY.xattr.security.capability", "\x01\x00\x00\x02"s) +
      tar::FormatPaxRecord("mtime", "1700000000.0000005");
  EXPECT_EQ(header->substr(512, records.size()), records);  // keys in sorted order
  EXPECT_EQ(tar::ParseString(Field(*header, tar::kName)), "PaxHeaders.0/f");
}

TEST(TarWriterTest, RejectsUnencodableEntries) {
  TarEntry nul = Regular("a\0b"s, 0);
  auto r1 = EncodeTarHeader(nul);
  ASSERT_FALSE(r1);
  EXPECT_NE(r1.error().message.find("NUL"), std::string::npos);
  TarEntry slash = Regular("dir/", 0);
  EXPECT_FALSE(EncodeTarHeader(slash));
  TarEntry dev = Regular("dev", 0);
  dev.type = TarType::kCharDevice;
  dev.devmajor = 1 << 30;
  EXPECT_FALSE(EncodeTarHeader(dev));
}

TEST(TarWriterTest, EnforcesContentLength) {
  StringWriter out;
  TarWriter tar(out);
  ASSERT_TRUE(tar.WriteHeader(Regular("f", 4)));
  auto too_long = tar.WriteContent("12345", 5);
  ASSERT_FALSE(too_long);
  EXPECT_EQ(too_long.error().message, "tar entry f: content longer than its size");
  ASSERT_TRUE(tar.WriteContent("12", 2));
  auto closed = tar.Close();
  ASSERT_FALSE(closed);
  EXPECT_EQ(closed.error().message, "tar entry f: 2 content bytes missing");
  StringReader short_source("1");
  ASSERT_FALSE(tar.CopyContent(short_source));
}

TEST(TarWriterTest, LargeContentStreamsThrough) {
  StringWriter out;
  TarWriter tar(out);
  std::string big(700 * 1024 + 7, 'z');
  for (size_t i = 0; i < big.size(); i += 4097) big[i] = static_cast<char>(i % 251);
  ASSERT_TRUE(tar.WriteHeader(Regular("big", static_cast<int64_t>(big.size()))));
  StringReader source(big);
  ASSERT_TRUE(tar.CopyContent(source));
  ASSERT_TRUE(tar.Close());
  EXPECT_EQ(tar.bytes_written(), out.out.size());
  EXPECT_EQ(out.out.size() % 512, 0u);
  EXPECT_EQ(out.out.substr(512, big.size()), big);
}

}  // namespace STRATA_UNITY_ID
}  // namespace strata

#include "archive/tar_reader.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>
#include <string>
#include <vector>

#include "archive/compression.h"
#include "archive/tar_format.h"
#include "archive/tar_writer.h"
#include "archive/test_util.h"
#include "digest/digest.h"

namespace strata {
namespace STRATA_UNITY_ID {

using namespace std::string_literals;
using archive_test::TarBuilder;

// Serves a string a few bytes at a time, to exercise refills at every boundary.
class TrickleReader : public Reader {
 public:
  TrickleReader(std::string data, size_t step) : data_(std::move(data)), step_(step) {}
  Result<size_t> Read(char* buffer, size_t size) override {
    size_t n = std::min({size, step_, data_.size() - offset_});
    std::memcpy(buffer, data_.data() + offset_, n);
    offset_ += n;
    return n;
  }

 private:
  std::string data_;
  size_t step_;
  size_t offset_ = 0;
};

std::string ReadAll(Reader& r) {
  std::string out;
  char buf[1000];
  for (;;) {
    auto n = r.Read(buf, sizeof buf);
    EXPECT_TRUE(n) << n.error().message;
    if (!n || *n == 0) return out;
    out.append(buf, *n);
  }
}

// A raw header block with the given magic, for GNU / V7 shapes the writer never produces.
std::string RawBlock(const std::string& name, char typeflag, const std::string& size_field,
                     const char* magic8) {
  std::string b(512, '\0');
  tar::FormatString(b.data(), 100, name);
  tar::FormatOctal(b.data() + 100, 8, 0644);
  tar::FormatOctal(b.data() + 108, 8, 0);
  tar::FormatOctal(b.data() + 116, 8, 0);
  std::memcpy(b.data() + 124, size_field.data(), 12);
  tar::FormatOctal(b.data() + 136, 12, 1234);
  b[156] = typeflag;
  if (magic8 != nullptr) std::memcpy(b.data() + 257, magic8, 8);
  tar::SetChecksum(b.data());
  return b;
}

std::string OctalSize(int64_t n) {
  std::string f(12, '\0');
  tar::FormatOctal(f.data(), 12, n);
  return f;
}

std::string Padded(const std::string& data) {
  return data + std::string((512 - data.size() % 512) % 512, '\0');
}

TEST(TarReaderTest, RoundTripsEveryEntryKind) {
  const std::string long_name = std::string(150, 'n') + "/" + std::string(120, 'm') + ".txt";
  const std::string utf8_name =
      "donn\xc3\xa9"
      "es/\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e.txt";
  TarBuilder b;
  b.Dir("etc/", 0755);
  b.File("etc/passwd", "root:x:0:0\n", 0600);
  b.File(long_name, "long");
  b.File(utf8_name, "utf8");
  b.Symlink("../etc/passwd", "bin/pw");
  b.Symlink(std::string(200, 't'), "longlink");
  b.Hardlink("etc/passwd", "etc/passwd.bak");
  b.Fifo("run/fifo", 0600);
  TarEntry dev;
  dev.name = "dev/null";
  dev.type = TarType::kCharDevice;
  dev.mode = 0666;
  dev.devmajor = 1;
  dev.devminor = 3;
  b.Add(dev);
  TarEntry xattr;
  xattr.name = "bin/ping";
  xattr.size = 4;
  xattr.mode = 04755;
  xattr.uid = 3000000;  // too big for the octal field: PAX uid record
  xattr.gid = 42;
  xattr.uname = "someone";
  xattr.mtime = {1600000000, 123456789};
  xattr.xattrs["security.capability"] = "\x01\x00\x00\x02\x00\x20"s;
  xattr.xattrs["user.note"] = "hi";
  b.Add(xattr, "ping");
  const std::string archive = b.Build();
  ASSERT_EQ(b.error(), "");

  for (size_t step : {archive.size(), size_t{7}}) {
    TrickleReader in(archive, step);
    TarReader reader(in, 4096);
    std::vector<TarEntry> entries;
    std::vector<std::string> contents;
    for (;;) {
      auto next = reader.Next();
      ASSERT_TRUE(next) << next.error().message;
      if (!*next) break;
      entries.push_back(**next);
      contents.push_back(ReadAll(reader.content()));
    }
    ASSERT_EQ(entries.size(), 10u);
    EXPECT_EQ(entries[0].name, "etc/");
    EXPECT_EQ(entries[0].type, TarType::kDirectory);
    EXPECT_EQ(entries[0].mode, 0755);
    EXPECT_EQ(entries[1].name, "etc/passwd");
    EXPECT_EQ(entries[1].mode, 0600);
    EXPECT_EQ(contents[1], "root:x:0:0\n");
    EXPECT_EQ(entries[2].name, long_name);
    EXPECT_EQ(contents[2], "long");
    EXPECT_EQ(entries[3].name, utf8_name);
    EXPECT_EQ(contents[3], "utf8");
    EXPECT_EQ(entries[4].type, TarType::kSymlink);
    EXPECT_EQ(entries[4].linkname, "../etc/passwd");
    EXPECT_EQ(entries[5].linkname, std::string(200, 't'));
    EXPECT_EQ(entries[6].type, TarType::kHardlink);
    EXPECT_EQ(entries[6].linkname, "etc/passwd");
    EXPECT_EQ(contents[6], "");
    EXPECT_EQ(entries[7].type, TarType::kFifo);
    EXPECT_EQ(entries[8].type, TarType::kCharDevice);
    EXPECT_EQ(entries[8].devmajor, 1);
    EXPECT_EQ(entries[8].devminor, 3);
    const TarEntry& x = entries[9];
    EXPECT_EQ(x.name, "bin/ping");
    EXPECT_EQ(x.mode, 04755);
    EXPECT_EQ(x.uid, 3000000);
    EXPECT_EQ(x.gid, 42);
    EXPECT_EQ(x.uname, "someone");
    EXPECT_EQ(x.mtime, (TarTime{1600000000, 123456789}));
    EXPECT_EQ(x.xattrs.at("security.capability"), "\x01\x00\x00\x02\x00\x20"s);
    EXPECT_EQ(x.xattrs.at("user.note"), "hi");
    EXPECT_EQ(x.pax_records.at("uid"), "3000000");
    EXPECT_EQ(contents[9], "ping");
    auto rest = reader.DrainRest();
    ASSERT_TRUE(rest);
    EXPECT_EQ(*rest, 0u);
    EXPECT_EQ(reader.offset(), archive.size());
  }
}

TEST(TarReaderTest, RewritingAReadEntryReproducesTheBytes) {
  TarBuilder b;
  b.File(std::string(300, 'p'), "x");
  TarEntry e;
  e.name = "caps";
  e.xattrs["security.capability"] = "abc";
  b.Add(e);
  const std::string archive = b.Build();
  StringReader in(archive);
  TarReader reader(in);
  StringWriter out;
  TarWriter writer(out);
  for (;;) {
    auto next = reader.Next();
    ASSERT_TRUE(next);
    if (!*next) break;
    ASSERT_TRUE(writer.WriteHeader(**next));
    ASSERT_TRUE(writer.CopyContent(reader.content()));
  }
  ASSERT_TRUE(writer.Close());
  EXPECT_EQ(out.out, archive);
}

TEST(TarReaderTest, SkipsUnreadContentAndPadding) {
  std::string big(200000, 'b');
  TarBuilder b;
  b.File("big", big);
  b.File("small", "s");
  const std::string archive = b.Build();
  StringReader in(archive);
  TarReader reader(in);
  auto first = reader.Next();
  ASSERT_TRUE(first && *first);
  char buf[10];
  ASSERT_EQ(*reader.content().Read(buf, 10), 10u);  // read a little, leave the rest
  auto second = reader.Next();
  ASSERT_TRUE(second && *second) << (second ? "" : second.error().message);
  EXPECT_EQ((*second)->name, "small");
  EXPECT_EQ(ReadAll(reader.content()), "s");
  auto end = reader.Next();
  ASSERT_TRUE(end);
  EXPECT_FALSE(*end);
}

TEST(TarReaderTest, LargeReadsBypassTheBufferIntact) {
  std::string big(400 * 1024 + 3, '\0');
  for (size_t i = 0; i < big.size(); ++i) big[i] = static_cast<char>((i * 7919) % 256);
  TarBuilder b;
  b.File("a", "x");
  b.File("big", big);
  const std::string archive = b.Build();
  StringReader in(archive);
  TarReader reader(in, 64 * 1024);
  ASSERT_TRUE(reader.Next());
  ASSERT_TRUE(reader.Next());
  std::string got;
  std::vector<char> buf(1 << 20);
  for (;;) {
    auto n = reader.content().Read(buf.data(), buf.size());
    ASSERT_TRUE(n);
    if (*n == 0) break;
    got.append(buf.data(), *n);
  }
  EXPECT_EQ(got, big);
  auto end = reader.Next();
  ASSERT_TRUE(end);
  EXPECT_FALSE(*end);
}

TEST(TarReaderTest, DetectsHeaderChecksumCorruption) {
  TarBuilder b;
  b.File("one", "1");
  b.File("two", "2");
  std::string archive = b.Build();
  std::string first = archive;
  first[3] ^= 0x20;  // "one" -> "onE"
  StringReader in1(first);
  TarReader r1(in1);
  auto e1 = r1.Next();
  ASSERT_FALSE(e1);
  EXPECT_EQ(e1.error().message, "tar header checksum mismatch at offset 0");
  // Errors are sticky.
  EXPECT_FALSE(r1.Next());

  std::string second = archive;
  second[1024 + 100] = '7';  // mode field of the second header
  StringReader in2(second);
  TarReader r2(in2);
  ASSERT_TRUE(r2.Next());
  auto e2 = r2.Next();
  ASSERT_FALSE(e2);
  EXPECT_EQ(e2.error().message, "tar header checksum mismatch at offset 1024");
}

TEST(TarReaderTest, ReportsTruncation) {
  TarBuilder b;
  b.File("data/file.bin", std::string(5000, 'd'));
  const std::string archive = b.Build();

  // Cut inside the content: reading it fails, and so does skipping it.
  StringReader in1(archive.substr(0, 512 + 3000));
  TarReader r1(in1);
  ASSERT_TRUE(r1.Next());
  std::string sink(8192, '\0');
  Result<size_t> n = 0;
  size_t total = 0;
  while ((n = r1.content().Read(sink.data(), sink.size())) && *n > 0) total += *n;
  ASSERT_FALSE(n);
  EXPECT_EQ(total, 3000u);
  EXPECT_EQ(n.error().message, "unexpected end of tar archive in entry data/file.bin");
  StringReader in2(archive.substr(0, 512 + 3000));
  TarReader r2(in2);
  ASSERT_TRUE(r2.Next());
  auto skipped = r2.Next();
  ASSERT_FALSE(skipped);
  EXPECT_EQ(skipped.error().message, "unexpected end of tar archive in entry data/file.bin");

  // Cut inside the padding after the content.
  StringReader in3(archive.substr(0, 512 + 5000 + 10));
  TarReader r3(in3);
  ASSERT_TRUE(r3.Next());
  auto padding = r3.Next();
  ASSERT_FALSE(padding);
  EXPECT_EQ(padding.error().message, "unexpected end of tar archive in entry data/file.bin");

  // Cut inside a header.
  StringReader in4(archive.substr(0, 300));
  TarReader r4(in4);
  auto header = r4.Next();
  ASSERT_FALSE(header);
  EXPECT_EQ(header.error().message, "unexpected end of tar archive in header at offset 0");
}

TEST(TarReaderTest, AcceptsMissingOrShortEndMarker) {
  TarBuilder b;
  b.File("f", "content");
  const std::string archive = b.Build();
  const size_t body = archive.size() - 1024;
  for (size_t cut : {body, body + 512, body + 1024}) {
    StringReader in(archive.substr(0, cut));
    TarReader reader(in);
    auto e = reader.Next();
    ASSERT_TRUE(e && *e);
    auto end = reader.Next();
    ASSERT_TRUE(end) << "cut " << cut << ": " << end.error().message;
    EXPECT_FALSE(*end);
    EXPECT_EQ(reader.offset(), cut);
  }
  // A zero block followed by a header is not an end marker.
  std::string bad = archive.substr(0, body) + std::string(512, '\0') + archive.substr(0, 512);
  StringReader in(bad);
  TarReader reader(in);
  ASSERT_TRUE(reader.Next());
  auto e = reader.Next();
  ASSERT_FALSE(e);
  EXPECT_NE(e.error().message.find("zero block followed by a header"), std::string::npos);
}

TEST(TarReaderTest, DrainRestReadsTrailingBytes) {
  TarBuilder b;
  b.File("f", "x");
  std::string archive = b.Build();
  archive += std::string(10240 - archive.size() % 10240, '\0');  // GNU tar record padding
  StringReader in(archive);
  TarReader reader(in, 1024);
  ASSERT_TRUE(reader.Next());
  auto end = reader.Next();
  ASSERT_TRUE(end);
  EXPECT_FALSE(*end);
  auto rest = reader.DrainRest();
  ASSERT_TRUE(rest);
  EXPECT_EQ(*rest, archive.size() - 2048u);
  EXPECT_EQ(reader.offset(), archive.size());
}

// What a layer pull does: inflate, hash the tar stream (the DiffID), parse it.
TEST(TarReaderTest, DiffIdThroughGzipSeesEveryByte) {
  TarBuilder b;
  b.File("etc/hosts", "127.0.0.1 localhost\n").File("bin/tool", std::string(100000, 't'));
  std::string archive = b.Build();
  archive += std::string(4096, '\0');  // trailing zeros after the end marker
  StringWriter gz;
  GzipWriter writer(gz);
  ASSERT_TRUE(writer.Write(archive.data(), archive.size()));
  ASSERT_TRUE(writer.Close());

  class HashingReader : public Reader {
   public:
    explicit HashingReader(Reader& r) : r_(r) {}
    Result<size_t> Read(char* buf, size_t size) override {
      auto n = r_.Read(buf, size);
      if (n) hasher.Update(buf, *n);
      return n;
    }
    Hasher hasher;

   private:
    Reader& r_;
  };
  StringReader in(gz.out);
  auto inflated = AutoDecompress(in);
  ASSERT_TRUE(inflated);
  HashingReader hashing(**inflated);
  TarReader reader(hashing);
  int entries = 0;
  for (;;) {
    auto next = reader.Next();
    ASSERT_TRUE(next) << next.error().message;
    if (!*next) break;
    ++entries;  // content left unread on purpose
  }
  auto rest = reader.DrainRest();
  ASSERT_TRUE(rest);
  EXPECT_EQ(*rest, 4096u);
  EXPECT_EQ(entries, 2);
  EXPECT_EQ(hashing.hasher.Finish(), Digest::Sha256Of(archive));
}

TEST(TarReaderTest, ReadsGnuLongNamesAndBase256Sizes) {
  const std::string name(180, 'L');
  const std::string link(150, 'K');
  std::string archive;
  archive += RawBlock("././@LongLink", 'L', OctalSize(name.size() + 1), "ustar  \0");
  archive += Padded(name + '\0');
  archive += RawBlock("././@LongLink", 'K', OctalSize(link.size() + 1), "ustar  \0");
  archive += Padded(link + '\0');
  archive += RawBlock(name.substr(0, 100), '2', OctalSize(0), "ustar  \0");
  // A base-256 size field (GNU), holding 3.
  std::string size256(12, '\0');
  ASSERT_TRUE(tar::FormatBase256(size256.data(), 12, 3));
  archive += RawBlock("gnu-file", '0', size256, "ustar  \0");
  archive += Padded("abc");
  archive += std::string(1024, '\0');

  StringReader in(archive);
  TarReader reader(in);
  auto sym = reader.Next();
  ASSERT_TRUE(sym && *sym) << (sym ? "" : sym.error().message);
  EXPECT_EQ((*sym)->name, name);
  EXPECT_EQ((*sym)->linkname, link);
  EXPECT_EQ((*sym)->type, TarType::kSymlink);
  EXPECT_EQ((*sym)->header_offset, 0u);
  auto file = reader.Next();
  ASSERT_TRUE(file && *file);
  EXPECT_EQ((*file)->name, "gnu-file");
  EXPECT_EQ((*file)->size, 3);
  EXPECT_EQ((*file)->mtime.seconds, 1234);
  EXPECT_EQ(ReadAll(reader.content()), "abc");
  auto end = reader.Next();
  ASSERT_TRUE(end);
  EXPECT_FALSE(*end);
}

TEST(TarReaderTest, IgnoresPaxGlobalHeaders) {
  const std::string records = tar::FormatPaxRecord("comment", "global");
  std::string archive = RawBlock("pax_global_header", 'g', OctalSize(records.size()),
                                 "ustar\0"
                                 "00");
  archive += Padded(records);
  TarBuilder b;
  b.File("after", "a");
  archive += b.Build();
  StringReader in(archive);
  TarReader reader(in);
  auto e = reader.Next();
  ASSERT_TRUE(e && *e) << (e ? "" : e.error().message);
  EXPECT_EQ((*e)->name, "after");
  EXPECT_EQ((*e)->header_offset, 1024u);
  EXPECT_TRUE((*e)->pax_records.empty());
}

TEST(TarReaderTest, V7EntriesWithTrailingSlashAreDirectories) {
  std::string archive = RawBlock("olddir/", '\0', OctalSize(0), nullptr);
  archive += RawBlock("olddir/file", '\0', OctalSize(2), nullptr) + Padded("ok");
  StringReader in(archive);  // and no end marker at all
  TarReader reader(in);
  auto dir = reader.Next();
  ASSERT_TRUE(dir && *dir);
  EXPECT_EQ((*dir)->type, TarType::kDirectory);
  auto file = reader.Next();
  ASSERT_TRUE(file && *file);
  EXPECT_EQ((*file)->type, TarType::kRegular);
  EXPECT_EQ(ReadAll(reader.content()), "ok");
  auto end = reader.Next();
  ASSERT_TRUE(end);
  EXPECT_FALSE(*end);
}

TEST(TarReaderTest, RejectsMalformedPaxAndSparseEntries) {
  std::string bad = RawBlock("PaxHeaders.0/x", 'x', OctalSize(9),
                             "ustar\0"
                             "00");
  bad += Padded("9 nokey\n\n");
  bad += RawBlock("x", '0', OctalSize(0),
                  "ustar\0"
                  "00");
  StringReader in1(bad);
  TarReader r1(in1);
  auto e1 = r1.Next();
  ASSERT_FALSE(e1);
  EXPECT_NE(e1.error().message.find("invalid PAX header at offset 0"), std::string::npos);

  std::string sparse = RawBlock("holes", 'S', OctalSize(0), "ustar  \0");
  StringReader in2(sparse);
  TarReader r2(in2);
  auto e2 = r2.Next();
  ASSERT_FALSE(e2);
  EXPECT_EQ(e2.error().message, "unsupported sparse file in tar entry holes");

  // An extended header with nothing after it.
  std::string dangling = RawBlock("PaxHeaders.0/x", 'x', OctalSize(12),
                                  "ustar\0"
                                  "00");
  dangling += Padded("12 path=foo\n");
  StringReader in3(dangling);
  TarReader r3(in3);
  auto e3 = r3.Next();
  ASSERT_FALSE(e3);
  EXPECT_EQ(e3.error().message, "unexpected end of tar archive after extended header at offset 0");
}

}  // namespace STRATA_UNITY_ID
}  // namespace strata

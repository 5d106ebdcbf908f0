#include "util/byte_pipe.h"

#include <gtest/gtest.h>

#include <thread>

namespace strata {
namespace STRATA_UNITY_ID {

TEST(BytePipe, CarriesEveryByteAcrossThreadsWithBackpressure) {
  BytePipe pipe(1000);  // far smaller than the data: the writer must wait for the reader
  std::string sent;
  for (int i = 0; i < 5000; ++i) sent += static_cast<char>(i * 7);
  std::thread writer([&] {
    for (size_t off = 0; off < sent.size(); off += 333) {
      ASSERT_TRUE(pipe.Write(sent.data() + off, std::min<size_t>(333, sent.size() - off)));
    }
    pipe.CloseWrite();
  });
  std::string got;
  char buf[100];
  for (;;) {
    auto n = pipe.Read(buf, sizeof buf);
    ASSERT_TRUE(n);
    if (*n == 0) break;
    got.append(buf, *n);
  }
  writer.join();
  EXPECT_EQ(got, sent);
}

TEST(BytePipe, AbandonedReaderNeverBlocksTheWriter) {
  BytePipe pipe(10);
  pipe.Abandon();
  std::string big(1 << 20, 'x');
  EXPECT_TRUE(pipe.Write(big.data(), big.size()));  // returns at once, data dropped
  EXPECT_TRUE(pipe.Write(big.data(), big.size()));
}

}  // namespace STRATA_UNITY_ID
}  // namespace strata

#include "output/json_writer.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

namespace ward::output {
namespace {

std::string json_quoted(std::string_view s) {
  std::string out;
  append_json_string(out, s);
  return out;
}

TEST(JsonString, EscapesQuotesBackslashesAndControls) {
  EXPECT_EQ(json_quoted("a\"b\\c"), R"("a\"b\\c")");
  EXPECT_EQ(json_quoted("line\nnext\ttab\r"), R"("line\nnext\ttab\r")");
  EXPECT_EQ(json_quoted(std::string_view("\x01\x1f", 2)), R"("\u0001\u001f")");
  EXPECT_EQ(json_quoted(std::string_view("nul\0in", 6)), R"("nul\u0000in")");
}

TEST(JsonString, KeepsValidUtf8) { EXPECT_EQ(json_quoted("héllo ✓ 𝄞"), "\"héllo ✓ 𝄞\""); }

TEST(JsonString, ReplacesInvalidUtf8SoItParses) {
  const std::string bad[] = {
      "\xff",
      "\xc3",
      "a\xc3(b",
      "\xe0\x80\xaf",      // overlong
      "\xed\xa0\x80",      // surrogate
      "\xf4\x90\x80\x80",  // > U+10FFFF
      "\xc0\xaf",
      "ok\x80",
      std::string(3, '\xfe'),
  };
  for (const auto& s : bad) {
    std::string json = json_quoted(s);
    auto parsed = nlohmann::json::parse(json);  // throws on invalid UTF-8
    std::string back = parsed.get<std::string>();
    EXPECT_NE(back.find("\xEF\xBF\xBD"), std::string::npos) << json;
  }
}

TEST(JsonString, EveryByteValueRoundTripsToValidJson) {
  std::string all;
  for (int c = 0; c < 256; ++c) all.push_back(static_cast<char>(c));
  EXPECT_NO_THROW(nlohmann::json::parse(json_quoted(all)));
}

TEST(JsonWriter, NestsAndSeparates) {
  std::string out;
  JsonWriter w(out);
  w.begin_object();
  w.key("a");
  w.value(int64_t{-1});
  w.key("b");
  w.begin_array();
  w.value(true);
  w.null();
  w.value("x");
  w.begin_object();
  w.end_object();
  w.end_array();
  w.key("c");
  w.value(uint64_t{18446744073709551615ull});
  w.end_object();
  EXPECT_EQ(out, R"({"a":-1,"b":[true,null,"x",{}],"c":18446744073709551615})");
}

TEST(Rfc3339, FormatsNanoseconds) {
  EXPECT_EQ(format_rfc3339_ns(0), "1970-01-01T00:00:00.000000000Z");
  EXPECT_EQ(format_rfc3339_ns(1'764'626'744'123'456'789ull), "2025-12-01T22:05:44.123456789Z");
}

}  // namespace
}  // namespace ward::output

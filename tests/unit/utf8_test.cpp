// UTF-8 validation: tables in the manner of Markus Kuhn's UTF-8 decoder stress test, then
// every string of up to three bytes (and a sample of four-byte ones) against a decoder that
// follows RFC 3629's definition by arithmetic rather than by tables.
#include <gtest/gtest.h>

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "sockit/utf8.hpp"

namespace sockit::utf8 {
namespace {

// The length of the sequence text starts with, or 0: its code point computed, then checked
// for an overlong form, a surrogate and the upper bound.
std::size_t reference_length(std::string_view text) {
  if (text.empty()) return 0;
  const auto b0 = static_cast<unsigned char>(text[0]);
  if (b0 < 0x80) return 1;
  if (b0 < 0xC0 || b0 >= 0xF8) return 0;
  const std::size_t n = b0 >= 0xF0 ? 4 : b0 >= 0xE0 ? 3 : 2;
  if (text.size() < n) return 0;
  std::uint32_t code_point = b0 & (0x7Fu >> n);
  for (std::size_t i = 1; i < n; ++i) {
    const auto b = static_cast<unsigned char>(text[i]);
    if ((b & 0xC0) != 0x80) return 0;
    code_point = code_point << 6 | (b & 0x3Fu);
  }
  constexpr std::uint32_t smallest[] = {0, 0, 0x80, 0x800, 0x10000};
  if (code_point < smallest[n]) return 0;
  if (code_point >= 0xD800 && code_point <= 0xDFFF) return 0;
  return code_point <= 0x10FFFF ? n : 0;
}

bool reference_valid(std::string_view text) {
  while (!text.empty()) {
    const std::size_t n = reference_length(text);
    if (n == 0) return false;
    text.remove_prefix(n);
  }
  return true;
}

// Whether tail, a lead byte and the continuation bytes after it, starts a longer valid
// sequence. Only a second byte has a range narrower than 0x80-0xBF: completions that try
// each byte where such a range starts or ends there, and 0x80 after it, find one if any.
bool starts_sequence(std::string_view tail) {
  constexpr unsigned char edges[] = {0x80, 0x8F, 0x90, 0x9F, 0xA0, 0xBF};
  for (unsigned char second : edges) {
    std::array<char, 4> bytes{};
    for (std::size_t i = 0; i < bytes.size(); ++i)
      bytes[i] = i < tail.size() ? tail[i] : static_cast<char>(i == 1 ? second : 0x80);
    for (std::size_t size = tail.size() + 1; size <= bytes.size(); ++size)
      if (reference_length({bytes.data(), size}) == size) return true;
  }
  return false;
}

std::size_t reference_tail(std::string_view text) {
  for (std::size_t n = 1; n <= 3 && n <= text.size(); ++n) {
    const std::string_view tail = text.substr(text.size() - n);
    if ((static_cast<unsigned char>(tail[0]) & 0xC0) == 0x80) continue;
    return starts_sequence(tail) ? n : 0;
  }
  return 0;
}

struct Case {
  std::string text;
  std::string why;
};

const std::vector<Case> valid_texts = {
    {"", "empty"},
    {"a", "one ASCII byte"},
    {std::string("\0", 1), "NUL"},
    {"\x7F", "DEL, the last one-byte form"},
    {"plain ASCII, longer than a word or two at a time", "an ASCII run"},
    {"\xC2\x80", "U+0080, the first two-byte form"},
    {"\xDF\xBF", "U+07FF, the last two-byte form"},
    {"\xE0\xA0\x80", "U+0800, the first three-byte form"},
    {"\xED\x9F\xBF", "U+D7FF, before the surrogates"},
    {"\xEE\x80\x80", "U+E000, after the surrogates"},
    {"\xEF\xBF\xBD", "U+FFFD"},
    {"\xEF\xBF\xBF", "U+FFFF, a noncharacter but UTF-8"},
    {"\xF0\x90\x80\x80", "U+10000, the first four-byte form"},
    {"\xF4\x8F\xBF\xBF", "U+10FFFF, the last code point"},
    {"\xCE\xBA\xE1\xBD\xB9\xCF\x83\xCE\xBC\xCE\xB5", "Kuhn's Greek word kosme"},
    {"1234567\xE2\x82\xAC"
     "89abcdef\xF0\x9F\x98\x80xyz",
     "sequences across word boundaries"},
};

const std::vector<Case> invalid_texts = {
    {"\x80", "a lone continuation byte"},
    {"\xBF", "the last continuation byte alone"},
    {"\x80\xBF\x80", "continuation bytes alone"},
    {"\xC2", "a two-byte form cut"},
    {"\xE0\xA0", "a three-byte form cut"},
    {"\xF0\x90\x80", "a four-byte form cut"},
    {"\xC2 ", "a lead byte before a space"},
    {"\xE1\x80 \xE1\x80", "three-byte leads each missing their last byte"},
    {"\xC0\xAF", "overlong '/' in two bytes"},
    {"\xE0\x80\xAF", "overlong '/' in three bytes"},
    {"\xF0\x80\x80\xAF", "overlong '/' in four bytes"},
    {"\xC1\xBF", "the largest overlong two-byte form"},
    {"\xE0\x9F\xBF", "the largest overlong three-byte form"},
    {"\xF0\x8F\xBF\xBF", "the largest overlong four-byte form"},
    {"\xC0\x80", "overlong NUL"},
    {"\xED\xA0\x80", "U+D800, the first surrogate"},
    {"\xED\xBF\xBF", "U+DFFF, the last surrogate"},
    {"\xED\xA0\x80\xED\xB0\x80", "a surrogate pair, as CESU-8 writes it"},
    {"\xF4\x90\x80\x80", "U+110000"},
    {"\xF7\xBF\xBF\xBF", "the largest four-byte form"},
    {"\xF8\x88\x80\x80\x80", "a five-byte form"},
    {"\xFC\x84\x80\x80\x80\x80", "a six-byte form"},
    {"\xFE", "0xFE"},
    {"\xFF", "0xFF"},
    {"\xFE\xFE\xFF\xFF", "0xFE and 0xFF"},
    {"abcdefghijklmnop\x80", "a continuation byte after an ASCII run"},
    {"\xCE\xBA\xE1\xBD\xB9\xCF\x83\xCE\xBC\xCE\xB5\xED\xA0\x80", "a surrogate after valid text"},
    {"\xE2\x82\xAC\xE2\x82", "a valid sequence, then a cut one"},
};

TEST(Utf8, AcceptsTheValidTable) {
  for (const Case& c : valid_texts) {
    EXPECT_TRUE(valid(c.text)) << c.why;
    EXPECT_TRUE(reference_valid(c.text)) << c.why;
  }
}

TEST(Utf8, RejectsTheInvalidTable) {
  for (const Case& c : invalid_texts) {
    EXPECT_FALSE(valid(c.text)) << c.why;
    EXPECT_FALSE(reference_valid(c.text)) << c.why;
  }
}

TEST(Utf8, MeasuresTheFirstSequence) {
  EXPECT_EQ(sequence_length(""), 0u);
  EXPECT_EQ(sequence_length("a\x80"), 1u);
  EXPECT_EQ(sequence_length("\xC2\x80"
                            "abc"),
            2u);
  EXPECT_EQ(sequence_length("\xE2\x82\xAC\xFF"), 3u);
  EXPECT_EQ(sequence_length("\xF4\x8F\xBF\xBF\xBF"), 4u);
  EXPECT_EQ(sequence_length("\x80"
                            "a"),
            0u);
  EXPECT_EQ(sequence_length("\xE2\x82"), 0u);
  EXPECT_EQ(sequence_length("\xED\xA0\x80"), 0u);
  EXPECT_EQ(sequence_length("\xF8\x88\x80\x80\x80"), 0u);
}

TEST(Utf8, FindsTheSequenceATextCutsOff) {
  EXPECT_EQ(incomplete_tail(""), 0u);
  EXPECT_EQ(incomplete_tail("abc"), 0u);
  EXPECT_EQ(incomplete_tail("\xC2"), 1u);
  EXPECT_EQ(incomplete_tail("a\xE2"), 1u);
  EXPECT_EQ(incomplete_tail("a\xE2\x82"), 2u);
  EXPECT_EQ(incomplete_tail("\xF0\x90"), 2u);
  EXPECT_EQ(incomplete_tail("\xF0\x90\x80"), 3u);
  EXPECT_EQ(incomplete_tail("\xE2\x82\xAC"), 0u);      // complete
  EXPECT_EQ(incomplete_tail("\xF0\x90\x80\x80"), 0u);  // complete
  EXPECT_EQ(incomplete_tail("\x80\x80\x80"), 0u);      // no lead byte
  EXPECT_EQ(incomplete_tail("\xE0\x80"), 0u);          // overlong already
  EXPECT_EQ(incomplete_tail("\xED\xA0"), 0u);          // a surrogate already
  EXPECT_EQ(incomplete_tail("\xF4\x90"), 0u);          // above U+10FFFF already
  EXPECT_EQ(incomplete_tail("\xC0"), 0u);              // never a lead byte
  EXPECT_EQ(incomplete_tail("\xF5"), 0u);
  EXPECT_EQ(incomplete_tail("\xF0\x90\x80\x80\x80"), 0u);  // a stray continuation byte
}

// Cut anywhere, valid text splits where incomplete_tail says into two valid halves.
TEST(Utf8, SplitsValidTextWhereverItIsCut) {
  for (const Case& c : valid_texts) {
    for (std::size_t cut = 0; cut <= c.text.size(); ++cut) {
      const std::string_view prefix = std::string_view(c.text).substr(0, cut);
      const std::size_t tail = incomplete_tail(prefix);
      EXPECT_TRUE(valid(prefix.substr(0, cut - tail))) << c.why << " cut at " << cut;
      EXPECT_TRUE(valid(std::string_view(c.text).substr(cut - tail))) << c.why << " cut at " << cut;
    }
  }
}

// Each of the 2^24 strings of three bytes, and those of one and two.
TEST(Utf8, AgreesWithTheDefinitionOnEveryShortString) {
  std::size_t disagreements = 0;
  char text[3];
  for (std::size_t size = 1; size <= 3; ++size) {
    for (std::uint32_t value = 0; value < 1u << (8 * size); ++value) {
      for (std::size_t i = 0; i < size; ++i)
        text[i] = static_cast<char>(value >> (8 * (size - 1 - i)));
      const std::string_view s(text, size);
      if (valid(s) != reference_valid(s) || sequence_length(s) != reference_length(s)) {
        if (++disagreements <= 10) ADD_FAILURE() << "disagree on " << testing::PrintToString(s);
      }
    }
  }
  EXPECT_EQ(disagreements, 0u);
}

// Every lead byte, with the bytes that bound the ranges of the others.
TEST(Utf8, AgreesWithTheDefinitionOnFourByteStrings) {
  constexpr unsigned char others[] = {0x00, 0x41, 0x7F, 0x80, 0x8F, 0x90, 0x9F,
                                      0xA0, 0xBF, 0xC0, 0xC2, 0xE0, 0xF0, 0xFF};
  for (unsigned lead = 0; lead < 256; ++lead) {
    for (unsigned char b1 : others) {
      for (unsigned char b2 : others) {
        for (unsigned char b3 : others) {
          const char bytes[] = {static_cast<char>(lead), static_cast<char>(b1),
                                static_cast<char>(b2), static_cast<char>(b3)};
          for (std::size_t size = 1; size <= 4; ++size) {
            const std::string_view s(bytes, size);
            ASSERT_EQ(valid(s), reference_valid(s)) << testing::PrintToString(s);
            ASSERT_EQ(sequence_length(s), reference_length(s)) << testing::PrintToString(s);
            ASSERT_EQ(incomplete_tail(s), reference_tail(s)) << testing::PrintToString(s);
          }
        }
      }
    }
  }
}

}  // namespace
}  // namespace sockit::utf8

// Strict UTF-8 (RFC 3629): no overlong forms, no surrogates (U+D800-U+DFFF), nothing above
// U+10FFFF, so no 5- or 6-byte forms and never the bytes 0xC0, 0xC1 or 0xF5-0xFF.
//
// Text that arrives in pieces is checked as it comes, without checking any byte twice:
//
//   const std::size_t cut = utf8::incomplete_tail(unchecked);   // a sequence the piece cut
//   if (!utf8::valid(unchecked.substr(0, unchecked.size() - cut))) reject();
//   // the last `cut` bytes are checked again with the next piece; at the end, none may remain
#pragma once

#include <cstddef>
#include <string_view>

namespace sockit::utf8 {

// Whether text is UTF-8 (the empty text is). ASCII runs are checked eight bytes at a time.
bool valid(std::string_view text) noexcept;

// The length (1 to 4) of the UTF-8 sequence text starts with, or 0 when text starts with an
// invalid or truncated one (or is empty): where text is cleaned up sequence by sequence.
std::size_t sequence_length(std::string_view text) noexcept;

// How many bytes at the end of text (0 to 3) are the start of a valid sequence that text cuts
// off, that more bytes could complete; 0 when text ends where a sequence does, or with bytes
// that no continuation would make valid.
std::size_t incomplete_tail(std::string_view text) noexcept;

}  // namespace sockit::utf8

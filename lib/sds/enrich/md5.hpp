#pragma once
// MD5 (RFC 1321) of a short string, without allocating: what a MISP feed's hashes.csv keys
// its values by. Not for anything that needs a secure hash.
#include <array>
#include <cstdint>
#include <string_view>

namespace sds::enrich {

using md5_digest = std::array<uint8_t, 16>;

md5_digest md5(std::string_view data) noexcept;

// 32 hex digits (either case) → digest; false for anything else.
bool md5_from_hex(std::string_view hex, md5_digest& out) noexcept;

}  // namespace sds::enrich

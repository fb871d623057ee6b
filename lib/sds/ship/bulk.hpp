#pragma once
// The pure parts of sds-ship's Elasticsearch path, callable without a network: index name
// templates, document ids, bulk bodies and the classification of bulk responses.
#include <simdjson.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "sds/core/expected.hpp"

namespace sds::ship {

// "--index" templates: literal text with {field.path} and {field.path:STRFTIME} parts, e.g.
// logs-{event.dataset}-{@timestamp:%Y.%m.%d}. A field part is the record's value (strings as
// they are, numbers as written), lower-cased, with characters Elasticsearch forbids in index
// names (\ / * ? " < > | space , # :) replaced by '_'. A time part reads the field as RFC 3339
// or epoch seconds/milliseconds and formats it in UTC with strftime conversions.
class index_template {
public:
    static expected<index_template> parse(std::string_view text);
    // Renders the name for `doc` into `out` (cleared first). Returns the reason when the record
    // lacks a field the template needs, or a time field cannot be read.
    std::optional<std::string> render(simdjson::dom::element doc, std::string& out) const;
    bool is_static() const noexcept { return parts_.size() <= 1 && (parts_.empty() || parts_[0].field.empty()); }

private:
    struct part {
        std::string text;  // literal text (when field is empty)
        std::string field;
        std::string time_format;  // non-empty: a time part
    };
    std::vector<part> parts_;
};

// How `_id` is chosen.
enum class id_mode { derived, field, none };

// The document id (DESIGN.md section 2, the non-temporal key), stable across versions:
//   derived: hex128(event.dataset + "\x1f" + event.id) (32 lower-case hex characters; a missing
//            event.dataset counts as ""); a record without event.id gets hex128("\x1e" + the
//            record's bytes) instead, so an identical line still maps to the same document.
//   field:   the value of `field` as it is (strings as written, numbers as text); missing → none.
//   none:    no _id; the server picks one (a replay then duplicates).
std::optional<std::string> document_id(simdjson::dom::element doc, std::string_view raw, id_mode mode,
                                       std::string_view field);

// The same, into buffers kept across records (no allocation per document once they have grown).
// Returns false when there is no id; otherwise the id is in `b.id`.
struct id_buffers {
    std::string id, key, scratch1, scratch2;
};
bool document_id(simdjson::dom::element doc, std::string_view raw, id_mode mode, std::string_view field,
                 id_buffers& b);


enum class op_type { index, create };

// Appends one action line ({"create":{"_index":"x","_id":"y"}}\n) to `out`.
void append_action(std::string& out, op_type op, std::string_view index, const std::optional<std::string>& id);
void append_action(std::string& out, op_type op, std::string_view index, const std::string* id);

// What to do with one bulk item, from its status.
enum class item_fate { delivered, already_present, retry, reject };
item_fate classify_item(int status, op_type op);

// What to do with a whole bulk response, from the HTTP status (0 = transport failure).
enum class request_fate { parse_items, retry, split, reject_all, fatal_auth, fatal };
request_fate classify_request(long http_status);

struct item_result {
    int status = 0;
    std::string type;    // error.type when the item failed
    std::string reason;  // error.reason (+ caused_by.reason)
};

// Reads the items of a bulk response. When "errors" is false only the count is checked and
// `results` stays empty (every item succeeded). Errors: not JSON, no items, or a count other
// than `expected_items`.
struct bulk_response {
    bool errors = false;
    std::vector<item_result> results;
};
expected<bulk_response> parse_bulk_response(std::string_view body, size_t expected_items);

// "elasticsearch: mapper_parsing_exception: failed to parse field [...] (status 400)"
std::string item_reason(const item_result& r);

// Jittered exponential backoff: base*2^(attempt-1) capped at `cap`, then a uniform draw in
// [d/2, d]. attempt is 1-based; `unit` a uniform draw in [0,1).
double backoff_seconds(int attempt, double base, double cap, double unit);

// gzip (RFC 1952) of `in`, appended to `out`.
void gzip_compress(std::string_view in, std::string& out, int level = 1);

}  // namespace sds::ship

#pragma once
// The bulk part of es_bench_server: a _bulk request body in, the response body out, against an
// in-memory store of document ids and versions (no sources). Benchmark mode, like es_server.py
// --skip-doc-parsing --no-source: action lines are parsed with simdjson, document lines only cut
// at their newline. Everything here is reused across requests: no allocation per document.
#include <simdjson.h>

#include <chrono>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

namespace es_bench {

// Open-addressing table from a 64-bit hash of the document id to its version (0 = empty slot).
// A deleted document keeps its slot with the `deleted` bit (a tombstone, as in es_server.py).
class id_table {
public:
    struct slot {
        uint64_t key = 0;
        uint32_t version = 0;
        bool deleted = false;
    };
    slot& find_or_insert(uint64_t key);  // version 0: new
    size_t size() const noexcept { return used_; }
    void clear();

private:
    void grow();
    std::vector<slot> slots_ = std::vector<slot>(1 << 16);
    size_t used_ = 0;
};

struct index_state {
    id_table ids;
    uint64_t live = 0;     // documents now
    uint64_t visible = 0;  // documents as of the last refresh (what _count sees)
    uint64_t seq_no = 0;
    std::chrono::steady_clock::time_point last_refresh = std::chrono::steady_clock::now();
};

struct stats {
    uint64_t requests = 0, bulk_requests = 0, bulk_items = 0, bulk_errors = 0, bytes_in = 0, bytes_in_decoded = 0,
             bytes_out = 0, gzip_requests = 0, connections = 0;
    double bulk_seconds = 0;
};

// The shared state. `st` is guarded by `io_m` (taken after `m` when both are needed), the rest by `m`.
struct store {
    std::mutex m, io_m;
    std::map<std::string, index_state, std::less<>> indices;
    stats st;
    uint64_t next_auto_id = 0;
    std::chrono::steady_clock::time_point started = std::chrono::steady_clock::now();
    // Documents visible to _count in `target` (comma list, *, _all, exact names); refreshes an
    // index whose last refresh is older than a second (index.refresh_interval's default).
    uint64_t count(std::string_view target, bool& missing);
    void refresh(std::string_view target);
};

// One connection's parser and buffers, reused for every request on it.
class bulk_handler {
public:
    // `body` must be readable up to body.size() + simdjson::SIMDJSON_PADDING. Returns the HTTP
    // status; `out` gets the response body.
    int handle(store& s, std::string_view body, std::string_view default_index, std::string& out);

private:
    enum class op : uint8_t { index, create, update, del };
    struct item {
        op kind;
        uint32_t index_off, index_len;  // into arena_
        uint32_t id_off, id_len;        // id_len == UINT32_MAX: no _id
        bool upsert;                    // update with doc_as_upsert or upsert
        uint16_t status;
        uint32_t version;
        uint64_t seq_no;
    };
    int parse(std::string_view body, std::string_view default_index, std::string& out);
    int fail(std::string& out, int status, std::string_view type, std::string_view reason);
    simdjson::dom::parser parser_;
    std::string scratch_;
    std::vector<item> items_;
    std::string arena_;
};

void append_json_string(std::string& out, std::string_view s);

}  // namespace es_bench

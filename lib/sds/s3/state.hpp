#pragma once
// --state FILE: the objects a previous run finished, as key + ETag. An object is marked done
// only after its records were written and flushed; the file is replaced atomically (write a
// temporary file beside it, fsync, rename), so a run killed at any moment leaves either the
// old or the new state, never a torn one, and never an unfinished object marked done.
//
// Format: one JSON line per object, {"uri":"s3://bucket/key","etag":"\"…\""}.
#include <chrono>
#include <string>
#include <unordered_map>

#include "sds/core/expected.hpp"

namespace sds::s3 {

class state_file {
public:
    state_file() = default;
    // Loads `path` (a missing file is an empty state). Unreadable or corrupt: error (exit 2/3).
    status open(std::string path);
    bool enabled() const noexcept { return !path_.empty(); }

    // True when this object (same uri, same ETag) was finished before.
    bool done(const std::string& uri, const std::string& etag) const;
    // Marks an object finished (after its records were flushed). Saved by save()/maybe_save().
    void mark(const std::string& uri, const std::string& etag);
    // True when something changed and `interval` passed since the last save.
    bool due(std::chrono::milliseconds interval = std::chrono::milliseconds(1000)) const;
    // Saves if due().
    status maybe_save(std::chrono::milliseconds interval = std::chrono::milliseconds(1000));
    status save();
    size_t size() const noexcept { return done_.size(); }

private:
    std::string path_;
    std::unordered_map<std::string, std::string> done_;
    bool dirty_ = false;
    std::chrono::steady_clock::time_point last_save_{};
};

}  // namespace sds::s3

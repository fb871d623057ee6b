#pragma once
// The frame every sds tool runs in (DESIGN.md section 3): common flags, the dead-letter sink,
// counters and the --stats line, progress on a terminal, logging, SIGPIPE/SIGINT handling,
// config files and SDS_* environment variables, exit codes, and --generate for the man page
// and shell completions. A tool declares its own options on app(), then calls run().
#include <CLI/CLI.hpp>

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "sds/core/expected.hpp"
#include "sds/io/output.hpp"

namespace sds::cli {

struct counters {
    uint64_t in = 0;
    uint64_t out = 0;
    uint64_t rejected = 0;
    uint64_t filtered = 0;
    uint64_t bytes_in = 0;
    uint64_t bytes_out = 0;
};

struct common_options {
    int verbosity = 0;  // -1 quiet, 0 normal, 1.. verbose
    std::string output = "-";
    std::string dead_letter;  // empty = stderr
    bool stats = false;
    bool progress = false;
    uint64_t max_record_bytes = 16ull << 20;
};

// Parses sizes such as "16MiB", "5M", "512k", "1048576".
expected<uint64_t> parse_size(std::string_view text);

class tool {
public:
    // `name` is the executable name (sds-fetch); `summary` one line for NAME/--help;
    // `manual` the roff prose of the man page (see man/README.md).
    tool(std::string name, std::string summary, std::string_view manual = {});
    ~tool();

    CLI::App& app() noexcept { return app_; }
    common_options& common() noexcept { return common_; }
    counters& count() noexcept { return counters_; }
    const std::string& name() const noexcept { return name_; }

    // Adds the usual positional FILE... (none or "-" = stdin).
    void add_inputs(std::vector<std::string>& files, std::string_view what = "input files (- or none: stdin)");
    // Restricts an option to a fixed set of values (also offered by shell completions).
    CLI::Option* choices(CLI::Option* opt, std::vector<std::string> values);
    // Declares that the tool writes records to stdout/-o (most do).
    void no_record_output() { has_output_ = false; }

    // Parses argv. Returns an exit code when the process should end now (--help, --version,
    // --generate, usage errors); std::nullopt to go on.
    std::optional<int> parse(int argc, char** argv);

    // Runs the body inside the exception boundary; returns the process exit code.
    int run(const std::function<exit_code()>& body);

    // Record output (valid inside run()).
    io::output& out() noexcept { return out_; }

    // Sends a record the tool cannot handle to the dead-letter output and counts it.
    void reject(std::string_view reason, std::string_view source, uint64_t line, std::string_view record);
    // Reports a record-level problem without a record (e.g. a file that cannot be decoded).
    void reject_source(std::string_view reason, std::string_view source, uint64_t line = 0) {
        reject(reason, source, line, {});
    }

    // Messages on stderr ("sds-fetch: error: ..."), subject to -q/-v.
    void error(std::string_view msg);
    void warn(std::string_view msg);
    void info(std::string_view msg);   // shown with -v
    void debug(std::string_view msg);  // shown with -vv

    // Call after each record; cheap. Draws the progress line when enabled.
    void tick() {
        if (progress_on_ && (++tick_ & 63) == 0) draw_progress(false);
    }
    // Extra fields in the --stats line (raw JSON values).
    void add_stat(std::string key, std::string raw_json) { extra_stats_.emplace_back(std::move(key), std::move(raw_json)); }
    // Remembers an outcome; the final exit code is the worst seen.
    void outcome(exit_code c) { result_ = worst(result_, c); }

    // --generate support, also used by tests.
    std::string generate_man() const;
    std::string generate_bash() const;
    std::string generate_zsh() const;
    std::string generate_fish() const;

private:
    void finish_env_names();
    void draw_progress(bool final);
    void clear_progress();
    void print_stats(double seconds);
    void message(std::string_view level, std::string_view msg);

    std::string name_;
    std::string summary_;
    std::string manual_;
    CLI::App app_;
    common_options common_;
    counters counters_;
    io::output out_;
    io::output dead_;
    bool dead_is_stderr_ = true;
    bool has_output_ = true;
    bool progress_on_ = false;
    bool progress_drawn_ = false;
    uint64_t tick_ = 0;
    std::chrono::steady_clock::time_point start_;
    std::chrono::steady_clock::time_point last_draw_;
    std::string generate_;
    bool version_ = false;
    int verbose_count_ = 0;
    bool quiet_ = false;
    std::string max_record_text_ = "16MiB";
    exit_code result_ = exit_code::ok;
    std::vector<std::pair<std::string, std::string>> extra_stats_;
    std::vector<std::pair<const CLI::Option*, std::vector<std::string>>> choices_;
    const std::vector<std::string>* choices_of(const CLI::Option* o) const;
    void add_output_option();
    bool output_added_ = false;
};

}  // namespace sds::cli

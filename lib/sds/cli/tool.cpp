#include "sds/cli/tool.hpp"

#include <curl/curl.h>
#include <fmt/format.h>
#include <maxminddb.h>
#include <openssl/crypto.h>
#include <signal.h>
#include <simdjson.h>
#include <unistd.h>
#include <zlib.h>
#include <zstd.h>

#include <cctype>
#include <cerrno>
#include <charconv>
#include <cstdio>
#include <ctime>

#include "sds/core/signals.hpp"
#include "sds/json/escape.hpp"
#include "sds/version.hpp"

namespace sds::cli {

namespace {
// Diagnostics are written best-effort and never throw: a stderr that cannot be written (a full
// disk, /dev/full) must not turn an error report into a crash. Dead letters on stderr go
// through the dead-letter writer instead, whose failures do end the run (exit 3).
void write_stderr(std::string_view s) noexcept {
    while (!s.empty()) {
        ssize_t n = ::write(2, s.data(), s.size());
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return;
        s.remove_prefix(static_cast<size_t>(n));
    }
}
}  // namespace


namespace {

extern "C" void on_signal(int sig) { interrupt_signal.store(sig, std::memory_order_relaxed); }

void install_signals() {
    ::signal(SIGPIPE, SIG_IGN);  // writes return EPIPE; output turns that into a quiet stop
    struct sigaction sa {};
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = 0;  // no SA_RESTART: blocking reads return EINTR and loops check the flag
    ::sigaction(SIGINT, &sa, nullptr);
    ::sigaction(SIGTERM, &sa, nullptr);
}

std::string now_rfc3339() {
    timespec ts{};
    clock_gettime(CLOCK_REALTIME, &ts);
    tm t{};
    gmtime_r(&ts.tv_sec, &t);
    return fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z", t.tm_year + 1900, t.tm_mon + 1,
                       t.tm_mday, t.tm_hour, t.tm_min, t.tm_sec, ts.tv_nsec / 1000000);
}

std::string human_count(uint64_t n) {
    if (n >= 10'000'000) return fmt::format("{:.1f}M", static_cast<double>(n) / 1e6);
    if (n >= 10'000) return fmt::format("{:.1f}k", static_cast<double>(n) / 1e3);
    return std::to_string(n);
}

std::string library_versions() {
    auto* cv = curl_version_info(CURLVERSION_NOW);
    return fmt::format("simdjson {}.{}.{}, fmt {}.{}.{}, CLI11 {}, libcurl {}, {}, zlib {}, zstd {}, libmaxminddb {}",
                       int(simdjson::SIMDJSON_VERSION_MAJOR), int(simdjson::SIMDJSON_VERSION_MINOR), int(simdjson::SIMDJSON_VERSION_REVISION), FMT_VERSION / 10000, FMT_VERSION / 100 % 100, FMT_VERSION % 100,
                       CLI11_VERSION, cv ? cv->version : "?", OpenSSL_version(OPENSSL_VERSION),
                       zlibVersion(), ZSTD_versionString(), MMDB_lib_version());
}

}  // namespace

expected<uint64_t> parse_size(std::string_view text) {
    uint64_t v = 0;
    auto r = std::from_chars(text.data(), text.data() + text.size(), v);
    if (r.ec != std::errc() || r.ptr == text.data())
        return make_error(exit_code::usage, fmt::format("invalid size: {}", text));
    std::string unit(r.ptr, text.data() + text.size());
    for (auto& c : unit) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    uint64_t mul = 1;
    if (unit.empty() || unit == "b") mul = 1;
    else if (unit == "k" || unit == "kb" || unit == "kib") mul = 1ull << 10;
    else if (unit == "m" || unit == "mb" || unit == "mib") mul = 1ull << 20;
    else if (unit == "g" || unit == "gb" || unit == "gib") mul = 1ull << 30;
    else return make_error(exit_code::usage, fmt::format("invalid size unit: {}", text));
    return v * mul;
}

tool::tool(std::string name, std::string summary, std::string_view manual)
    : name_(std::move(name)), summary_(std::move(summary)), manual_(manual), app_(summary_, name_) {
    start_ = last_draw_ = std::chrono::steady_clock::now();
    app_.set_help_flag("-h,--help", "print this help and exit");
    app_.add_flag("-V,--version", version_, "print the version and the libraries in use, and exit");
    app_.add_flag("-q,--quiet", quiet_, "print nothing but errors");
    app_.add_flag("-v,--verbose", verbose_count_, "say more on stderr (repeat for debug detail)");
    app_.add_flag("--stats", common_.stats,
                  "print one JSON line of counters to stderr at exit: tool, in, out, rejected, filtered, bytes, seconds");
    app_.add_flag("--progress", common_.progress, "show a progress line on stderr even when it is not a terminal");
    app_.add_option("--dead-letter", common_.dead_letter,
                    "write rejected records, one JSON line each with the reason, to FILE (default: stderr)")
        ->type_name("FILE");
    app_.add_option("--max-record-bytes", max_record_text_,
                    "reject records longer than this (never truncated); accepts k/M/G suffixes")
        ->type_name("SIZE")
        ->capture_default_str();
    app_.set_config("--config", "", "read options from a TOML or INI file (keys are long option names)");
    app_.allow_config_extras(CLI::config_extras_mode::error);  // a misspelt key is a usage error
    app_.add_option("--generate", generate_, "print the man page or a shell completion script")
        ->check(CLI::IsMember({"man", "bash", "zsh", "fish"}))
        ->group("");
}

tool::~tool() = default;

void tool::add_inputs(std::vector<std::string>& files, std::string_view what) {
    app_.add_option("FILE", files, std::string(what))->type_name("FILE");
}

void tool::finish_env_names() {
    // A repeatable option takes one value per occurrence (--include a --include b), so it never
    // swallows the positional arguments that follow it.
    auto one_per_use = [](CLI::App& a) {
        for (CLI::Option* opt : a.get_options())
            if (opt->nonpositional() && opt->get_items_expected_max() > 1) opt->allow_extra_args(false);
    };
    one_per_use(app_);
    for (CLI::App* sub : app_.get_subcommands({})) one_per_use(*sub);
    for (CLI::Option* opt : app_.get_options()) {
        if (opt->get_lnames().empty() || !opt->get_envname().empty()) continue;
        const std::string& l = opt->get_lnames().front();
        if (l == "help" || l == "version" || l == "config" || l == "generate") continue;
        std::string env = "SDS_";
        for (char c : l) env.push_back(c == '-' ? '_' : static_cast<char>(std::toupper(static_cast<unsigned char>(c))));
        opt->envname(env);
    }
    for (CLI::App* sub : app_.get_subcommands({})) {
        for (CLI::Option* opt : sub->get_options()) {
            if (opt->get_lnames().empty() || !opt->get_envname().empty()) continue;
            const std::string& l = opt->get_lnames().front();
            if (l == "help") continue;
            std::string env = "SDS_";
            for (char c : l) env.push_back(c == '-' ? '_' : static_cast<char>(std::toupper(static_cast<unsigned char>(c))));
            opt->envname(env);
        }
    }
}

CLI::Option* tool::choices(CLI::Option* opt, std::vector<std::string> values) {
    opt->check(CLI::IsMember(values));
    choices_.emplace_back(opt, std::move(values));
    return opt;
}

const std::vector<std::string>* tool::choices_of(const CLI::Option* o) const {
    for (auto& [opt, v] : choices_)
        if (opt == o) return &v;
    return nullptr;
}

void tool::add_output_option() {
    if (output_added_ || !has_output_) return;
    output_added_ = true;
    app_.add_option("-o,--output", common_.output, "write records to FILE instead of stdout")
        ->type_name("FILE")
        ->envname("SDS_OUTPUT");
}

std::optional<int> tool::parse(int argc, char** argv) {
    install_signals();
    add_output_option();
    finish_env_names();
    try {
        app_.parse(argc, argv);
    } catch (const CLI::CallForHelp& e) {
        app_.exit(e);
        return 0;
    } catch (const CLI::CallForAllHelp& e) {
        app_.exit(e);
        return 0;
    } catch (const CLI::ParseError& e) {
        std::string what = e.what();
        write_stderr(fmt::format("{}: error: {}\nRun '{} --help' for usage.\n", name_, what, name_));
        return static_cast<int>(exit_code::usage);
    }
    if (version_) {
        fmt::print("{} {}\n{}\n", name_, sds::version_string, library_versions());
        return 0;
    }
    if (!generate_.empty()) {
        std::string text = generate_ == "man" ? generate_man()
                           : generate_ == "bash" ? generate_bash()
                           : generate_ == "zsh"  ? generate_zsh()
                                                 : generate_fish();
        fmt::print("{}", text);
        return 0;
    }
    auto sz = parse_size(max_record_text_);
    if (!sz) {
        write_stderr(fmt::format("{}: error: --max-record-bytes: {}\n", name_, sz.err().message));
        return static_cast<int>(exit_code::usage);
    }
    common_.max_record_bytes = *sz;
    common_.verbosity = quiet_ ? -1 : verbose_count_;
    progress_on_ = common_.progress || (::isatty(2) && !quiet_);
    return std::nullopt;
}

void tool::message(std::string_view level, std::string_view msg) {
    if (dead_is_stderr_ && dead_.is_open()) {
        try {
            dead_.flush();
        } catch (...) {
        }
    }
    clear_progress();
    if (level.empty()) write_stderr(fmt::format("{}: {}\n", name_, msg));
    else write_stderr(fmt::format("{}: {}: {}\n", name_, level, msg));
}

void tool::error(std::string_view msg) { message("error", msg); }
void tool::warn(std::string_view msg) {
    if (common_.verbosity >= 0) message("warning", msg);
}
void tool::info(std::string_view msg) {
    if (common_.verbosity >= 1) message("", msg);
}
void tool::debug(std::string_view msg) {
    if (common_.verbosity >= 2) message("debug", msg);
}

void tool::reject(std::string_view reason, std::string_view source, uint64_t line, std::string_view record) {
    ++counters_.rejected;
    outcome(exit_code::rejected);
    std::string& b = dead_.buffer();
    b += "{\"@timestamp\":\"";
    b += now_rfc3339();
    b += "\",\"tool\":";
    json::append_string(b, name_);
    b += ",\"reason\":";
    json::append_string_lossy(b, reason);
    b += ",\"source\":";
    json::append_string_lossy(b, source);
    b += ",\"line\":";
    json::append_uint(b, line);
    b += ",\"record\":";
    json::append_string_lossy(b, record);
    b += "}\n";
    if (dead_is_stderr_) {
        clear_progress();
        dead_.flush();
    } else {
        dead_.commit();
    }
}

void tool::clear_progress() {
    if (progress_drawn_) {
        write_stderr("\r\033[K");
        progress_drawn_ = false;
    }
}

void tool::draw_progress(bool final) {
    auto now = std::chrono::steady_clock::now();
    if (!final && now - last_draw_ < std::chrono::milliseconds(250)) return;
    last_draw_ = now;
    double secs = std::chrono::duration<double>(now - start_).count();
    double mbps = secs > 0 ? static_cast<double>(counters_.bytes_in) / secs / 1e6 : 0;
    write_stderr(fmt::format("\r\033[K{}: {} in, {} out, {} rejected, {} filtered, {:.1f} MB/s", name_,
                             human_count(counters_.in), human_count(counters_.out),
                             human_count(counters_.rejected), human_count(counters_.filtered), mbps));
    progress_drawn_ = true;
}

void tool::print_stats(double seconds) {
    std::string s = "{\"tool\":";
    json::append_string(s, name_);
    s += fmt::format(",\"in\":{},\"out\":{},\"rejected\":{},\"filtered\":{},\"bytes_in\":{},\"bytes_out\":{},\"seconds\":{:.3f}",
                     counters_.in, counters_.out, counters_.rejected, counters_.filtered, counters_.bytes_in,
                     counters_.bytes_out, seconds);
    for (auto& [k, v] : extra_stats_) {
        s += ',';
        json::append_string(s, k);
        s += ':';
        s += v;
    }
    s += "}\n";
    write_stderr(s);
}

int tool::run(const std::function<exit_code()>& body) {
    exit_code code = exit_code::ok;
    bool quiet_stop = false;
    try {
        if (common_.dead_letter.empty() || common_.dead_letter == "-") {
            dead_.open_fd(2, "stderr", false, 64 << 10);
            dead_is_stderr_ = true;
        } else {
            dead_.open(common_.dead_letter, 64 << 10);
            dead_is_stderr_ = false;
        }
        if (has_output_) out_.open(common_.output);
        code = body();
        if (has_output_) out_.close();
    } catch (const io::broken_pipe&) {
        quiet_stop = true;  // the reader went away: end quietly with what was written
    } catch (const io::write_error& e) {
        error(e.what());
        code = exit_code::runtime;
    } catch (const std::bad_alloc&) {
        error("out of memory");
        code = exit_code::runtime;
    } catch (const std::exception& e) {
        error(fmt::format("internal error: {}", e.what()));
        code = exit_code::internal;
    }
    try {
        dead_.close();
    } catch (const std::exception& e) {
        error(e.what());
        code = worst(code, exit_code::runtime);
    }
    if (has_output_) counters_.bytes_out = out_.bytes_written();
    clear_progress();
    if (common_.stats) {
        double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
        print_stats(secs);
    }
    if (quiet_stop) return 0;
    code = worst(code, result_);
    if (interrupted()) code = exit_code::interrupted;
    return static_cast<int>(code);
}

}  // namespace sds::cli

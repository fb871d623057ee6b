#include "sds/aws/config_file.hpp"

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace sds::aws {
namespace {

std::string_view trim(std::string_view s) {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t' || s.front() == '\r')) s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) s.remove_suffix(1);
    return s;
}

// Missing file → empty text; other failures → error.
expected<std::string> read_optional(const std::string& path) {
    std::error_code ec;
    if (!std::filesystem::exists(path, ec)) return std::string();
    std::ifstream in(path, std::ios::binary);
    if (!in) {
        return make_error(exit_code::usage, "cannot read aws config: " + path + " (" + std::strerror(errno) + ")");
    }
    std::ostringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

std::string home_file(const char* name) {
    std::string home = env_or_empty("HOME");
    return home.empty() ? std::string() : home + "/.aws/" + name;
}

}  // namespace

std::string env_or_empty(const char* name) {
    const char* v = std::getenv(name);
    return v ? std::string(v) : std::string();
}

expected<ini_sections> parse_ini(std::string_view text, std::string_view where) {
    ini_sections out;
    std::string section;
    std::string parent;  // key with an empty value: indented lines below are its sub-keys
    bool in_section = false;
    int line_no = 0;
    while (!text.empty()) {
        auto nl = text.find('\n');
        std::string_view raw = text.substr(0, nl);
        text = nl == std::string_view::npos ? std::string_view() : text.substr(nl + 1);
        ++line_no;
        std::string_view line = trim(raw);
        if (line.empty() || line.front() == '#' || line.front() == ';') continue;
        auto bad = [&](const char* why) {
            return make_error(exit_code::usage,
                              "invalid aws config: " + std::string(where) + ":" + std::to_string(line_no) + " (" + why + ")");
        };
        if (line.front() == '[') {
            if (line.back() != ']') return bad("unclosed section header");
            section = std::string(trim(line.substr(1, line.size() - 2)));
            out[section];
            in_section = true;
            parent.clear();
            continue;
        }
        if (!in_section) return bad("setting outside of a section");
        auto eq = line.find('=');
        const bool indented = raw.front() == ' ' || raw.front() == '\t';
        if (eq == std::string_view::npos) {
            if (indented) continue;  // continuation of a multi-line value we do not use
            return bad("expected key = value");
        }
        std::string key(trim(line.substr(0, eq)));
        std::string value(trim(line.substr(eq + 1)));
        if (indented && !parent.empty()) {
            out[section][parent + "." + key] = value;
            continue;
        }
        parent = value.empty() ? key : std::string();
        out[section][key] = value;
    }
    return out;
}

bool shared_config::has_profile(std::string_view name) const {
    return credentials.count(std::string(name)) || profiles.count(std::string(name));
}

std::optional<std::string> shared_config::get(std::string_view profile, std::string_view key) const {
    for (const auto* sections : {&credentials, &profiles}) {
        auto s = sections->find(std::string(profile));
        if (s == sections->end()) continue;
        auto v = s->second.find(std::string(key));
        if (v != s->second.end()) return v->second;
    }
    return std::nullopt;
}

expected<shared_config> load_shared_config() {
    shared_config cfg;
    cfg.credentials_path = env_or_empty("AWS_SHARED_CREDENTIALS_FILE");
    if (cfg.credentials_path.empty()) cfg.credentials_path = home_file("credentials");
    cfg.config_path = env_or_empty("AWS_CONFIG_FILE");
    if (cfg.config_path.empty()) cfg.config_path = home_file("config");

    if (!cfg.credentials_path.empty()) {
        auto text = read_optional(cfg.credentials_path);
        if (!text) return text.err();
        auto ini = parse_ini(*text, cfg.credentials_path);
        if (!ini) return ini.err();
        cfg.credentials = std::move(*ini);
    }
    if (!cfg.config_path.empty()) {
        auto text = read_optional(cfg.config_path);
        if (!text) return text.err();
        auto ini = parse_ini(*text, cfg.config_path);
        if (!ini) return ini.err();
        for (auto& [name, values] : *ini) {
            // "[default]" and "[profile x]" are profiles; other sections (sso-session, services) are not.
            if (name == "default") {
                auto& target = cfg.profiles["default"];
                for (auto& [k, v] : values) target.emplace(k, v);  // "[profile default]" wins
            } else if (name.rfind("profile ", 0) == 0) {
                std::string pname(trim(std::string_view(name).substr(8)));
                for (auto& [k, v] : values) cfg.profiles[pname][k] = v;
            }
        }
    }
    return cfg;
}

std::string active_profile(std::string_view explicit_profile) {
    if (!explicit_profile.empty()) return std::string(explicit_profile);
    std::string p = env_or_empty("AWS_PROFILE");
    if (p.empty()) p = env_or_empty("AWS_DEFAULT_PROFILE");
    return p.empty() ? "default" : p;
}

std::string resolve_region(std::string_view explicit_region, std::string_view explicit_profile) {
    if (!explicit_region.empty()) return std::string(explicit_region);
    for (const char* var : {"AWS_REGION", "AWS_DEFAULT_REGION"}) {
        std::string v = env_or_empty(var);
        if (!v.empty()) return v;
    }
    auto cfg = load_shared_config();
    if (cfg) {
        // Only the config file carries region (the CLI ignores it in the credentials file).
        auto p = cfg->profiles.find(active_profile(explicit_profile));
        if (p != cfg->profiles.end()) {
            auto r = p->second.find("region");
            if (r != p->second.end() && !r->second.empty()) return r->second;
        }
    }
    return "us-east-1";
}

}  // namespace sds::aws

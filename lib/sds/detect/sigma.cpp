#include "sds/detect/sigma.hpp"

#include <fmt/format.h>
#include <re2/re2.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <filesystem>
#include <optional>
#include <set>

#include "sds/core/ip.hpp"
#include "sds/detect/match.hpp"
#include "sds/json/escape.hpp"

namespace sds::detect {

namespace fs = std::filesystem;

// ---------------------------------------------------------------------------------------------
// Compiled form.

struct value_test {
    enum class kind { pattern, regex, cidr, null, boolean, fieldref } k = kind::pattern;
    pattern pat;
    std::shared_ptr<re2::RE2> re;
    std::string re_literal;  // text every match contains (empty: unknown); checked before the regex
    ip::network net;
    bool b = false;
    std::string ref;  // fieldref: the other field
};

struct field_test {
    std::string field;  // empty: keyword (any value of the record)
    uint32_t fid = 0;   // the field's index in the ruleset's field table (one per distinct name)
    std::vector<value_test> values;
    bool all = false;             // |all: every value must match
    std::optional<bool> exists;   // |exists
};

struct selection {
    std::string name;
    std::vector<std::vector<field_test>> alternatives;  // OR of (AND of field tests)
};

struct cond_node {
    enum class op { ref, and_, or_, not_, one_of, all_of } o = op::ref;
    std::vector<cond_node> kids;
    std::vector<uint32_t> sels;  // ref: one; *_of: the matched selections
};

struct compiled_rule {
    rule_meta meta;
    int source = 0;  // source_filter, set when the rule is added
    std::string ruleset;
    std::vector<selection> sels;
    std::vector<cond_node> conditions;  // a list of conditions is OR-ed
};

namespace {

struct refused_error {
    std::string reason;
};

std::string scalar_text(const YAML::Node& n) { return n.IsDefined() && n.IsScalar() ? n.Scalar() : std::string(); }

int risk_of(const std::string& level) {
    if (level == "critical") return 99;
    if (level == "high") return 73;
    if (level == "medium") return 47;
    return 21;  // low, informational
}

// --- values and modifiers --------------------------------------------------------------------

// The longest run of literal characters every match of `re` must contain, for regular
// expressions simple enough to tell (a sequence of literals, '.', '^', '$', each maybe with a
// quantifier; no alternation, groups, classes, escapes or counted repetition); else empty.
std::string required_literal(std::string_view re) {
    if (re.find_first_of("|()[]\\{}") != std::string_view::npos) return {};
    std::string best, run;
    for (size_t i = 0; i < re.size(); ++i) {
        char c = re[i];
        bool quantified = i + 1 < re.size() && (re[i + 1] == '*' || re[i + 1] == '?' || re[i + 1] == '+');
        bool optional = i + 1 < re.size() && (re[i + 1] == '*' || re[i + 1] == '?');
        if (c == '*' || c == '+' || c == '?') continue;
        if (c == '.' || c == '^' || c == '$' || optional) {
            if (run.size() > best.size()) best = run;
            run.clear();
            continue;
        }
        run.push_back(c);
        if (quantified) {  // c+: c is required, but what follows need not be adjacent
            if (run.size() > best.size()) best = run;
            run.clear();
        }
    }
    if (run.size() > best.size()) best = run;
    return best;
}

value_test make_value(const YAML::Node& v, const std::vector<std::string>& mods, bool is_null) {
    value_test t;
    if (is_null) {
        t.k = value_test::kind::null;
        return t;
    }
    std::string s = scalar_text(v);
    bool contains = false, starts = false, ends = false;
    for (const auto& m : mods) {
        if (m == "contains") contains = true;
        else if (m == "startswith") starts = true;
        else if (m == "endswith") ends = true;
        else if (m == "re") {
            t.k = value_test::kind::regex;
            re2::RE2::Options ro;
            ro.set_log_errors(false);
            t.re = std::make_shared<re2::RE2>(s, ro);
            if (!t.re->ok())
                throw refused_error{fmt::format("invalid or unsupported regular expression '{}' ({})", s, t.re->error())};
            t.re_literal = required_literal(s);
            return t;
        } else if (m == "cidr") {
            auto n = ip::parse_cidr(s);
            if (!n) throw refused_error{fmt::format("invalid CIDR '{}'", s)};
            t.k = value_test::kind::cidr;
            t.net = *n;
            return t;
        } else if (m == "fieldref") {
            t.k = value_test::kind::fieldref;
            t.ref = s;
            return t;
        }
    }
    t.pat = pattern::compile(s, contains || ends, contains || starts);
    return t;
}

field_test make_field(const std::string& key, const YAML::Node& value,
                      const std::map<std::string, std::vector<std::string>>& placeholders) {
    field_test ft;
    std::vector<std::string> mods;
    size_t bar = key.find('|');
    ft.field = key.substr(0, bar);
    while (bar != std::string::npos) {
        size_t next = key.find('|', bar + 1);
        mods.push_back(key.substr(bar + 1, next == std::string::npos ? std::string::npos : next - bar - 1));
        bar = next;
    }
    bool expand = false;
    std::vector<std::string> value_mods;
    for (const auto& m : mods) {
        if (m == "all") ft.all = true;
        else if (m == "expand") expand = true;
        else if (m == "exists") {
            ft.exists = scalar_text(value) == "true" || scalar_text(value) == "yes";
            return ft;
        } else if (m == "contains" || m == "startswith" || m == "endswith" || m == "re" || m == "cidr" ||
                   m == "fieldref")
            value_mods.push_back(m);
        else if (m == "i" || m == "m" || m == "s")
            throw refused_error{fmt::format("regular expression flag modifier '{}' is not supported", m)};
        else
            throw refused_error{fmt::format("modifier '{}' is not supported", m)};
    }
    std::vector<YAML::Node> raw_values;
    if (value.IsSequence()) {
        for (const auto& v : value) raw_values.push_back(v);
    } else {
        raw_values.push_back(value);
    }
    for (const auto& v : raw_values) {
        bool is_null = v.IsNull() || (v.IsScalar() && v.Tag() == "?" && v.Scalar() == "null");
        if (expand && v.IsScalar()) {
            std::string s = v.Scalar();
            if (s.size() > 2 && s.front() == '%' && s.back() == '%') {
                auto it = placeholders.find(s.substr(1, s.size() - 2));
                if (it == placeholders.end())
                    throw refused_error{fmt::format("placeholder {} has no value (give it with --sigma-placeholder)", s)};
                for (const auto& x : it->second) ft.values.push_back(make_value(YAML::Node(x), value_mods, false));
                continue;
            }
        }
        if (v.IsMap() || v.IsSequence()) throw refused_error{"nested values in a field list are not Sigma"};
        ft.values.push_back(make_value(v, value_mods, is_null));
    }
    return ft;
}

selection make_selection(const std::string& name, const YAML::Node& node,
                         const std::map<std::string, std::vector<std::string>>& placeholders) {
    selection sel;
    sel.name = name;
    auto add_map = [&](const YAML::Node& m) {
        std::vector<field_test> all;
        for (const auto& kv : m) all.push_back(make_field(kv.first.Scalar(), kv.second, placeholders));
        sel.alternatives.push_back(std::move(all));
    };
    if (node.IsMap()) {
        add_map(node);
    } else if (node.IsSequence()) {
        field_test keywords;  // field-less: any value of the record
        for (const auto& item : node) {
            if (item.IsMap()) add_map(item);
            else if (item.IsScalar()) keywords.values.push_back(make_value(item, {"contains"}, false));
            else throw refused_error{fmt::format("selection {}: unsupported list item", name)};
        }
        if (!keywords.values.empty()) sel.alternatives.push_back({std::move(keywords)});
    } else {
        throw refused_error{fmt::format("selection {} is neither a map nor a list", name)};
    }
    return sel;
}

// --- conditions ------------------------------------------------------------------------------

class cond_parser {
public:
    cond_parser(std::string_view text, const std::vector<selection>& sels) : sels_(sels) { tokenize(text); }
    cond_node parse() {
        cond_node n = parse_or();
        if (pos_ != toks_.size()) throw refused_error{fmt::format("condition: unexpected '{}'", toks_[pos_])};
        return n;
    }

private:
    void tokenize(std::string_view s) {
        size_t i = 0;
        while (i < s.size()) {
            char c = s[i];
            if (c == ' ' || c == '\t' || c == '\n') {
                ++i;
            } else if (c == '(' || c == ')') {
                toks_.emplace_back(1, c);
                ++i;
            } else if (c == '|') {
                throw refused_error{"aggregation expressions (condition '| …') are not supported"};
            } else {
                size_t j = i;
                while (j < s.size() && s[j] != ' ' && s[j] != '\t' && s[j] != '(' && s[j] != ')' && s[j] != '\n') ++j;
                toks_.emplace_back(s.substr(i, j - i));
                i = j;
            }
        }
    }
    bool accept(std::string_view t) {
        if (pos_ < toks_.size() && toks_[pos_] == t) {
            ++pos_;
            return true;
        }
        return false;
    }
    cond_node parse_or() {
        cond_node left = parse_and();
        while (accept("or")) {
            cond_node n;
            n.o = cond_node::op::or_;
            n.kids.push_back(std::move(left));
            n.kids.push_back(parse_and());
            left = std::move(n);
        }
        return left;
    }
    cond_node parse_and() {
        cond_node left = parse_not();
        while (accept("and")) {
            cond_node n;
            n.o = cond_node::op::and_;
            n.kids.push_back(std::move(left));
            n.kids.push_back(parse_not());
            left = std::move(n);
        }
        return left;
    }
    cond_node parse_not() {
        if (accept("not")) {
            cond_node n;
            n.o = cond_node::op::not_;
            n.kids.push_back(parse_not());
            return n;
        }
        return parse_primary();
    }
    cond_node parse_primary() {
        if (pos_ >= toks_.size()) throw refused_error{"condition ends early"};
        if (accept("(")) {
            cond_node n = parse_or();
            if (!accept(")")) throw refused_error{"condition: missing ')'"};
            return n;
        }
        const std::string& t = toks_[pos_];
        if ((t == "1" || t == "all" || t == "any") && pos_ + 2 < toks_.size() + 0 && toks_[pos_ + 1] == "of") {
            bool all = t == "all";
            pos_ += 2;
            if (pos_ >= toks_.size()) throw refused_error{"condition: 'of' without a target"};
            std::string target = toks_[pos_++];
            cond_node n;
            n.o = all ? cond_node::op::all_of : cond_node::op::one_of;
            pattern p = pattern::compile(target == "them" ? "*" : target, false, false);
            for (uint32_t i = 0; i < sels_.size(); ++i)
                if (p.matches(sels_[i].name) && !(target == "them" && sels_[i].name.rfind('_', 0) == 0))
                    n.sels.push_back(i);
            if (n.sels.empty()) throw refused_error{fmt::format("condition: no selection matches '{}'", target)};
            return n;
        }
        for (uint32_t i = 0; i < sels_.size(); ++i) {
            if (sels_[i].name == t) {
                ++pos_;
                cond_node n;
                n.sels.push_back(i);
                return n;
            }
        }
        throw refused_error{fmt::format("condition names an unknown selection '{}'", t)};
    }

    const std::vector<selection>& sels_;
    std::vector<std::string> toks_;
    size_t pos_ = 0;
};

// --- evaluation ------------------------------------------------------------------------------

struct eval_ctx {
    simdjson::dom::element record;  // the buffers below keep their capacity between records
    // Per-record cache of field values, by field id: each field is looked up at most once per
    // record however many rules test it. A field's values are pool[off, off + n) when its
    // stamp is the record's.
    uint64_t record_no = 0;
    int ecs = -1;  // the record is ECS (1) or raw (0), once a lookup needed to know
    std::vector<uint64_t> stamp;
    std::vector<std::pair<uint32_t, uint32_t>> range;
    std::vector<simdjson::dom::element> pool;
    // The record's top-level members are indexed (fast): fields are looked up below them.
    bool fast = false;
    const field_extractor* fx = nullptr;
    std::vector<simdjson::dom::element> refs;
    std::string text;
};

// The text a value is matched as: strings as they are, numbers and booleans as JSON, objects
// and arrays minified (so a JSON-string copy of the same object in an ECS record matches too).
std::string_view as_text(simdjson::dom::element e, std::string& scratch) {
    using t = simdjson::dom::element_type;
    switch (e.type()) {
        case t::STRING: return std::string_view(e);
        case t::BOOL: return bool(e) ? "true" : "false";
        case t::NULL_VALUE: return "null";
        case t::INT64:
            scratch.clear();
            json::append_int(scratch, int64_t(e));
            return scratch;
        case t::UINT64:
            scratch.clear();
            json::append_uint(scratch, uint64_t(e));
            return scratch;
        case t::DOUBLE:
            scratch.clear();
            json::append_double(scratch, double(e));
            return scratch;
        default:
            scratch = simdjson::minify(e);
            return scratch;
    }
}

void all_strings(simdjson::dom::element e, std::vector<simdjson::dom::element>& out) {
    simdjson::dom::object obj;
    simdjson::dom::array arr;
    if (!e.get_object().get(obj)) {
        for (auto kv : obj) all_strings(kv.value, out);
    } else if (!e.get_array().get(arr)) {
        for (auto x : arr) all_strings(x, out);
    } else if (e.is_string()) {
        out.push_back(e);
    }
}

struct values_view {
    const simdjson::dom::element* p;
    size_t n;
    const simdjson::dom::element* begin() const { return p; }
    const simdjson::dom::element* end() const { return p + n; }
    bool empty() const { return n == 0; }
};

bool value_matches(const value_test& v, values_view vals, eval_ctx& cx) {
    if (v.k == value_test::kind::null) {
        if (vals.empty()) return true;
        for (auto e : vals)
            if (e.is_null()) return true;
        return false;
    }
    if (v.k == value_test::kind::fieldref) {
        cx.refs.clear();
        field_values(cx.record, v.ref, cx.refs);
        std::string a, b;
        for (auto e : vals)
            for (auto r : cx.refs)
                if (as_text(e, a) == as_text(r, b)) return true;
        return false;
    }
    for (auto e : vals) {
        if (e.is_null() && v.k != value_test::kind::pattern) continue;
        std::string_view s = as_text(e, cx.text);
        switch (v.k) {
            case value_test::kind::pattern:
                if (e.is_null()) continue;
                if (v.pat.matches(s)) return true;
                break;
            case value_test::kind::regex:
                if (!v.re_literal.empty() && s.find(v.re_literal) == std::string_view::npos) break;
                if (re2::RE2::PartialMatch(re2::StringPiece(s.data(), s.size()), *v.re)) return true;
                break;
            case value_test::kind::cidr:
                if (auto a = ip::parse(s); a && ip::contains(v.net, *a)) return true;
                break;
            default: break;
        }
    }
    return false;
}

values_view values_of(uint32_t fid, const std::string& field, eval_ctx& cx) {
    if (cx.stamp[fid] != cx.record_no) {
        uint32_t off = static_cast<uint32_t>(cx.pool.size());
        if (field.empty()) all_strings(cx.record, cx.pool);
        else if (cx.fast) cx.fx->values(fid, cx.pool, cx.ecs);
        else field_values(cx.record, field, cx.pool, cx.ecs);
        cx.stamp[fid] = cx.record_no;
        cx.range[fid] = {off, static_cast<uint32_t>(cx.pool.size() - off)};
    }
    auto [off, n] = cx.range[fid];
    return {cx.pool.data() + off, n};
}

values_view values_of(const field_test& f, eval_ctx& cx) { return values_of(f.fid, f.field, cx); }

bool field_matches(const field_test& f, eval_ctx& cx) {
    values_view vals = values_of(f, cx);  // stays valid: nothing is added to the pool below
    if (f.exists) {
        bool present = false;
        for (auto e : vals)
            if (!e.is_null()) present = true;
        return present == *f.exists;
    }
    if (f.all) {
        for (const auto& v : f.values)
            if (!value_matches(v, vals, cx)) return false;
        return true;
    }
    for (const auto& v : f.values)
        if (value_matches(v, vals, cx)) return true;
    return false;
}

bool selection_matches(const selection& s, eval_ctx& cx) {
    for (const auto& alt : s.alternatives) {
        bool ok = true;
        for (const auto& f : alt)
            if (!field_matches(f, cx)) {
                ok = false;
                break;
            }
        if (ok) return true;
    }
    return false;
}

bool eval(const cond_node& n, const compiled_rule& r, eval_ctx& cx) {
    switch (n.o) {
        case cond_node::op::ref: return selection_matches(r.sels[n.sels[0]], cx);
        case cond_node::op::and_: return eval(n.kids[0], r, cx) && eval(n.kids[1], r, cx);
        case cond_node::op::or_: return eval(n.kids[0], r, cx) || eval(n.kids[1], r, cx);
        case cond_node::op::not_: return !eval(n.kids[0], r, cx);
        case cond_node::op::one_of:
            for (auto i : n.sels)
                if (selection_matches(r.sels[i], cx)) return true;
            return false;
        case cond_node::op::all_of:
            for (auto i : n.sels)
                if (!selection_matches(r.sels[i], cx)) return false;
            return true;
    }
    return false;
}

// --- dispatch: the values of a field (eventName first) a condition cannot match without -------

std::optional<std::set<std::string>> required_values(const selection& s, std::string_view field) {
    std::set<std::string> names;
    if (s.alternatives.empty()) return std::nullopt;
    for (const auto& alt : s.alternatives) {
        const field_test* f = nullptr;
        for (const auto& ft : alt)
            if (ft.field == field && !ft.all && !ft.exists) f = &ft;
        if (!f) return std::nullopt;
        for (const auto& v : f->values) {
            if (v.k != value_test::kind::pattern || v.pat.type() != pattern::kind::exact) return std::nullopt;
            names.insert(v.pat.literal());
        }
    }
    return names;
}

std::optional<std::set<std::string>> required_values(const cond_node& n, const compiled_rule& r, std::string_view field) {
    switch (n.o) {
        case cond_node::op::ref: return required_values(r.sels[n.sels[0]], field);
        case cond_node::op::and_: {
            auto a = required_values(n.kids[0], r, field), b = required_values(n.kids[1], r, field);
            if (a && b) return a->size() <= b->size() ? a : b;
            return a ? a : b;
        }
        case cond_node::op::or_: {
            auto a = required_values(n.kids[0], r, field), b = required_values(n.kids[1], r, field);
            if (!a || !b) return std::nullopt;
            a->insert(b->begin(), b->end());
            return a;
        }
        case cond_node::op::not_: return std::nullopt;
        case cond_node::op::one_of: {
            std::set<std::string> all;
            for (auto i : n.sels) {
                auto s = required_values(r.sels[i], field);
                if (!s) return std::nullopt;
                all.insert(s->begin(), s->end());
            }
            return all;
        }
        case cond_node::op::all_of:
            for (auto i : n.sels)
                if (auto s = required_values(r.sels[i], field)) return s;
            return std::nullopt;
    }
    return std::nullopt;
}

// Which records a rule's log source admits.
enum class source_filter { any, none, cloudtrail };
source_filter filter_of(const compiled_rule& r) {
    if (r.meta.product.empty() && r.meta.service.empty()) return source_filter::any;
    if (r.meta.product != "aws") return source_filter::none;
    if (r.meta.service.empty()) return source_filter::any;
    if (r.meta.service != "cloudtrail") return source_filter::none;
    return source_filter::cloudtrail;
}

// aws/cloudtrail rules run on CloudTrail records, raw or normalised.
bool is_cloudtrail(simdjson::dom::element record, const field_extractor* fx) {
    simdjson::dom::element v;
    if (fx) {
        if (fx->root(1, v) && fx->root(2, v)) return true;
    } else if (!record["eventSource"].get(v) && !record["eventVersion"].get(v)) {
        return true;
    }
    std::string_view ds;
    if (!record.at_pointer("/event/dataset").get(ds)) return ds == "aws.cloudtrail";
    return false;
}

// The record's eventName (or ECS event.action); empty when it has none.
std::string_view event_name(simdjson::dom::element record, const field_extractor* fx) {
    std::string_view n;
    simdjson::dom::element e;
    bool named = fx ? fx->root(0, e) && !e.get(n) : !record["eventName"].get(n);
    if (!named && record.at_pointer("/event/action").get(n)) return {};
    return n;
}

}  // namespace

// ---------------------------------------------------------------------------------------------

struct ruleset::scratch {
    eval_ctx cx;
    std::vector<uint64_t> tried;  // per rule: the record it was last evaluated on
    std::string name;
    std::string text;
    std::vector<simdjson::dom::element> vals;
    // The values of a dispatch field, copied out of cx.pool: evaluating the rules they select
    // looks fields up and appends their values to the pool, which can move it.
    std::vector<simdjson::dom::element> dispatch;
};

ruleset::ruleset() : scratch_(std::make_unique<scratch>()) {
    // Top-level members read per record besides the rules' fields (root() indices): the
    // eventName dispatch, the CloudTrail check, and the members alerts add.
    for (auto m : {"eventName", "eventSource", "eventVersion", "event", "rule", "threat", "sds"}) extractor_.track_root(m);
}

int ruleset::matched_has(std::string_view member) const noexcept {
    if (!scratch_->cx.fast) return -1;
    static constexpr std::string_view tracked[] = {"event", "rule", "threat", "sds"};
    for (size_t i = 0; i < 4; ++i) {
        if (tracked[i] != member) continue;
        simdjson::dom::element e;
        return extractor_.root(3 + i, e) ? 1 : 0;
    }
    return -1;
}
ruleset::~ruleset() = default;
ruleset::ruleset(ruleset&&) noexcept = default;

void ruleset::set_placeholder(std::string name, std::vector<std::string> values) {
    placeholders_[std::move(name)] = std::move(values);
}

const rule_meta& ruleset::meta(size_t i) const { return rules_[i]->meta; }
const std::string& ruleset::ruleset_of(size_t i) const { return rules_[i]->ruleset; }

status ruleset::load_path(const std::string& path, const std::string& name) {
    std::error_code ec;
    std::vector<std::string> files;
    if (fs::is_directory(path, ec)) {
        for (fs::recursive_directory_iterator it(path, ec), end; !ec && it != end; it.increment(ec)) {
            auto ext = it->path().extension().string();
            if (it->is_regular_file() && (ext == ".yml" || ext == ".yaml")) files.push_back(it->path().string());
        }
        std::sort(files.begin(), files.end());
    } else if (fs::exists(path, ec)) {
        files.push_back(path);
    } else {
        return make_error(exit_code::usage, fmt::format("cannot open rules: {} (No such file or directory)", path));
    }
    for (const auto& f : files) {
        std::vector<YAML::Node> docs;
        try {
            docs = YAML::LoadAllFromFile(f);
        } catch (const YAML::Exception& e) {
            return make_error(exit_code::usage,
                              fmt::format("invalid YAML: {}:{} ({})", f, e.mark.line + 1, e.msg));
        }
        for (const auto& d : docs)
            if (auto s = add_rule(&d, f, name); !s) return s;
    }
    return status::success();
}

status ruleset::load_text(std::string_view yaml, const std::string& file, const std::string& name) {
    std::vector<YAML::Node> docs;
    try {
        docs = YAML::LoadAll(std::string(yaml));
    } catch (const YAML::Exception& e) {
        return make_error(exit_code::usage, fmt::format("invalid YAML: {}:{} ({})", file, e.mark.line + 1, e.msg));
    }
    for (const auto& d : docs)
        if (auto s = add_rule(&d, file, name); !s) return s;
    return status::success();
}

status ruleset::add_rule(const void* node_ptr, const std::string& file, const std::string& name) {
    const YAML::Node& doc = *static_cast<const YAML::Node*>(node_ptr);
    if (!doc.IsMap()) {
        refused_.push_back({file, "not a Sigma rule (the document is not a map)"});
        return status::success();
    }
    auto r = std::make_unique<compiled_rule>();
    r->ruleset = name;
    auto& m = r->meta;
    m.file = file;
    try {
        if (doc["correlation"]) throw refused_error{"correlation rules are not supported"};
        m.title = scalar_text(doc["title"]);
        m.id = scalar_text(doc["id"]);
        m.description = scalar_text(doc["description"]);
        m.author = scalar_text(doc["author"]);
        m.level = scalar_text(doc["level"]);
        m.status = scalar_text(doc["status"]);
        m.remediation = scalar_text(doc["remediation"]);
        m.risk_score = risk_of(m.level);
        if (doc["references"] && doc["references"].IsSequence())
            for (const auto& x : doc["references"]) m.references.push_back(scalar_text(x));
        if (doc["tags"] && doc["tags"].IsSequence())
            for (const auto& x : doc["tags"]) m.tags.push_back(scalar_text(x));
        if (const auto& ls = doc["logsource"]; ls && ls.IsMap()) {
            m.product = scalar_text(ls["product"]);
            m.service = scalar_text(ls["service"]);
        }
        const YAML::Node& det = doc["detection"];
        if (m.title.empty() || !det || !det.IsMap()) throw refused_error{"no title or no detection section"};
        if (det["timeframe"]) throw refused_error{"timeframe (aggregation over time) is not supported"};
        for (const auto& kv : det) {
            std::string key = kv.first.Scalar();
            if (key == "condition") continue;
            r->sels.push_back(make_selection(key, kv.second, placeholders_));
        }
        const YAML::Node& cond = det["condition"];
        if (!cond) throw refused_error{"detection has no condition"};
        if (cond.IsSequence()) {
            for (const auto& c : cond) r->conditions.push_back(cond_parser(scalar_text(c), r->sels).parse());
        } else {
            r->conditions.push_back(cond_parser(scalar_text(cond), r->sels).parse());
        }
    } catch (const refused_error& e) {
        refused_.push_back({file, e.reason});
        return status::success();
    } catch (const YAML::Exception& e) {
        refused_.push_back({file, fmt::format("malformed rule ({})", e.msg)});
        return status::success();
    }
    r->source = static_cast<int>(filter_of(*r));
    for (auto& sel : r->sels)
        for (auto& alt : sel.alternatives)
            for (auto& ft : alt) {
                auto it = std::find(fields_.begin(), fields_.end(), ft.field);
                ft.fid = static_cast<uint32_t>(it - fields_.begin());
                if (it == fields_.end()) {
                    fields_.push_back(ft.field);
                    if (!ft.field.empty()) extractor_.add(ft.fid, ft.field);
                }
            }
    auto idx = static_cast<uint32_t>(rules_.size());
    std::optional<std::set<std::string>> names;
    if (r->conditions.size() == 1) names = required_values(r->conditions[0], *r, "eventName");
    if (names && !names->empty()) {
        for (const auto& n : *names) by_event_[n].push_back(idx);
    } else {
        // Else on the exact values of another field the rule cannot match without (userIdentity.type
        // for the root and AssumeRole rules, userAgent for tool signatures, ...).
        bool dispatched = false;
        for (const auto& sel : r->sels) {
            for (const auto& alt : sel.alternatives)
                for (const auto& ft : alt) {
                    if (dispatched || ft.field.empty() || r->conditions.size() != 1) continue;
                    auto vals = required_values(r->conditions[0], *r, ft.field);
                    if (!vals || vals->empty()) continue;
                    auto d = std::find_if(by_value_.begin(), by_value_.end(),
                                          [&](const value_dispatch& x) { return x.fid == ft.fid; });
                    if (d == by_value_.end()) d = by_value_.insert(by_value_.end(), value_dispatch{ft.fid, ft.field, {}});
                    for (const auto& v : *vals) d->rules[v].push_back(idx);
                    dispatched = true;
                }
        }
        if (!dispatched) always_.push_back(idx);
    }
    rules_.push_back(std::move(r));
    return status::success();
}

void ruleset::match(simdjson::dom::element record, std::vector<uint32_t>& hits) const {
    scratch& sc = *scratch_;
    eval_ctx& cx = sc.cx;
    cx.record = record;
    if (cx.stamp.size() != fields_.size()) {
        cx.stamp.assign(fields_.size(), 0);
        cx.range.resize(fields_.size());
    }
    ++cx.record_no;
    cx.ecs = -1;
    cx.pool.clear();
    // Indexing the top-level members pays when the rules read several fields; for one or two
    // (a single eventName rule) looking them up is cheaper than visiting every member.
    cx.fast = fields_.size() >= 4 && extractor_.index(record);
    const field_extractor* fx = cx.fast ? &extractor_ : nullptr;
    cx.fx = fx;
    if (sc.tried.size() != rules_.size()) sc.tried.assign(rules_.size(), 0);
    int cloudtrail = -1;  // the record's log source, looked at once and only when a rule asks
    auto try_rule = [&](uint32_t i) {
        if (sc.tried[i] == cx.record_no) return;  // reached by two values of a dispatch field
        sc.tried[i] = cx.record_no;
        const compiled_rule& r = *rules_[i];
        switch (static_cast<source_filter>(r.source)) {
            case source_filter::any: break;
            case source_filter::none: return;
            case source_filter::cloudtrail:
                if (cloudtrail < 0) cloudtrail = is_cloudtrail(record, fx) ? 1 : 0;
                if (!cloudtrail) return;
                break;
        }
        for (const auto& c : r.conditions)
            if (eval(c, r, cx)) {
                hits.push_back(i);
                return;
            }
    };
    size_t first = hits.size();
    // The dispatch maps hash and compare without regard to ASCII case: no lower-cased copies.
    if (std::string_view name = event_name(record, fx); !name.empty())
        if (const auto* rules = by_event_.find(name))
            for (auto i : *rules) try_rule(i);
    for (const auto& d : by_value_) {
        values_view vals = values_of(d.fid, d.field, cx);
        sc.dispatch.assign(vals.begin(), vals.end());
        for (auto e : sc.dispatch) {
            if (e.is_null()) continue;
            std::string_view text = as_text(e, cx.text);
            if (const auto* rules = d.rules.find(text))
                for (auto i : *rules) try_rule(i);
        }
    }
    for (auto i : always_) try_rule(i);
    if (hits.size() - first > 1) std::sort(hits.begin() + static_cast<std::ptrdiff_t>(first), hits.end());
}

std::string ruleset::render_remediation(size_t rule, simdjson::dom::element record) const {
    std::string out;
    render_remediation(rule, record, out);
    return out;
}

bool ruleset::render_remediation(size_t rule, simdjson::dom::element record, std::string& out) const {
    // "{field}" takes the field's first value, "{field*}" all of them (space-separated); a
    // template whose fields are missing yields nothing, and "a || b" tries b when a cannot render.
    std::string_view all = rules_[rule]->meta.remediation;
    if (all.empty()) return false;
    std::string& scratch = scratch_->text;
    std::vector<simdjson::dom::element>& vals = scratch_->vals;
    const size_t base = out.size();
    while (!all.empty()) {
        size_t alt = all.find(" || ");
        std::string_view t = all.substr(0, alt);
        all = alt == std::string_view::npos ? std::string_view{} : all.substr(alt + 4);
        out.resize(base);
        bool ok = true;
        for (size_t i = 0; ok && i < t.size(); ++i) {
            if (t[i] != '{') {
                out.push_back(t[i]);
                continue;
            }
            size_t close = t.find('}', i);
            if (close == std::string_view::npos) {
                ok = false;
                break;
            }
            std::string_view field = t.substr(i + 1, close - i - 1);
            bool many = !field.empty() && field.back() == '*';
            if (many) field.remove_suffix(1);
            vals.clear();
            field_values(record, field, vals);
            size_t used = 0;
            for (auto v : vals) {
                if (v.is_null() || v.is_object() || v.is_array()) continue;
                if (used++) out.push_back(' ');
                out += as_text(v, scratch);
                if (!many) break;
            }
            ok = used > 0;
            i = close;
        }
        if (ok) return out.size() > base;
    }
    out.resize(base);
    return false;
}

}  // namespace sds::detect

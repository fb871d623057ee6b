#include "sds/score/model.hpp"

#include <errno.h>
#include <fcntl.h>
#include <fmt/format.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <filesystem>

namespace sds::score {

namespace {

constexpr char magic[8] = {'S', 'D', 'S', 'S', 'C', 'O', 'R', 'E'};

uint64_t align64(uint64_t x) { return (x + 63) & ~uint64_t(63); }

uint32_t slots_for(uint32_t n) {
    uint32_t s = 16;
    while (s < n * 2u) s <<= 1;
    return s;
}

std::string meta_text(const model_data& m) {
    std::string s;
    for (const auto& e : m.trained_fields.entity) s += "entity=" + e + "\n";
    s += "ip=" + m.trained_fields.ip + "\n";
    s += "asn=" + m.trained_fields.asn + "\n";
    s += "country=" + m.trained_fields.country + "\n";
    s += "location=" + m.trained_fields.location + "\n";
    s += "timestamp=" + m.trained_fields.timestamp + "\n";
    for (const auto& [k, v] : m.extra_meta) s += k + "=" + v + "\n";
    return s;
}

std::vector<char> serialize(const model_data& m) {
    model_header h{};
    std::memcpy(h.magic, magic, 8);
    h.version = model_version;
    h.header_size = sizeof(model_header);
    h.dim = m.dim;
    h.n_exact = m.n_exact;
    h.n_shared = m.n_shared;
    h.entity_slots = slots_for(m.n_exact);
    h.feature_rows = feature_rows;
    h.epochs = m.epochs;
    h.n_seen = slots_for(static_cast<uint32_t>(std::min<size_t>(m.seen.size(), 0x7fffffff)));
    h.pairs = m.pairs;
    h.records = m.records;
    h.seed = m.seed;
    h.global_mean = m.global_mean;
    h.global_std = m.global_std;
    std::string meta = meta_text(m);
    uint64_t nvec = uint64_t(m.n_exact) + m.n_shared;
    uint64_t off = align64(sizeof(model_header));
    h.off_meta = off, h.len_meta = meta.size(), off = align64(off + meta.size());
    h.off_slots = off, off = align64(off + uint64_t(h.entity_slots) * sizeof(entity_slot));
    h.off_entity_vecs = off, off = align64(off + nvec * m.dim * 4);
    h.off_entity_stats = off, off = align64(off + nvec * 2 * 4);
    h.off_centroid = off, off = align64(off + uint64_t(m.dim) * 4);
    h.off_features = off, off = align64(off + uint64_t(feature_rows) * m.dim * 4);
    h.off_seen = off, off = align64(off + h.n_seen * 8);
    h.file_size = off;
    std::vector<char> img(off, 0);
    std::memcpy(img.data() + h.off_meta, meta.data(), meta.size());
    auto* slots = reinterpret_cast<entity_slot*>(img.data() + h.off_slots);
    for (uint32_t i = 0; i < m.n_exact; ++i) {
        uint64_t k = m.exact_keys[i];
        uint32_t s = static_cast<uint32_t>(mix64(k)) & (h.entity_slots - 1);
        while (slots[s].key != 0) s = (s + 1) & (h.entity_slots - 1);
        slots[s].key = k;
        slots[s].index = i;
    }
    std::memcpy(img.data() + h.off_entity_vecs, m.entity_vecs.data(), m.entity_vecs.size() * 4);
    std::memcpy(img.data() + h.off_entity_stats, m.entity_stats.data(), m.entity_stats.size() * 4);
    std::memcpy(img.data() + h.off_centroid, m.centroid.data(), m.centroid.size() * 4);
    std::memcpy(img.data() + h.off_features, m.features.data(), m.features.size() * 4);
    auto* seen = reinterpret_cast<uint64_t*>(img.data() + h.off_seen);
    for (uint64_t k : m.seen) {
        uint64_t s = mix64(k) & (h.n_seen - 1);
        while (seen[s] != 0 && seen[s] != k) s = (s + 1) & (h.n_seen - 1);
        seen[s] = k;
    }
    h.checksum = checksum(img.data() + sizeof(model_header), off - sizeof(model_header));
    std::memcpy(img.data(), &h, sizeof h);
    return img;
}

}  // namespace

status write_model(const std::string& path, const model_data& m) {
    std::vector<char> img = serialize(m);
    std::string tmp = path + ".tmp." + std::to_string(::getpid());
    int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) return make_error(exit_code::runtime, fmt::format("cannot write model: {} ({})", path, std::strerror(errno)));
    size_t done = 0;
    while (done < img.size()) {
        ssize_t w = ::write(fd, img.data() + done, img.size() - done);
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) {
            int e = errno;
            ::close(fd);
            ::unlink(tmp.c_str());
            return make_error(exit_code::runtime, fmt::format("cannot write model: {} ({})", path, std::strerror(e)));
        }
        done += size_t(w);
    }
    if (::fsync(fd) != 0 || ::close(fd) != 0) {
        int e = errno;
        ::unlink(tmp.c_str());
        return make_error(exit_code::runtime, fmt::format("cannot write model: {} ({})", path, std::strerror(e)));
    }
    if (::rename(tmp.c_str(), path.c_str()) != 0) {
        int e = errno;
        ::unlink(tmp.c_str());
        return make_error(exit_code::runtime, fmt::format("cannot write model: {} ({})", path, std::strerror(e)));
    }
    return {};
}

namespace {

struct mapping {
    void* p = nullptr;
    size_t n = 0;
    ~mapping() {
        if (p) ::munmap(p, n);
    }
};

expected<model> view(std::shared_ptr<const void> hold, const char* base, size_t size, const std::string& name,
                     model& m);

}  // namespace

expected<model> model::open(const std::string& path) {
    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return make_error(exit_code::usage, fmt::format("cannot open model: {} ({})", path, std::strerror(errno)));
    struct stat st {};
    if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        ::close(fd);
        return make_error(exit_code::usage, fmt::format("cannot open model: {} (not a regular file)", path));
    }
    if (size_t(st.st_size) < sizeof(model_header)) {
        ::close(fd);
        return make_error(exit_code::usage, fmt::format("not an sds-score model: {} (file too short)", path));
    }
    auto map = std::make_shared<mapping>();
    map->n = size_t(st.st_size);
    void* p = ::mmap(nullptr, map->n, PROT_READ, MAP_PRIVATE, fd, 0);
    ::close(fd);
    if (p == MAP_FAILED) return make_error(exit_code::runtime, fmt::format("cannot map model: {} ({})", path, std::strerror(errno)));
    map->p = p;
    model m;
    const char* base = static_cast<const char*>(p);
    return view(map, base, map->n, std::filesystem::path(path).filename().string(), m);
}

model model::from_data(std::shared_ptr<const model_data> d) {
    auto img = std::make_shared<std::vector<char>>(serialize(*d));
    model m;
    auto r = view(img, img->data(), img->size(), "memory", m);
    return std::move(r.value());
}

namespace {

expected<model> view(std::shared_ptr<const void> hold, const char* base, size_t size, const std::string& name,
                     model& m) {
    model_header h;
    std::memcpy(&h, base, sizeof h);
    if (std::memcmp(h.magic, magic, 8) != 0)
        return make_error(exit_code::usage, fmt::format("not an sds-score model: {} (bad magic)", name));
    if (h.version != model_version)
        return make_error(exit_code::usage, fmt::format("unsupported model version: {} (version {}, this sds-score reads {})",
                                                        name, h.version, model_version));
    if (h.header_size != sizeof(model_header) || h.file_size != size)
        return make_error(exit_code::usage, fmt::format("corrupt model: {} (size {} does not match header {})", name,
                                                        size, h.file_size));
    if (checksum(base + sizeof(model_header), size - sizeof(model_header)) != h.checksum)
        return make_error(exit_code::usage, fmt::format("corrupt model: {} (checksum mismatch)", name));
    uint64_t nvec = uint64_t(h.n_exact) + h.n_shared;
    auto fits = [&](uint64_t off, uint64_t len) { return off % 64 == 0 && off <= size && len <= size - off; };
    if (h.feature_rows != feature_rows || h.dim == 0 || h.dim > 4096 || (h.entity_slots & (h.entity_slots - 1)) || h.n_seen == 0 || (h.n_seen & (h.n_seen - 1)) ||
        !fits(h.off_meta, h.len_meta) || !fits(h.off_slots, uint64_t(h.entity_slots) * sizeof(entity_slot)) ||
        !fits(h.off_entity_vecs, nvec * h.dim * 4) || !fits(h.off_entity_stats, nvec * 8) ||
        !fits(h.off_centroid, uint64_t(h.dim) * 4) || !fits(h.off_features, uint64_t(feature_rows) * h.dim * 4) ||
        !fits(h.off_seen, h.n_seen * 8))
        return make_error(exit_code::usage, fmt::format("corrupt model: {} (bad section table)", name));
    return m.attach(std::move(hold), base, h, name);
}

}  // namespace

expected<model> model::attach(std::shared_ptr<const void> hold, const char* base, const model_header& h,
                              const std::string& name) {
    hold_ = std::move(hold);
    dim_ = h.dim;
    n_exact_ = h.n_exact;
    n_shared_ = h.n_shared;
    slots_ = h.entity_slots;
    slot_table_ = reinterpret_cast<const entity_slot*>(base + h.off_slots);
    entity_vecs_ = reinterpret_cast<const float*>(base + h.off_entity_vecs);
    entity_stats_ = reinterpret_cast<const float*>(base + h.off_entity_stats);
    centroid_ = reinterpret_cast<const float*>(base + h.off_centroid);
    features_ = reinterpret_cast<const float*>(base + h.off_features);
    seen_ = reinterpret_cast<const uint64_t*>(base + h.off_seen);
    n_seen_ = h.n_seen;
    pairs_ = h.pairs;
    global_mean_ = h.global_mean;
    global_std_ = h.global_std;
    parse_meta(std::string_view(base + h.off_meta, h.len_meta));
    id_ = fmt::format("{}@{:016x}", name, h.checksum);
    return std::move(*this);
}

void model::parse_meta(std::string_view text) {
    fields_ = fields{};
    meta_.clear();
    while (!text.empty()) {
        size_t nl = text.find('\n');
        std::string_view line = text.substr(0, nl);
        text = nl == std::string_view::npos ? std::string_view() : text.substr(nl + 1);
        size_t eq = line.find('=');
        if (eq == std::string_view::npos) continue;
        std::string k(line.substr(0, eq)), v(line.substr(eq + 1));
        if (k == "entity") fields_.entity.push_back(v);
        else if (k == "ip") fields_.ip = v;
        else if (k == "asn") fields_.asn = v;
        else if (k == "country") fields_.country = v;
        else if (k == "location") fields_.location = v;
        else if (k == "timestamp") fields_.timestamp = v;
        meta_.emplace_back(std::move(k), std::move(v));
    }
}

std::string model::meta(const std::string& key) const {
    for (const auto& [k, v] : meta_)
        if (k == key) return v;
    return {};
}

std::optional<uint32_t> model::entity_index(uint64_t key) const noexcept {
    if (slots_ && n_exact_) {
        uint32_t s = static_cast<uint32_t>(mix64(key)) & (slots_ - 1);
        while (slot_table_[s].key != 0) {
            if (slot_table_[s].key == key) return slot_table_[s].index;
            s = (s + 1) & (slots_ - 1);
        }
    }
    if (n_shared_ && seen(seen_key(key, seen_kind::entity, 1))) return n_exact_ + static_cast<uint32_t>(mix64(key ^ 0x51) % n_shared_);
    return std::nullopt;
}

bool model::seen(uint64_t key) const noexcept {
    uint64_t s = mix64(key) & (n_seen_ - 1);
    while (seen_[s] != 0) {
        if (seen_[s] == key) return true;
        s = (s + 1) & (n_seen_ - 1);
    }
    return false;
}

}  // namespace sds::score

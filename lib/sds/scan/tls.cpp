#include "sds/scan/tls.hpp"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <fmt/format.h>
#include <netinet/in.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cctype>
#include <cstring>
#include <ctime>
#include <filesystem>

namespace sds::scan {

namespace {

std::string hex_upper(const unsigned char* p, size_t n) {
    static const char* d = "0123456789ABCDEF";
    std::string s;
    s.reserve(n * 2);
    for (size_t i = 0; i < n; ++i) {
        s.push_back(d[p[i] >> 4]);
        s.push_back(d[p[i] & 15]);
    }
    return s;
}

std::string openssl_error() {
    unsigned long e = ERR_get_error();
    std::string out;
    if (e) {
        char buf[256];
        ERR_error_string_n(e, buf, sizeof buf);
        const char* reason = ERR_reason_error_string(e);
        out = reason ? reason : buf;
    }
    ERR_clear_error();
    return out;
}

// "C=US, O=Example, CN=name": the distinguished name in the order openssl x509 -subject shows
// it, with RFC 2253 escaping.
std::string dn_text(const X509_NAME* name) {
    BIO* b = BIO_new(BIO_s_mem());
    X509_NAME_print_ex(b, name, 0, (XN_FLAG_SEP_CPLUS_SPC | XN_FLAG_FN_SN | ASN1_STRFLGS_RFC2253) & ~ASN1_STRFLGS_ESC_MSB);
    char* data = nullptr;
    long n = BIO_get_mem_data(b, &data);
    std::string s(data, static_cast<size_t>(n));
    BIO_free(b);
    return s;
}

std::vector<std::string> name_entries(const X509_NAME* name, int nid) {
    std::vector<std::string> out;
    int idx = -1;
    while ((idx = X509_NAME_get_index_by_NID(name, nid, idx)) >= 0) {
        X509_NAME_ENTRY* e = X509_NAME_get_entry(name, idx);
        unsigned char* utf8 = nullptr;
        int len = ASN1_STRING_to_UTF8(&utf8, X509_NAME_ENTRY_get_data(e));
        if (len >= 0) out.emplace_back(reinterpret_cast<char*>(utf8), static_cast<size_t>(len));
        OPENSSL_free(utf8);
    }
    return out;
}

time::millis asn1_millis(const ASN1_TIME* t) {
    tm parts{};
    if (!t || ASN1_TIME_to_tm(t, &parts) != 1) return 0;
    return static_cast<time::millis>(timegm(&parts)) * 1000;
}

cert_facts facts_of(X509* x) {
    cert_facts f;
    f.subject_dn = dn_text(X509_get_subject_name(x));
    f.issuer_dn = dn_text(X509_get_issuer_name(x));
    f.subject_cn = name_entries(X509_get_subject_name(x), NID_commonName);
    f.issuer_cn = name_entries(X509_get_issuer_name(x), NID_commonName);
    f.subject_o = name_entries(X509_get_subject_name(x), NID_organizationName);
    f.issuer_o = name_entries(X509_get_issuer_name(x), NID_organizationName);
    f.not_before = asn1_millis(X509_get0_notBefore(x));
    f.not_after = asn1_millis(X509_get0_notAfter(x));
    f.version = static_cast<int>(X509_get_version(x)) + 1;
    if (auto* sans = static_cast<GENERAL_NAMES*>(X509_get_ext_d2i(x, NID_subject_alt_name, nullptr, nullptr))) {
        for (int i = 0; i < sk_GENERAL_NAME_num(sans); ++i) {
            const GENERAL_NAME* g = sk_GENERAL_NAME_value(sans, i);
            if (g->type == GEN_DNS || g->type == GEN_EMAIL || g->type == GEN_URI) {
                const ASN1_IA5STRING* s = g->d.ia5;
                f.alternative_names.emplace_back(reinterpret_cast<const char*>(ASN1_STRING_get0_data(s)),
                                                 static_cast<size_t>(ASN1_STRING_length(s)));
            } else if (g->type == GEN_IPADD) {
                const ASN1_OCTET_STRING* s = g->d.ip;
                char buf[INET6_ADDRSTRLEN] = {};
                int len = ASN1_STRING_length(s);
                if (len == 4) ::inet_ntop(AF_INET, ASN1_STRING_get0_data(s), buf, sizeof buf);
                else if (len == 16) ::inet_ntop(AF_INET6, ASN1_STRING_get0_data(s), buf, sizeof buf);
                if (buf[0]) f.alternative_names.emplace_back(buf);
            }
        }
        GENERAL_NAMES_free(sans);
    }
    if (EVP_PKEY* k = X509_get0_pubkey(x)) {
        int id = EVP_PKEY_get_base_id(k);
        switch (id) {
            case EVP_PKEY_RSA: f.public_key_algorithm = "RSA"; break;
            case EVP_PKEY_EC: f.public_key_algorithm = "EC"; break;
            case EVP_PKEY_DSA: f.public_key_algorithm = "DSA"; break;
            case EVP_PKEY_ED25519: f.public_key_algorithm = "ED25519"; break;
            case EVP_PKEY_ED448: f.public_key_algorithm = "ED448"; break;
            default: f.public_key_algorithm = OBJ_nid2sn(id); break;
        }
        f.public_key_size = EVP_PKEY_get_bits(k);
        if (id == EVP_PKEY_EC) {
            char group[80] = {};
            size_t len = 0;
            if (EVP_PKEY_get_utf8_string_param(k, OSSL_PKEY_PARAM_GROUP_NAME, group, sizeof group, &len))
                f.public_key_curve.assign(group, len);
        }
    }
    int sig_nid = X509_get_signature_nid(x);
    f.signature_algorithm = OBJ_nid2ln(sig_nid);
    int md_nid = NID_undef, pk_nid = NID_undef;
    if (OBJ_find_sigid_algs(sig_nid, &md_nid, &pk_nid) && md_nid != NID_undef) f.signature_digest = OBJ_nid2sn(md_nid);
    for (auto& c : f.signature_digest) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    if (const ASN1_INTEGER* serial = X509_get0_serialNumber(x)) {
        BIGNUM* bn = ASN1_INTEGER_to_BN(serial, nullptr);
        if (bn) {
            char* hex = BN_bn2hex(bn);
            f.serial_number = hex;
            OPENSSL_free(hex);
            BN_free(bn);
        }
    }
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int mdlen = 0;
    if (X509_digest(x, EVP_sha256(), md, &mdlen)) f.sha256 = hex_upper(md, mdlen);
    if (X509_digest(x, EVP_sha1(), md, &mdlen)) f.sha1 = hex_upper(md, mdlen);
    f.self_signed = (X509_get_extension_flags(x) & EXFLAG_SS) != 0;
    return f;
}

// A TCP connection with the timeout applied to connect and to every later read/write.
int dial(const ip::address& a, uint16_t port, int timeout_ms, std::string& err) {
    sockaddr_storage ss{};
    socklen_t len;
    if (a.v4) {
        auto* s = reinterpret_cast<sockaddr_in*>(&ss);
        s->sin_family = AF_INET;
        s->sin_port = htons(port);
        std::memcpy(&s->sin_addr, &a.bytes[12], 4);
        len = sizeof *s;
    } else {
        auto* s = reinterpret_cast<sockaddr_in6*>(&ss);
        s->sin6_family = AF_INET6;
        s->sin6_port = htons(port);
        std::memcpy(&s->sin6_addr, a.bytes.data(), 16);
        len = sizeof *s;
    }
    int fd = ::socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        err = fmt::format("socket ({})", std::strerror(errno));
        return -1;
    }
    int rc = ::connect(fd, reinterpret_cast<sockaddr*>(&ss), len);
    if (rc != 0 && errno == EINPROGRESS) {
        pollfd p{fd, POLLOUT, 0};
        rc = ::poll(&p, 1, timeout_ms);
        if (rc == 0) {
            ::close(fd);
            err = "connect timed out";
            return -1;
        }
        int so = 0;
        socklen_t sl = sizeof so;
        ::getsockopt(fd, SOL_SOCKET, SO_ERROR, &so, &sl);
        if (so != 0) {
            ::close(fd);
            err = fmt::format("connect ({})", std::strerror(so));
            return -1;
        }
    } else if (rc != 0) {
        err = fmt::format("connect ({})", std::strerror(errno));
        ::close(fd);
        return -1;
    }
    ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) & ~O_NONBLOCK);
    timeval tv{timeout_ms / 1000, (timeout_ms % 1000) * 1000};
    ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    return fd;
}

bool is_ip_text(const std::string& s) { return ip::parse(s).has_value(); }

const char* version_text(int v) {
    switch (v) {
        case TLS1_VERSION: return "1.0";
        case TLS1_1_VERSION: return "1.1";
        case TLS1_2_VERSION: return "1.2";
        case TLS1_3_VERSION: return "1.3";
        default: return "";
    }
}

}  // namespace

struct tls_inspector::impl {
    tls_options o;
    SSL_CTX* ctx = nullptr;
    ~impl() {
        if (ctx) SSL_CTX_free(ctx);
    }

    // One handshake; `version` 0 = best available. Returns the SSL on success (caller frees).
    SSL* handshake(const ip::address& a, uint16_t port, const std::string& sni, int version, std::string& err, int& fd) const {
        fd = dial(a, port, o.timeout_ms, err);
        if (fd < 0) return nullptr;
        SSL* ssl = SSL_new(ctx);
        SSL_set_security_level(ssl, 0);
        if (version) {
            SSL_set_min_proto_version(ssl, version);
            SSL_set_max_proto_version(ssl, version);
        }
        if (!sni.empty() && !is_ip_text(sni)) SSL_set_tlsext_host_name(ssl, sni.c_str());
        SSL_set_fd(ssl, fd);
        ERR_clear_error();
        int rc = SSL_connect(ssl);
        if (rc != 1) {
            int e = SSL_get_error(ssl, rc);
            err = openssl_error();
            if (err.empty()) err = e == SSL_ERROR_SYSCALL ? (errno ? std::strerror(errno) : "connection closed") : "handshake failed";
            SSL_free(ssl);
            ::close(fd);
            fd = -1;
            return nullptr;
        }
        return ssl;
    }

    static void done(SSL* ssl, int fd) {
        SSL_shutdown(ssl);
        SSL_free(ssl);
        ::close(fd);
    }
};

tls_inspector::tls_inspector(std::unique_ptr<impl> p) : p_(std::move(p)) {}
tls_inspector::~tls_inspector() = default;

expected<std::unique_ptr<tls_inspector>> tls_inspector::create(const tls_options& o) {
    auto p = std::make_unique<impl>();
    p->o = o;
    p->ctx = SSL_CTX_new(TLS_client_method());
    if (!p->ctx) return make_error(exit_code::runtime, "cannot set up TLS: " + openssl_error());
    SSL_CTX_set_security_level(p->ctx, 0);
    SSL_CTX_set_cipher_list(p->ctx, "ALL:@SECLEVEL=0");
    SSL_CTX_set_min_proto_version(p->ctx, TLS1_VERSION);
    SSL_CTX_set_options(p->ctx, SSL_OP_LEGACY_SERVER_CONNECT | SSL_OP_IGNORE_UNEXPECTED_EOF);
    SSL_CTX_set_verify(p->ctx, SSL_VERIFY_NONE, nullptr);  // verified, but never refused: we report
    if (!o.cacert.empty()) {
        std::error_code ec;
        bool dir = std::filesystem::is_directory(o.cacert, ec);
        if (!dir && ::access(o.cacert.c_str(), R_OK) != 0)
            return make_error(exit_code::usage, fmt::format("--cacert: cannot read: {} ({})", o.cacert, std::strerror(errno)));
        // A folder of hashed certificates (c_rehash) or a PEM bundle.
        int ok = dir ? SSL_CTX_load_verify_dir(p->ctx, o.cacert.c_str()) : SSL_CTX_load_verify_file(p->ctx, o.cacert.c_str());
        if (ok != 1) return make_error(exit_code::usage, fmt::format("--cacert: cannot load: {} ({})", o.cacert, openssl_error()));
    } else {
        SSL_CTX_set_default_verify_paths(p->ctx);
    }
    ERR_clear_error();
    return std::unique_ptr<tls_inspector>(new tls_inspector(std::move(p)));
}

tls_report tls_inspector::inspect(const ip::address& addr, uint16_t port, const std::string& sni) const {
    tls_report r;
    int fd = -1;
    SSL* ssl = p_->handshake(addr, port, sni, 0, r.error, fd);
    if (!ssl) return r;
    r.established = true;
    int v = SSL_version(ssl);
    r.version = version_text(v);
    r.protocol_name = SSL_get_version(ssl);
    if (const SSL_CIPHER* c = SSL_get_current_cipher(ssl)) {
        const char* std_name = SSL_CIPHER_standard_name(c);
        r.cipher = std_name ? std_name : SSL_CIPHER_get_name(c);
    }
    long vr = SSL_get_verify_result(ssl);
    r.chain_trusted = vr == X509_V_OK;
    if (!r.chain_trusted) r.verify_error = X509_verify_cert_error_string(vr);
    if (STACK_OF(X509)* chain = SSL_get_peer_cert_chain(ssl)) {
        for (int i = 0; i < sk_X509_num(chain); ++i) r.chain.push_back(facts_of(sk_X509_value(chain, i)));
    }
    if (X509* leaf = SSL_get0_peer_certificate(ssl)) {
        if (r.chain.empty()) r.chain.push_back(facts_of(leaf));
        if (!sni.empty()) {
            if (is_ip_text(sni)) r.name_match = X509_check_ip_asc(leaf, sni.c_str(), 0) == 1;
            else r.name_match = X509_check_host(leaf, sni.c_str(), sni.size(), 0, nullptr) == 1;
        }
    }
    impl::done(ssl, fd);
    if (p_->o.probe_versions) {
        r.versions_probed = true;
        for (int ver : {TLS1_VERSION, TLS1_1_VERSION, TLS1_2_VERSION, TLS1_3_VERSION}) {
            if (ver == v) {
                r.accepted.push_back(version_text(ver));
                continue;
            }
            std::string err;
            int vfd = -1;
            if (SSL* s = p_->handshake(addr, port, sni, ver, err, vfd)) {
                if (SSL_version(s) == ver) r.accepted.push_back(version_text(ver));
                impl::done(s, vfd);
            }
        }
    } else if (!r.version.empty()) {
        r.accepted.push_back(r.version);
    }
    return r;
}

std::vector<finding> tls_findings(const tls_report& r, time::millis now, int warn_days) {
    std::vector<finding> out;
    if (!r.established) return out;
    for (const auto& v : r.accepted) {
        if (v == "1.0" || v == "1.1")
            out.push_back({fmt::format("tls.protocol_tls{}_accepted", v == "1.0" ? "1_0" : "1_1"), "medium",
                           fmt::format("server accepts TLS {} (deprecated by RFC 8996)", v)});
    }
    if (r.chain.empty()) return out;
    const cert_facts& c = r.chain.front();
    const int64_t day = 86400000;
    if (c.not_after && c.not_after < now) {
        out.push_back({"tls.certificate_expired", "high",
                       fmt::format("certificate expired on {}", time::rfc3339(c.not_after))});
    } else if (c.not_after && c.not_after - now < int64_t{warn_days} * day) {
        out.push_back({"tls.certificate_expiring", "medium",
                       fmt::format("certificate expires in {} days, on {}", (c.not_after - now) / day,
                                   time::rfc3339(c.not_after))});
    }
    if (c.not_before && c.not_before > now)
        out.push_back({"tls.certificate_not_yet_valid", "high",
                       fmt::format("certificate is not valid before {}", time::rfc3339(c.not_before))});
    if (c.self_signed) out.push_back({"tls.self_signed", "medium", "certificate is self-signed"});
    if (!r.chain_trusted)
        out.push_back({"tls.untrusted_chain", "high", fmt::format("certificate chain not trusted ({})", r.verify_error)});
    if (r.name_match && !*r.name_match) {
        std::string names;
        for (const auto& n : c.alternative_names) names += (names.empty() ? "" : ", ") + n;
        if (names.empty())
            for (const auto& n : c.subject_cn) names += (names.empty() ? "" : ", ") + n;
        out.push_back({"tls.name_mismatch", "high", fmt::format("certificate does not match the host name (it names: {})", names)});
    }
    if ((c.public_key_algorithm == "RSA" || c.public_key_algorithm == "DSA") && c.public_key_size < 2048)
        out.push_back({"tls.weak_key", "high", fmt::format("{} key of {} bits (< 2048)", c.public_key_algorithm, c.public_key_size)});
    else if (c.public_key_algorithm == "EC" && c.public_key_size < 224)
        out.push_back({"tls.weak_key", "high", fmt::format("EC key of {} bits (< 224)", c.public_key_size)});
    if (c.signature_digest == "sha1" || c.signature_digest == "md5" || c.signature_digest == "md2" || c.signature_digest == "md4")
        out.push_back({fmt::format("tls.{}_signature", c.signature_digest), "high",
                       fmt::format("certificate signed with {}", c.signature_algorithm)});
    return out;
}

}  // namespace sds::scan

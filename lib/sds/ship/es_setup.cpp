#include "sds/ship/es_setup.hpp"

#include <fmt/format.h>

#include "sds/aws/sigv4.hpp"
#include "sds/json/escape.hpp"

namespace sds::ship {

expected<net::response> es_request(const es_connection& c, const std::string& method, const std::string& path,
                                   std::string_view body) {
    net::client client;
    std::string last;
    for (const auto& base : c.urls) {
        net::request req;
        req.method = method;
        req.url = base + path;
        req.body = body;
        req.ca_file = c.cacert;
        req.insecure = c.insecure;
        req.total_timeout = std::chrono::milliseconds(static_cast<long long>(c.timeout * 1000));
        if (!body.empty()) req.headers.push_back({"Content-Type", "application/json"});
        if (!c.auth_header.empty()) {
            auto colon = c.auth_header.find(':');
            req.headers.push_back({c.auth_header.substr(0, colon), c.auth_header.substr(colon + 2)});
        }
        if (c.creds) {
            auto cr = c.creds->get();
            if (!cr) return cr.err();
            aws::sign_options so;
            so.region = c.region;
            so.service = c.sigv4_service;
            so.content_sha256_header = true;
            if (auto s = aws::sign(req, *cr, so); !s) return s.err();
        }
        auto r = client.perform(req);
        if (r) return r;
        last = r.err().message;
    }
    return make_error(exit_code::runtime, last);
}

status check_cluster(cli::tool& t, es_connection& c) {
    auto r = es_request(c, "GET", "/");
    if (!r) return make_error(exit_code::runtime, fmt::format("cannot reach the cluster: {}", r.err().message));
    if (r->status == 401 || r->status == 403)
        return make_error(exit_code::runtime, fmt::format("authentication failed: {} (HTTP {})",
                                                          net::redact_url(c.urls.front()), r->status));
    if (r->status >= 200 && r->status < 300 && r->body.find("\"distribution\"") != std::string::npos &&
        r->body.find("opensearch") != std::string::npos)
        c.opensearch = true;
    if (r->status >= 200 && r->status < 300)
        t.info(fmt::format("connected to {}", net::redact_url(c.urls.front())));
    // Other statuses (Serverless has no GET /) are left to the bulk requests.
    return {};
}

std::string index_pattern(std::string_view text) {
    std::string out;
    bool in = false;
    for (char c : text) {
        if (c == '{') {
            in = true;
            if (out.empty() || out.back() != '*') out.push_back('*');
        } else if (c == '}') {
            in = false;
        } else if (!in) {
            out.push_back(c);
        }
    }
    return out;
}

// Mappings for the fields sds writes (ECS 8 types). Strings not listed become keyword.
std::string component_template_body(bool opensearch) {
    static const char* const text = R"({"template":{"settings":{"index":{"mapping":{"total_fields":{"limit":5000}}}},"mappings":{
"dynamic_templates":[{"strings_as_keyword":{"match_mapping_type":"string","mapping":{"type":"keyword","ignore_above":1024}}}],
"properties":{
"@timestamp":{"type":"date"},
"message":{"type":"text"},
"event":{"properties":{"id":{"type":"keyword"},"dataset":{"type":"keyword"},"kind":{"type":"keyword"},
 "category":{"type":"keyword"},"type":{"type":"keyword"},"outcome":{"type":"keyword"},"action":{"type":"keyword"},
 "provider":{"type":"keyword"},"module":{"type":"keyword"},"code":{"type":"keyword"},"original":{"type":"keyword","index":false,"doc_values":false},
 "created":{"type":"date"},"ingested":{"type":"date"},"start":{"type":"date"},"end":{"type":"date"},
 "duration":{"type":"long"},"severity":{"type":"long"},"risk_score":{"type":"float"},"sequence":{"type":"long"}}},
"source":{"properties":{"ip":{"type":"ip"},"port":{"type":"long"},"bytes":{"type":"long"},"packets":{"type":"long"},"address":{"type":"keyword"},
 "geo":{"properties":{"location":{"type":"geo_point"}}},"as":{"properties":{"number":{"type":"long"}}}}},
"destination":{"properties":{"ip":{"type":"ip"},"port":{"type":"long"},"bytes":{"type":"long"},"packets":{"type":"long"},"address":{"type":"keyword"},
 "geo":{"properties":{"location":{"type":"geo_point"}}},"as":{"properties":{"number":{"type":"long"}}}}},
"client":{"properties":{"ip":{"type":"ip"},"port":{"type":"long"},"bytes":{"type":"long"},
 "geo":{"properties":{"location":{"type":"geo_point"}}},"as":{"properties":{"number":{"type":"long"}}}}},
"server":{"properties":{"ip":{"type":"ip"},"port":{"type":"long"},"bytes":{"type":"long"},
 "geo":{"properties":{"location":{"type":"geo_point"}}},"as":{"properties":{"number":{"type":"long"}}}}},
"network":{"properties":{"bytes":{"type":"long"},"packets":{"type":"long"},"transport":{"type":"keyword"},"iana_number":{"type":"keyword"}}},
"related":{"properties":{"ip":{"type":"ip"},"user":{"type":"keyword"},"hosts":{"type":"keyword"},"hash":{"type":"keyword"}}},
"http":{"properties":{"request":{"properties":{"bytes":{"type":"long"},"method":{"type":"keyword"}}},
 "response":{"properties":{"bytes":{"type":"long"},"status_code":{"type":"long"}}}}},
"url":{"properties":{"original":{"type":"keyword"},"full":{"type":"keyword"},"port":{"type":"long"}}},
"user_agent":{"properties":{"original":{"type":"keyword"}}},
"host":{"properties":{"ip":{"type":"ip"}}},
"observer":{"properties":{"ip":{"type":"ip"}}},
"tls":{"properties":{"server":{"properties":{"not_before":{"type":"date"},"not_after":{"type":"date"},
 "x509":{"properties":{"not_before":{"type":"date"},"not_after":{"type":"date"}}}}}}},
"x509":{"properties":{"not_before":{"type":"date"},"not_after":{"type":"date"},"public_key_size":{"type":"long"}}},
"threat":{"properties":{"indicator":{"properties":{"ip":{"type":"ip"},"first_seen":{"type":"date"},"last_seen":{"type":"date"}}}}},
"aws":{"properties":{"cloudtrail":{"properties":{"flattened":{"properties":{
 "request_parameters":{"type":"@FLAT@"},"response_elements":{"type":"@FLAT@"},"additional_eventdata":{"type":"@FLAT@"},
 "service_event_details":{"type":"@FLAT@"}}}}}}},
"log":{"properties":{"offset":{"type":"long"},"file":{"properties":{"path":{"type":"keyword"}}}}},
"sds":{"properties":{"anomaly":{"properties":{"score":{"type":"float"},"ip":{"type":"ip"},"entity":{"type":"keyword"},"reasons":{"type":"keyword"}}}}}
}}},"_meta":{"managed_by":"sds-ship","description":"mappings for the ECS fields sds produces"}})";
    std::string s;
    for (const char* p = text; *p; ++p)
        if (*p != '\n') s.push_back(*p);
    const std::string flat = opensearch ? "flat_object" : "flattened";
    for (size_t at; (at = s.find("@FLAT@")) != std::string::npos;) s.replace(at, 6, flat);
    return s;
}

std::string index_template_body(const std::string& pattern, const std::string& component, bool data_stream) {
    std::string s = "{\"index_patterns\":[";
    json::append_string(s, pattern);
    s += "],\"composed_of\":[";
    json::append_string(s, component);
    s += "],\"priority\":200,";
    if (data_stream) s += "\"data_stream\":{},";
    s += "\"_meta\":{\"managed_by\":\"sds-ship\"}}";
    return s;
}

status install_templates(cli::tool& t, const es_connection& c, const options& o) {
    std::string component = o.template_name + "-ecs-mappings";
    std::string pattern = index_pattern(o.index);
    struct step {
        std::string path;
        std::string body;
    };
    step steps[] = {
        {"/_component_template/" + net::uri_encode(component), component_template_body(c.opensearch)},
        {"/_index_template/" + net::uri_encode(o.template_name), index_template_body(pattern, component, o.op == "create")},
    };
    for (const auto& s : steps) {
        auto r = es_request(c, "PUT", s.path, s.body);
        if (!r) return make_error(exit_code::runtime, fmt::format("--setup: {}", r.err().message));
        if (r->status == 401 || r->status == 403)
            return make_error(exit_code::runtime, fmt::format("--setup: authentication failed: {} (HTTP {})", s.path, r->status));
        if (r->status < 200 || r->status >= 300)
            return make_error(exit_code::runtime,
                              fmt::format("--setup: {} refused (HTTP {}: {})", s.path, r->status, r->body.substr(0, 300)));
        t.info(fmt::format("--setup: installed {}", s.path));
    }
    return {};
}

}  // namespace sds::ship

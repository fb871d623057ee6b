#pragma once
// Synchronous calls to the cluster before the bulk load: the reachability/auth check and
// --setup (component + index templates with mappings for the fields sds produces).
#include <memory>
#include <string>
#include <vector>

#include "sds/aws/credentials.hpp"
#include "sds/cli/tool.hpp"
#include "sds/net/http.hpp"
#include "sds/ship/ship.hpp"

namespace sds::ship {

struct es_connection {
    std::vector<std::string> urls;
    std::string auth_header;  // "Authorization: ..." or empty
    std::string cacert;
    bool insecure = false;
    double timeout = 60;
    std::string sigv4_service;  // "", es, aoss
    std::string region;
    std::shared_ptr<aws::credentials_provider> creds;
    bool opensearch = false;  // learnt from GET / (version.distribution)
};

// One request to the first URL that answers (failover on transport errors).
expected<net::response> es_request(const es_connection& c, const std::string& method, const std::string& path,
                                   std::string_view body = {});

// GET /: 401/403 end the run at once (exit 3); transport failures on every URL too.
status check_cluster(cli::tool& t, es_connection& c);

// The index pattern a template covers: every {…} part becomes '*'.
std::string index_pattern(std::string_view index_template_text);
// The component template body (mappings for sds/ECS fields).
// `opensearch`: OpenSearch's flat_object instead of Elasticsearch's flattened.
std::string component_template_body(bool opensearch = false);
// The index template body for `pattern`, composed of the component.
std::string index_template_body(const std::string& pattern, const std::string& component, bool data_stream);

// PUTs the component and index templates (idempotent: same name, same content).
status install_templates(cli::tool& t, const es_connection& c, const options& o);

}  // namespace sds::ship

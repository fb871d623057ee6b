#include "sds/formats/cloudtrail.hpp"

#include <algorithm>
#include <array>
#include <iterator>

#include "sds/core/ip.hpp"
#include "sds/core/time.hpp"
#include "sds/formats/key_set.hpp"

#include "sds/json/escape.hpp"

namespace sds::formats {

namespace {

struct category_row {
    std::string_view action;
    std::string_view category;
    std::string_view type1;
    std::string_view type2;  // empty when one type
};

// ECS categorisation of well-known API calls (as Elastic's aws.cloudtrail pipeline), sorted.
constexpr category_row categories[] = {
    {"AddUserToGroup", "iam", "group", "change"},
    {"AssumeRole", "authentication", "info", ""},
    {"AttachGroupPolicy", "iam", "group", "change"},
    {"AttachUserPolicy", "iam", "user", "change"},
    {"AuthorizeSecurityGroupEgress", "network", "access", ""},
    {"AuthorizeSecurityGroupIngress", "network", "access", ""},
    {"ChangePassword", "iam", "user", "change"},
    {"ConsoleLogin", "authentication", "info", ""},
    {"CreateAccessKey", "iam", "user", "change"},
    {"CreateBucket", "file", "creation", ""},
    {"CreateGroup", "iam", "group", "creation"},
    {"CreateKeyPair", "iam", "admin", "creation"},
    {"CreateLoginProfile", "iam", "user", "creation"},
    {"CreateRole", "iam", "admin", "creation"},
    {"CreateUser", "iam", "user", "creation"},
    {"CreateVirtualMFADevice", "iam", "user", "change"},
    {"DeactivateMFADevice", "iam", "user", "change"},
    {"DeleteAccessKey", "iam", "user", "change"},
    {"DeleteBucket", "file", "deletion", ""},
    {"DeleteGroup", "iam", "group", "deletion"},
    {"DeleteGroupPolicy", "iam", "group", "change"},
    {"DeleteSSHPublicKey", "iam", "user", "change"},
    {"DeleteUser", "iam", "user", "deletion"},
    {"DeleteUserPermissionsBoundary", "iam", "user", "change"},
    {"DeleteUserPolicy", "iam", "user", "change"},
    {"DeleteVirtualMFADevice", "iam", "user", "change"},
    {"DetachGroupPolicy", "iam", "group", "change"},
    {"DetachUserPolicy", "iam", "user", "change"},
    {"EnableMFADevice", "iam", "user", "change"},
    {"GetGroup", "iam", "group", "info"},
    {"GetGroupPolicy", "iam", "group", "info"},
    {"GetUser", "iam", "user", "info"},
    {"GetUserPolicy", "iam", "user", "info"},
    {"ListAttachedGroupPolicies", "iam", "group", "info"},
    {"ListAttachedUserPolicies", "iam", "user", "info"},
    {"ListGroupPolicies", "iam", "group", "info"},
    {"ListGroups", "iam", "group", "info"},
    {"ListGroupsForUser", "iam", "user", "info"},
    {"ListUserPolicies", "iam", "user", "info"},
    {"ListUserTags", "iam", "user", "info"},
    {"ListUsers", "iam", "user", "info"},
    {"PutGroupPolicy", "iam", "group", "change"},
    {"PutUserPermissionsBoundary", "iam", "user", "change"},
    {"PutUserPolicy", "iam", "user", "change"},
    {"RemoveUserFromGroup", "iam", "group", "change"},
    {"RevokeSecurityGroupEgress", "network", "access", ""},
    {"RevokeSecurityGroupIngress", "network", "access", ""},
    {"SetDefaultPolicyVersion", "iam", "admin", "change"},
    {"SetSecurityTokenServicePreferences", "iam", "admin", "change"},
    {"TagUser", "iam", "user", "change"},
    {"UntagUser", "iam", "user", "change"},
    {"UpdateAccessKey", "iam", "user", "change"},
    {"UpdateAccountPasswordPolicy", "iam", "admin", "change"},
    {"UpdateGroup", "iam", "group", "change"},
    {"UpdateLoginProfile", "iam", "user", "change"},
    {"UpdateRole", "iam", "admin", "change"},
    {"UpdateSSHPublicKey", "iam", "user", "change"},
    {"UpdateUser", "iam", "user", "change"},
    {"UpdateUserLoginProfile", "iam", "user", "change"},
};

constexpr size_t n_categories = std::size(categories);
constexpr auto category_actions = [] {
    std::array<std::string_view, n_categories> a{};
    for (size_t i = 0; i < n_categories; ++i) a[i] = categories[i].action;
    return a;
}();
constexpr key_set<n_categories, 10> category_index{category_actions};

const category_row* find_category(std::string_view action) {
    int i = category_index.find(action);
    return i < 0 ? nullptr : &categories[size_t(i)];
}

using json::layout_doc;

// The top-level members a CloudTrail document is made from, read in one pass.
constexpr key_set<26> record_keys{std::array<std::string_view, 26>{
    "eventTime", "eventVersion", "userIdentity", "eventName", "eventSource", "eventCategory", "awsRegion",
    "sourceIPAddress", "userAgent", "errorCode", "errorMessage", "requestParameters", "responseElements",
    "additionalEventData", "serviceEventDetails", "requestID", "eventID", "eventType", "apiVersion",
    "managementEvent", "readOnly", "resources", "recipientAccountId", "sharedEventID", "vpcEndpointId",
    "tlsDetails"}};
constexpr key_set<9> identity_keys{std::array<std::string_view, 9>{
    "type", "arn", "userName", "principalId", "accessKeyId", "accountId", "identityProvider", "sessionContext",
    "invokedBy"}};
constexpr key_set<5> issuer_keys{
    std::array<std::string_view, 5>{"type", "userName", "principalId", "arn", "accountId"}};

// The raw JSON object/array fields kept as a compact string and as an object.
struct blob_field {
    size_t key;
    json::layout_id string_path, flat_path;
};
constexpr std::array<blob_field, 4> blobs{{
    {record_keys["requestParameters"], ct("aws.cloudtrail.request_parameters"),
     ct("aws.cloudtrail.flattened.request_parameters")},
    {record_keys["responseElements"], ct("aws.cloudtrail.response_elements"),
     ct("aws.cloudtrail.flattened.response_elements")},
    {record_keys["additionalEventData"], ct("aws.cloudtrail.additional_eventdata"),
     ct("aws.cloudtrail.flattened.additional_eventdata")},
    {record_keys["serviceEventDetails"], ct("aws.cloudtrail.service_event_details"),
     ct("aws.cloudtrail.flattened.service_event_details")},
}};
constexpr size_t keyword_limit = 32766;  // Elasticsearch's keyword length limit

inline void set_nonempty(layout_doc& doc, json::layout_id n, std::string_view v) {
    if (!v.empty()) doc.set_string(n, v);
}

inline void entity(layout_doc& doc, std::string_view v) {
    if (!v.empty()) doc.push_string(ct("related.entity"), v, true);
}

inline void note_error(layout_doc& doc, std::string_view literal) { doc.push_string(ct("error.message"), literal); }

// Parses an ISO 8601 time and sets RFC 3339 UTC with ms. False when unparseable.
bool set_time(layout_doc& doc, json::layout_id n, std::string_view text, std::string& scratch) {
    auto t = time::parse_iso8601(text);
    if (!t) return false;
    scratch.clear();
    time::append_rfc3339(scratch, *t);
    doc.set_string_copy(n, scratch);
    return true;
}

// Appends string values found at `path` (through arrays of objects) to related.entity.
void entities_at(layout_doc& doc, element e, std::string_view path) {
    if (e.is_array()) {
        for (element c : simdjson::dom::array(e)) entities_at(doc, c, path);
        return;
    }
    if (path.empty()) {
        std::string_view s;
        if (!e.get_string().get(s)) entity(doc, s);
        return;
    }
    object o;
    if (e.get_object().get(o)) return;
    size_t dot = path.find('.');
    element child;
    if (!val(o, path.substr(0, dot), child)) return;
    entities_at(doc, child, dot == std::string_view::npos ? std::string_view{} : path.substr(dot + 1));
}

// The actions event_entities() has rows for.
constexpr key_set<18> entity_actions{std::array<std::string_view, 18>{
    "AssumeRole", "AttachRolePolicy", "AuthorizeSecurityGroupIngress", "CreateAccessKey", "CreateBucket", "CreateRole",
    "CreateSecurityGroup", "CreateUser", "DeleteAccessKey", "DeleteBucket", "DeleteBucketPolicy", "DeleteTrail",
    "DeleteUser", "PutBucketAcl", "PutBucketPolicy", "RunInstances", "StopLogging", "TerminateInstances"}};

void event_entities(layout_doc& doc, const key_values<26>& rec, std::string_view action) {
    if (entity_actions.find(action) < 0) return;
    struct row {
        std::string_view action, path;
    };
    static constexpr row rows[] = {
        {"AssumeRole", "requestParameters.roleArn"},
        {"AssumeRole", "responseElements.assumedRoleUser.arn"},
        {"AssumeRole", "requestParameters.roleSessionName"},
        {"AttachRolePolicy", "requestParameters.policyArn"},
        {"AttachRolePolicy", "requestParameters.roleName"},
        {"AuthorizeSecurityGroupIngress", "responseElements.securityGroupRuleSet.items.groupId"},
        {"AuthorizeSecurityGroupIngress", "responseElements.securityGroupRuleSet.items.securityGroupRuleId"},
        {"AuthorizeSecurityGroupIngress", "requestParameters.groupId"},
        {"CreateAccessKey", "requestParameters.userName"},
        {"CreateAccessKey", "responseElements.accessKey.accessKeyId"},
        {"CreateBucket", "requestParameters.bucketName"},
        {"CreateRole", "responseElements.role.arn"},
        {"CreateRole", "requestParameters.roleName"},
        {"CreateSecurityGroup", "responseElements.groupId"},
        {"CreateSecurityGroup", "requestParameters.groupName"},
        {"CreateUser", "responseElements.user.arn"},
        {"CreateUser", "responseElements.user.userName"},
        {"DeleteAccessKey", "requestParameters.userName"},
        {"DeleteAccessKey", "requestParameters.accessKeyId"},
        {"DeleteBucket", "requestParameters.bucketName"},
        {"DeleteBucketPolicy", "requestParameters.bucketName"},
        {"DeleteTrail", "requestParameters.name"},
        {"DeleteUser", "requestParameters.userName"},
        {"PutBucketAcl", "requestParameters.bucketName"},
        {"PutBucketPolicy", "requestParameters.bucketName"},
        {"RunInstances", "responseElements.instancesSet.items.instanceId"},
        {"StopLogging", "requestParameters.name"},
        {"TerminateInstances", "requestParameters.instancesSet.items.instanceId"},
    };
    static_assert([] {
        for (const auto& r : rows)
            if (!entity_actions.contains(r.action)) return false;  // each row's action is in the set
        return true;
    }());
    for (const auto& r : rows) {
        if (r.action != action) continue;
        size_t dot = r.path.find('.');
        std::string_view top = r.path.substr(0, dot);
        element e;
        bool found = top == "requestParameters" ? rec.val(record_keys["requestParameters"], e)
                                                : rec.val(record_keys["responseElements"], e);
        if (found) entities_at(doc, e, r.path.substr(dot + 1));
    }
}

void user_identity(layout_doc& doc, object uid_obj, json_scratch& s, std::string_view& arn) {
    key_values<9> uid;
    uid.read(identity_keys, uid_obj);
    constexpr auto& K = identity_keys;
    set_nonempty(doc, ct("aws.cloudtrail.user_identity.type"), uid.str(K["type"]));
    arn = uid.str(K["arn"]);
    std::string_view user_name = uid.str(K["userName"]);
    std::string_view principal = uid.str(K["principalId"]);
    std::string_view access_key = uid.str(K["accessKeyId"]);
    if (!user_name.empty()) {
        doc.set_string(ct("user.name"), user_name);
        doc.push_string(ct("related.user"), user_name, true);
        if (user_name.find('@') != std::string_view::npos) doc.set_string(ct("user.email"), user_name);
    }
    set_nonempty(doc, ct("user.id"), principal);
    set_nonempty(doc, ct("aws.cloudtrail.user_identity.arn"), arn);
    set_nonempty(doc, ct("cloud.account.id"), uid.str(K["accountId"]));
    set_nonempty(doc, ct("aws.cloudtrail.user_identity.access_key_id"), access_key);
    entity(doc, arn);
    entity(doc, uid.str(K["identityProvider"]));
    entity(doc, principal);
    entity(doc, access_key);
    entity(doc, user_name);
    object ctx;
    if (uid.obj(K["sessionContext"], ctx)) {
        object attrs, issuer_obj, web;
        if (obj(ctx, "attributes", attrs)) {
            element mfa;
            if (val(attrs, "mfaAuthenticated", mfa)) {
                std::string_view t = scalar_text(mfa, s.a);
                if (!t.empty()) doc.set_string_copy(ct("aws.cloudtrail.user_identity.session_context.mfa_authenticated"), t);
            }
            std::string_view created = str(attrs, "creationDate");
            if (!created.empty() &&
                !set_time(doc, ct("aws.cloudtrail.user_identity.session_context.creation_date"), created, s.a))
                note_error(doc, "cloudtrail: invalid userIdentity.sessionContext.attributes.creationDate");
        }
        if (obj(ctx, "sessionIssuer", issuer_obj)) {
            key_values<5> issuer;
            issuer.read(issuer_keys, issuer_obj);
            constexpr auto& I = issuer_keys;
            set_nonempty(doc, ct("aws.cloudtrail.user_identity.session_context.session_issuer.type"), issuer.str(I["type"]));
            std::string_view issuer_name = issuer.str(I["userName"]);
            set_nonempty(doc, ct("user.name"), issuer_name);
            set_nonempty(doc, ct("aws.cloudtrail.user_identity.session_context.session_issuer.principal_id"),
                         issuer.str(I["principalId"]));
            std::string_view issuer_arn = issuer.str(I["arn"]);
            set_nonempty(doc, ct("aws.cloudtrail.user_identity.session_context.session_issuer.arn"), issuer_arn);
            set_nonempty(doc, ct("aws.cloudtrail.user_identity.session_context.session_issuer.account_id"),
                         issuer.str(I["accountId"]));
            entity(doc, issuer_arn);
            entity(doc, issuer_name);
        }
        if (obj(ctx, "webIdFederationData", web)) entity(doc, str(web, "federatedProvider"));
    }
    set_nonempty(doc, ct("aws.cloudtrail.user_identity.invoked_by"), uid.str(K["invokedBy"]));
}

}  // namespace

parse_status parse_cloudtrail(object rec_obj, layout_doc& doc, json_scratch& s) {
    key_values<26> rec;
    rec.read(record_keys, rec_obj);
    constexpr auto& K = record_keys;

    std::string_view event_time = rec.str(K["eventTime"]);
    if (event_time.empty()) return reject("cloudtrail: no eventTime");
    if (!set_time(doc, ct("@timestamp"), event_time, s.a)) return reject("cloudtrail: invalid eventTime");

    set_nonempty(doc, ct("aws.cloudtrail.event_version"), rec.str(K["eventVersion"]));

    object uid;
    std::string_view arn;
    if (rec.obj(K["userIdentity"], uid)) user_identity(doc, uid, s, arn);
    if (!arn.empty()) doc.push_string(ct("actor.entity.id"), arn);

    std::string_view action = rec.str(K["eventName"]);
    set_nonempty(doc, ct("event.provider"), rec.str(K["eventSource"]));
    set_nonempty(doc, ct("event.action"), action);
    set_nonempty(doc, ct("aws.cloudtrail.event_category"), rec.str(K["eventCategory"]));
    set_nonempty(doc, ct("cloud.region"), rec.str(K["awsRegion"]));
    doc.set_string(ct("cloud.provider"), "aws");
    element src_ip;
    if (rec.val(K["sourceIPAddress"], src_ip)) {
        std::string_view text;
        if (src_ip.get_string().get(text)) {
            note_error(doc, "cloudtrail: sourceIPAddress is not a string");
        } else if (!text.empty()) {
            doc.set_string(ct("source.address"), text);
            if (ip::is_ip(text)) {
                doc.set_string(ct("source.ip"), text);
                doc.push_string(ct("related.ip"), text, true);
            }
        }
    }
    set_nonempty(doc, ct("user_agent.original"), rec.str(K["userAgent"]));
    std::string_view error_code = rec.str(K["errorCode"]);
    std::string_view error_message = rec.str(K["errorMessage"]);
    set_nonempty(doc, ct("aws.cloudtrail.error_code"), error_code);
    set_nonempty(doc, ct("aws.cloudtrail.error_message"), error_message);

    for (const auto& b : blobs) {
        element e;
        if (!rec.val(b.key, e)) continue;
        s.b.clear();
        if (!append_clean(s.b, e)) continue;
        doc.set_string_copy(b.string_path, s.b);
        // aws.cloudtrail.flattened.* is an object field (Elasticsearch `flattened`): a string or
        // array there (CloudTrail has some) would make the whole document fail to index.
        if (e.type() == simdjson::dom::element_type::OBJECT && s.b.size() < keyword_limit)
            doc.set_raw_last_copy(b.flat_path);
    }

    set_nonempty(doc, ct("aws.cloudtrail.request_id"), rec.str(K["requestID"]));
    set_nonempty(doc, ct("event.id"), rec.str(K["eventID"]));
    set_nonempty(doc, ct("aws.cloudtrail.event_type"), rec.str(K["eventType"]));
    set_nonempty(doc, ct("aws.cloudtrail.api_version"), rec.str(K["apiVersion"]));
    element e;
    if (rec.val(K["managementEvent"], e)) {
        std::string_view t = scalar_text(e, s.a);
        if (!t.empty()) doc.set_string_copy(ct("aws.cloudtrail.management_event"), t);
    }
    if (rec.val(K["readOnly"], e)) {
        bool b = false;
        if (!e.get_bool().get(b)) doc.set_bool(ct("aws.cloudtrail.read_only"), b);
    }
    if (rec.val(K["resources"], e) && e.is_array()) {
        for (element r : simdjson::dom::array(e)) {
            object ro;
            if (r.get_object().get(ro)) continue;
            s.b.clear();
            s.b.push_back('{');
            auto add = [&](std::string_view key, std::string_view v) {
                if (v.empty()) return;
                if (s.b.size() > 1) s.b.push_back(',');
                json::append_string(s.b, key);
                s.b.push_back(':');
                json::append_string(s.b, v);
            };
            std::string_view rarn = str(ro, "ARN");
            add("arn", rarn);
            add("account_id", str(ro, "accountId"));
            add("type", str(ro, "type"));
            s.b.push_back('}');
            if (s.b.size() > 2) doc.push_raw_copy(ct("aws.cloudtrail.resources"), s.b);
            entity(doc, rarn);
        }
    }
    set_nonempty(doc, ct("aws.cloudtrail.recipient_account_id"), rec.str(K["recipientAccountId"]));
    set_nonempty(doc, ct("aws.cloudtrail.shared_event_id"), rec.str(K["sharedEventID"]));
    set_nonempty(doc, ct("aws.cloudtrail.vpc_endpoint_id"), rec.str(K["vpcEndpointId"]));

    object req, resp, extra;
    bool has_req = rec.obj(K["requestParameters"], req);
    bool has_resp = rec.obj(K["responseElements"], resp);
    if (has_req) {
        std::string_view u = str(req, "userName");
        std::string_view nu = str(req, "newUserName");
        if (!u.empty()) {
            doc.push_string(ct("related.user"), u, true);
            doc.set_string(ct("user.target.name"), u);
        }
        if (!nu.empty()) {
            doc.push_string(ct("related.user"), nu, true);
            doc.set_string(ct("user.changes.name"), nu);
        }
        set_nonempty(doc, ct("group.name"), str(req, "groupName"));
    }
    if (has_resp) {
        object g, u;
        if (obj(resp, "group", g)) set_nonempty(doc, ct("group.id"), str(g, "groupId"));
        if (obj(resp, "user", u)) set_nonempty(doc, ct("user.target.id"), str(u, "userId"));
    }
    if (action == "ConsoleLogin" && rec.obj(K["additionalEventData"], extra)) {
        std::string_view mobile = str(extra, "MobileVersion");
        std::string_view login_to = str(extra, "LoginTo");
        std::string_view mfa = str(extra, "MFAUsed");
        if (!mobile.empty())
            doc.set_bool(ct("aws.cloudtrail.console_login.additional_eventdata.mobile_version"), mobile != "No");
        set_nonempty(doc, ct("aws.cloudtrail.console_login.additional_eventdata.login_to"), login_to);
        if (!mfa.empty()) doc.set_bool(ct("aws.cloudtrail.console_login.additional_eventdata.mfa_used"), mfa != "No");
        entity(doc, str(extra, "MFAIdentifier"));
    }
    if (!action.empty()) event_entities(doc, rec, action);

    // Categorisation and outcome.
    doc.set_string(ct("event.kind"), "event");
    const category_row* cat = find_category(action);
    if (cat) {
        doc.push_string(ct("event.category"), cat->category);
        doc.push_string(ct("event.type"), cat->type1);
        if (!cat->type2.empty()) doc.push_string(ct("event.type"), cat->type2);
    } else {
        doc.push_string(ct("event.type"), "info");
    }
    std::string_view outcome = (error_code.empty() && error_message.empty()) ? "success" : "failure";
    if (action == "ConsoleLogin" && has_resp) {
        std::string_view cl = str(resp, "ConsoleLogin");
        if (!cl.empty()) {
            doc.set_string_copy(ct("event.outcome"), lower(cl, s.c));
            outcome = {};
        }
    }
    if (!outcome.empty()) doc.set_string(ct("event.outcome"), outcome);

    object tls;
    if (rec.obj(K["tlsDetails"], tls)) {
        std::string_view v = str(tls, "tlsVersion");
        size_t cut = v.find('v');
        if (cut != std::string_view::npos && cut > 0) {
            doc.set_string_copy(ct("tls.version_protocol"), lower(v.substr(0, cut), s.a));
            doc.set_string(ct("tls.version"), v.substr(cut + 1));
        }
        set_nonempty(doc, ct("tls.cipher"), str(tls, "cipherSuite"));
        set_nonempty(doc, ct("tls.client.server_name"), str(tls, "clientProvidedHostHeader"));
    }
    return {};
}

}  // namespace sds::formats

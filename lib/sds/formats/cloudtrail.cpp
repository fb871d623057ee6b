#include "sds/formats/cloudtrail.hpp"

#include <algorithm>
#include <array>
#include <iterator>

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

const category_row* find_category(std::string_view action) {
    auto it = std::lower_bound(std::begin(categories), std::end(categories), action,
                               [](const category_row& r, std::string_view a) { return r.action < a; });
    if (it != std::end(categories) && it->action == action) return &*it;
    return nullptr;
}

// The raw JSON object/array fields kept as a compact string and as an object.
struct blob_field {
    std::string_view key, string_path, flat_path;
};
constexpr std::array<blob_field, 4> blobs{{
    {"requestParameters", "aws.cloudtrail.request_parameters", "aws.cloudtrail.flattened.request_parameters"},
    {"responseElements", "aws.cloudtrail.response_elements", "aws.cloudtrail.flattened.response_elements"},
    {"additionalEventData", "aws.cloudtrail.additional_eventdata", "aws.cloudtrail.flattened.additional_eventdata"},
    {"serviceEventDetails", "aws.cloudtrail.service_event_details", "aws.cloudtrail.flattened.service_event_details"},
}};
constexpr size_t keyword_limit = 32766;  // Elasticsearch's keyword length limit

void entity(json::doc_builder& doc, std::string_view v) {
    if (!v.empty()) doc.push_string("related.entity", v, true);
}

// Appends string values found at `path` (through arrays of objects) to related.entity.
void entities_at(json::doc_builder& doc, element e, std::string_view path) {
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

void event_entities(json::doc_builder& doc, object rec, std::string_view action) {
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
    for (const auto& r : rows) {
        if (r.action != action) continue;
        size_t dot = r.path.find('.');
        element top;
        if (val(rec, r.path.substr(0, dot), top)) entities_at(doc, top, r.path.substr(dot + 1));
    }
}

}  // namespace

parse_status parse_cloudtrail(object rec, json::doc_builder& doc, json_scratch& s) {
    std::string_view event_time = str(rec, "eventTime");
    if (event_time.empty()) return reject("cloudtrail: no eventTime");
    if (!set_time(doc, "@timestamp", event_time, s.a)) return reject("cloudtrail: invalid eventTime");

    set_nonempty(doc, "aws.cloudtrail.event_version", str(rec, "eventVersion"));

    object uid;
    std::string_view arn;
    if (obj(rec, "userIdentity", uid)) {
        set_nonempty(doc, "aws.cloudtrail.user_identity.type", str(uid, "type"));
        arn = str(uid, "arn");
        std::string_view user_name = str(uid, "userName");
        std::string_view principal = str(uid, "principalId");
        std::string_view access_key = str(uid, "accessKeyId");
        if (!user_name.empty()) {
            doc.set_string("user.name", user_name);
            doc.push_string("related.user", user_name, true);
            if (user_name.find('@') != std::string_view::npos) doc.set_string("user.email", user_name);
        }
        set_nonempty(doc, "user.id", principal);
        set_nonempty(doc, "aws.cloudtrail.user_identity.arn", arn);
        set_nonempty(doc, "cloud.account.id", str(uid, "accountId"));
        set_nonempty(doc, "aws.cloudtrail.user_identity.access_key_id", access_key);
        entity(doc, arn);
        entity(doc, str(uid, "identityProvider"));
        entity(doc, principal);
        entity(doc, access_key);
        entity(doc, user_name);
        object ctx;
        if (obj(uid, "sessionContext", ctx)) {
            object attrs, issuer, web;
            if (obj(ctx, "attributes", attrs)) {
                element mfa;
                if (val(attrs, "mfaAuthenticated", mfa)) {
                    std::string_view t = scalar_text(mfa, s.a);
                    set_nonempty(doc, "aws.cloudtrail.user_identity.session_context.mfa_authenticated", t);
                }
                std::string_view created = str(attrs, "creationDate");
                if (!created.empty() &&
                    !set_time(doc, "aws.cloudtrail.user_identity.session_context.creation_date", created, s.a))
                    note_error(doc, "cloudtrail: invalid userIdentity.sessionContext.attributes.creationDate");
            }
            if (obj(ctx, "sessionIssuer", issuer)) {
                set_nonempty(doc, "aws.cloudtrail.user_identity.session_context.session_issuer.type", str(issuer, "type"));
                std::string_view issuer_name = str(issuer, "userName");
                set_nonempty(doc, "user.name", issuer_name);
                set_nonempty(doc, "aws.cloudtrail.user_identity.session_context.session_issuer.principal_id",
                             str(issuer, "principalId"));
                std::string_view issuer_arn = str(issuer, "arn");
                set_nonempty(doc, "aws.cloudtrail.user_identity.session_context.session_issuer.arn", issuer_arn);
                set_nonempty(doc, "aws.cloudtrail.user_identity.session_context.session_issuer.account_id",
                             str(issuer, "accountId"));
                entity(doc, issuer_arn);
                entity(doc, issuer_name);
            }
            if (obj(ctx, "webIdFederationData", web)) entity(doc, str(web, "federatedProvider"));
        }
        set_nonempty(doc, "aws.cloudtrail.user_identity.invoked_by", str(uid, "invokedBy"));
    }
    if (!arn.empty()) doc.push_string("actor.entity.id", arn);

    std::string_view action = str(rec, "eventName");
    set_nonempty(doc, "event.provider", str(rec, "eventSource"));
    set_nonempty(doc, "event.action", action);
    set_nonempty(doc, "aws.cloudtrail.event_category", str(rec, "eventCategory"));
    set_nonempty(doc, "cloud.region", str(rec, "awsRegion"));
    doc.set_string("cloud.provider", "aws");
    element src_ip;
    if (val(rec, "sourceIPAddress", src_ip)) {
        if (src_ip.is_string())
            set_address(doc, "source", std::string_view(src_ip));
        else
            note_error(doc, "cloudtrail: sourceIPAddress is not a string");
    }
    set_nonempty(doc, "user_agent.original", str(rec, "userAgent"));
    std::string_view error_code = str(rec, "errorCode");
    std::string_view error_message = str(rec, "errorMessage");
    set_nonempty(doc, "aws.cloudtrail.error_code", error_code);
    set_nonempty(doc, "aws.cloudtrail.error_message", error_message);

    for (const auto& b : blobs) {
        element e;
        if (!val(rec, b.key, e)) continue;
        s.b.clear();
        if (!append_clean(s.b, e)) continue;
        doc.set_string(b.string_path, s.b);
        // aws.cloudtrail.flattened.* is an object field (Elasticsearch `flattened`): a string or
        // array there (CloudTrail has some) would make the whole document fail to index.
        if (e.type() == simdjson::dom::element_type::OBJECT && s.b.size() < keyword_limit)
            doc.set_raw(b.flat_path, s.b);
    }

    set_nonempty(doc, "aws.cloudtrail.request_id", str(rec, "requestID"));
    set_nonempty(doc, "event.id", str(rec, "eventID"));
    set_nonempty(doc, "aws.cloudtrail.event_type", str(rec, "eventType"));
    set_nonempty(doc, "aws.cloudtrail.api_version", str(rec, "apiVersion"));
    element e;
    if (val(rec, "managementEvent", e)) set_nonempty(doc, "aws.cloudtrail.management_event", scalar_text(e, s.a));
    if (val(rec, "readOnly", e)) {
        bool b = false;
        if (!e.get_bool().get(b)) doc.set_bool("aws.cloudtrail.read_only", b);
    }
    if (val(rec, "resources", e) && e.is_array()) {
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
            if (s.b.size() > 2) doc.push_raw("aws.cloudtrail.resources", s.b);
            entity(doc, rarn);
        }
    }
    set_nonempty(doc, "aws.cloudtrail.recipient_account_id", str(rec, "recipientAccountId"));
    set_nonempty(doc, "aws.cloudtrail.shared_event_id", str(rec, "sharedEventID"));
    set_nonempty(doc, "aws.cloudtrail.vpc_endpoint_id", str(rec, "vpcEndpointId"));

    object req, resp, extra;
    bool has_req = obj(rec, "requestParameters", req);
    bool has_resp = obj(rec, "responseElements", resp);
    if (has_req) {
        std::string_view u = str(req, "userName");
        std::string_view nu = str(req, "newUserName");
        if (!u.empty()) {
            doc.push_string("related.user", u, true);
            doc.set_string("user.target.name", u);
        }
        if (!nu.empty()) {
            doc.push_string("related.user", nu, true);
            doc.set_string("user.changes.name", nu);
        }
        set_nonempty(doc, "group.name", str(req, "groupName"));
    }
    if (has_resp) {
        object g, u;
        if (obj(resp, "group", g)) set_nonempty(doc, "group.id", str(g, "groupId"));
        if (obj(resp, "user", u)) set_nonempty(doc, "user.target.id", str(u, "userId"));
    }
    if (action == "ConsoleLogin" && obj(rec, "additionalEventData", extra)) {
        std::string_view mobile = str(extra, "MobileVersion");
        std::string_view login_to = str(extra, "LoginTo");
        std::string_view mfa = str(extra, "MFAUsed");
        if (!mobile.empty()) doc.set_bool("aws.cloudtrail.console_login.additional_eventdata.mobile_version", mobile != "No");
        set_nonempty(doc, "aws.cloudtrail.console_login.additional_eventdata.login_to", login_to);
        if (!mfa.empty()) doc.set_bool("aws.cloudtrail.console_login.additional_eventdata.mfa_used", mfa != "No");
        entity(doc, str(extra, "MFAIdentifier"));
    }
    if (!action.empty()) event_entities(doc, rec, action);

    // Categorisation and outcome.
    doc.set_string("event.kind", "event");
    const category_row* cat = find_category(action);
    if (cat) {
        doc.push_string("event.category", cat->category);
        doc.push_string("event.type", cat->type1);
        if (!cat->type2.empty()) doc.push_string("event.type", cat->type2);
    } else {
        doc.push_string("event.type", "info");
    }
    std::string_view outcome = (error_code.empty() && error_message.empty()) ? "success" : "failure";
    if (action == "ConsoleLogin" && has_resp) {
        std::string_view cl = str(resp, "ConsoleLogin");
        if (!cl.empty()) outcome = lower(cl, s.c);
    }
    doc.set_string("event.outcome", outcome);

    object tls;
    if (obj(rec, "tlsDetails", tls)) {
        std::string_view v = str(tls, "tlsVersion");
        size_t cut = v.find('v');
        if (cut != std::string_view::npos && cut > 0) {
            doc.set_string("tls.version_protocol", lower(v.substr(0, cut), s.a));
            doc.set_string("tls.version", v.substr(cut + 1));
        }
        set_nonempty(doc, "tls.cipher", str(tls, "cipherSuite"));
        set_nonempty(doc, "tls.client.server_name", str(tls, "clientProvidedHostHeader"));
    }
    return {};
}

}  // namespace sds::formats

#pragma once
// The scoring stream's own output writer: the record's bytes with sds.anomaly and
// event.risk_score spliced in, written exactly as json::patch writes those two edits (set
// sds.anomaly, then set event.risk_score) but without its general machinery: no edit list, no
// arena, the values formatted straight into the output. Only the shapes nearly every record has
// are handled (no top-level "sds" member; "event" absent, or an object without "risk_score");
// for any other the writer writes nothing and returns false, and the caller uses json::patch.
//
// What json::patch does with those two edits, and so what this writes:
//   - neither "sds" nor "event" in the record: its text up to the closing brace, then
//     ,"sds":{"anomaly":A},"event":{"risk_score":R}}
//   - "event" an object: the members before it (each as written, joined by commas), "event"
//     with its members and then "risk_score":R, the rest of the record as written, and
//     ,"sds":{"anomaly":A}}
#include <simdjson.h>

#include <span>
#include <string>
#include <string_view>

#include "sds/score/features.hpp"

namespace sds::score {

// The splice in two steps, so that the values can be written later than the record is read:
// splice_head() appends everything before the first value and tells what follows it;
// splice_tail() appends the rest around the values. `rest` views the record's text (copy it,
// and point the view at the copy, to write the tail after the record is gone).
struct splice_plan {
    bool in_event = false;  // false: both members new at the end; true: inside "event"
    std::string_view rest;  // in_event: the record's members after "event" (may be empty)
};

// Appends the head of `record` (valid JSON, an object, parsed as `doc`); returns false, with
// `out` unchanged, when the record's shape is one for json::patch.
bool splice_head(std::string_view record, simdjson::dom::element doc, std::string& out, splice_plan& plan);

// Which of the edited top-level members the parsed record has (json::patch decides by the same
// lookups whether the new members can simply follow the record's text).
struct members_present {
    bool object, sds, event;
};
members_present present(simdjson::dom::element doc) noexcept;
// The same from the record's top-level members already listed (extractor::root_members).
members_present present(bool object, std::span<const member_ref> members) noexcept;
// splice_head given what present() says of the record.
bool splice_head(std::string_view record, members_present has, std::string& out, splice_plan& plan);

// Appends the rest: with sds.anomaly = write_anomaly(out) and event.risk_score =
// write_risk(out), each callable appending one JSON value to the string it is given.
template <class A, class R>
void splice_tail(const splice_plan& plan, std::string& out, A&& write_anomaly, R&& write_risk) {
    if (!plan.in_event) {
        write_anomaly(out);
        out.append("},\"event\":{\"risk_score\":");
        write_risk(out);
        out.append("}}");
        return;
    }
    write_risk(out);
    out.push_back('}');
    if (!plan.rest.empty()) {
        out.push_back(',');
        out.append(plan.rest);
    }
    out.append(",\"sds\":{\"anomaly\":");
    write_anomaly(out);
    out.append("}}");
}

// Both steps at once: appends `record` with the two values; false (nothing written) when the
// record's shape is one for json::patch.
template <class A, class R>
bool splice_anomaly(std::string_view record, simdjson::dom::element doc, std::string& out, A&& write_anomaly,
                    R&& write_risk) {
    splice_plan plan;
    if (!splice_head(record, doc, out, plan)) return false;
    splice_tail(plan, out, write_anomaly, write_risk);
    return true;
}

}  // namespace sds::score

#pragma once
// sds-score: learn which entities use which addresses, and score a stream against it.
//   sds-score train --entity F --ip F -o MODEL [FILE...]
//   sds-score --model MODEL [--learn --state FILE] [FILE...]   (scoring, the default)
//   sds-score eval --model MODEL [--networks CSV] [FILE...]
#include <memory>
#include <string>
#include <vector>

#include "sds/cli/tool.hpp"
#include "sds/score/scorer.hpp"
#include "sds/score/stage.hpp"
#include "sds/score/train.hpp"

namespace sds::score {

struct options {
    std::vector<std::string> inputs;
    // Fields (train: required entity/ip; score/eval: default to the model's).
    std::vector<std::string> entity;
    std::string ip, asn, country, location;
    // Scoring
    std::string model;
    double threshold = 80;
    bool learn = false;
    std::string state;
    travel_options travel;
    // Training
    std::string model_out;
    train_options train;
    std::vector<std::string> train_inputs;
    // Evaluation
    std::string eval_model;
    std::string networks;
    uint64_t eval_seed = 1;
    std::vector<std::string> eval_inputs;

    CLI::App* train_cmd = nullptr;
    CLI::App* eval_cmd = nullptr;
};

void add_options(cli::tool& t, options& o);
// The fields in effect: the options, else the model's, else the defaults derived from --ip.
fields resolve_fields(const options& o, const model* m);
// A JSON number with up to 4 decimals.
std::string number(double v);
exit_code run(cli::tool& t, options& o);

// The anomaly stage (exposed for tests and for drivers that add other stages).
std::unique_ptr<record_stage> make_anomaly_stage(cli::tool& t, const options& o, exit_code& err);

exit_code run_train(cli::tool& t, options& o);
exit_code run_eval(cli::tool& t, options& o);
exit_code run_score(cli::tool& t, options& o, std::vector<std::unique_ptr<record_stage>> extra = {});

}  // namespace sds::score

#include "model/trainee.h"

#include <ATen/autocast_mode.h>

#include <cmath>

#include "model/model_impl.h"
#include "ner4el/error.h"

namespace ner4el::train {

namespace {

/// Autocast to bfloat16 on the tensors' device for one forward pass (as torch.autocast's block).
class Autocast {
 public:
  Autocast(bool on, torch::Device device) : on_(on), cuda_(device.is_cuda()) {
    if (!on_) return;
    if (cuda_) {
      was_ = at::autocast::is_enabled();
      at::autocast::set_autocast_gpu_dtype(at::kBFloat16);
      at::autocast::set_enabled(true);
    } else {
      was_ = at::autocast::is_cpu_enabled();
      at::autocast::set_autocast_cpu_dtype(at::kBFloat16);
      at::autocast::set_cpu_enabled(true);
    }
    at::autocast::increment_nesting();
  }
  ~Autocast() {
    if (!on_) return;
    if (at::autocast::decrement_nesting() == 0) at::autocast::clear_cache();
    if (cuda_) at::autocast::set_enabled(was_);
    else at::autocast::set_cpu_enabled(was_);
  }

 private:
  bool on_, cuda_, was_ = false;
};

LoadOptions for_training(LoadOptions lo) {
  lo.dtype = "fp32";  // the weights train in fp32; precision only sets autocast
  lo.style = "release";  // NER4EL's training reads the mention position and [CLS], whatever the start
  return lo;
}

}  // namespace

void check_precision(const std::string& precision) {
  if (precision != "fp32" && precision != "bf16")
    throw InvalidArgument("precision must be fp32 or bf16 (bf16-mixed: autocast, fp32 weights), got '" + precision + "'");
}

std::pair<torch::Tensor, torch::Tensor> pad_rows(const std::vector<std::vector<int>>& rows, torch::Device device) {
  size_t T = 1;
  for (const auto& r : rows) T = std::max(T, r.size());
  auto ids = torch::zeros({static_cast<int64_t>(rows.size()), static_cast<int64_t>(T)}, torch::kLong);
  auto a = ids.accessor<int64_t, 2>();
  for (size_t i = 0; i < rows.size(); ++i)
    for (size_t t = 0; t < rows[i].size(); ++t) a[static_cast<int64_t>(i)][static_cast<int64_t>(t)] = rows[i][t];
  auto mask = (ids != 0).to(torch::kLong);
  return {ids.to(device), mask.to(device)};
}

// ---------------------------------------------------------------------------------------------

LinkerTrainee::LinkerTrainee(const std::string& path, LoadOptions options, std::string precision)
    : model_(LinkerModel::load(path, for_training(std::move(options)))),
      gen_(at::detail::createCPUGenerator(0)),
      precision_(std::move(precision)) {
  check_precision(precision_);
  // On a GPU dropout draws from libtorch's CUDA generator (seed_dropout seeds it): a CUDA
  // generator of our own would need CUDA's headers, which a CPU build lacks.
  if (!model_.impl_->device.is_cuda())
    for (auto* e : {&model_.impl_->mention, &model_.impl_->entity}) (*e)->set_dropout_generator(gen_);
}

std::vector<torch::Tensor> LinkerTrainee::parameters() const {
  auto& im = *model_.impl_;
  std::vector<torch::Tensor> params = im.mention->parameters();
  if (im.entity.get() != im.mention.get())
    for (auto& p : im.entity->parameters()) params.push_back(p);
  return params;
}

void LinkerTrainee::set_training(bool on) {
  model_.impl_->mention->train(on);
  model_.impl_->entity->train(on);
}

void LinkerTrainee::seed_dropout(uint64_t seed) {
  if (model_.impl_->device.is_cuda()) return torch::manual_seed(seed);
  std::lock_guard<std::mutex> lock(gen_.mutex());
  gen_.set_current_seed(seed);
}

torch::Device LinkerTrainee::device() const { return model_.impl_->device; }

torch::Tensor LinkerTrainee::scores(const std::vector<int>& mention_ids, int mention_position,
                                    const std::vector<std::vector<int>>& candidate_rows) {
  auto& im = *model_.impl_;
  Autocast autocast(precision_ == "bf16", im.device);
  auto [mids, mmask] = pad_rows({mention_ids}, im.device);
  auto mv = mention_vectors(im.mention->forward(mids, mmask), torch::tensor({mention_position}, torch::kLong));
  auto [eids, emask] = pad_rows(candidate_rows, im.device);
  auto ev = entity_vectors(im.entity->forward(eids, emask));
  return normalised_scores(mv.to(torch::kFloat32), ev.to(torch::kFloat32).unsqueeze(0));
}

// ---------------------------------------------------------------------------------------------

NerClassifier NerTrainee::assemble(const std::string& path, LoadOptions options, std::vector<std::string> classes, int window,
                                   at::Generator& gen) {
  options.window = window;
  auto base = LinkerModel::load(path, for_training(std::move(options)));
  auto impl = std::make_unique<NerClassifier::Impl>();
  impl->encoder = base.impl_->mention;
  impl->tokenizer = std::move(base.impl_->tokenizer);
  impl->inputs = std::move(base.impl_->inputs);
  impl->config = impl->encoder->config;
  impl->classes = std::move(classes);
  impl->window = window;
  impl->device = base.impl_->device;
  // torch.nn.Linear's initialisation (kaiming_uniform_ with a = sqrt(5): bound 1 / sqrt(fan_in) for
  // the weight and the bias), drawn from the trainee's generator.
  {
    KeepGlobalGenerator keep;  // the module's constructor draws an initialisation that is replaced here
    impl->linear = torch::nn::Linear(impl->config.hidden_size, static_cast<int64_t>(impl->classes.size()));
  }
  {
    torch::NoGradGuard no_grad;
    const double bound = 1.0 / std::sqrt(static_cast<double>(impl->config.hidden_size));
    impl->linear->weight.uniform_(-bound, bound, gen);
    impl->linear->bias.uniform_(-bound, bound, gen);
  }
  impl->linear->to(impl->device);
  if (!impl->device.is_cuda()) impl->encoder->set_dropout_generator(gen);
  return NerClassifier(std::move(impl));
}

NerTrainee::NerTrainee(const std::string& path, LoadOptions options, std::vector<std::string> classes, int window, uint64_t seed)
    : gen_(at::detail::createCPUGenerator(seed)),
      classifier_(assemble(path, std::move(options), std::move(classes), window, gen_)) {}

std::vector<torch::Tensor> NerTrainee::parameters() const {
  auto& im = *classifier_.impl_;
  std::vector<torch::Tensor> params = im.encoder->parameters();
  params.push_back(im.linear->weight);
  params.push_back(im.linear->bias);
  return params;
}

void NerTrainee::set_training(bool on) {
  classifier_.impl_->encoder->train(on);
  classifier_.impl_->dropout->train(on);
}

void NerTrainee::seed_dropout(uint64_t seed) {
  if (classifier_.impl_->device.is_cuda()) return torch::manual_seed(seed);
  std::lock_guard<std::mutex> lock(gen_.mutex());
  gen_.set_current_seed(seed);
}

torch::Device NerTrainee::device() const { return classifier_.impl_->device; }

torch::Tensor NerTrainee::logits(const std::vector<std::vector<int>>& rows, const std::vector<int64_t>& positions) {
  auto& im = *classifier_.impl_;
  auto [ids, mask] = pad_rows(rows, im.device);
  auto mv = mention_vectors(im.encoder->forward(ids, mask), torch::tensor(positions, torch::kLong));
  if (im.dropout->is_training())  // docs/reference.md: dropout 0.5 before the linear layer
    mv = im.device.is_cuda() ? im.dropout->forward(mv) : mv * torch::empty_like(mv).bernoulli_(0.5, gen_).div_(0.5);
  return im.linear->forward(mv);
}

}  // namespace ner4el::train

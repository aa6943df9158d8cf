#include "ner4el/inputs.h"

#include <algorithm>
#include <string>

#include "ner4el/error.h"

namespace ner4el {

namespace {
void truncate(std::vector<int>& v, size_t n) {
  if (v.size() > n) v.resize(n);
}
std::vector<int> mask_of(const std::vector<int>& ids) {
  std::vector<int> m(ids.size());
  std::transform(ids.begin(), ids.end(), m.begin(), [](int id) { return id != 0 ? 1 : 0; });
  return m;
}
template <typename Input>
void trim(Input& input) {
  while (!input.ids.empty() && input.ids.back() == 0) {
    input.ids.pop_back();
    input.attention_mask.pop_back();
  }
}
}  // namespace

void trim_padding(EntityInput& input) { trim(input); }
void trim_padding(MentionInput& input) { trim(input); }

InputEncoder::InputEncoder(const WordPieceTokenizer& tokenizer, InputOptions options)
    : tokenizer_(tokenizer), options_(options) {
  if (options_.window < 4 || options_.window > 65536)
    throw InvalidArgument("window must be between 4 and 65536 word pieces, got " + std::to_string(options_.window));
  cls_ = tokenizer_.require_id("[CLS]");
  sep_ = tokenizer_.require_id("[SEP]");
  tokenizer_.require_id("[E]");
  tokenizer_.require_id("[\\E]");
}

MentionInput InputEncoder::encode_mention(std::string_view left_context, std::string_view mention,
                                          std::string_view right_context) const {
  if (options_.sentence_style) {
    // [CLS] + the W-2 pieces centred on the mention + [SEP]: the mention first, then as much of
    // each side as fits, a side's unused share going to the other.
    const size_t body = static_cast<size_t>(options_.window) - 2;
    std::vector<int> l = tokenizer_.encode(left_context), m = tokenizer_.encode(mention), r = tokenizer_.encode(right_context);
    truncate(m, body);
    const size_t budget = body - m.size();
    size_t lk = std::min(l.size(), budget / 2);
    const size_t rk = std::min(r.size(), budget - lk);
    lk = std::min(l.size(), budget - rk);
    MentionInput out;
    out.ids.push_back(cls_);
    out.ids.insert(out.ids.end(), l.end() - static_cast<std::ptrdiff_t>(lk), l.end());
    out.mention_position = static_cast<int>(out.ids.size());
    out.ids.insert(out.ids.end(), m.begin(), m.end());
    out.ids.insert(out.ids.end(), r.begin(), r.begin() + static_cast<std::ptrdiff_t>(rk));
    out.ids.push_back(sep_);
    out.ids.resize(std::max(out.ids.size(), static_cast<size_t>(options_.window)), 0);
    out.attention_mask = mask_of(out.ids);
    return out;
  }
  const size_t half = static_cast<size_t>(options_.window / 2);
  std::vector<int> left;
  if (options_.quirk_left_keeps_farthest) {
    left = tokenizer_.encode("[CLS]" + std::string(left_context));
    truncate(left, half);
  } else {
    std::vector<int> ctx = tokenizer_.encode(left_context);
    left.push_back(cls_);
    size_t keep = std::min(ctx.size(), half - 1);
    left.insert(left.end(), ctx.end() - static_cast<std::ptrdiff_t>(keep), ctx.end());
  }
  std::vector<int> mid = tokenizer_.encode("[E]" + lower_case(mention) + "[\\E]");
  truncate(mid, half);
  std::vector<int> right;
  if (options_.quirk_right_may_drop_sep) {
    right = tokenizer_.encode(std::string(right_context) + "[SEP]");
    truncate(right, half);
  } else {
    right = tokenizer_.encode(right_context);
    truncate(right, half - 1);
    right.push_back(sep_);
  }
  MentionInput out;
  out.mention_position = static_cast<int>(left.size()) + 1;
  out.ids = std::move(left);
  out.ids.insert(out.ids.end(), mid.begin(), mid.end());
  out.ids.insert(out.ids.end(), right.begin(), right.end());
  if (out.ids.size() < static_cast<size_t>(options_.window)) out.ids.resize(options_.window, 0);
  out.attention_mask = mask_of(out.ids);
  return out;
}

EntityInput InputEncoder::encode_entity(std::string_view description, std::string_view ner_class,
                                        std::string_view title) const {
  std::string text;
  if (options_.sentence_style) {
    for (char c : title)
      if (c != '(' && c != ')') text.push_back(c);
    if (!text.empty()) text.append(": ");
  } else if (options_.ner_r) {
    text.append(ner_class);
    text.append("[SEP]");
  }
  text.append(description);
  std::vector<int> body = tokenizer_.encode(text);
  const size_t w = static_cast<size_t>(options_.window);
  if (!options_.quirk_entity_cut_drops_sep || options_.sentence_style) truncate(body, w - 2);
  EntityInput out;
  out.ids.reserve(body.size() + 2);
  out.ids.push_back(cls_);
  out.ids.insert(out.ids.end(), body.begin(), body.end());
  out.ids.push_back(sep_);
  truncate(out.ids, w);
  out.ids.resize(w, 0);
  out.attention_mask = mask_of(out.ids);
  return out;
}

}  // namespace ner4el

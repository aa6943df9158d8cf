#include "kb/lmdb_verify.h"

#include <cstdint>
#include <cstring>
#include <vector>

#include "ner4el/error.h"

namespace ner4el::kb {

namespace {

constexpr uint16_t kBranch = 0x01, kLeaf = 0x02, kOverflow = 0x04;
constexpr uint16_t kBigData = 0x01, kSubData = 0x02, kDupData = 0x04;
constexpr size_t kHeader = 16, kNode = 8, kTableRecord = 48;
constexpr uint64_t kNoPage = ~uint64_t{0};
constexpr int kMaxDepth = 32;  // LMDB's cursor stack

template <class T>
T at(const char* p) {
  T v;
  std::memcpy(&v, p, sizeof v);
  return v;
}

class Walker {
 public:
  Walker(const char* data, size_t size, uint32_t psize, uint64_t last, const std::string& where)
      : data_(data), size_(size), psize_(psize), last_(last), where_(where), seen_(last + 1) {}

  void tree(uint64_t root, bool main) {
    if (root != kNoPage) page(root, 0, main);
  }

 private:
  [[noreturn]] void bad(uint64_t pgno, const std::string& what) const {
    throw FormatError(where_ + ": corrupt knowledge base (data.mdb page " + std::to_string(pgno) + ": " + what +
                      "); rebuild it with 'ner4el kb build'");
  }
  const char* claim(uint64_t pgno, uint64_t from) {
    if (pgno < 2 || pgno > last_) bad(from, "refers to page " + std::to_string(pgno) + ", outside the file's pages");
    if (seen_[pgno]) bad(pgno, "reached twice (a cycle or a shared page)");
    seen_[pgno] = true;
    return data_ + pgno * psize_;
  }
  void page(uint64_t pgno, int depth, bool main) {
    if (depth > kMaxDepth) bad(pgno, "tree deeper than LMDB's cursor allows");
    const char* p = claim(pgno, pgno);
    const uint16_t flags = at<uint16_t>(p + 10), lower = at<uint16_t>(p + 12), upper = at<uint16_t>(p + 14);
    if (flags != kBranch && flags != kLeaf) bad(pgno, "neither a branch nor a leaf page");
    if (lower < kHeader || lower > upper || upper > psize_ || (lower - kHeader) % 2)
      bad(pgno, "page header bounds out of place");
    const size_t keys = (lower - kHeader) / 2;
    if (flags == kBranch && keys == 0) bad(pgno, "branch page without children");
    for (size_t i = 0; i < keys; ++i) {
      const uint16_t off = at<uint16_t>(p + kHeader + 2 * i);
      if (off < upper || size_t{off} + kNode > psize_) bad(pgno, "node " + std::to_string(i) + " outside the page");
      const char* n = p + off;
      const uint32_t lo_hi = at<uint16_t>(n) | (uint32_t{at<uint16_t>(n + 2)} << 16);
      const uint16_t nflags = at<uint16_t>(n + 4), ksize = at<uint16_t>(n + 6);
      if (size_t{off} + kNode + ksize > psize_) bad(pgno, "key of node " + std::to_string(i) + " runs past the page");
      if (flags == kBranch) {
        page(uint64_t{lo_hi} | (uint64_t{nflags} << 32), depth + 1, main);
        continue;
      }
      const size_t data_at = size_t{off} + kNode + ksize;
      if (nflags & kDupData) bad(pgno, "duplicate-key data, which no knowledge base has");
      if (nflags & kBigData) {
        if (data_at + 8 > psize_) bad(pgno, "overflow reference runs past the page");
        overflow(at<uint64_t>(p + data_at), lo_hi, pgno);
      } else if (data_at + lo_hi > psize_) {
        bad(pgno, "data of node " + std::to_string(i) + " runs past the page");
      }
      if (nflags & kSubData) {
        if (!main || (nflags & kBigData) || lo_hi != kTableRecord) bad(pgno, "misplaced table record");
        tree(at<uint64_t>(p + data_at + 40), false);
      }
    }
  }
  void overflow(uint64_t first, uint32_t bytes, uint64_t from) {
    const char* p = claim(first, from);
    const uint32_t pages = at<uint32_t>(p + 12);
    if (at<uint16_t>(p + 10) != kOverflow || pages == 0 || pages - 1 > last_ - first)
      bad(first, "overflow run out of place");
    if (uint64_t{bytes} + kHeader > uint64_t{pages} * psize_) bad(first, "overflow run shorter than its data");
    for (uint64_t q = first + 1; q < first + pages; ++q) {
      if (seen_[q]) bad(q, "reached twice (a cycle or a shared page)");
      seen_[q] = true;
    }
  }

  const char* data_;
  size_t size_;
  uint32_t psize_;
  uint64_t last_;
  const std::string& where_;
  std::vector<bool> seen_;
};

}  // namespace

void verify_lmdb_pages(const char* data, size_t size, const std::string& where) {
  auto bad = [&](const std::string& what) {
    return FormatError(where + ": corrupt knowledge base (data.mdb " + what + "); rebuild it with 'ner4el kb build'");
  };
  if (size < 2 * 160) throw bad("is too short for its meta pages");
  const uint32_t psize = at<uint32_t>(data + 40);
  if (psize < 512 || psize > (1u << 16) || (psize & (psize - 1)) || size < 2 * size_t{psize}) throw bad("has no valid meta pages");
  const char* meta0 = data;
  const char* meta1 = data + psize;
  const bool second = at<uint32_t>(meta1 + 16) == 0xBEEFC0DE && at<uint64_t>(meta1 + 144) > at<uint64_t>(meta0 + 144);
  const char* meta = second ? meta1 : meta0;
  const uint64_t last = at<uint64_t>(meta + 136);
  if (last >= size / psize) throw bad("is truncated");
  Walker(data, size, psize, last, where).tree(at<uint64_t>(meta + 88 + 40), /*main=*/true);
}

}  // namespace ner4el::kb

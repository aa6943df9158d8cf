#include "kb/lmdb_verify.h"

#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
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
  Walker(const char* data, uint32_t psize, uint64_t last, const std::string& where)
      : data_(data), psize_(psize), last_(last), where_(where), seen_(last + 1) {}

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
  uint32_t psize_;
  uint64_t last_;
  const std::string& where_;
  std::vector<bool> seen_;
};

}  // namespace

LmdbMeta check_lmdb_meta(const std::string& file, const std::string& where) {
  auto corrupt = [&](const std::string& why) {
    return FormatError(where + ": corrupt knowledge base (data.mdb " + why + "); rebuild it with 'ner4el kb build'");
  };
  std::error_code ec;
  if (!std::filesystem::is_regular_file(file, ec)) throw corrupt("is not a regular file");
  const uint64_t size = std::filesystem::file_size(file, ec);
  // LMDB 0.9's meta page: a 16-byte page header, then magic, version, address, map size, two
  // 48-byte table records (the free table's first field holds the page size), last page, txn id.
  std::ifstream in(file, std::ios::binary);
  char meta[2][160];
  in.read(meta[0], 160);
  if (!in || size < 2 * 160) throw corrupt("is too short for its meta pages");
  const uint32_t psize = at<uint32_t>(meta[0] + 40);
  if (at<uint32_t>(meta[0] + 16) != 0xBEEFC0DE || psize < 512 || psize > (1u << 16) || (psize & (psize - 1)))
    throw corrupt("has no LMDB meta page");
  if (size < 2 * uint64_t{psize}) throw corrupt("is too short for its meta pages");
  in.seekg(static_cast<std::streamoff>(psize));
  in.read(meta[1], 160);
  const bool valid1 = in && at<uint32_t>(meta[1] + 16) == 0xBEEFC0DE;
  const bool second = valid1 && at<uint64_t>(meta[1] + 144) > at<uint64_t>(meta[0] + 144);
  // LMDB takes the page size from the newer meta page but finds the second meta page with the
  // first's: they must agree (LMDB writes them alike).
  if (valid1 && at<uint32_t>(meta[1] + 40) != psize) throw corrupt("has meta pages of two page sizes");
  // A fixed map address is for MDB_FIXEDMAP, which ner4el never uses; it would also misplace the map.
  if (at<uint64_t>(meta[0] + 24) != 0 || (second && at<uint64_t>(meta[1] + 24) != 0)) throw corrupt("asks for a fixed map address");
  const char* newest = meta[second ? 1 : 0];
  LmdbMeta m{psize, at<uint64_t>(newest + 136), at<uint64_t>(newest + 88 + 40)};
  if (m.last_page >= size / psize)
    throw corrupt("is truncated: " + std::to_string(size) + " bytes, its last page " + std::to_string(m.last_page) +
                  " of " + std::to_string(psize) + " bytes ends past them");
  return m;
}

void verify_lmdb_pages(const char* data, const LmdbMeta& meta, const std::string& where) {
  Walker(data, meta.page_size, meta.last_page, where).tree(meta.main_root, /*main=*/true);
}

}  // namespace ner4el::kb

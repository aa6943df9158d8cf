// Thin RAII over LMDB (internal).
#pragma once

#include <lmdb.h>

#include <string>
#include <string_view>

#include "ner4el/error.h"

namespace ner4el::kb {

inline void check(int rc, const std::string& what) {
  if (rc != MDB_SUCCESS) throw Error(what + ": " + mdb_strerror(rc));
}

inline MDB_val val(std::string_view s) { return MDB_val{s.size(), const_cast<char*>(s.data())}; }
inline std::string_view view(const MDB_val& v) { return {static_cast<const char*>(v.mv_data), v.mv_size}; }

class Txn {
 public:
  Txn(MDB_env* env, bool read_only) {
    check(mdb_txn_begin(env, nullptr, read_only ? MDB_RDONLY : 0, &txn_), "cannot begin LMDB transaction");
  }
  ~Txn() {
    if (txn_) mdb_txn_abort(txn_);
  }
  Txn(const Txn&) = delete;
  Txn& operator=(const Txn&) = delete;
  void commit() {
    MDB_txn* t = txn_;
    txn_ = nullptr;
    check(mdb_txn_commit(t), "cannot commit LMDB transaction");
  }
  MDB_txn* get() const { return txn_; }
  /// nullopt-like: returns false when the key is absent.
  bool get(MDB_dbi db, std::string_view key, std::string_view& out) const {
    MDB_val k = val(key), v;
    int rc = mdb_get(txn_, db, &k, &v);
    if (rc == MDB_NOTFOUND) return false;
    check(rc, "LMDB read");
    out = view(v);
    return true;
  }

 private:
  MDB_txn* txn_ = nullptr;
};

}  // namespace ner4el::kb

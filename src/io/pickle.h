// A safe reader for Python pickles, protocols 0 to 5 (internal).
//
// It never calls anything. GLOBAL / STACK_GLOBAL give inert Object values that record the class
// (module, name); REDUCE / NEWOBJ / BUILD record the callable, its arguments and the state;
// PERSID / BINPERSID record the persistent id (torch.save uses them for tensor storages).
// Callers interpret those records (e.g. torch._utils._rebuild_tensor_v2) as data.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace ner4el::io {

struct PickleNode;

/// A pickled value: 16 bytes, a view. Strings and bytes point into the input buffer or into
/// storage owned by the document; containers point to nodes owned by the document.
class PickleValue {
 public:
  enum class Kind : uint8_t { None, Bool, Int, Float, Str, Bytes, Node, Released };

  PickleValue() : kind_(Kind::None), len_(0), i_(0) {}
  static PickleValue none() { return {}; }
  static PickleValue boolean(bool b) { PickleValue v; v.kind_ = Kind::Bool; v.i_ = b; return v; }
  static PickleValue integer(int64_t i) { PickleValue v; v.kind_ = Kind::Int; v.i_ = i; return v; }
  static PickleValue real(double d) { PickleValue v; v.kind_ = Kind::Float; v.f_ = d; return v; }
  static PickleValue str(std::string_view s, bool bytes = false);
  static PickleValue node(PickleNode* n) { PickleValue v; v.kind_ = Kind::Node; v.node_ = n; return v; }
  static PickleValue released() { PickleValue v; v.kind_ = Kind::Released; return v; }

  Kind kind() const { return kind_; }
  bool is_none() const { return kind_ == Kind::None; }
  bool is_int() const { return kind_ == Kind::Int || kind_ == Kind::Bool; }
  bool is_str() const { return kind_ == Kind::Str; }
  bool is_bytes() const { return kind_ == Kind::Bytes; }
  bool is_node() const { return kind_ == Kind::Node; }
  /// List, tuple or set (the sequence kinds).
  bool is_sequence() const;
  bool is_dict() const;
  /// An instance made by REDUCE/NEWOBJ/BUILD or a class from GLOBAL.
  bool is_object() const;

  int64_t as_int() const;         ///< @throws FormatError unless Int or Bool
  double as_float() const;        ///< Int or Float
  std::string_view as_str() const;  ///< Str or Bytes
  PickleNode& as_node() const;    ///< @throws FormatError unless a node
  /// One-word description for error messages ("int", "str", "list", "torch.nn.Linear", ...).
  std::string type_name() const;

 private:
  Kind kind_;
  uint32_t len_;
  union {
    int64_t i_;
    double f_;
    const char* s_;
    PickleNode* node_;
  };
};

/// Container and object nodes.
struct PickleNode {
  enum class Type : uint8_t { List, Tuple, Dict, Set, Global, Instance, PersistentId };
  Type type;
  int64_t memo = -1;                    ///< memo slot holding this node, -1 if none
  std::vector<PickleValue> items;       ///< List/Tuple/Set elements; PersistentId: {pid}
  std::vector<std::pair<PickleValue, PickleValue>> entries;  ///< Dict items; Instance: __setitem__ calls
  std::string module, name;             ///< Global: the class or function named
  PickleValue callable, args, state;    ///< Instance: REDUCE/NEWOBJ callable and args, BUILD state
  bool newobj = false;                  ///< Instance made by NEWOBJ (cls.__new__) rather than REDUCE
  uint32_t epoch = 0;                   ///< streaming: how many batches had been delivered at its creation
  bool pinned = false;                  ///< streaming: referenced more than once, so never freed

  /// Global "module.name", or for an instance the name of its callable.
  std::string qualified_name() const;
  /// Dict item by string key, nullptr when absent (Dict and Instance with entries).
  const PickleValue* find(std::string_view key) const;
};

/// A whole unpickled value and the memory it points into.
class PickleDocument {
 public:
  /// Reads a pickle file. @throws NotFound, FormatError (with the byte offset).
  static PickleDocument load_file(const std::string& path);
  /// Reads a pickle held in memory; name is used in error messages.
  static PickleDocument load_bytes(std::string bytes, const std::string& name);

  const PickleValue& root() const { return root_; }

  PickleDocument(PickleDocument&&) noexcept;
  PickleDocument& operator=(PickleDocument&&) noexcept;
  ~PickleDocument();

  struct Storage;  // buffers and nodes

 private:
  PickleDocument();
  std::unique_ptr<Storage> storage_;
  PickleValue root_;
};

/// Streams the items of a pickled dict (the top-level object) to on_item, in file order, without
/// keeping them: memory stays well under the file size. Values are valid during the call only.
/// @throws FormatError when the file is not a pickled dict, with the byte offset of the problem.
/// @return the number of items delivered.
uint64_t stream_pickle_dict(const std::string& path,
                            const std::function<void(const PickleValue& key, const PickleValue& value)>& on_item,
                            const std::function<void(uint64_t done_bytes, uint64_t total_bytes)>& progress = {});

}  // namespace ner4el::io

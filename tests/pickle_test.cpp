#include "io/pickle.h"

#include <gtest/gtest.h>

#include <cmath>

#include <filesystem>

#include "ner4el/error.h"
#include "test_util.h"

namespace ner4el {
namespace {

using io::PickleDocument;
using io::PickleValue;

// Writes pickles with Debian's python3 (the exact bytes users bring).
std::string python_pickle(const test::TempDir& dir, const std::string& name, const std::string& expr, int protocol) {
  std::string path = dir.file(name);
  std::string script = "import pickle, collections\nobj = " + expr + "\nopen('" + path + "', 'wb').write(pickle.dumps(obj, protocol=" +
                       std::to_string(protocol) + "))\n";
  test::write_file(dir.file("gen.py"), script);
  EXPECT_EQ(test::run(std::string(NER4EL_PYTHON) + " " + dir.file("gen.py")), 0);
  return path;
}

class PickleProtocols : public ::testing::TestWithParam<int> {};

TEST_P(PickleProtocols, ReadsEveryValueKindNerFilesUse) {
  test::TempDir dir;
  const std::string expr =
      "{'paris': [1, 2, -3, 255, 65536, 2**40, -2**63], 'str': 'Zürich ✓', 'bytes': b'\\x00\\xff', 'none': None,"
      " 'bools': (True, False), 'float': 1.5, 'nested': {7: ('a', 'b')}, 'empty': [], 'tup1': (1,),"
      " 'long_str': 'x' * 300, 'shared': [[9]] * 2, 'set': {3}}";
  auto doc = PickleDocument::load_file(python_pickle(dir, "v.pkl", expr, GetParam()));
  const auto& root = doc.root().as_node();
  ASSERT_TRUE(doc.root().is_dict());
  auto ints = root.find("paris")->as_node().items;
  std::vector<int64_t> got;
  for (auto& v : ints) got.push_back(v.as_int());
  EXPECT_EQ(got, (std::vector<int64_t>{1, 2, -3, 255, 65536, 1ll << 40, INT64_MIN}));
  EXPECT_EQ(root.find("str")->as_str(), "Zürich ✓");
  EXPECT_TRUE(root.find("bytes")->is_bytes() || GetParam() < 3);  // protocol 2 pickles bytes via codecs.encode
  EXPECT_TRUE(root.find("none")->is_none());
  EXPECT_EQ(root.find("bools")->as_node().items[0].as_int(), 1);
  EXPECT_DOUBLE_EQ(root.find("float")->as_float(), 1.5);
  const auto& nested = root.find("nested")->as_node();
  ASSERT_EQ(nested.entries.size(), 1u);
  EXPECT_EQ(nested.entries[0].first.as_int(), 7);
  EXPECT_EQ(nested.entries[0].second.as_node().items[1].as_str(), "b");
  EXPECT_TRUE(root.find("empty")->as_node().items.empty());
  EXPECT_EQ(root.find("long_str")->as_str(), std::string(300, 'x'));
  // Memo: both elements are the same object.
  const auto& shared = root.find("shared")->as_node().items;
  EXPECT_EQ(&shared[0].as_node(), &shared[1].as_node());
  const auto& set = root.find("set")->as_node();
  if (GetParam() >= 4) {  // EMPTY_SET + ADDITEMS; older protocols REDUCE builtins.set, kept as a record
    ASSERT_EQ(set.items.size(), 1u);
    EXPECT_EQ(set.items[0].as_int(), 3);
  } else {
    EXPECT_EQ(set.qualified_name(), GetParam() >= 3 ? "builtins.set" : "__builtin__.set");
  }
}

TEST_P(PickleProtocols, StreamsALargeDictInOrder) {
  test::TempDir dir;
  auto path = python_pickle(dir, "big.pkl", "{('k%d' % i): list(range(i % 5)) for i in range(5000)}", GetParam());
  size_t n = 0;
  bool ordered = true;
  uint64_t total = io::stream_pickle_dict(path, [&](const PickleValue& k, const PickleValue& v) {
    ordered &= k.as_str() == "k" + std::to_string(n);
    ordered &= v.as_node().items.size() == n % 5;
    ++n;
  });
  EXPECT_EQ(n, 5000u);
  EXPECT_EQ(total, 5000u);
  EXPECT_TRUE(ordered);
}

INSTANTIATE_TEST_SUITE_P(Protocols, PickleProtocols, ::testing::Values(0, 1, 2, 3, 4, 5));

TEST(Pickle, NeverCallsWhatItNames) {
  test::TempDir dir;
  const std::string marker = dir.file("pwned");
  const std::string script = "import pickle, os\nclass Evil:\n    def __reduce__(self):\n        return (os.system, ('touch " +
                             marker + "',))\nopen('" + dir.file("evil.pkl") + "', 'wb').write(pickle.dumps({'paris': Evil()}, protocol=4))\n";
  test::write_file(dir.file("gen.py"), script);
  ASSERT_EQ(test::run(std::string(NER4EL_PYTHON) + " " + dir.file("gen.py")), 0);
  auto doc = PickleDocument::load_file(dir.file("evil.pkl"));
  const auto* v = doc.root().as_node().find("paris");
  ASSERT_NE(v, nullptr);
  ASSERT_TRUE(v->is_object());
  EXPECT_EQ(v->as_node().qualified_name(), "posix.system");
  EXPECT_EQ(v->as_node().args.as_node().items[0].as_str(), "touch " + marker);
  EXPECT_FALSE(std::filesystem::exists(marker));
}

TEST(Pickle, TruncatedAndCorruptInputNameTheByteOffset) {
  test::TempDir dir;
  auto path = python_pickle(dir, "t.pkl", "{'paris': [1, 2, 3], 'lyon': 'x' * 100}", 4);
  std::string bytes = test::read_file(path);
  for (size_t cut : {bytes.size() - 1, bytes.size() / 2, size_t{3}}) {
    try {
      PickleDocument::load_bytes(bytes.substr(0, cut), "t.pkl");
      FAIL() << "no error at cut " << cut;
    } catch (const FormatError& e) {
      EXPECT_NE(std::string(e.what()).find("t.pkl: byte "), std::string::npos) << e.what();
    }
  }
  try {
    PickleDocument::load_bytes("\x80\x04\xff", "junk.pkl");
    FAIL();
  } catch (const FormatError& e) {
    EXPECT_NE(std::string(e.what()).find("junk.pkl: byte 2: unknown opcode 0xff"), std::string::npos) << e.what();
  }
  EXPECT_THROW(PickleDocument::load_bytes("\x80\x06N.", "future.pkl"), FormatError);  // protocol 6
  // A long string whose length runs past the end of the file.
  EXPECT_THROW(PickleDocument::load_bytes(std::string("\x80\x04X\xff\xff\xff\x7f", 7), "len.pkl"), FormatError);
}

}  // namespace
}  // namespace ner4el

namespace ner4el {
namespace {

std::string pickle_file(test::TempDir& dir, const std::string& name, const std::string& bytes) {
  test::write_file(dir.file(name), bytes);
  return dir.file(name);
}

// Hostile pickles found by hand (issue #11): each fails cleanly, naming the byte.
TEST(Pickle, HugeMemoIndexCostsOneEntry) {
  test::TempDir dir;
  // BININT1 1, LONG_BINPUT 0xffffffff, LONG_BINGET 0xffffffff, STOP: 9 bytes that once allocated a
  // 2^32-slot memo (tens of GB).
  // (POP between them, so one value is left at STOP.)
  auto doc = PickleDocument::load_file(pickle_file(dir, "memo.pkl", std::string("K\x01r\xff\xff\xff\xff" "0j\xff\xff\xff\xff.", 14)));
  EXPECT_EQ(doc.root().as_int(), 1);
  // An index never stored is an error, not None.
  try {
    PickleDocument::load_file(pickle_file(dir, "unset.pkl", std::string("K\x01r\x05\x00\x00\x00" "0j\x06\x00\x00\x00.", 14)));
    FAIL();
  } catch (const FormatError& e) {
    EXPECT_NE(std::string(e.what()).find("memo index 6 was never stored"), std::string::npos) << e.what();
  }
}

TEST(Pickle, StreamingNeverTouchesWhatItFreed) {
  test::TempDir dir;
  std::vector<std::string> got;
  auto collect = [&](const PickleValue& k, const PickleValue& v) {
    std::string text(k.as_str());
    if (v.is_sequence())
      for (const auto& x : v.as_node().items) text += " " + (x.is_str() ? std::string(x.as_str()) : std::to_string(x.as_int()));
    got.push_back(text);
  };
  // A list stored in two memo slots, delivered, then fetched through its second slot and appended
  // to (once a write into freed memory): the list is kept, so the only error is the pickle's own
  // (STOP with two values on the stack).
  const std::string two_slots("\x80\x02}(X\x01\x00\x00\x00" "a]q\x01q\x02uh\x02K\x05" "a.", 22);
  try {
    io::stream_pickle_dict(pickle_file(dir, "slots.pkl", two_slots), collect);
    FAIL();
  } catch (const FormatError& e) {
    EXPECT_NE(std::string(e.what()).find("STOP with 2 values"), std::string::npos) << e.what();
  }
  // Two entries far apart sharing one list, as CPython writes them (pickle.dump puts SETITEMS in batches of 1,000, so the first is streamed and freed long
  // before the second): every entry arrives as CPython reads it, in every protocol.
  for (int protocol : {0, 2, 4}) {
    const std::string path = dir.file("shared" + std::to_string(protocol) + ".pkl");
    ASSERT_EQ(test::run(std::string(NER4EL_PYTHON) + " -c \"import pickle; shared = ['E1', 'E2']; d = {'a': shared}; "
                        "d.update(('k%d' % i, ['x%d' % i]) for i in range(5000)); d['z'] = shared; "
                        "pickle.dump(d, open('" + path + "', 'wb'), protocol=" + std::to_string(protocol) + ")\""),
              0);
    got.clear();
    EXPECT_EQ(io::stream_pickle_dict(path, collect), 5002u) << protocol;
    ASSERT_EQ(got.size(), 5002u);
    EXPECT_EQ(got.front(), "a E1 E2");
    EXPECT_EQ(got[2500], "k2499 x2499");
    EXPECT_EQ(got.back(), "z E1 E2") << protocol;
  }
}

// Depth is the file's to choose: 300,000 chained REDUCEs (each instance the callable of the next)
// and a value of 300,000 nested lists in a streamed dict are read without recursion (each once
// overflowed the stack: SIGSEGV in 'kb build' and 'convert').
TEST(Pickle, DeepChainsAndNestingUseNoStack) {
  test::TempDir dir;
  const size_t n = 300000;  // 300,000 frames of the old recursion were far past an 8 MiB stack
  std::string chain = "\x80\x02" "cbuiltins\nlist\n";
  for (size_t i = 0; i < n; ++i) chain += ")R";
  chain += ".";
  const auto doc = PickleDocument::load_bytes(chain, "chain.pkl");
  EXPECT_EQ(doc.root().type_name(), "builtins.list");
  EXPECT_EQ(doc.root().as_node().qualified_name(), "builtins.list");
  try {  // and where a caller names what it found instead of a dict
    io::stream_pickle_dict(pickle_file(dir, "chain.pkl", chain), [](const PickleValue&, const PickleValue&) {});
    FAIL();
  } catch (const FormatError& e) {
    EXPECT_NE(std::string(e.what()).find("found builtins.list"), std::string::npos) << e.what();
  }
  std::string nested("\x80\x02}(X\x01\x00\x00\x00" "a", 10);
  nested += std::string(n, ']') + std::string(n - 1, 'a') + std::string("X\x01\x00\x00\x00" "b" "]u.", 9);
  size_t depth = 0;
  std::vector<std::string> keys;
  io::stream_pickle_dict(pickle_file(dir, "nested.pkl", nested), [&](const PickleValue& k, const PickleValue& v) {
    keys.emplace_back(k.as_str());
    if (keys.size() > 1) return;
    for (const PickleValue* at = &v; at->is_sequence() && !at->as_node().items.empty(); at = &at->as_node().items[0]) ++depth;
  });
  EXPECT_EQ(keys, (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(depth, n - 1);
}

}  // namespace
}  // namespace ner4el

namespace ner4el {
namespace {

// Protocol 0's text numbers read as CPython reads them (int(text, 0), float(text)), checked against
// CPython itself; and integers wider than 64 bits are errors, not approximate floats.
TEST(Pickle, TextNumbersAsCPythonReadsThem) {
  test::TempDir dir;
  const std::vector<std::string> ints{"I0x1F\n.", "I-5\n.", "I1_000\n.", "L0o17L\n.", "I0b101\n.", "I 7 \n.",
                                      "L-9223372036854775808L\n.", "I012\n."};
  const std::vector<std::string> floats{"F4.9e-324\n.", "F-0.5\n.", "Finf\n."};
  const std::vector<std::string> bad{"I12abc\n.", "L012L\n.", "F1e400\n.", "F1.5x\n.", "I\n.", "I1__0\n."};
  auto cpython = [&](const std::string& bytes) {
    test::write_file(dir.file("p.pkl"), bytes);
    std::string out;
    const int rc = test::run(std::string(NER4EL_PYTHON) + " -c \"import pickle; print(repr(pickle.load(open('" + dir.file("p.pkl") +
                                 "', 'rb'))))\" 2>/dev/null",
                             &out);
    return rc == 0 ? out.substr(0, out.find('\n')) : std::string("error");
  };
  for (const auto& p : ints) {
    auto doc = PickleDocument::load_bytes(p, "p");
    EXPECT_EQ(std::to_string(doc.root().as_int()), cpython(p)) << p;
  }
  for (const auto& p : floats) {
    auto doc = PickleDocument::load_bytes(p, "p");
    const double d = doc.root().as_float();
    const std::string want = cpython(p);
    if (std::isinf(d)) EXPECT_EQ(want, d > 0 ? "inf" : "-inf") << p;
    else EXPECT_DOUBLE_EQ(d, std::strtod(want.c_str(), nullptr)) << p;
  }
  for (const auto& p : bad) {
    EXPECT_EQ(cpython(p), "error") << p;  // CPython refuses them too
    EXPECT_THROW(PickleDocument::load_bytes(p, "p"), FormatError) << p;
  }
  // Beyond 64 bits CPython makes a big int; nothing here can hold one: an error, never a wrong value.
  EXPECT_EQ(cpython("I9223372036854775808\n."), "9223372036854775808");
  EXPECT_THROW(PickleDocument::load_bytes("I9223372036854775808\n.", "p"), FormatError);
  // LONG1 of 9 bytes: 2**64 does not fit; -1 padded with a sign byte does.
  EXPECT_THROW(PickleDocument::load_bytes(std::string("\x80\x02\x8a\x09\x00\x00\x00\x00\x00\x00\x00\x00\x01.", 14), "p"), FormatError);
  EXPECT_EQ(PickleDocument::load_bytes(std::string("\x80\x02\x8a\x09\xff\xff\xff\xff\xff\xff\xff\xff\xff.", 14), "p").root().as_int(), -1);
}

// A tuple inside a list inside itself (a = []; t = (a,); a.append(t)): protocol 0 pickles it as
// MARK ... POP POP GET, the POP at a MARK discarding the mark; both protocols give the same cycle.
TEST(Pickle, RecursiveTupleInEveryProtocol) {
  for (const std::string bytes : {std::string("((lp0\n(g0\ntp1\na00g1\n."),
                                  std::string("\x80\x02]q\x00h\x00\x85q\x01" "a0h\x01.", 15)}) {
    auto doc = PickleDocument::load_bytes(bytes, "p");
    const PickleValue& t = doc.root();
    ASSERT_TRUE(t.is_sequence()) << t.type_name();
    const PickleValue& list = t.as_node().items.at(0);
    ASSERT_TRUE(list.is_sequence());
    EXPECT_EQ(&list.as_node().items.at(0).as_node(), &t.as_node());
  }
  // A POP with neither a value nor a mark to remove is still an error.
  EXPECT_THROW(PickleDocument::load_bytes("0.", "p"), FormatError);
}

}  // namespace
}  // namespace ner4el

#include "io/csv.h"

#include <gtest/gtest.h>

#include "ner4el/error.h"
#include "test_util.h"

namespace ner4el {
namespace {

using Row = std::vector<std::string>;

TEST(Csv, PandasQuotingCases) {
  test::TempDir dir;
  test::write_file(dir.file("a.csv"),
                   "text_id,text\n"
                   "1,plain\n"
                   "2,\"with, comma\"\n"
                   "3,\"say \"\"hi\"\"\"\n"
                   "4,\"two\nlines\"\n"
                   "5,\n"
                   "6,\"\"\r\n"
                   "7,last");
  io::CsvReader r(dir.file("a.csv"));
  Row f;
  std::vector<Row> rows;
  std::vector<size_t> lines;
  while (r.next(f)) {
    rows.push_back(f);
    lines.push_back(r.line());
  }
  ASSERT_EQ(rows.size(), 8u);
  EXPECT_EQ(rows[0], (Row{"text_id", "text"}));
  EXPECT_EQ(rows[2], (Row{"2", "with, comma"}));
  EXPECT_EQ(rows[3], (Row{"3", "say \"hi\""}));
  EXPECT_EQ(rows[4], (Row{"4", "two\nlines"}));
  EXPECT_EQ(rows[5], (Row{"5", ""}));
  EXPECT_EQ(rows[6], (Row{"6", ""}));
  EXPECT_EQ(rows[7], (Row{"7", "last"}));
  EXPECT_EQ(lines, (std::vector<size_t>{1, 2, 3, 4, 5, 7, 8, 9}));  // the embedded newline counts
}

TEST(Csv, UnterminatedQuoteNamesTheLine) {
  test::TempDir dir;
  test::write_file(dir.file("b.csv"), "id,text\n1,ok\n2,\"never closed\n3,x\n");
  io::CsvReader r(dir.file("b.csv"));
  Row f;
  r.next(f);
  r.next(f);
  try {
    r.next(f);
    FAIL();
  } catch (const FormatError& e) {
    EXPECT_NE(std::string(e.what()).find("b.csv:3: unterminated quoted field"), std::string::npos) << e.what();
  }
}

TEST(Csv, TsvWithoutQuoting) {
  test::TempDir dir;
  test::write_file(dir.file("c.tsv"), "1\tsay \"hi\", ok\n2\tb\n");
  io::CsvReader r(dir.file("c.tsv"), '\t', false);
  Row f;
  ASSERT_TRUE(r.next(f));
  EXPECT_EQ(f, (Row{"1", "say \"hi\", ok"}));
}

}  // namespace
}  // namespace ner4el

// Errors thrown by the ner4el library.
//
// Every message says what was expected, what was found and, where there is one, the fix.
// Tools catch ner4el::Error at main, print "error: <what()>" and exit 1.
#pragma once

#include <cstddef>
#include <stdexcept>
#include <string>

namespace ner4el {

/// Base of every exception the library throws on purpose.
class Error : public std::runtime_error {
 public:
  explicit Error(const std::string& what) : std::runtime_error(what) {}
};

/// A caller passed an argument or option the library cannot use.
class InvalidArgument : public Error {
 public:
  using Error::Error;
};

/// A file (or an in-memory record) does not follow its format.
/// The message names the file and, where it applies, the line, byte offset and field.
class FormatError : public Error {
 public:
  using Error::Error;
};

/// A file, directory or record that must exist does not.
class NotFound : public Error {
 public:
  using Error::Error;
};

/// "file:line: field 'x': message", the location prefix used by every reader.
std::string location(const std::string& file, std::size_t line, const std::string& field = "");

}  // namespace ner4el

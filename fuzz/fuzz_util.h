// Shared by the fuzz targets: inputs written to a file for the readers that take paths.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

namespace ner4el::fuzz {

/// Writes the input to a per-process file (in /dev/shm when there is one) and returns its path.
std::string write_input(const uint8_t* data, size_t size, const std::string& suffix = "");

/// A fresh per-process directory for fixtures made once.
std::string scratch_dir();

}  // namespace ner4el::fuzz

#pragma once
/// \file
/// Whether a table with a variable set of rows (`adaptive_table`) may grow when training meets a
/// row for the first time: the switch by which `budget_controller` keeps a byte budget between
/// its rounds.

#include <cstdint>

namespace frugal::embedding {

/// Whether `adaptive_table::backward` may grow the table for a row it sees for the first time.
enum class admission_policy : std::uint8_t {
  open,               ///< every new row gets a slot (and `new_row_chunks` chunks); the index and pool grow as needed
  within_allocation,  ///< a new row enters only where the index and pool already have room, so
                      ///< `bytes_allocated()` never grows; rows that do not fit are turned away (they read as
                      ///< zero and their gradient is dropped, as for any absent row) and counted by `turned_away()`
};

}  // namespace frugal::embedding

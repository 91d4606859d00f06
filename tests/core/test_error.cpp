#include <doctest/doctest.h>

#include <frugal/core/config.hpp>
#include <frugal/core/error.hpp>

#include <string>

TEST_CASE("check throws the requested error type with a message naming the value") {
  CHECK_NOTHROW(frugal::check(true, "never"));
  try {
    frugal::check(false, "frugal::f: n = ", -3, " must be positive");
    FAIL("no throw");
  } catch (const frugal::invalid_argument& e) {
    CHECK(std::string(e.what()) == "frugal::f: n = -3 must be positive");
  }
  CHECK_THROWS_AS(frugal::check<frugal::io_error>(false, "x"), frugal::io_error);
}

TEST_CASE("check_extent names both extents") {
  CHECK_NOTHROW(frugal::check_extent("g", "rows", 3, 3));
  try {
    frugal::check_extent("frugal::g", "extents", 3, 4);
    FAIL("no throw");
  } catch (const frugal::shape_error& e) {
    CHECK(std::string(e.what()) == "frugal::g: extents mismatch: got 3, expected 4");
  }
}

TEST_CASE("format_error carries file and offset and is an io_error and an error") {
  const frugal::format_error e("bad", "f.idx", 17);
  CHECK(e.file() == "f.idx");
  CHECK(e.offset() == 17);
  const frugal::error& base = e;
  CHECK(std::string(base.what()) == "bad");
  CHECK(dynamic_cast<const frugal::io_error*>(&base) != nullptr);
}

TEST_CASE("FRUGAL_ASSERT throws an assertion_failure that is not a frugal::error") {
  CHECK_NOTHROW(FRUGAL_ASSERT(1 + 1 == 2, "arithmetic"));
  bool caught_as_error = false;
  try {
    FRUGAL_ASSERT(1 + 1 == 3, "arithmetic");
  } catch (const frugal::error&) {
    caught_as_error = true;
  } catch (const frugal::assertion_failure& e) {
    CHECK(std::string(e.what()).find("1 + 1 == 3") != std::string::npos);
  }
  CHECK_FALSE(caught_as_error);
}

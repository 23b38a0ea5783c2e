#pragma once
// Errors cross subsystem boundaries as values: Result<T> holds either a T or
// an Error. The HTTP layer maps Error::Kind to a status code in one place
// (status_for in api/http.cpp); nothing else branches on library-specific codes.

#include <cassert>
#include <string>
#include <utility>
#include <variant>

namespace visor {

struct Error {
  enum class Kind {
    bad_input,    // the caller's input is wrong; retrying the same input fails again
    invalid_request,  // a request parameter is missing or out of range
    too_large,    // the input exceeds a configured limit
    not_found,    // the thing asked for does not exist
    conflict,     // the thing exists in another state than the operation needs
    unavailable,  // a dependency (disk, store, engine) is not usable right now
    timeout,      // the operation ran out of time
    internal,     // a bug or an unexpected library failure
    unauthenticated,  // the caller did not prove who it is
    too_many,     // the caller is over a rate or concurrency limit; try later
  };

  Kind kind = Kind::internal;
  std::string message;
  // When retrying may succeed, in seconds (too_many, unavailable); 0: unknown.
  int retry_after_s = 0;

  static Error bad_input(std::string m) { return {Kind::bad_input, std::move(m)}; }
  static Error invalid_request(std::string m) { return {Kind::invalid_request, std::move(m)}; }
  static Error too_large(std::string m) { return {Kind::too_large, std::move(m)}; }
  static Error not_found(std::string m) { return {Kind::not_found, std::move(m)}; }
  static Error conflict(std::string m) { return {Kind::conflict, std::move(m)}; }
  static Error unavailable(std::string m) { return {Kind::unavailable, std::move(m)}; }
  static Error timeout(std::string m) { return {Kind::timeout, std::move(m)}; }
  static Error internal(std::string m) { return {Kind::internal, std::move(m)}; }
  static Error unauthenticated(std::string m) { return {Kind::unauthenticated, std::move(m)}; }
  static Error too_many(std::string m, int retry_after_s) {
    return {Kind::too_many, std::move(m), retry_after_s};
  }
  Error& retry_after(int seconds) {
    retry_after_s = seconds;
    return *this;
  }
};

// Result<T>: a T on success, an Error otherwise. REQUIRES: value() only when
// ok(), error() only when !ok().
template <class T>
class [[nodiscard]] Result {
 public:
  Result(T value) : state_(std::in_place_index<0>, std::move(value)) {}  // NOLINT: implicit by design
  Result(Error error) : state_(std::in_place_index<1>, std::move(error)) {}  // NOLINT

  bool ok() const { return state_.index() == 0; }
  explicit operator bool() const { return ok(); }

  T& value() & { assert(ok()); return std::get<0>(state_); }
  const T& value() const& { assert(ok()); return std::get<0>(state_); }
  T&& value() && { assert(ok()); return std::get<0>(std::move(state_)); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }

  const Error& error() const { assert(!ok()); return std::get<1>(state_); }
  Error&& take_error() { assert(!ok()); return std::get<1>(std::move(state_)); }

 private:
  std::variant<T, Error> state_;
};

// Status: success carries no value.
template <>
class [[nodiscard]] Result<void> {
 public:
  Result() = default;
  Result(Error error) : error_(std::move(error)), ok_(false) {}  // NOLINT

  bool ok() const { return ok_; }
  explicit operator bool() const { return ok_; }
  const Error& error() const { assert(!ok_); return error_; }
  Error&& take_error() { assert(!ok_); return std::move(error_); }

 private:
  Error error_;
  bool ok_ = true;
};

using Status = Result<void>;

}  // namespace visor

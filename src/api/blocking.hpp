#pragma once
// Runs blocking work (store queries, MuPDF, PNG encoding) on a thread pool
// and resumes the calling coroutine on its own executor, so I/O threads
// never block.

#include <optional>
#include <type_traits>
#include <utility>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/asio/use_awaitable.hpp>

namespace visor::api {

template <class F>
auto run_blocking(boost::asio::thread_pool& pool, F work)
    -> boost::asio::awaitable<std::invoke_result_t<F&>> {
  using Value = std::invoke_result_t<F&>;
  // co_spawn needs a default-constructible completion value; Result<T> is
  // not, so it travels in an optional.
  auto value = co_await boost::asio::co_spawn(
      pool,
      [&work]() -> boost::asio::awaitable<std::optional<Value>> { co_return std::optional<Value>(work()); },
      boost::asio::use_awaitable);
  co_return std::move(*value);
}

}  // namespace visor::api

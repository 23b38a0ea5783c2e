#include "ocr/remote/remote_engine.hpp"

#include <algorithm>
#include <stop_token>

#include "ocr/remote/dots_output.hpp"
#include "ocr/remote/dots_prompt.hpp"
#include "net/http_client.hpp"
#include "ocr/remote/lighton_output.hpp"
#include "ocr/remote/smart_resize.hpp"
#include "util/base64.hpp"
#include "util/log.hpp"
#include "util/time.hpp"

namespace visor::ocr::remote {
namespace {

using nlohmann::json;

constexpr int kLightOnLongestSide = 1540;
constexpr auto kFirstBackoff = std::chrono::milliseconds(250);
constexpr auto kLongestBackoff = std::chrono::seconds(8);
constexpr auto kLongestRetryAfter = std::chrono::seconds(30);
constexpr auto kWaitForEndpoint = std::chrono::milliseconds(500);

std::string png_data_uri(const std::string& png) { return "data:image/png;base64," + util::base64_encode(png); }

// The request bodies follow ../shared/reference/models.md exactly.
json dots_request(const std::string& served_model, const std::string& png) {
  return {{"model", served_model},
          {"messages",
           json::array({{{"role", "user"},
                         {"content",
                          json::array({{{"type", "image_url"}, {"image_url", {{"url", png_data_uri(png)}}}},
                                       {{"type", "text"},
                                        {"text", std::string(kDotsImagePlaceholder) +
                                                     std::string(kDotsLayoutPrompt)}}})}}})},
          {"max_completion_tokens", 16384},
          {"temperature", 0.1},
          {"top_p", 1.0}};
}

json lighton_request(const std::string& served_model, const std::string& png) {
  return {{"model", served_model},
          {"messages", json::array({{{"role", "user"},
                                     {"content", json::array({{{"type", "image_url"},
                                                               {"image_url", {{"url", png_data_uri(png)}}}}})}}})},
          {"max_tokens", 4096},
          {"temperature", 0.2},
          {"top_p", 0.9}};
}

Result<std::string> reply_content(const std::string& body) {
  const json reply = json::parse(body, nullptr, false);
  if (!reply.is_object() || !reply.contains("choices") || !reply["choices"].is_array() || reply["choices"].empty()) {
    return Error::bad_input("The inference server's reply has no choices: " + body.substr(0, 200));
  }
  const json& message = reply["choices"][0].value("message", json::object());
  const auto content = message.find("content");
  if (content == message.end() || !content->is_string()) {
    return Error::bad_input("The inference server's reply has no message content");
  }
  return content->get<std::string>();
}

std::chrono::milliseconds backoff_for(int attempt, std::optional<std::chrono::seconds> retry_after) {
  // Five digits at most: a longer Retry-After is taken for garbage.
  if (retry_after && *retry_after <= std::chrono::seconds(99999)) {
    return std::min<std::chrono::milliseconds>(*retry_after, kLongestRetryAfter);
  }
  return std::min<std::chrono::milliseconds>(kFirstBackoff * (1 << std::min(attempt, 10)), kLongestBackoff);
}

Error abandoned() { return Error::conflict("The page was abandoned: nobody wants its result any more"); }

// One model's engine: renders the page as the model expects, sends it with
// retries and failover, and turns the reply into the page result.
class RemoteEngine final : public Engine {
 public:
  RemoteEngine(Model model, EndpointPool& pool, const RemoteModelConfig& config)
      : model_(model), pool_(pool), config_(config) {}

  std::string name() const override { return last_served_model_; }
  bool renders_itself(Model) const override { return true; }

  Result<json> recognize(const PageInput& page, Model) override {
    if (page.renderer == nullptr) return Error::internal("The remote engine needs a page renderer");
    return model_ == Model::dotsocr ? recognize_layout(page) : recognize_markdown(page);
  }

 private:
  Result<json> recognize_layout(const PageInput& page) {
    auto rendered_size = page.renderer->pixel_size(page.dpi);
    if (!rendered_size) return rendered_size.take_error();
    const ImageSize page_size{rendered_size->first, rendered_size->second};
    auto model_size = smart_resize(page_size);
    if (!model_size) return model_size.take_error();
    auto png = render_png(*page.renderer, *model_size);
    if (!png) return png.take_error();
    auto content = complete(dots_request(pool_.config(0).model, *png), page.abandon);
    if (!content) return content.take_error();
    auto parsed = parse_dots_output(*content);
    if (!parsed) return parsed.take_error();
    return map_dots_elements(parsed->elements, *model_size, page_size);
  }

  Result<json> recognize_markdown(const PageInput& page) {
    auto points = page.renderer->pixel_size(72);
    if (!points) return points.take_error();
    const ImageSize size = fit_longest_side(points->first, points->second, kLightOnLongestSide);
    auto png = render_png(*page.renderer, size);
    if (!png) return png.take_error();
    auto content = complete(lighton_request(pool_.config(0).model, *png), page.abandon);
    if (!content) return content.take_error();
    return json(repair_escaped_math(*content));
  }

  static Result<std::string> render_png(PageRenderer& renderer, ImageSize size) {
    auto image = renderer.render_to_size(size.width, size.height, 3);
    if (!image) return image.take_error();
    return renderer.encode_png(*image);
  }

  // Sends a chat completion; retries connection errors, timeouts, 429 and
  // 5xx with backoff, on whichever endpoint is best at the time. The served
  // model name in `request` is replaced per endpoint. Once `abandon` is
  // requested the request in flight is dropped within about a second, no
  // further one is sent, and no pause or wait for an endpoint goes on:
  // conflict.
  Result<std::string> complete(json request, const std::stop_token& abandon) {
    Error last = Error::unavailable("No " + std::string(model_name(model_)) + " inference endpoint is reachable");
    const auto give_up_at = std::chrono::steady_clock::now() + config_.unavailable_wait;
    for (int attempt = 0; attempt <= config_.max_retries;) {
      if (abandon.stop_requested()) return abandoned();
      const auto index = pool_.acquire(pool_.config(0).timeout, abandon);
      if (!index) {
        if (std::chrono::steady_clock::now() >= give_up_at) break;
        util::sleep_unless_stopped(kWaitForEndpoint, abandon);
        continue;
      }
      const EndpointConfig& endpoint = pool_.config(*index);
      request["model"] = endpoint.model;
      auto reply = client_.post_json(EndpointPool::chat_url(endpoint), request.dump(), endpoint.api_key,
                                     endpoint.timeout, abandon);
      ++attempt;
      if (abandon.stop_requested()) {
        pool_.release(*index, Outcome::abandoned);
        return abandoned();
      }
      if (!reply) {
        const Outcome outcome = reply.error().kind == Error::Kind::timeout ? Outcome::failure : Outcome::unreachable;
        pool_.release(*index, outcome, reply.error().message);
        last = reply.take_error();
      } else if (reply->status == 429 || reply->status >= 500) {
        const std::string error = "HTTP " + std::to_string(reply->status) + " from " + endpoint.url + ": " +
                                  reply->body.substr(0, 200);
        pool_.release(*index, Outcome::failure, error);
        last = Error::unavailable(error);
        util::sleep_unless_stopped(backoff_for(attempt, reply->retry_after()), abandon);
        continue;
      } else if (reply->status >= 400) {
        pool_.release(*index, Outcome::success);
        return Error::bad_input("The inference server refused the page (HTTP " + std::to_string(reply->status) +
                                "): " + reply->body.substr(0, 300));
      } else {
        pool_.release(*index, Outcome::success);
        last_served_model_ = endpoint.model;
        return reply_content(reply->body);
      }
      util::log_warn("remote.retry", {{"model", std::string(model_name(model_))}, {"url", endpoint.url},
                                      {"attempt", std::to_string(attempt)}, {"error", last.message}});
      util::sleep_unless_stopped(backoff_for(attempt, {}), abandon);
    }
    const std::string reason = pool_.last_error();
    if (last.kind == Error::Kind::unavailable && !reason.empty() && last.message.find(reason) == std::string::npos) {
      last.message += ": " + reason;
    }
    return last;
  }

  Model model_;
  EndpointPool& pool_;
  const RemoteModelConfig& config_;
  net::HttpClient client_;
  std::string last_served_model_;
};

class EngineRouter final : public Engine {
 public:
  explicit EngineRouter(RemoteBackends& backends) : backends_(backends) {}

  std::string name() const override { return last_ != nullptr ? last_->name() : tesseract_engine_name(); }
  bool renders_itself(Model model) const override { return backends_.pool(model) != nullptr; }

  Result<json> recognize(const PageInput& page, Model model) override {
    last_ = &engine_for(model);
    return last_->recognize(page, model);
  }

 private:
  Engine& engine_for(Model model) {
    auto& slot = engines_[model];
    if (slot) return *slot;
    if (backends_.pool(model) != nullptr) {
      slot = make_remote_engine(model, backends_);
    } else {
      if (!embedded_) embedded_ = make_tesseract_engine();
      return *embedded_;
    }
    return *slot;
  }

  RemoteBackends& backends_;
  std::map<Model, std::unique_ptr<Engine>> engines_;
  std::unique_ptr<Engine> embedded_;
  Engine* last_ = nullptr;
};

}  // namespace

std::unique_ptr<Engine> make_remote_engine(Model model, RemoteBackends& backends) {
  return std::make_unique<RemoteEngine>(model, *backends.pool(model), *backends.config(model));
}

std::unique_ptr<Engine> make_engine_router(RemoteBackends& backends) {
  return std::make_unique<EngineRouter>(backends);
}

}  // namespace visor::ocr::remote

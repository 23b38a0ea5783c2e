#include "ocr/remote/smart_resize.hpp"

#include <algorithm>
#include <cmath>

namespace visor::ocr::remote {
namespace {

constexpr int kFactor = 28;
constexpr double kMinPixels = 3136;
constexpr double kMaxPixels = 11289600;
constexpr double kMaxAspectRatio = 200;

// Python's round(): halves go to the even neighbour.
double round_half_even(double value) { return std::nearbyint(value); }

}  // namespace

Result<ImageSize> smart_resize(ImageSize size) {
  const double h = size.height;
  const double w = size.width;
  if (h <= 0 || w <= 0) return Error::bad_input("The page image is empty");
  if (std::max(h, w) / std::min(h, w) > kMaxAspectRatio) {
    return Error::bad_input("The page's aspect ratio exceeds 200, which the model cannot read");
  }
  double h_bar = std::max<double>(kFactor, round_half_even(h / kFactor) * kFactor);
  double w_bar = std::max<double>(kFactor, round_half_even(w / kFactor) * kFactor);
  if (h_bar * w_bar > kMaxPixels) {
    const double beta = std::sqrt(h * w / kMaxPixels);
    h_bar = std::max<double>(kFactor, std::floor(h / beta / kFactor) * kFactor);
    w_bar = std::max<double>(kFactor, std::floor(w / beta / kFactor) * kFactor);
  } else if (h_bar * w_bar < kMinPixels) {
    const double beta = std::sqrt(kMinPixels / (h * w));
    h_bar = std::ceil(h * beta / kFactor) * kFactor;
    w_bar = std::ceil(w * beta / kFactor) * kFactor;
  }
  return ImageSize{static_cast<int>(w_bar), static_cast<int>(h_bar)};
}

ImageSize fit_longest_side(double width, double height, int longest) {
  const double scale = longest / std::max(width, height);
  return {std::max(1, static_cast<int>(std::lround(width * scale))),
          std::max(1, static_cast<int>(std::lround(height * scale)))};
}

}  // namespace visor::ocr::remote

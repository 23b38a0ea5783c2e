#pragma once
// Qwen2-VL's smart_resize, which dots.ocr's pipeline applies before sending a
// page: both sides become multiples of 28 and the area is kept between
// 3,136 and 11,289,600 pixels (../shared/reference/models.md).

#include "util/result.hpp"

namespace visor::ocr::remote {

struct ImageSize {
  int width = 0;
  int height = 0;
  bool operator==(const ImageSize&) const = default;
};

// bad_input when the aspect ratio exceeds 200.
Result<ImageSize> smart_resize(ImageSize size);

// The size that makes the longest side `longest` pixels, keeping the aspect
// ratio (LightOnOCR's input: 1540 px).
ImageSize fit_longest_side(double width, double height, int longest);

}  // namespace visor::ocr::remote

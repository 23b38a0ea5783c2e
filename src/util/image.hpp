#pragma once
// Plain owned raster images passed between the renderer and the engines.

#include <cstdint>
#include <vector>

namespace visor::util {

// 8-bit samples, row-major, no padding: stride == width * channels.
struct Image {
  int width = 0;
  int height = 0;
  int channels = 1;  // 1: grayscale, 3: RGB
  std::vector<std::uint8_t> pixels;

  std::uint8_t* row(int y) { return pixels.data() + static_cast<std::size_t>(y) * width * channels; }
  const std::uint8_t* row(int y) const {
    return pixels.data() + static_cast<std::size_t>(y) * width * channels;
  }
};

}  // namespace visor::util

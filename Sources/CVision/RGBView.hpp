// A caller-owned RGB buffer seen through dlib's generic image interface, so dlib reads the pixels in
// place (as its Python binding reads a numpy array) instead of copying every frame.
#pragma once

#include <dlib/image_processing/generic_image.h>
#include <dlib/pixel.h>

#include "CVision.h"
#include "Guard.hpp"

namespace cvision {

struct rgb_view {
    const dlib::rgb_pixel *pixels;
    long rows;
    long columns;
    long stride;
};

inline long num_rows(const rgb_view &view) { return view.rows; }
inline long num_columns(const rgb_view &view) { return view.columns; }
inline long width_step(const rgb_view &view) { return view.stride; }
inline const void *image_data(const rgb_view &view) { return view.pixels; }
// dlib's interface asks for a mutable pointer too; the core never writes through it.
inline void *image_data(rgb_view &view) { return const_cast<dlib::rgb_pixel *>(view.pixels); }

static_assert(sizeof(dlib::rgb_pixel) == 3, "rgb_pixel must be 3 packed bytes to alias an RGB buffer");

inline rgb_view make_view(const cvision_image_view *image) {
    require(image != nullptr && image->pixels != nullptr, "image has no pixels");
    require(image->width > 0 && image->height > 0, "image has an empty size");
    require(image->stride >= 3 * image->width, "image stride is shorter than a row");
    return rgb_view{reinterpret_cast<const dlib::rgb_pixel *>(image->pixels), image->height, image->width,
                    image->stride};
}

} // namespace cvision

namespace dlib {
template <> struct image_traits<cvision::rgb_view> {
    typedef rgb_pixel pixel_type;
};
} // namespace dlib

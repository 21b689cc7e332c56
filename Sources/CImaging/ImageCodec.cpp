// Image decoding and resizing through OpenCV.
#include <climits>
#include <cstdlib>
#include <cstring>
#include <vector>

#include <opencv2/core.hpp>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include "CImaging.h"
#include "CImagingGuard.hpp"

using cvision::failure;
using cvision::guarded;
using cvision::require;

namespace {

/// Copies a BGR or RGB matrix into a malloc'd RGB image the caller releases with cvision_image_free.
void export_rgb(const cv::Mat &source, int conversion, cvision_image *out) {
    const size_t bytes = static_cast<size_t>(source.cols) * static_cast<size_t>(source.rows) * 3;
    auto *pixels = static_cast<uint8_t *>(std::malloc(bytes));
    if (pixels == nullptr) {
        throw std::bad_alloc();
    }
    cv::Mat target(source.rows, source.cols, CV_8UC3, pixels);
    if (conversion >= 0) {
        cv::cvtColor(source, target, conversion);
    } else {
        source.copyTo(target);
    }
    out->pixels = pixels;
    out->width = source.cols;
    out->height = source.rows;
}

} // namespace

extern "C" cvision_status cvision_image_decode(const uint8_t *data, size_t size, cvision_image *out,
                                               cvision_error *error) {
    return guarded(error, [&] {
        require(out != nullptr, "no output image");
        *out = cvision_image{};
        require(data != nullptr && size > 0, "the file is empty");
        require(size <= static_cast<size_t>(INT_MAX), "the file is larger than 2 GiB");
        const cv::Mat encoded(1, static_cast<int>(size), CV_8UC1, const_cast<uint8_t *>(data));
        // IMREAD_COLOR gives 3 channels of 8 bits whatever the file holds (alpha dropped, grey
        // expanded, 16-bit scaled). EXIF orientation is ignored because the reference ignores it
        // too; rotating here would change every box.
        const cv::Mat bgr = cv::imdecode(encoded, cv::IMREAD_COLOR | cv::IMREAD_IGNORE_ORIENTATION);
        if (bgr.empty()) {
            throw failure(CVISION_ERR_DECODE, "not an image that can be decoded (JPEG, PNG, BMP, TIFF, WebP...)");
        }
        export_rgb(bgr, cv::COLOR_BGR2RGB, out);
    });
}

extern "C" cvision_status cvision_image_resize(const cvision_image_view *image, int32_t width, int32_t height,
                                               cvision_image *out, cvision_error *error) {
    return guarded(error, [&] {
        require(out != nullptr, "no output image");
        *out = cvision_image{};
        require(image != nullptr && image->pixels != nullptr, "image has no pixels");
        require(image->width > 0 && image->height > 0 && width > 0 && height > 0, "empty image size");
        require(image->stride >= 3 * image->width, "image stride is shorter than a row");
        const cv::Mat source(image->height, image->width, CV_8UC3, const_cast<uint8_t *>(image->pixels),
                             static_cast<size_t>(image->stride));
        const bool shrinking = width < image->width && height < image->height;
        cv::Mat resized;
        cv::resize(source, resized, cv::Size(width, height), 0, 0, shrinking ? cv::INTER_AREA : cv::INTER_LINEAR);
        export_rgb(resized, -1, out);
    });
}

extern "C" cvision_status cvision_image_encode_png(const cvision_image_view *image, cvision_bytes *out,
                                                   cvision_error *error) {
    return guarded(error, [&] {
        require(out != nullptr, "no output");
        *out = cvision_bytes{};
        require(image != nullptr && image->pixels != nullptr, "image has no pixels");
        require(image->width > 0 && image->height > 0, "empty image size");
        require(image->stride >= 3 * image->width, "image stride is shorter than a row");
        const cv::Mat rgb(image->height, image->width, CV_8UC3, const_cast<uint8_t *>(image->pixels),
                          static_cast<size_t>(image->stride));
        cv::Mat bgr;
        cv::cvtColor(rgb, bgr, cv::COLOR_RGB2BGR);
        std::vector<uint8_t> encoded;
        if (!cv::imencode(".png", bgr, encoded)) {
            throw failure(CVISION_ERR_INTERNAL, "PNG encoding failed");
        }
        auto *data = static_cast<uint8_t *>(std::malloc(encoded.size()));
        if (data == nullptr) {
            throw std::bad_alloc();
        }
        std::memcpy(data, encoded.data(), encoded.size());
        out->data = data;
        out->size = encoded.size();
    });
}

extern "C" cvision_status cvision_yuyv_to_rgb(const uint8_t *yuyv, int32_t width, int32_t height, int32_t stride,
                                              uint8_t *rgb_out, cvision_error *error) {
    return guarded(error, [&] {
        require(yuyv != nullptr && rgb_out != nullptr, "null argument");
        require(width > 0 && height > 0 && width % 2 == 0, "a YUYV frame has a positive size and an even width");
        require(stride >= 2 * width, "frame stride is shorter than a row");
        const cv::Mat source(height, width, CV_8UC2, const_cast<uint8_t *>(yuyv), static_cast<size_t>(stride));
        cv::Mat target(height, width, CV_8UC3, rgb_out);
        cv::cvtColor(source, target, cv::COLOR_YUV2RGB_YUYV);
    });
}

extern "C" void cvision_bytes_free(cvision_bytes *bytes) {
    if (bytes != nullptr) {
        std::free(bytes->data);
        *bytes = cvision_bytes{};
    }
}

extern "C" void cvision_image_free(cvision_image *image) {
    if (image != nullptr) {
        std::free(image->pixels);
        *image = cvision_image{};
    }
}

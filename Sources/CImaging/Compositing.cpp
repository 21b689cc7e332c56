// Image operations for composing synthetic door footage (blur, perspective warp, feathered paste,
// brightness and contrast, glare, sensor noise) through OpenCV.
#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <new>
#include <vector>

#include <opencv2/core.hpp>
#include <opencv2/imgproc.hpp>

#include "CImaging.h"
#include "CImagingGuard.hpp"

using cvision::guarded;
using cvision::require;

namespace {

/// A caller's RGB pixels as a matrix, after checking the view.
cv::Mat borrow(const cvision_image_view *image, const char *what) {
    require(image != nullptr && image->pixels != nullptr, what);
    require(image->width > 0 && image->height > 0, "image has an empty size");
    require(image->stride >= 3 * image->width, "image stride is shorter than a row");
    return cv::Mat(image->height, image->width, CV_8UC3, const_cast<uint8_t *>(image->pixels),
                   static_cast<size_t>(image->stride));
}

/// A new malloc'd image the caller releases with cvision_image_free, as a matrix to fill.
cv::Mat allocate(int rows, int columns, cvision_image *out) {
    const size_t bytes = static_cast<size_t>(rows) * static_cast<size_t>(columns) * 3;
    auto *pixels = static_cast<uint8_t *>(std::malloc(bytes));
    if (pixels == nullptr) {
        throw std::bad_alloc();
    }
    out->pixels = pixels;
    out->width = columns;
    out->height = rows;
    return cv::Mat(rows, columns, CV_8UC3, pixels);
}

/// Blends `top` over `bottom` (same size, 8-bit RGB) with a one-channel float weight in 0...1.
void blend(const cv::Mat &top, cv::Mat bottom, const cv::Mat &weight) {
    for (int row = 0; row < bottom.rows; ++row) {
        const auto *source = top.ptr<uint8_t>(row);
        auto *target = bottom.ptr<uint8_t>(row);
        const auto *alpha = weight.ptr<float>(row);
        for (int column = 0; column < bottom.cols; ++column) {
            const float a = alpha[column];
            if (a <= 0.0f) {
                continue;
            }
            for (int channel = 0; channel < 3; ++channel) {
                const int index = 3 * column + channel;
                const float mixed = source[index] * a + target[index] * (1.0f - a);
                target[index] = cv::saturate_cast<uint8_t>(mixed);
            }
        }
    }
}

} // namespace

extern "C" cvision_status cvision_image_gaussian_blur(const cvision_image_view *image, double sigma,
                                                      cvision_image *out, cvision_error *error) {
    return guarded(error, [&] {
        require(out != nullptr, "no output image");
        *out = cvision_image{};
        const cv::Mat source = borrow(image, "image has no pixels");
        require(std::isfinite(sigma) && sigma > 0 && sigma <= 100, "blur sigma must be in (0, 100]");
        cv::Mat target = allocate(source.rows, source.cols, out);
        cv::GaussianBlur(source, target, cv::Size(0, 0), sigma, sigma, cv::BORDER_REFLECT_101);
    });
}

extern "C" cvision_status cvision_image_warp_onto(const cvision_image_view *canvas, const cvision_image_view *image,
                                                  const double quad[8], cvision_image *out, cvision_error *error) {
    return guarded(error, [&] {
        require(out != nullptr, "no output image");
        *out = cvision_image{};
        const cv::Mat background = borrow(canvas, "canvas has no pixels");
        const cv::Mat source = borrow(image, "image has no pixels");
        require(quad != nullptr, "no quad");
        require(source.cols >= 2 && source.rows >= 2, "a warped image needs at least 2x2 pixels");
        for (int index = 0; index < 8; ++index) {
            require(std::isfinite(quad[index]) && std::fabs(quad[index]) < 1e6, "quad corners must be finite");
        }
        cv::Mat target = allocate(background.rows, background.cols, out);
        background.copyTo(target);

        // Only the quad's bounding box (inside the canvas) is warped: the transform is shifted so
        // that the box's corner is the origin.
        double minX = quad[0], maxX = quad[0], minY = quad[1], maxY = quad[1];
        for (int corner = 1; corner < 4; ++corner) {
            minX = std::min(minX, quad[2 * corner]);
            maxX = std::max(maxX, quad[2 * corner]);
            minY = std::min(minY, quad[2 * corner + 1]);
            maxY = std::max(maxY, quad[2 * corner + 1]);
        }
        const int left = std::max(0, static_cast<int>(std::floor(minX)) - 1);
        const int top = std::max(0, static_cast<int>(std::floor(minY)) - 1);
        const int right = std::min(background.cols, static_cast<int>(std::ceil(maxX)) + 2);
        const int bottom = std::min(background.rows, static_cast<int>(std::ceil(maxY)) + 2);
        if (left >= right || top >= bottom) {
            return;  // entirely outside the canvas
        }
        const float w = static_cast<float>(source.cols - 1);
        const float h = static_cast<float>(source.rows - 1);
        const cv::Point2f from[4] = {{0, 0}, {w, 0}, {w, h}, {0, h}};
        cv::Point2f to[4];
        for (int corner = 0; corner < 4; ++corner) {
            to[corner] = cv::Point2f(static_cast<float>(quad[2 * corner] - left),
                                     static_cast<float>(quad[2 * corner + 1] - top));
        }
        const cv::Mat transform = cv::getPerspectiveTransform(from, to);
        const cv::Size size(right - left, bottom - top);
        cv::Mat warped;
        // Replicated borders keep the edge pixels' colour; the mask alone decides what is painted,
        // so the quad's edge blends with the canvas instead of fading to black.
        cv::warpPerspective(source, warped, transform, size, cv::INTER_LINEAR, cv::BORDER_REPLICATE);
        const cv::Mat inside(source.rows, source.cols, CV_32FC1, cv::Scalar(1.0f));
        cv::Mat weight;
        cv::warpPerspective(inside, weight, transform, size, cv::INTER_LINEAR, cv::BORDER_CONSTANT, cv::Scalar(0));
        blend(warped, target(cv::Rect(left, top, size.width, size.height)), weight);
    });
}

extern "C" cvision_status cvision_image_paste(const cvision_image_view *canvas, const cvision_image_view *patch,
                                              int32_t x, int32_t y, cvision_paste_shape shape, double feather,
                                              double opacity, cvision_image *out, cvision_error *error) {
    return guarded(error, [&] {
        require(out != nullptr, "no output image");
        *out = cvision_image{};
        const cv::Mat background = borrow(canvas, "canvas has no pixels");
        const cv::Mat source = borrow(patch, "patch has no pixels");
        require(shape == CVISION_PASTE_RECTANGLE || shape == CVISION_PASTE_ELLIPSE, "unknown paste shape");
        require(std::isfinite(feather) && feather >= 0, "feather must be a non-negative number of pixels");
        require(std::isfinite(opacity) && opacity >= 0 && opacity <= 1, "opacity must be in 0...1");
        cv::Mat target = allocate(background.rows, background.cols, out);
        background.copyTo(target);

        // The part of the patch that lands on the canvas, in 64 bits so no position overflows.
        const int64_t left = std::max<int64_t>(0, x);
        const int64_t top = std::max<int64_t>(0, y);
        const int64_t right = std::min<int64_t>(background.cols, static_cast<int64_t>(x) + source.cols);
        const int64_t bottom = std::min<int64_t>(background.rows, static_cast<int64_t>(y) + source.rows);
        if (left >= right || top >= bottom || opacity == 0) {
            return;
        }
        const cv::Rect onCanvas(static_cast<int>(left), static_cast<int>(top), static_cast<int>(right - left),
                                static_cast<int>(bottom - top));
        const cv::Rect inPatch(static_cast<int>(left - x), static_cast<int>(top - y), onCanvas.width,
                               onCanvas.height);

        cv::Mat weight(onCanvas.height, onCanvas.width, CV_32FC1, cv::Scalar(static_cast<float>(opacity)));
        if (shape == CVISION_PASTE_ELLIPSE) {
            // Distance to the ellipse's edge measured along the shorter semi-axis, so `feather` is in
            // pixels there; the fade is a smoothstep, which leaves no visible ring.
            const double a = source.cols / 2.0;
            const double b = source.rows / 2.0;
            const double shorter = std::min(a, b);
            for (int row = 0; row < weight.rows; ++row) {
                auto *alpha = weight.ptr<float>(row);
                const double dy = (inPatch.y + row + 0.5 - b) / b;
                for (int column = 0; column < weight.cols; ++column) {
                    const double dx = (inPatch.x + column + 0.5 - a) / a;
                    const double inward = (1.0 - std::sqrt(dx * dx + dy * dy)) * shorter;
                    double t = feather > 0 ? inward / feather : (inward >= 0 ? 1.0 : 0.0);
                    t = std::clamp(t, 0.0, 1.0);
                    alpha[column] = static_cast<float>(opacity * t * t * (3.0 - 2.0 * t));
                }
            }
        }
        blend(source(inPatch), target(onCanvas), weight);
    });
}

extern "C" cvision_status cvision_image_adjust(const cvision_image_view *image, double brightness, double contrast,
                                               cvision_image *out, cvision_error *error) {
    return guarded(error, [&] {
        require(out != nullptr, "no output image");
        *out = cvision_image{};
        const cv::Mat source = borrow(image, "image has no pixels");
        require(std::isfinite(brightness) && std::isfinite(contrast), "brightness and contrast must be finite");
        require(contrast >= 0, "contrast must not be negative");
        cv::Mat target = allocate(source.rows, source.cols, out);
        // convertTo computes saturate(round(in * alpha + beta)).
        source.convertTo(target, CV_8UC3, contrast, 128.0 - 128.0 * contrast + brightness);
    });
}

extern "C" cvision_status cvision_image_add_glare(const cvision_image_view *image, double center_x,
                                                  double center_y, double radius, double strength,
                                                  cvision_image *out, cvision_error *error) {
    return guarded(error, [&] {
        require(out != nullptr, "no output image");
        *out = cvision_image{};
        const cv::Mat source = borrow(image, "image has no pixels");
        require(std::isfinite(center_x) && std::isfinite(center_y), "glare centre must be finite");
        require(std::isfinite(radius) && radius > 0, "glare radius must be positive");
        require(std::isfinite(strength) && strength >= 0 && strength <= 1, "glare strength must be in 0...1");
        cv::Mat target = allocate(source.rows, source.cols, out);
        source.copyTo(target);
        const int top = std::max(0, static_cast<int>(std::floor(center_y - radius)));
        const int bottom = std::min(source.rows, static_cast<int>(std::ceil(center_y + radius)) + 1);
        const int left = std::max(0, static_cast<int>(std::floor(center_x - radius)));
        const int right = std::min(source.cols, static_cast<int>(std::ceil(center_x + radius)) + 1);
        for (int row = top; row < bottom; ++row) {
            auto *pixels = target.ptr<uint8_t>(row);
            const double dy = (row - center_y) / radius;
            for (int column = left; column < right; ++column) {
                const double dx = (column - center_x) / radius;
                const double falloff = 1.0 - (dx * dx + dy * dy);
                if (falloff <= 0) {
                    continue;
                }
                const double added = strength * 255.0 * falloff * falloff;
                for (int channel = 0; channel < 3; ++channel) {
                    auto &sample = pixels[3 * column + channel];
                    sample = cv::saturate_cast<uint8_t>(sample + added);
                }
            }
        }
    });
}

extern "C" cvision_status cvision_image_add_noise(const cvision_image_view *image, double sigma, uint64_t seed,
                                                  cvision_image *out, cvision_error *error) {
    return guarded(error, [&] {
        require(out != nullptr, "no output image");
        *out = cvision_image{};
        const cv::Mat source = borrow(image, "image has no pixels");
        require(std::isfinite(sigma) && sigma >= 0 && sigma <= 128, "noise sigma must be in 0...128");
        cv::Mat target = allocate(source.rows, source.cols, out);
        if (sigma == 0) {
            source.copyTo(target);
            return;
        }
        // cv::RNG is a fixed multiply-with-carry generator: the same seed gives the same samples.
        cv::RNG generator(seed);
        cv::Mat noise(source.rows, source.cols, CV_16SC3);
        generator.fill(noise, cv::RNG::NORMAL, 0.0, sigma);
        cv::Mat wide;
        source.convertTo(wide, CV_16SC3);
        wide += noise;
        wide.convertTo(target, CV_8UC3);
    });
}

namespace {

/// Depth of the head model at a point, in pixels towards the camera: an ellipsoid (half-widths 0.62
/// and 0.85 face widths, 0.55 deep) with a nose ridge that rises to 0.13 face widths at the base of the
/// nose. `x` and `y` are in face widths from the face box's centre.
double headDepth(double x, double y) {
    const double e = 1 - (x / 0.62) * (x / 0.62) - ((y + 0.05) / 0.85) * ((y + 0.05) / 0.85);
    double depth = e > 0 ? 0.55 * std::sqrt(e) : 0;
    // The ridge runs from between the eyes (y -0.18) to the base of the nose (y 0.1), rising as it goes.
    if (y > -0.25 && y < 0.2) {
        const double along = y < 0.1 ? 0.35 + 0.65 * (y + 0.25) / 0.35 : 1 - (y - 0.1) / 0.1;
        depth += 0.13 * std::max(0.0, along) * std::exp(-0.5 * (x / 0.07) * (x / 0.07));
    }
    return depth;
}

} // namespace

extern "C" cvision_status cvision_image_turn_head(const cvision_image_view *image, const double face[4], double yaw,
                                                  double pitch, cvision_image *out, cvision_error *error) {
    return guarded(error, [&] {
        require(out != nullptr, "no output image");
        *out = cvision_image{};
        const cv::Mat source = borrow(image, "image has no pixels");
        require(face != nullptr, "no face box");
        for (int index = 0; index < 4; ++index) {
            require(std::isfinite(face[index]) && std::fabs(face[index]) < 1e6, "the face box must be finite");
        }
        const double width = face[2] - face[0];
        require(width >= 4 && face[3] - face[1] >= 4, "the face box is too small");
        require(std::isfinite(yaw) && std::isfinite(pitch) && std::fabs(yaw) <= 30 && std::fabs(pitch) <= 30,
                "head turns are limited to 30 degrees");
        const double cx = (face[0] + face[2]) / 2, cy = (face[1] + face[3]) / 2;
        const double a = yaw * M_PI / 180, b = pitch * M_PI / 180;
        cv::Mat mapX(source.rows, source.cols, CV_32FC1), mapY(source.rows, source.cols, CV_32FC1);
        for (int row = 0; row < source.rows; ++row) {
            auto *mx = mapX.ptr<float>(row);
            auto *my = mapY.ptr<float>(row);
            for (int column = 0; column < source.cols; ++column) {
                // Where in the photo the point seen here comes from: the forward projection (yaw, then
                // pitch, weak perspective) inverted by fixed-point iteration, which converges for the
                // modest turns allowed here.
                double x = column, y = row;
                for (int step = 0; step < 5; ++step) {
                    const double z = width * headDepth((x - cx) / width, (y - cy) / width);
                    x = cx + (column - cx - z * std::sin(a)) / std::cos(a);
                    const double turned = -(x - cx) * std::sin(a) + z * std::cos(a);
                    y = cy + (row - cy - turned * std::sin(b)) / std::cos(b);
                }
                mx[column] = static_cast<float>(x);
                my[column] = static_cast<float>(y);
            }
        }
        cv::Mat target = allocate(source.rows, source.cols, out);
        cv::remap(source, target, mapX, mapY, cv::INTER_LINEAR, cv::BORDER_REPLICATE);
    });
}

extern "C" cvision_status cvision_image_add_moire(const cvision_image_view *image, double period, double angle,
                                                  double strength, cvision_image *out, cvision_error *error) {
    return guarded(error, [&] {
        require(out != nullptr, "no output image");
        *out = cvision_image{};
        const cv::Mat source = borrow(image, "image has no pixels");
        require(std::isfinite(period) && period >= 2 && period <= 1000, "the moiré period must be 2...1000 pixels");
        require(std::isfinite(angle) && std::isfinite(strength) && strength >= 0 && strength <= 1,
                "the moiré strength must be 0...1");
        cv::Mat target = allocate(source.rows, source.cols, out);
        const double ux = std::cos(angle * M_PI / 180), uy = std::sin(angle * M_PI / 180);
        for (int row = 0; row < source.rows; ++row) {
            const auto *from = source.ptr<uint8_t>(row);
            auto *to = target.ptr<uint8_t>(row);
            for (int column = 0; column < source.cols; ++column) {
                // Two gratings a little apart in angle beat into the bands a camera sees on a screen;
                // the sub-pixel grid tints them (red and blue out of phase).
                const double s = (column * ux + row * uy) * 2 * M_PI / period;
                const double t = (column * uy - row * ux) * 2 * M_PI / (period * 1.7);
                const double wave = 0.6 * std::sin(s) + 0.4 * std::sin(t);
                const double gain[3] = {1 + strength * wave, 1 + strength * 0.6 * wave, 1 - strength * wave};
                for (int channel = 0; channel < 3; ++channel) {
                    to[3 * column + channel] = cv::saturate_cast<uint8_t>(from[3 * column + channel] * gain[channel]);
                }
            }
        }
    });
}

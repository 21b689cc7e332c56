// Screen and print cues around a face (presentation-attack detection's appearance part): straight
// edges framing the face, moiré in the face's colour, and specular glare on it.
#include <algorithm>
#include <cmath>
#include <vector>

#include <opencv2/core.hpp>
#include <opencv2/calib3d.hpp>
#include <opencv2/imgproc.hpp>
#include <opencv2/video/tracking.hpp>

#include "CImaging.h"
#include "CImagingGuard.hpp"

using cvision::guarded;
using cvision::require;

namespace {

/// Which sides of the face straight edges were found on: long lines running along the face's sides
/// (within 25 degrees of the box's axes), outside the face, overlapping its extent.
int framingSides(const cv::Mat &grey, const cv::Rect &face, double *length) {
    const double width = face.width;
    const double cx = face.x + width / 2, cy = face.y + face.height / 2.0;
    const cv::Rect around = cv::Rect(static_cast<int>(cx - 2.2 * width), static_cast<int>(cy - 2.2 * width),
                                     static_cast<int>(4.4 * width), static_cast<int>(4.6 * width)) &
                            cv::Rect(0, 0, grey.cols, grey.rows);
    if (around.width < 8 || around.height < 8) {
        return 0;
    }
    cv::Mat smooth, edges;
    cv::GaussianBlur(grey(around), smooth, cv::Size(5, 5), 1.2);
    cv::Canny(smooth, edges, 40, 120);
    std::vector<cv::Vec4i> lines;
    cv::HoughLinesP(edges, lines, 1, CV_PI / 180, 30, 0.6 * width, 4);
    bool sides[4] = {false, false, false, false};  // left, right, top, bottom
    *length = 0;
    const double left = face.x - around.x, right = face.x + face.width - around.x;
    const double top = face.y - around.y, bottom = face.y + face.height - around.y;
    for (const auto &line : lines) {
        const double x0 = line[0], y0 = line[1], x1 = line[2], y1 = line[3];
        const double dx = x1 - x0, dy = y1 - y0;
        const double span = std::hypot(dx, dy);
        const double mx = (x0 + x1) / 2, my = (y0 + y1) / 2;
        const bool vertical = std::fabs(dx) < std::tan(25 * CV_PI / 180) * std::fabs(dy);
        const bool horizontal = std::fabs(dy) < std::tan(25 * CV_PI / 180) * std::fabs(dx);
        bool counted = false;
        if (vertical && std::max(y0, y1) > top && std::min(y0, y1) < bottom) {
            if (mx < left - 0.05 * width) {
                sides[0] = counted = true;
            } else if (mx > right + 0.05 * width) {
                sides[1] = counted = true;
            }
        } else if (horizontal && std::max(x0, x1) > left && std::min(x0, x1) < right) {
            if (my < top - 0.05 * width) {
                sides[2] = counted = true;
            } else if (my > bottom + 0.05 * width) {
                sides[3] = counted = true;
            }
        }
        if (counted) {
            *length += span / width;
        }
    }
    return static_cast<int>(sides[0]) + sides[1] + sides[2] + sides[3];
}

/// How far the strongest periodic component of the face's red-minus-blue stands above the typical one,
/// between 0.08 and 0.45 cycles a pixel, after the face's own shading is taken away (a high-pass): a
/// screen's sub-pixel beat makes a sharp peak there, skin and paper do not.
double moirePeak(const cv::Mat &rgb, const cv::Rect &face) {
    const int size = face.width * 2 / 3;
    const cv::Rect inner =
        cv::Rect(face.x + face.width / 6, face.y + face.height / 6, size, size) & cv::Rect(0, 0, rgb.cols, rgb.rows);
    if (inner.width < 16 || inner.height < 16) {
        return 0;
    }
    cv::Mat chroma(inner.height, inner.width, CV_32FC1);
    for (int row = 0; row < inner.height; ++row) {
        const auto *pixel = rgb.ptr<uint8_t>(inner.y + row) + 3 * inner.x;
        auto *out = chroma.ptr<float>(row);
        for (int column = 0; column < inner.width; ++column) {
            out[column] = static_cast<float>(pixel[3 * column]) - static_cast<float>(pixel[3 * column + 2]);
        }
    }
    cv::Mat shading;
    cv::GaussianBlur(chroma, shading, cv::Size(0, 0), 3);
    chroma -= shading;
    cv::Mat window;
    cv::createHanningWindow(window, chroma.size(), CV_32F);
    chroma = chroma.mul(window);
    cv::Mat spectrum;
    cv::dft(chroma, spectrum, cv::DFT_COMPLEX_OUTPUT);
    std::vector<float> band;
    float peak = 0;
    for (int v = 0; v < spectrum.rows; ++v) {
        const double fv = (v <= spectrum.rows / 2 ? v : v - spectrum.rows) / static_cast<double>(spectrum.rows);
        for (int u = 0; u <= spectrum.cols / 2; ++u) {
            const double fu = u / static_cast<double>(spectrum.cols);
            const double radius = std::hypot(fu, fv);
            if (radius < 0.08 || radius > 0.45) {
                continue;
            }
            const auto value = spectrum.at<cv::Vec2f>(v, u);
            const float magnitude = std::hypot(value[0], value[1]);
            band.push_back(magnitude);
            peak = std::max(peak, magnitude);
        }
    }
    if (band.size() < 16) {
        return 0;
    }
    std::nth_element(band.begin(), band.begin() + band.size() / 2, band.end());
    const float median = band[band.size() / 2];
    return median > 1e-3f ? peak / median : 0;
}

/// The share of the face's pixels that are blown out in every channel (a light's reflection on glass
/// or glossy paper; skin under classroom light seldom saturates).
double glareShare(const cv::Mat &rgb, const cv::Rect &face) {
    const cv::Rect inside = face & cv::Rect(0, 0, rgb.cols, rgb.rows);
    if (inside.area() == 0) {
        return 0;
    }
    int saturated = 0;
    for (int row = inside.y; row < inside.y + inside.height; ++row) {
        const auto *pixel = rgb.ptr<uint8_t>(row);
        for (int column = inside.x; column < inside.x + inside.width; ++column) {
            const uint8_t *p = pixel + 3 * column;
            saturated += std::min({p[0], p[1], p[2]}) >= 245;
        }
    }
    return static_cast<double>(saturated) / inside.area();
}

} // namespace

extern "C" cvision_status cvision_measure_presentation_cues(const cvision_image_view *image, const int32_t box[4],
                                                    cvision_presentation_cues *out, cvision_error *error) {
    return guarded(error, [&] {
        require(out != nullptr, "no output");
        *out = cvision_presentation_cues{};
        require(image != nullptr && image->pixels != nullptr, "image has no pixels");
        require(image->width > 0 && image->height > 0, "image has an empty size");
        require(image->stride >= 3 * image->width, "image stride is shorter than a row");
        require(box != nullptr, "no face box");
        const cv::Mat rgb(image->height, image->width, CV_8UC3, const_cast<uint8_t *>(image->pixels),
                          static_cast<size_t>(image->stride));
        const cv::Rect face(box[0], box[1], box[2] - box[0] + 1, box[3] - box[1] + 1);
        require(face.width >= 8 && face.height >= 8 && face.width < 100000 && face.height < 100000,
                "the face box is too small");
        require((face & cv::Rect(0, 0, rgb.cols, rgb.rows)).area() > 0, "the face box is outside the image");
        cv::Mat grey;
        cv::cvtColor(rgb, grey, cv::COLOR_RGB2GRAY);
        double length = 0;
        out->framing_sides = framingSides(grey, face, &length);
        out->framing_length = length;
        out->moire = moirePeak(rgb, face);
        out->glare = glareShare(rgb, face);
    });
}

extern "C" cvision_status cvision_planar_fit(const uint8_t *first, const uint8_t *second, int32_t width,
                                             int32_t height, const int32_t region[4], cvision_planar_fit_result *out,
                                             cvision_error *error) {
    return guarded(error, [&] {
        require(out != nullptr, "no output");
        *out = cvision_planar_fit_result{};
        require(first != nullptr && second != nullptr, "an image has no pixels");
        require(width >= 16 && height >= 16 && width <= 4096 && height <= 4096, "the patches must be 16...4096 pixels");
        require(region != nullptr, "no region");
        const cv::Mat wholeA(height, width, CV_8UC1, const_cast<uint8_t *>(first));
        const cv::Mat wholeB(height, width, CV_8UC1, const_cast<uint8_t *>(second));
        const cv::Rect face = cv::Rect(region[0], region[1], region[2] - region[0] + 1, region[3] - region[1] + 1) &
                              cv::Rect(0, 0, width, height);
        require(face.width >= 8 && face.height >= 8, "the region is too small");
        // Only the face and a margin for its motion are tracked (and pyramids built for).
        const int margin = face.width / 2;
        const cv::Rect around =
            cv::Rect(face.x - margin, face.y - margin, face.width + 2 * margin, face.height + 2 * margin) &
            cv::Rect(0, 0, width, height);
        const cv::Mat a = wholeA(around), b = wholeB(around);
        const cv::Rect inside = face - around.tl();
        cv::Mat mask = cv::Mat::zeros(a.rows, a.cols, CV_8UC1);
        mask(inside).setTo(255);
        std::vector<cv::Point2f> from;
        cv::goodFeaturesToTrack(a, from, 120, 0.01, std::max(3.0, inside.width / 24.0), mask, 5);
        if (from.size() < 12) {
            return;  // too little texture to say anything
        }
        std::vector<cv::Point2f> to;
        std::vector<uint8_t> found;
        std::vector<float> errors;
        cv::calcOpticalFlowPyrLK(a, b, from, to, found, errors, cv::Size(15, 15), 3);
        // Tracked both ways: a point that does not come back to where it started is dropped.
        std::vector<cv::Point2f> back;
        std::vector<uint8_t> returned;
        cv::calcOpticalFlowPyrLK(b, a, to, back, returned, errors, cv::Size(15, 15), 3);
        std::vector<cv::Point2f> p, q;
        for (size_t index = 0; index < from.size(); ++index) {
            if (found[index] && returned[index] && cv::norm(back[index] - from[index]) < 0.5) {
                p.push_back(from[index]);
                q.push_back(to[index]);
            }
        }
        out->points = static_cast<int32_t>(p.size());
        if (p.size() < 12) {
            return;
        }
        // The plane that explains the motion best (least squares over every point: a head's parallax
        // spreads over all of them).
        const cv::Mat h = cv::findHomography(p, q, 0);
        if (h.empty()) {
            return;
        }
        std::vector<cv::Point2f> mapped;
        cv::perspectiveTransform(p, mapped, h);
        double squares = 0, motion = 0;
        for (size_t index = 0; index < p.size(); ++index) {
            const cv::Point2f d = q[index] - mapped[index];
            squares += d.x * d.x + d.y * d.y;
        }
        // How far the plane's own motion is from moving, scaling and rolling the picture: its affine
        // part's anisotropy and shear, and its perspective, at the region's size.
        const double a11 = h.at<double>(0, 0), a12 = h.at<double>(0, 1), a21 = h.at<double>(1, 0),
                     a22 = h.at<double>(1, 1);
        const double similarity = std::hypot(a11 - a22, a12 + a21);
        const double perspective = std::hypot(h.at<double>(2, 0), h.at<double>(2, 1)) * inside.width;
        motion = similarity / std::max(1e-9, std::hypot(a11 + a22, a12 - a21)) * 2 + perspective;
        out->residual = std::sqrt(squares / p.size());
        out->distortion = motion;
    });
}

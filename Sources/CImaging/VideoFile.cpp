// Video files through OpenCV's VideoCapture (FFmpeg on Debian), for replaying recorded door
// footage through the same pipeline as the camera.
#include <cstdio>
#include <memory>
#include <string>

#include <opencv2/imgproc.hpp>
#include <opencv2/videoio.hpp>

#include "CImaging.h"
#include "CImagingGuard.hpp"

using cvision::failure;
using cvision::guarded;
using cvision::require;

struct cvision_video {
    cv::VideoCapture capture;
    cv::Mat bgr;
};

extern "C" cvision_status cvision_video_open(const char *path, cvision_video **out, cvision_video_info *info,
                                             cvision_error *error) {
    return guarded(error, [&] {
        require(path != nullptr && out != nullptr && info != nullptr, "null argument");
        *out = nullptr;
        if (std::FILE *probe = std::fopen(path, "rb")) {
            std::fclose(probe);
        } else {
            throw failure(CVISION_ERR_IO, "cannot open the file");
        }
        auto video = std::make_unique<cvision_video>();
        if (!video->capture.open(path, cv::CAP_ANY) || !video->capture.isOpened()) {
            throw failure(CVISION_ERR_DECODE, "not a video file OpenCV can read");
        }
        info->width = static_cast<int32_t>(video->capture.get(cv::CAP_PROP_FRAME_WIDTH));
        info->height = static_cast<int32_t>(video->capture.get(cv::CAP_PROP_FRAME_HEIGHT));
        info->fps = video->capture.get(cv::CAP_PROP_FPS);
        info->frame_count = static_cast<int64_t>(video->capture.get(cv::CAP_PROP_FRAME_COUNT));
        *out = video.release();
    });
}

extern "C" cvision_status cvision_video_read(cvision_video *video, cvision_image *out, int *end,
                                             cvision_error *error) {
    return guarded(error, [&] {
        require(video != nullptr && out != nullptr && end != nullptr, "null argument");
        *out = cvision_image{};
        *end = 0;
        if (!video->capture.read(video->bgr) || video->bgr.empty()) {
            *end = 1;
            return;
        }
        cv::Mat bgr8;
        if (video->bgr.type() == CV_8UC3) {
            bgr8 = video->bgr;
        } else if (video->bgr.type() == CV_8UC1) {
            cv::cvtColor(video->bgr, bgr8, cv::COLOR_GRAY2BGR);
        } else {
            throw failure(CVISION_ERR_DECODE, "the video has frames of an unsupported pixel type");
        }
        const size_t bytes = static_cast<size_t>(bgr8.cols) * static_cast<size_t>(bgr8.rows) * 3;
        auto *pixels = static_cast<uint8_t *>(std::malloc(bytes));
        if (pixels == nullptr) {
            throw std::bad_alloc();
        }
        cv::Mat rgb(bgr8.rows, bgr8.cols, CV_8UC3, pixels);
        cv::cvtColor(bgr8, rgb, cv::COLOR_BGR2RGB);
        out->pixels = pixels;
        out->width = bgr8.cols;
        out->height = bgr8.rows;
    });
}

extern "C" void cvision_video_close(cvision_video *video) { delete video; }

struct cvision_video_writer {
    cv::VideoWriter writer;
    cv::Size size;
};

extern "C" cvision_status cvision_video_writer_open(const char *path, double fps, int32_t width, int32_t height,
                                                    cvision_video_writer **out, cvision_error *error) {
    return guarded(error, [&] {
        require(path != nullptr && out != nullptr, "null argument");
        require(fps > 0 && width > 0 && height > 0, "a video needs a positive frame rate and size");
        *out = nullptr;
        auto video = std::make_unique<cvision_video_writer>();
        video->size = cv::Size(width, height);
        if (!video->writer.open(path, cv::CAP_OPENCV_MJPEG, cv::VideoWriter::fourcc('M', 'J', 'P', 'G'), fps,
                                video->size, true)) {
            throw failure(CVISION_ERR_IO, "cannot create the video file");
        }
        *out = video.release();
    });
}

extern "C" cvision_status cvision_video_writer_write(cvision_video_writer *writer, const cvision_image_view *image,
                                                     cvision_error *error) {
    return guarded(error, [&] {
        require(writer != nullptr && image != nullptr && image->pixels != nullptr, "null argument");
        require(image->width == writer->size.width && image->height == writer->size.height,
                "the frame's size differs from the video's");
        require(image->stride >= 3 * image->width, "image stride is shorter than a row");
        const cv::Mat rgb(image->height, image->width, CV_8UC3, const_cast<uint8_t *>(image->pixels),
                          static_cast<size_t>(image->stride));
        cv::Mat bgr;
        cv::cvtColor(rgb, bgr, cv::COLOR_RGB2BGR);
        writer->writer.write(bgr);
    });
}

extern "C" void cvision_video_writer_close(cvision_video_writer *writer) { delete writer; }

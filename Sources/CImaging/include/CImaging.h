// The imaging core's C interface: OpenCV (image decoding, encoding and resizing, the camera's pixel
// conversion, video files, and the compositing of synthetic footage) behind plain C types. No C++ type and
// no C++ exception crosses this header: every entry point returns a status and, on failure, fills a
// `cvision_error` with a message. The face core (CVision.h) builds on these types; both keep the prefix
// `cvision_`, one C interface in two libraries.
#ifndef CIMAGING_H
#define CIMAGING_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/// Result of every fallible entry point.
typedef enum cvision_status {
    CVISION_OK = 0,
    /// A file could not be opened or read.
    CVISION_ERR_IO = 1,
    /// The bytes are not an image OpenCV can decode.
    CVISION_ERR_DECODE = 2,
    /// A model file is missing, truncated or of the wrong kind.
    CVISION_ERR_MODEL = 3,
    /// A caller passed an invalid argument (null pointer, empty image, bad size).
    CVISION_ERR_ARGUMENT = 4,
    /// Memory could not be allocated.
    CVISION_ERR_NO_MEMORY = 5,
    /// Any other failure inside dlib or OpenCV.
    CVISION_ERR_INTERNAL = 6,
} cvision_status;

/// What went wrong, for a human.
typedef struct cvision_error {
    char message[512];
} cvision_error;

/// A read-only view of 8-bit interleaved RGB pixels owned by the caller.
typedef struct cvision_image_view {
    const uint8_t *pixels;
    int32_t width;
    int32_t height;
    /// Bytes from the start of one row to the start of the next (at least 3 * width).
    int32_t stride;
} cvision_image_view;

/// 8-bit interleaved RGB pixels allocated by the core; release with `cvision_image_free`.
typedef struct cvision_image {
    uint8_t *pixels;
    int32_t width;
    int32_t height;
} cvision_image;

/// A video file being read (OpenCV's VideoCapture).
typedef struct cvision_video cvision_video;

/// What a video file says about itself.
typedef struct cvision_video_info {
    int32_t width;
    int32_t height;
    /// Frames per second as stored in the file; 0 when unknown.
    double fps;
    /// Frame count as stored in the file; 0 when unknown (it is often an estimate).
    int64_t frame_count;
} cvision_video_info;

/// Opens a video file.
cvision_status cvision_video_open(const char *path, cvision_video **out, cvision_video_info *info,
                                  cvision_error *error);

/// Reads the next frame as RGB into `out` (release with `cvision_image_free`); `*end` is set to 1,
/// and `out` left empty, after the last frame or at a frame that cannot be decoded.
cvision_status cvision_video_read(cvision_video *video, cvision_image *out, int *end, cvision_error *error);

void cvision_video_close(cvision_video *video);

/// A video file being written (Motion-JPEG in AVI, which OpenCV writes without FFmpeg).
typedef struct cvision_video_writer cvision_video_writer;

/// Creates an MJPEG AVI file of frames of `width`x`height` at `fps`.
cvision_status cvision_video_writer_open(const char *path, double fps, int32_t width, int32_t height,
                                         cvision_video_writer **out, cvision_error *error);

/// Appends an RGB frame of the writer's size.
cvision_status cvision_video_writer_write(cvision_video_writer *writer, const cvision_image_view *image,
                                          cvision_error *error);

/// Finishes the file and releases the writer.
void cvision_video_writer_close(cvision_video_writer *writer);

/// Decodes a JPEG or PNG (or anything else OpenCV reads) to 8-bit RGB: alpha is dropped, grey is
/// expanded, 16-bit samples are scaled to 8 bits, and EXIF orientation is ignored (as the reference
/// decoder does).
cvision_status cvision_image_decode(const uint8_t *data, size_t size, cvision_image *out, cvision_error *error);

/// Resizes an RGB view into a new image (area averaging when shrinking, bilinear when enlarging).
cvision_status cvision_image_resize(const cvision_image_view *image, int32_t width, int32_t height,
                                    cvision_image *out, cvision_error *error);

/// Bytes made by the core; release with `cvision_bytes_free`.
typedef struct cvision_bytes {
    uint8_t *data;
    size_t size;
} cvision_bytes;

/// Encodes an RGB view as PNG.
cvision_status cvision_image_encode_png(const cvision_image_view *image, cvision_bytes *out, cvision_error *error);

/// Releases bytes made by the core. Safe on zeroed bytes.
void cvision_bytes_free(cvision_bytes *bytes);

/// Converts a YUYV 4:2:2 frame (BT.601 limited range, as webcams send it) to packed RGB in
/// `rgb_out` (`width * height * 3` bytes, allocated by the caller), with OpenCV's SIMD code.
cvision_status cvision_yuyv_to_rgb(const uint8_t *yuyv, int32_t width, int32_t height, int32_t stride,
                                   uint8_t *rgb_out, cvision_error *error);

/// Releases the pixels of an image made by the core. Safe on a zeroed image.
void cvision_image_free(cvision_image *image);

#ifdef __cplusplus
}
#endif

#endif

// ---------------------------------------------------------------------------------------------------
// Compositing (Compositing.cpp): image operations for making synthetic door footage (the scenario
// video) out of fixture photos. Each takes caller-owned views and returns a new image made by the core
// (release with `cvision_image_free`); none changes its inputs.
// ---------------------------------------------------------------------------------------------------
#ifndef CIMAGING_COMPOSITING_H
#define CIMAGING_COMPOSITING_H

#ifdef __cplusplus
extern "C" {
#endif

/// Blurs with a Gaussian of standard deviation `sigma` pixels (0 < sigma <= 100; the kernel spans
/// about 3 sigma each side; borders are reflected).
cvision_status cvision_image_gaussian_blur(const cvision_image_view *image, double sigma, cvision_image *out,
                                           cvision_error *error);

/// Draws `image` onto a copy of `canvas` through the perspective transform that takes its corner
/// pixels' centres to `quad` (x, y pairs: top-left, top-right, bottom-right, bottom-left, in canvas
/// pixel coordinates). Bilinear; only the inside of the quad is painted (its edge antialiased), and
/// parts outside the canvas are clipped.
cvision_status cvision_image_warp_onto(const cvision_image_view *canvas, const cvision_image_view *image,
                                       const double quad[8], cvision_image *out, cvision_error *error);

/// The shape of a pasted patch.
typedef enum cvision_paste_shape {
    /// The whole rectangle.
    CVISION_PASTE_RECTANGLE = 0,
    /// The ellipse inscribed in the patch, fading to nothing over `feather` pixels inside its edge.
    CVISION_PASTE_ELLIPSE = 1,
} cvision_paste_shape;

/// Blends `patch` onto a copy of `canvas` with its top-left corner at (`x`, `y`), which may lie outside
/// the canvas (the patch is clipped). `opacity` (0...1) scales the blend everywhere.
cvision_status cvision_image_paste(const cvision_image_view *canvas, const cvision_image_view *patch, int32_t x,
                                   int32_t y, cvision_paste_shape shape, double feather, double opacity,
                                   cvision_image *out, cvision_error *error);

/// out = saturate((in - 128) * contrast + 128 + brightness), on every channel, rounded.
cvision_status cvision_image_adjust(const cvision_image_view *image, double brightness, double contrast,
                                    cvision_image *out, cvision_error *error);

/// Adds a white glare: `strength * 255 * (1 - (r / radius)^2)^2` on every channel within `radius` of
/// (`center_x`, `center_y`), saturated.
cvision_status cvision_image_add_glare(const cvision_image_view *image, double center_x, double center_y,
                                       double radius, double strength, cvision_image *out, cvision_error *error);

/// Adds Gaussian noise of standard deviation `sigma` to every sample, saturated, drawn from OpenCV's
/// generator seeded with `seed`: the same seed gives the same noise on every run.
cvision_status cvision_image_add_noise(const cvision_image_view *image, double sigma, uint64_t seed,
                                       cvision_image *out, cvision_error *error);

/// The face in `image` as if the head had turned by `yaw` degrees (positive: its nose to the image's
/// right) and `pitch` degrees (positive: its nose down), at most 30 each: every point is moved by a
/// rounded head model's depth (an ellipsoid with a nose ridge, scaled to the face box `face`: left, top,
/// right, bottom) under weak perspective. Points nearer the camera move further, so the eyes, the nose
/// and the face's outline shift against each other as a real head's do; a flat picture's never do.
cvision_status cvision_image_turn_head(const cvision_image_view *image, const double face[4], double yaw,
                                       double pitch, cvision_image *out, cvision_error *error);

/// What the appearance of a face and its surroundings says about a screen or a print held up to the
/// camera (PresentationCues.cpp).
typedef struct cvision_presentation_cues {
    /// Sides of the face (0...4: left, right, above, below) along which a long straight edge runs, as a
    /// phone's bezel or a photo's paper edge does.
    int32_t framing_sides;
    /// Those edges' total length, in face widths.
    double framing_length;
    /// The strongest periodic component of the face's red-minus-blue over the typical one (moiré).
    double moire;
    /// The share of the face box's pixels blown out in every channel (glare on glass or glossy paper).
    double glare;
} cvision_presentation_cues;

/// Measures the screen and print cues of the face in `box` (left, top, right, bottom, inclusive).
cvision_status cvision_measure_presentation_cues(const cvision_image_view *image, const int32_t box[4],
                                                 cvision_presentation_cues *out, cvision_error *error);

/// How well one plane explains a face's motion between two frames (PresentationCues.cpp).
typedef struct cvision_planar_fit_result {
    /// Points tracked both ways between the frames (fewer than 12: nothing was measured).
    int32_t points;
    /// Root-mean-square distance, in pixels, between where the points went and where the best
    /// homography puts them: a flat picture's points follow one homography, a head's do not (parallax).
    double residual;
    /// How much that homography does besides moving, scaling and rolling (anisotropy, shear,
    /// perspective), relative: a picture being tilted shows it.
    double distortion;
} cvision_planar_fit_result;

/// Tracks corners of `region` (left, top, right, bottom, inclusive) of the grey image `first` into
/// `second` (the same size, `width` bytes a row), forwards and back (Lucas-Kanade), and fits one
/// homography to the motion of those that return.
cvision_status cvision_planar_fit(const uint8_t *first, const uint8_t *second, int32_t width, int32_t height,
                                  const int32_t region[4], cvision_planar_fit_result *out, cvision_error *error);

/// Multiplies the image by the beat pattern a camera sees when it films a screen (moiré): two gratings,
/// `period` pixels (2...1000) along `angle` degrees and 1.7 times that across it, tinted red against
/// blue, with `strength` 0...1.
cvision_status cvision_image_add_moire(const cvision_image_view *image, double period, double angle,
                                       double strength, cvision_image *out, cvision_error *error);

#ifdef __cplusplus
}
#endif

#endif

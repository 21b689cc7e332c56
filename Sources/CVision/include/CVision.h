// The face core's C interface: dlib (face detection, landmarks, descriptors) behind opaque handles, over
// the imaging core's images (CImaging.h). No C++ type and no C++ exception crosses this header:
// every entry point returns a status and, on failure, fills a `cvision_error` with a message.
#ifndef CVISION_H
#define CVISION_H

#include <stddef.h>
#include <stdint.h>

#include "CImaging.h"

#ifdef __cplusplus
extern "C" {
#endif

/// dlib's rectangle: right and bottom inclusive, coordinates may lie outside the image.
typedef struct cvision_rect {
    int64_t left;
    int64_t top;
    int64_t right;
    int64_t bottom;
} cvision_rect;

/// A detected face: its box and the detector's score.
typedef struct cvision_detection {
    cvision_rect box;
    double score;
} cvision_detection;

typedef struct cvision_point {
    int64_t x;
    int64_t y;
} cvision_point;

/// Number of points of the 5-point landmark model.
#define CVISION_LANDMARK_COUNT 5
/// Length of a face descriptor.
#define CVISION_DESCRIPTOR_LENGTH 128

/// The 5 landmarks of one face, in dlib's part order, and the box they were predicted in.
typedef struct cvision_landmarks {
    cvision_rect box;
    cvision_point points[CVISION_LANDMARK_COUNT];
} cvision_landmarks;

/// Models loaded once and shared, read-only, by any number of engines on any threads.
typedef struct cvision_models cvision_models;

/// Per-thread working state: a face detector and a descriptor network of its own. One engine must
/// be used by one thread at a time; make one engine per worker thread.
typedef struct cvision_engine cvision_engine;

/// Loads the 5-point shape predictor and the ResNet v1 descriptor network from dlib's files.
cvision_status cvision_models_load(const char *shape_predictor_path, const char *recognition_model_path,
                                   cvision_models **out, cvision_error *error);

/// Releases models. Every engine made from them must have been freed first.
void cvision_models_free(cvision_models *models);

/// Makes an engine that uses `models`, which must outlive it.
cvision_status cvision_engine_create(const cvision_models *models, cvision_engine **out, cvision_error *error);

void cvision_engine_free(cvision_engine *engine);

/// Runs dlib's HOG frontal face detector after `upsample` pyramid-up steps and maps boxes back to
/// the image's coordinates, as dlib's Python binding does. The detections, best first, stay valid
/// until the next call on the same engine.
cvision_status cvision_detect(cvision_engine *engine, const cvision_image_view *image, int32_t upsample,
                              const cvision_detection **detections, size_t *count, cvision_error *error);

/// Predicts the 5 landmarks of each box.
cvision_status cvision_predict_landmarks(cvision_engine *engine, const cvision_image_view *image,
                                 const cvision_rect *boxes, size_t count, cvision_landmarks *out,
                                 cvision_error *error);

/// Extracts a 150 px chip (padding 0.25) per face and computes the descriptors in one batch, with the
/// network's forward pass written for this core (Descriptor.hpp) over dlib's weights.
/// `out` receives `count * CVISION_DESCRIPTOR_LENGTH` floats.
cvision_status cvision_encode(cvision_engine *engine, const cvision_image_view *image,
                              const cvision_landmarks *faces, size_t count, float *out, cvision_error *error);

/// The same descriptors through dlib's own forward pass of the network (slower: the reference that the
/// descriptor pass of `cvision_encode` is tested and measured against). The engine copies the network
/// on its first call.
cvision_status cvision_encode_dlib(cvision_engine *engine, const cvision_image_view *image,
                                   const cvision_landmarks *faces, size_t count, float *out, cvision_error *error);

/// Measurements of one face for the quality gates, taken on its aligned 150 px chip (the crop the
/// descriptor sees), so that they do not depend on the face's size in the frame.
typedef struct cvision_face_quality {
    /// Mean grey level of the chip's centre (0...255): low means a dark frame.
    double brightness;
    /// Standard deviation of the grey level of the chip's centre: low means a washed-out face.
    double contrast;
    /// Variance of the Laplacian of the chip's centre: low means a blurred face.
    double sharpness;
} cvision_face_quality;

/// Measures brightness, contrast and sharpness of each face (`out` receives `count` results).
cvision_status cvision_measure_faces(const cvision_image_view *image, const cvision_landmarks *faces, size_t count,
                                     cvision_face_quality *out, cvision_error *error);

/// Sets how many threads OpenBLAS uses for each descriptor (no effect with another BLAS). A process
/// that runs one descriptor per core on several workers wants 1; returns 1 when OpenBLAS took it.
int cvision_set_blas_threads(int32_t threads);

/// The BLAS library the process uses for the descriptor network (e.g. "OpenBLAS 0.3.21 ..."), or
/// "reference" when it is Netlib's reference BLAS, which makes descriptors about ten times slower.
const char *cvision_blas_description(void);

/// The file of the shared library that `sgemm_` resolves to in this process (Debian's alternatives
/// choose which libblas.so.3 that is), with symbolic links resolved; "" when it cannot be told.
const char *cvision_blas_library(void);

/// 1 when the core was compiled with AVX instructions, which the CPU must then support.
int cvision_built_with_avx(void);

#ifdef __cplusplus
}
#endif

#endif

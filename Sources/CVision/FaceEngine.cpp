// Face detection, landmarks and descriptors through dlib, following the steps of dlib's Python
// binding (which face_recognition calls) so that results equal the reference's.
#include <dlfcn.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include <dlib/image_processing.h>
#include <dlib/image_processing/frontal_face_detector.h>
#include <dlib/image_transforms.h>
#include <opencv2/core.hpp>
#include <opencv2/imgproc.hpp>

#include "CVision.h"
#include "Descriptor.hpp"
#include "Guard.hpp"
#include "RGBView.hpp"
#include "ResNet.hpp"

using cvision::failure;
using cvision::guarded_dlib;
using cvision::require;

struct cvision_models {
    dlib::shape_predictor predictor;
    // dlib's network as read from the file: the engines copy it only to run dlib's own forward pass
    // (cvision_encode_dlib), which writes into its layers' tensors.
    cvision::resnet::network network;
    // Its weights as the descriptor pass (Descriptor.hpp) reads them, shared read-only by every engine.
    std::unique_ptr<cvision::descriptor::weights> weights;
};

struct cvision_engine {
    const cvision_models *models;
    dlib::frontal_face_detector detector;
    cvision::descriptor::runner descriptor;
    std::unique_ptr<cvision::resnet::network> network; // made on the first cvision_encode_dlib
    std::vector<dlib::rect_detection> raw;
    std::vector<cvision_detection> detections;

    explicit cvision_engine(const cvision_models *m) : models(m), descriptor(*m->weights) {}
};

namespace {

/// The most pyramid-up steps accepted: each one quadruples the pixels the detector scans.
constexpr int32_t max_upsample = 4;

/// Padding around the face in a chip, as dlib's face recognition example and binding use.
constexpr double chip_padding = 0.25;

/// Batch size of the descriptor network, as dlib's Python binding uses.
constexpr size_t network_batch = 16;

template <typename Model> void load_model(const char *path, const char *what, Model &model) {
    require(path != nullptr, "no model path");
    std::ifstream probe(path, std::ios::binary);
    if (!probe) {
        throw failure(CVISION_ERR_MODEL,
                      std::string("cannot open ") + what + " " + path + ": " + std::strerror(errno));
    }
    probe.close();
    try {
        dlib::deserialize(path) >> model;
    } catch (const std::exception &e) {
        throw failure(CVISION_ERR_MODEL, std::string(path) + " is not a valid " + what + ": " + e.what());
    }
}

dlib::rectangle to_dlib(const cvision_rect &r) { return dlib::rectangle(r.left, r.top, r.right, r.bottom); }

cvision_rect from_dlib(const dlib::rectangle &r) { return cvision_rect{r.left(), r.top(), r.right(), r.bottom()}; }

} // namespace

extern "C" cvision_status cvision_models_load(const char *shape_predictor_path, const char *recognition_model_path,
                                              cvision_models **out, cvision_error *error) {
    return guarded_dlib(error, [&] {
        require(out != nullptr, "no output handle");
        *out = nullptr;
        auto models = std::make_unique<cvision_models>();
        load_model(shape_predictor_path, "shape predictor", models->predictor);
        if (models->predictor.num_parts() != CVISION_LANDMARK_COUNT) {
            throw failure(CVISION_ERR_MODEL, std::string(shape_predictor_path) + " predicts " +
                                                 std::to_string(models->predictor.num_parts()) +
                                                 " landmarks; the 5-point model is needed");
        }
        load_model(recognition_model_path, "face recognition network", models->network);
        try {
            models->weights = std::make_unique<cvision::descriptor::weights>(models->network);
        } catch (const failure &f) {
            throw failure(CVISION_ERR_MODEL,
                          std::string(recognition_model_path) + " is not the ResNet v1 network: " + f.what());
        }
        *out = models.release();
    });
}

extern "C" void cvision_models_free(cvision_models *models) { delete models; }

extern "C" cvision_status cvision_engine_create(const cvision_models *models, cvision_engine **out,
                                                cvision_error *error) {
    return guarded_dlib(error, [&] {
        require(out != nullptr, "no output handle");
        *out = nullptr;
        require(models != nullptr, "no models");
        auto engine = std::make_unique<cvision_engine>(models);
        engine->detector = dlib::get_frontal_face_detector();
        *out = engine.release();
    });
}

extern "C" void cvision_engine_free(cvision_engine *engine) { delete engine; }

extern "C" cvision_status cvision_detect(cvision_engine *engine, const cvision_image_view *image, int32_t upsample,
                                         const cvision_detection **detections, size_t *count, cvision_error *error) {
    return guarded_dlib(error, [&] {
        require(engine != nullptr && detections != nullptr && count != nullptr, "null argument");
        *detections = nullptr;
        *count = 0;
        require(upsample >= 0 && upsample <= max_upsample, "upsample must be between 0 and 4");
        const auto view = cvision::make_view(image);
        engine->raw.clear();
        if (upsample == 0) {
            engine->detector(view, engine->raw, 0.0);
        } else {
            // Enlarge, detect, then map the boxes back down with the same pyramid, as dlib's
            // Python binding does; this rounding is what makes boxes equal the reference's.
            dlib::pyramid_down<2> pyramid;
            dlib::array2d<dlib::rgb_pixel> enlarged;
            dlib::pyramid_up(view, enlarged, pyramid);
            for (int32_t step = 1; step < upsample; ++step) {
                dlib::pyramid_up(enlarged);
            }
            engine->detector(enlarged, engine->raw, 0.0);
            for (auto &d : engine->raw) {
                d.rect = pyramid.rect_down(d.rect, static_cast<unsigned int>(upsample));
            }
        }
        engine->detections.clear();
        for (const auto &d : engine->raw) {
            engine->detections.push_back(cvision_detection{from_dlib(d.rect), d.detection_confidence});
        }
        *detections = engine->detections.data();
        *count = engine->detections.size();
    });
}

extern "C" cvision_status cvision_predict_landmarks(cvision_engine *engine, const cvision_image_view *image,
                                            const cvision_rect *boxes, size_t count, cvision_landmarks *out,
                                            cvision_error *error) {
    return guarded_dlib(error, [&] {
        require(engine != nullptr, "no engine");
        require(count == 0 || (boxes != nullptr && out != nullptr), "null argument");
        const auto view = cvision::make_view(image);
        for (size_t i = 0; i < count; ++i) {
            const auto shape = engine->models->predictor(view, to_dlib(boxes[i]));
            out[i].box = boxes[i];
            for (unsigned long p = 0; p < CVISION_LANDMARK_COUNT; ++p) {
                out[i].points[p] = cvision_point{shape.part(p).x(), shape.part(p).y()};
            }
        }
    });
}

namespace {

/// The 150 px chip of each face, aligned on its landmarks with dlib's padding.
dlib::array<dlib::matrix<dlib::rgb_pixel>> face_chips(const cvision_image_view *image, const cvision_landmarks *faces,
                                                      size_t count) {
    const auto view = cvision::make_view(image);
    std::vector<dlib::chip_details> details;
    details.reserve(count);
    for (size_t i = 0; i < count; ++i) {
        std::vector<dlib::point> parts;
        for (const auto &p : faces[i].points) {
            parts.emplace_back(p.x, p.y);
        }
        const dlib::full_object_detection shape(to_dlib(faces[i].box), parts);
        details.push_back(dlib::get_face_chip_details(shape, cvision::resnet::chip_size, chip_padding));
    }
    dlib::array<dlib::matrix<dlib::rgb_pixel>> chips;
    dlib::extract_image_chips(view, details, chips);
    return chips;
}

/// The descriptors of `faces`, by the core's forward pass or by dlib's.
cvision_status encode_with(bool dlib_pass, cvision_engine *engine, const cvision_image_view *image,
                           const cvision_landmarks *faces, size_t count, float *out, cvision_error *error) {
    return guarded_dlib(error, [&] {
        require(engine != nullptr, "no engine");
        require(count == 0 || (faces != nullptr && out != nullptr), "null argument");
        if (count == 0) {
            return;
        }
        const auto chips = face_chips(image, faces, count);
        if (!dlib_pass) {
            engine->descriptor.run(chips, out);
            return;
        }
        if (!engine->network) {
            engine->network = std::make_unique<cvision::resnet::network>(engine->models->network);
        }
        const auto descriptors = (*engine->network)(chips, network_batch);
        for (size_t i = 0; i < count; ++i) {
            require(descriptors[i].size() == CVISION_DESCRIPTOR_LENGTH, "network gave a descriptor of the wrong size");
            std::memcpy(out + i * CVISION_DESCRIPTOR_LENGTH, &descriptors[i](0),
                        CVISION_DESCRIPTOR_LENGTH * sizeof(float));
        }
    });
}

} // namespace

extern "C" cvision_status cvision_encode(cvision_engine *engine, const cvision_image_view *image,
                                         const cvision_landmarks *faces, size_t count, float *out,
                                         cvision_error *error) {
    return encode_with(false, engine, image, faces, count, out, error);
}

extern "C" cvision_status cvision_encode_dlib(cvision_engine *engine, const cvision_image_view *image,
                                              const cvision_landmarks *faces, size_t count, float *out,
                                              cvision_error *error) {
    return encode_with(true, engine, image, faces, count, out, error);
}

extern "C" cvision_status cvision_measure_faces(const cvision_image_view *image, const cvision_landmarks *faces,
                                                size_t count, cvision_face_quality *out, cvision_error *error) {
    return guarded_dlib(error, [&] {
        require(count == 0 || (faces != nullptr && out != nullptr), "null argument");
        if (count == 0) {
            return;
        }
        auto chips = face_chips(image, faces, count);
        for (size_t i = 0; i < count; ++i) {
            auto &chip = chips[i];
            // dlib's rgb_pixel matrix is packed RGB, row after row: OpenCV can read it in place.
            const cv::Mat rgb(static_cast<int>(chip.nr()), static_cast<int>(chip.nc()), CV_8UC3, &chip(0, 0));
            cv::Mat grey;
            cv::cvtColor(rgb, grey, cv::COLOR_RGB2GRAY);
            // The centre holds eyes, nose and mouth; the chip's edges hold hair and background.
            const int inset = grey.cols / 5;
            const cv::Mat centre = grey(cv::Rect(inset, inset, grey.cols - 2 * inset, grey.rows - 2 * inset));
            cv::Scalar mean, deviation;
            cv::meanStdDev(centre, mean, deviation);
            cv::Mat laplacian;
            cv::Laplacian(centre, laplacian, CV_32F);
            cv::Scalar lapMean, lapDeviation;
            cv::meanStdDev(laplacian, lapMean, lapDeviation);
            out[i] = cvision_face_quality{mean[0], deviation[0], lapDeviation[0] * lapDeviation[0]};
        }
    });
}

extern "C" int cvision_set_blas_threads(int32_t threads) {
    using set_function = void (*)(int);
    if (auto set = reinterpret_cast<set_function>(dlsym(RTLD_DEFAULT, "openblas_set_num_threads"))) {
        set(threads < 1 ? 1 : threads);
        return 1;
    }
    return 0;
}

extern "C" const char *cvision_blas_description(void) {
    // OpenBLAS names itself; Netlib's reference BLAS has no such symbol. Looked up at run time
    // because which libblas.so.3 is loaded is chosen by Debian's alternatives, not at build time.
    using config_function = const char *(*)();
    if (auto config = reinterpret_cast<config_function>(dlsym(RTLD_DEFAULT, "openblas_get_config"))) {
        static thread_local std::string description;
        // openblas_get_config() begins with "OpenBLAS" itself.
        description = config();
        if (description.rfind("OpenBLAS", 0) != 0) {
            description = "OpenBLAS " + description;
        }
        return description.c_str();
    }
    return "reference";
}

extern "C" const char *cvision_blas_library(void) {
    static thread_local std::string path;
    path.clear();
    Dl_info info{};
    void *symbol = dlsym(RTLD_DEFAULT, "sgemm_");
    if (symbol && dladdr(symbol, &info) != 0 && info.dli_fname) {
        if (char *resolved = realpath(info.dli_fname, nullptr)) {
            path = resolved;
            free(resolved);
        } else {
            path = info.dli_fname;
        }
    }
    return path.c_str();
}

extern "C" int cvision_built_with_avx(void) {
#ifdef __AVX__
    return 1;
#else
    return 0;
#endif
}

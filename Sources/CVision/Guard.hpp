// The face core's boundary: the imaging core's guard (CImagingGuard.hpp), and dlib's model errors as
// CVISION_ERR_MODEL.
#pragma once

#include <dlib/serialize.h>

#include "CImagingGuard.hpp"
#include "CVision.h"

namespace cvision {

/// Runs `body` like `guarded`, with dlib's serialization errors (a model file it cannot read) as model errors.
template <typename Body> cvision_status guarded_dlib(cvision_error *error, Body &&body) noexcept {
    return guarded(error, [&] {
        try {
            body();
        } catch (const dlib::serialization_error &e) {
            throw failure(CVISION_ERR_MODEL, e.what());
        }
    });
}

} // namespace cvision

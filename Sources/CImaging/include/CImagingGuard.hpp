// Turns C++ exceptions into a status and a message at the C boundary: for the C++ sources of the cores
// (CImaging, CVision), not part of the module Swift imports.
#pragma once

#include "CImaging.h"

#include <cstdio>
#include <exception>
#include <new>
#include <stdexcept>
#include <string>

namespace cvision {

/// An error with a status, thrown inside the core and reported through `guarded`.
struct failure : std::runtime_error {
    cvision_status status;
    failure(cvision_status status, const std::string &message) : std::runtime_error(message), status(status) {}
};

inline void set_message(cvision_error *error, const char *message) {
    if (error != nullptr) {
        std::snprintf(error->message, sizeof error->message, "%s", message);
    }
}

/// Runs `body` and maps whatever it throws to a status; nothing escapes into C or Swift.
template <typename Body> cvision_status guarded(cvision_error *error, Body &&body) noexcept {
    try {
        body();
        return CVISION_OK;
    } catch (const failure &f) {
        set_message(error, f.what());
        return f.status;
    } catch (const std::bad_alloc &) {
        set_message(error, "out of memory");
        return CVISION_ERR_NO_MEMORY;
    } catch (const std::exception &e) {
        set_message(error, e.what());
        return CVISION_ERR_INTERNAL;
    } catch (...) {
        set_message(error, "unknown C++ exception");
        return CVISION_ERR_INTERNAL;
    }
}

inline void require(bool condition, const char *message) {
    if (!condition) {
        throw failure(CVISION_ERR_ARGUMENT, message);
    }
}

} // namespace cvision

#ifndef CMATCH_H
#define CMATCH_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/// The matcher's 8-bit distance kernels, one per instruction set. Every kernel gives the same exact
/// integer squared distances (the arithmetic is integer, so the order of the sums does not matter).
typedef enum {
    CMATCH_SCALAR = 0,       ///< plain C, any CPU
    CMATCH_SSE42 = 1,        ///< x86-64 with SSE4.2 (128-bit integers)
    CMATCH_AVX = 2,          ///< x86-64 with AVX (the same 128-bit integer instructions, VEX-encoded)
    CMATCH_AVX2 = 3,         ///< x86-64 with AVX2 (256-bit integers)
    CMATCH_AVX512BW = 4,     ///< x86-64 with AVX-512F and BW (512-bit integers)
    CMATCH_AVX512VNNI = 5,   ///< AVX-512BW with VNNI (fused 16-bit multiply-accumulate)
    CMATCH_NEON = 6,         ///< arm64 (Advanced SIMD)
    CMATCH_KERNEL_COUNT = 7
} cmatch_kernel;

/// The number of values in a template.
#define CMATCH_DIMENSIONS 128

/// 1 when `kernel` was built into this binary and this CPU (and its operating system) can run it.
int cmatch_kernel_supported(cmatch_kernel kernel);

/// The fastest kernel this CPU runs, detected once.
cmatch_kernel cmatch_best_kernel(void);

/// Squared distances, in quantized units, from one 8-bit query (128 values) to `count` consecutive
/// 8-bit templates (128 values each), written to `out`. `kernel` must be supported.
void cmatch_distances(cmatch_kernel kernel, const int8_t *query, const int8_t *rows, long count, int32_t *out);

/// Reads `bytes` bytes once and returns their XOR: `rollcall bench match` times it to measure how fast
/// one core streams memory, the bound of a search of a gallery larger than the caches.
uint64_t cmatch_read_memory(const void *data, unsigned long bytes);

#ifdef __cplusplus
}
#endif

#endif

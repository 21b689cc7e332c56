// The matcher's 8-bit squared-distance kernels, one per instruction set, chosen at run time.
//
// This file is built for the baseline of the architecture (no -mavx): each x86 kernel carries its own
// target attribute, and runs only once the CPU has said it can. The arithmetic is integer, so every
// kernel gives exactly the scalar kernel's distances.

#include "CMatch.h"

#if defined(__x86_64__)
#include <immintrin.h>
#elif defined(__aarch64__)
#include <arm_neon.h>
#endif

enum { D = CMATCH_DIMENSIONS };

static void distances_scalar(const int8_t *query, const int8_t *rows, long count, int32_t *out) {
    for (long row = 0; row < count; row++) {
        const int8_t *template = rows + row * D;
        int32_t sum = 0;
#pragma clang loop vectorize(disable) interleave(disable)
        for (int index = 0; index < D; index++) {
            int32_t delta = (int32_t)template[index] - (int32_t)query[index];
            sum += delta * delta;
        }
        out[row] = sum;
    }
}

#if defined(__x86_64__)

// 128-bit integers: 16 values of a template widened to two vectors of 8 16-bit values, the query's
// subtracted, squared and summed in pairs (madd), four rows' sums folded together at the end.
#define SSE_KERNEL(NAME, TARGET)                                                                          \
    __attribute__((target(TARGET))) static __m128i NAME##_row(const int8_t *t, const __m128i *q) {     \
        __m128i acc = _mm_setzero_si128();                                                               \
        for (int k = 0; k < D / 16; k++) {                                                               \
            __m128i v = _mm_loadu_si128((const __m128i *)(t + 16 * k));                                  \
            __m128i lo = _mm_sub_epi16(_mm_cvtepi8_epi16(v), q[2 * k]);                                  \
            __m128i hi = _mm_sub_epi16(_mm_cvtepi8_epi16(_mm_srli_si128(v, 8)), q[2 * k + 1]);           \
            acc = _mm_add_epi32(acc, _mm_madd_epi16(lo, lo));                                            \
            acc = _mm_add_epi32(acc, _mm_madd_epi16(hi, hi));                                            \
        }                                                                                                \
        return acc;                                                                                      \
    }                                                                                                    \
    __attribute__((target(TARGET))) static void NAME(const int8_t *query, const int8_t *rows, long count, \
                                                     int32_t *out) {                                     \
        __m128i q[D / 8];                                                                                \
        for (int k = 0; k < D / 16; k++) {                                                               \
            __m128i v = _mm_loadu_si128((const __m128i *)(query + 16 * k));                              \
            q[2 * k] = _mm_cvtepi8_epi16(v);                                                             \
            q[2 * k + 1] = _mm_cvtepi8_epi16(_mm_srli_si128(v, 8));                                      \
        }                                                                                                \
        long row = 0;                                                                                    \
        for (; row + 4 <= count; row += 4) {                                                             \
            const int8_t *t = rows + row * D;                                                            \
            __m128i a = NAME##_row(t, q), b = NAME##_row(t + D, q);                                      \
            __m128i c = NAME##_row(t + 2 * D, q), d = NAME##_row(t + 3 * D, q);                          \
            __m128i sums = _mm_hadd_epi32(_mm_hadd_epi32(a, b), _mm_hadd_epi32(c, d));                   \
            _mm_storeu_si128((__m128i *)(out + row), sums);                                              \
        }                                                                                                \
        for (; row < count; row++) {                                                                     \
            __m128i a = NAME##_row(rows + row * D, q);                                                   \
            a = _mm_hadd_epi32(a, a);                                                                    \
            a = _mm_hadd_epi32(a, a);                                                                    \
            out[row] = _mm_cvtsi128_si32(a);                                                             \
        }                                                                                                \
    }

SSE_KERNEL(distances_sse42, "sse4.2")
SSE_KERNEL(distances_avx, "avx")

// Four rows' 8-lane sums to four 32-bit results.
__attribute__((target("avx2"))) static inline __m128i fold4(__m256i a, __m256i b, __m256i c, __m256i d) {
    __m256i h = _mm256_hadd_epi32(_mm256_hadd_epi32(a, b), _mm256_hadd_epi32(c, d));
    return _mm_add_epi32(_mm256_castsi256_si128(h), _mm256_extracti128_si256(h, 1));
}

// 256-bit integers: 16 values at a time widened to one vector of 16-bit values.
__attribute__((target("avx2"))) static inline __m256i avx2_row(const int8_t *t, const __m256i *q) {
    __m256i acc = _mm256_setzero_si256();
    for (int k = 0; k < D / 16; k++) {
        __m256i delta = _mm256_sub_epi16(_mm256_cvtepi8_epi16(_mm_loadu_si128((const __m128i *)(t + 16 * k))), q[k]);
        acc = _mm256_add_epi32(acc, _mm256_madd_epi16(delta, delta));
    }
    return acc;
}

__attribute__((target("avx2"))) static void distances_avx2(const int8_t *query, const int8_t *rows, long count,
                                                           int32_t *out) {
    __m256i q[D / 16];
    for (int k = 0; k < D / 16; k++) q[k] = _mm256_cvtepi8_epi16(_mm_loadu_si128((const __m128i *)(query + 16 * k)));
    long row = 0;
    for (; row + 4 <= count; row += 4) {
        const int8_t *t = rows + row * D;
        __m128i sums = fold4(avx2_row(t, q), avx2_row(t + D, q), avx2_row(t + 2 * D, q), avx2_row(t + 3 * D, q));
        _mm_storeu_si128((__m128i *)(out + row), sums);
    }
    for (; row < count; row++) {
        __m256i a = avx2_row(rows + row * D, q);
        __m128i s = _mm_add_epi32(_mm256_castsi256_si128(a), _mm256_extracti128_si256(a, 1));
        s = _mm_hadd_epi32(s, s);
        s = _mm_hadd_epi32(s, s);
        out[row] = _mm_cvtsi128_si32(s);
    }
}

// 512-bit integers: 32 values at a time; VNNI fuses the multiply and the accumulate.
#define AVX512_KERNEL(NAME, TARGET, ACCUMULATE)                                                           \
    __attribute__((target(TARGET))) static inline __m256i NAME##_row(const int8_t *t, const __m512i *q) { \
        __m512i acc = _mm512_setzero_si512();                                                            \
        for (int k = 0; k < D / 32; k++) {                                                               \
            __m512i delta = _mm512_sub_epi16(                                                            \
                _mm512_cvtepi8_epi16(_mm256_loadu_si256((const __m256i *)(t + 32 * k))), q[k]);          \
            acc = ACCUMULATE;                                                                            \
        }                                                                                                \
        return _mm256_add_epi32(_mm512_castsi512_si256(acc), _mm512_extracti64x4_epi64(acc, 1));         \
    }                                                                                                    \
    __attribute__((target(TARGET))) static void NAME(const int8_t *query, const int8_t *rows, long count, \
                                                     int32_t *out) {                                     \
        __m512i q[D / 32];                                                                               \
        for (int k = 0; k < D / 32; k++)                                                                 \
            q[k] = _mm512_cvtepi8_epi16(_mm256_loadu_si256((const __m256i *)(query + 32 * k)));          \
        long row = 0;                                                                                    \
        for (; row + 4 <= count; row += 4) {                                                             \
            const int8_t *t = rows + row * D;                                                            \
            __m256i a = NAME##_row(t, q), b = NAME##_row(t + D, q);                                      \
            __m256i c = NAME##_row(t + 2 * D, q), d = NAME##_row(t + 3 * D, q);                          \
            __m256i h = _mm256_hadd_epi32(_mm256_hadd_epi32(a, b), _mm256_hadd_epi32(c, d));             \
            _mm_storeu_si128((__m128i *)(out + row),                                                     \
                             _mm_add_epi32(_mm256_castsi256_si128(h), _mm256_extracti128_si256(h, 1)));  \
        }                                                                                                \
        for (; row < count; row++) {                                                                     \
            __m256i a = NAME##_row(rows + row * D, q);                                                   \
            __m128i s = _mm_add_epi32(_mm256_castsi256_si128(a), _mm256_extracti128_si256(a, 1));        \
            s = _mm_hadd_epi32(s, s);                                                                    \
            s = _mm_hadd_epi32(s, s);                                                                    \
            out[row] = _mm_cvtsi128_si32(s);                                                             \
        }                                                                                                \
    }

AVX512_KERNEL(distances_avx512bw, "avx512f,avx512bw,avx2",
              _mm512_add_epi32(acc, _mm512_madd_epi16(delta, delta)))
AVX512_KERNEL(distances_avx512vnni, "avx512f,avx512bw,avx512vnni,avx2", _mm512_dpwssd_epi32(acc, delta, delta))

#elif defined(__aarch64__)

// Advanced SIMD: 16 values at a time, the difference widened to 16 bits, squared and accumulated
// into 32 bits.
static void distances_neon(const int8_t *query, const int8_t *rows, long count, int32_t *out) {
    for (long row = 0; row < count; row++) {
        const int8_t *t = rows + row * D;
        int32x4_t acc = vdupq_n_s32(0);
        for (int k = 0; k < D / 16; k++) {
            int8x16_t v = vld1q_s8(t + 16 * k), q = vld1q_s8(query + 16 * k);
            int16x8_t lo = vsubl_s8(vget_low_s8(v), vget_low_s8(q));
            int16x8_t hi = vsubl_high_s8(v, q);
            acc = vmlal_s16(acc, vget_low_s16(lo), vget_low_s16(lo));
            acc = vmlal_high_s16(acc, lo, lo);
            acc = vmlal_s16(acc, vget_low_s16(hi), vget_low_s16(hi));
            acc = vmlal_high_s16(acc, hi, hi);
        }
        out[row] = vaddvq_s32(acc);
    }
}

#endif

int cmatch_kernel_supported(cmatch_kernel kernel) {
    switch (kernel) {
    case CMATCH_SCALAR:
        return 1;
#if defined(__x86_64__)
    // The compiler's runtime reads CPUID once, and counts AVX and AVX-512 only where the operating
    // system saves their registers (XGETBV).
    case CMATCH_SSE42:
        __builtin_cpu_init();
        return __builtin_cpu_supports("sse4.2");
    case CMATCH_AVX:
        __builtin_cpu_init();
        return __builtin_cpu_supports("avx");
    case CMATCH_AVX2:
        __builtin_cpu_init();
        return __builtin_cpu_supports("avx2");
    case CMATCH_AVX512BW:
        __builtin_cpu_init();
        return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
               __builtin_cpu_supports("avx2");
    case CMATCH_AVX512VNNI:
        return cmatch_kernel_supported(CMATCH_AVX512BW) && __builtin_cpu_supports("avx512vnni");
#elif defined(__aarch64__)
    case CMATCH_NEON:
        return 1;
#endif
    default:
        return 0;
    }
}

cmatch_kernel cmatch_best_kernel(void) {
    static const cmatch_kernel preference[] = {CMATCH_AVX512VNNI, CMATCH_AVX512BW, CMATCH_AVX2, CMATCH_AVX,
                                               CMATCH_SSE42,      CMATCH_NEON};
    for (unsigned index = 0; index < sizeof preference / sizeof preference[0]; index++) {
        if (cmatch_kernel_supported(preference[index])) return preference[index];
    }
    return CMATCH_SCALAR;
}

void cmatch_distances(cmatch_kernel kernel, const int8_t *query, const int8_t *rows, long count, int32_t *out) {
    switch (kernel) {
#if defined(__x86_64__)
    case CMATCH_SSE42:
        distances_sse42(query, rows, count, out);
        return;
    case CMATCH_AVX:
        distances_avx(query, rows, count, out);
        return;
    case CMATCH_AVX2:
        distances_avx2(query, rows, count, out);
        return;
    case CMATCH_AVX512BW:
        distances_avx512bw(query, rows, count, out);
        return;
    case CMATCH_AVX512VNNI:
        distances_avx512vnni(query, rows, count, out);
        return;
#elif defined(__aarch64__)
    case CMATCH_NEON:
        distances_neon(query, rows, count, out);
        return;
#endif
    default:
        distances_scalar(query, rows, count, out);
        return;
    }
}

uint64_t cmatch_read_memory(const void *data, unsigned long bytes) {
    // Eight independent 64-bit lanes: the compiler streams them with the widest loads it may use.
    const uint64_t *words = data;
    unsigned long count = bytes / 8;
    uint64_t lanes[8] = {0};
    unsigned long index = 0;
    for (; index + 8 <= count; index += 8) {
        for (int lane = 0; lane < 8; lane++) lanes[lane] ^= words[index + lane];
    }
    uint64_t sum = 0;
    for (int lane = 0; lane < 8; lane++) sum ^= lanes[lane];
    for (; index < count; index++) sum ^= words[index];
    return sum;
}

#include "Descriptor.hpp"

#include <algorithm>
#include <cstring>
#include <string>

#include <dlib/matrix/matrix_blas_bindings.h>

#include "Guard.hpp"

namespace cvision::descriptor {

using cvision::require;
using dlib::blas_bindings::cblas_sgemm;
using dlib::blas_bindings::CblasNoTrans;
using dlib::blas_bindings::CblasRowMajor;

namespace {

/// Floats of rearranged input one matrix product may use (8 MB): the batch is split into groups of
/// samples that fit, so that a batch of 16 does not hold 50 MB for the 7x7 stem.
constexpr size_t column_budget = size_t{2} << 20;

/// Collects the layers' parameters, output side first (the order dlib visits them).
struct collector {
    std::vector<convolution> *convolutions;
    std::vector<std::pair<std::vector<float>, std::vector<float>>> *affines;
    std::vector<float> *projection;
    long *projection_outputs;

    template <long F, long R, long C, int SY, int SX, int PY, int PX>
    void operator()(const dlib::con_<F, R, C, SY, SX, PY, PX> &layer) const {
        convolution c;
        const auto &params = layer.get_layer_params();
        require(!layer.bias_is_disabled() && R == C && SY == SX && PY == PX, "unexpected convolution layer");
        c.outputs = static_cast<int>(layer.num_filters());
        c.size = static_cast<int>(R);
        c.stride = SY;
        c.padding = static_cast<int>(layer.padding_y());
        const size_t per_filter = static_cast<size_t>(R) * C;
        const size_t weights = params.size() - static_cast<size_t>(F);
        require(weights % (per_filter * F) == 0, "convolution weights of an unexpected size");
        c.inputs = static_cast<int>(weights / (per_filter * F));
        c.filters.assign(params.host(), params.host() + weights);
        c.bias.assign(params.host() + weights, params.host() + params.size());
        convolutions->push_back(std::move(c));
    }

    void operator()(const dlib::affine_ &layer) const {
        require(layer.get_mode() == dlib::CONV_MODE, "unexpected affine layer");
        const auto gamma_alias = layer.get_gamma();
        const auto beta_alias = layer.get_beta();
        const dlib::tensor &gamma = gamma_alias.get(), &beta = beta_alias.get();
        affines->emplace_back(std::vector<float>(gamma.host(), gamma.host() + gamma.size()),
                              std::vector<float>(beta.host(), beta.host() + beta.size()));
    }

    template <unsigned long N, dlib::fc_bias_mode M> void operator()(const dlib::fc_<N, M> &layer) const {
        require(M == dlib::FC_NO_BIAS, "unexpected fully connected layer");
        const auto w_alias = layer.get_weights();
        const dlib::tensor &w = w_alias.get();
        projection->assign(w.host(), w.host() + w.size());
        *projection_outputs = static_cast<long>(N);
    }

    template <typename Other> void operator()(const Other &) const {}
};

} // namespace

weights::weights(const cvision::resnet::network &network) {
    std::vector<std::pair<std::vector<float>, std::vector<float>>> affines;
    long outputs = 0;
    dlib::visit_computational_layers(network, collector{&convolutions, &affines, &projection, &outputs});
    std::reverse(convolutions.begin(), convolutions.end());
    std::reverse(affines.begin(), affines.end());
    require(convolutions.size() == 29 && affines.size() == 29, "the network does not have 29 convolutions");
    for (size_t i = 0; i < convolutions.size(); ++i) {
        auto &c = convolutions[i];
        require(affines[i].first.size() == static_cast<size_t>(c.outputs), "affine layer of an unexpected size");
        c.scale = std::move(affines[i].first);
        c.shift = std::move(affines[i].second);
    }
    require(outputs == CVISION_DESCRIPTOR_LENGTH && projection.size() == 256 * CVISION_DESCRIPTOR_LENGTH,
            "unexpected final layer");
    const auto &input = dlib::input_layer(network);
    mean_red = input.get_avg_red();
    mean_green = input.get_avg_green();
    mean_blue = input.get_avg_blue();
}

void activation::shape(int c, int n, int r, int k) {
    channels = c;
    samples = n;
    rows = r;
    columns = k;
    values.resize(static_cast<size_t>(c) * n * r * k);
}

void runner::convolve(const convolution &c, const activation &in, activation &out, bool relu) {
    require(in.channels == c.inputs, "convolution fed the wrong number of channels");
    const int out_rows = 1 + (in.rows + 2 * c.padding - c.size) / c.stride;
    const int out_cols = 1 + (in.columns + 2 * c.padding - c.size) / c.stride;
    out.shape(c.outputs, in.samples, out_rows, out_cols);
    const size_t out_plane = out.plane();
    const size_t depth = static_cast<size_t>(c.inputs) * c.size * c.size;
    const size_t per_sample = depth * out_plane;
    const int group = static_cast<int>(std::clamp<size_t>(column_budget / per_sample, 1, in.samples));
    columns_.resize(per_sample * group);
    for (int first = 0; first < in.samples; first += group) {
        const int count = std::min(group, in.samples - first);
        const size_t width = out_plane * count;
        // Rearrange: row (channel, ky, kx), column (sample, output row, output column), zero outside.
        float *row = columns_.data();
        for (int ch = 0; ch < c.inputs; ++ch) {
            for (int ky = 0; ky < c.size; ++ky) {
                for (int kx = 0; kx < c.size; ++kx, row += width) {
                    float *dst = row;
                    // Output columns whose input column falls inside the image: [lo, hi).
                    const int shift = kx - c.padding;
                    const int lo = std::clamp((-shift + c.stride - 1) / c.stride, 0, out_cols);
                    const int hi = std::clamp((in.columns - shift + c.stride - 1) / c.stride, lo, out_cols);
                    for (int n = first; n < first + count; ++n) {
                        const float *plane = in.at(ch, n);
                        for (int oy = 0; oy < out_rows; ++oy, dst += out_cols) {
                            const int iy = oy * c.stride + ky - c.padding;
                            if (iy < 0 || iy >= in.rows) {
                                std::fill(dst, dst + out_cols, 0.0f);
                                continue;
                            }
                            const float *line = plane + static_cast<size_t>(iy) * in.columns;
                            std::fill(dst, dst + lo, 0.0f);
                            if (c.stride == 1) {
                                std::memcpy(dst + lo, line + lo + shift, sizeof(float) * (hi - lo));
                            } else {
                                for (int ox = lo; ox < hi; ++ox) {
                                    dst[ox] = line[ox * c.stride + shift];
                                }
                            }
                            std::fill(dst + hi, dst + out_cols, 0.0f);
                        }
                    }
                }
            }
        }
        // out[filter][sample, pixel] = filters[filter][depth] x columns[depth][sample, pixel]
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, c.outputs, static_cast<int>(width),
                    static_cast<int>(depth), 1.0f, c.filters.data(), static_cast<int>(depth), columns_.data(),
                    static_cast<int>(width), 0.0f, out.values.data() + static_cast<size_t>(first) * out_plane,
                    static_cast<int>(out_plane * in.samples));
    }
    // Bias, then the affine layer, then the ReLU: each value as dlib computes it, in one pass.
    const size_t length = out_plane * in.samples;
    for (int f = 0; f < c.outputs; ++f) {
        float *v = out.channel(f);
        const float bias = c.bias[f], scale = c.scale[f], shift = c.shift[f];
        if (relu) {
            for (size_t i = 0; i < length; ++i) {
                v[i] = std::max((v[i] + bias) * scale + shift, 0.0f);
            }
        } else {
            for (size_t i = 0; i < length; ++i) {
                v[i] = (v[i] + bias) * scale + shift;
            }
        }
    }
}

void runner::unit(size_t first, activation &x, bool down) {
    convolve(w_.convolutions[first], x, b_, true);
    convolve(w_.convolutions[first + 1], b_, c_, false);
    // The shortcut: x itself, or x averaged over 2x2 blocks (stride 2). dlib adds two tensors of different
    // shapes over the overlap, from the first channel and the top-left corner, and keeps the rest of the
    // larger one as it is: the block's extra channels, or the pooled shortcut's extra row and column.
    activation *shortcut = &x;
    if (down) {
        pooled_.shape(x.channels, x.samples, 1 + (x.rows - 2) / 2, 1 + (x.columns - 2) / 2);
        for (int ch = 0; ch < x.channels; ++ch) {
            for (int n = 0; n < x.samples; ++n) {
                const float *src = x.at(ch, n);
                float *dst = pooled_.at(ch, n);
                for (int r = 0; r < pooled_.rows; ++r) {
                    const float *top = src + static_cast<size_t>(2 * r) * x.columns;
                    const float *bottom = top + x.columns;
                    for (int k = 0; k < pooled_.columns; ++k) {
                        dst[r * pooled_.columns + k] =
                            (top[2 * k] + top[2 * k + 1] + bottom[2 * k] + bottom[2 * k + 1]) * 0.25f;
                    }
                }
            }
        }
        shortcut = &pooled_;
    }
    const activation &block = c_;
    activation &sum = a_; // free between units
    const int channels = std::max(block.channels, shortcut->channels);
    const int rows = std::max(block.rows, shortcut->rows);
    const int columns = std::max(block.columns, shortcut->columns);
    if (block.channels == shortcut->channels && block.rows == shortcut->rows && block.columns == shortcut->columns) {
        // The common case: same shape, added in place of the shortcut (x or the pooled copy).
        const size_t length = shortcut->values.size();
        float *t = shortcut->values.data();
        const float *b = block.values.data();
        for (size_t i = 0; i < length; ++i) {
            t[i] = std::max(b[i] + t[i], 0.0f);
        }
        if (down) {
            std::swap(x, pooled_);
        }
        return;
    }
    sum.shape(channels, x.samples, rows, columns);
    for (int ch = 0; ch < channels; ++ch) {
        for (int n = 0; n < x.samples; ++n) {
            float *dst = sum.at(ch, n);
            for (int r = 0; r < rows; ++r) {
                for (int k = 0; k < columns; ++k) {
                    float value = 0;
                    if (ch < block.channels && r < block.rows && k < block.columns) {
                        value = block.at(ch, n)[r * block.columns + k];
                    }
                    if (ch < shortcut->channels && r < shortcut->rows && k < shortcut->columns) {
                        value += shortcut->at(ch, n)[r * shortcut->columns + k];
                    }
                    dst[r * columns + k] = std::max(value, 0.0f);
                }
            }
        }
    }
    std::swap(x, sum);
}

void runner::run(const dlib::array<dlib::matrix<dlib::rgb_pixel>> &chips, float *out) {
    const int samples = static_cast<int>(chips.size());
    if (samples == 0) {
        return;
    }
    const int side = static_cast<int>(cvision::resnet::chip_size);
    // The input layer: (value - channel mean) / 256, red, green, blue planes.
    a_.shape(3, samples, side, side);
    for (int n = 0; n < samples; ++n) {
        const auto &chip = chips[n];
        require(chip.nr() == side && chip.nc() == side, "a chip of the wrong size");
        float *red = a_.at(0, n);
        float *green = a_.at(1, n);
        float *blue = a_.at(2, n);
        const dlib::rgb_pixel *p = &chip(0, 0);
        for (size_t i = 0; i < a_.plane(); ++i) {
            red[i] = (p[i].red - w_.mean_red) / 256.0f;
            green[i] = (p[i].green - w_.mean_green) / 256.0f;
            blue[i] = (p[i].blue - w_.mean_blue) / 256.0f;
        }
    }
    // The stem: 7x7 stride 2, affine, ReLU, then a 3x3 max pool of stride 2.
    convolve(w_.convolutions[0], a_, b_, true);
    const int rows = 1 + (b_.rows - 3) / 2, columns = 1 + (b_.columns - 3) / 2;
    a_.shape(b_.channels, samples, rows, columns);
    for (int ch = 0; ch < b_.channels; ++ch) {
        for (int n = 0; n < samples; ++n) {
            const float *src = b_.at(ch, n);
            float *dst = a_.at(ch, n);
            for (int r = 0; r < rows; ++r) {
                for (int k = 0; k < columns; ++k) {
                    float best = src[static_cast<size_t>(2 * r) * b_.columns + 2 * k];
                    for (int dy = 0; dy < 3; ++dy) {
                        const float *line = src + static_cast<size_t>(2 * r + dy) * b_.columns + 2 * k;
                        best = std::max({best, line[0], line[1], line[2]});
                    }
                    dst[r * columns + k] = best;
                }
            }
        }
    }
    // The residual units, two convolutions each, as ResNet.hpp declares them: a unit whose first
    // convolution has stride 2 halves the size, and its shortcut is averaged down to match.
    std::swap(x_, a_);
    require(w_.convolutions.size() % 2 == 1, "the network's convolutions do not pair into units");
    for (size_t layer = 1; layer < w_.convolutions.size(); layer += 2) {
        unit(layer, x_, w_.convolutions[layer].stride == 2);
    }
    // Average over every position, then the 256 -> 128 projection.
    const size_t features = static_cast<size_t>(x_.channels);
    require(features * CVISION_DESCRIPTOR_LENGTH == w_.projection.size(), "the last stage has the wrong width");
    features_.resize(features * samples);
    const float scale = 1.0f / static_cast<float>(x_.plane());
    for (size_t ch = 0; ch < features; ++ch) {
        for (int n = 0; n < samples; ++n) {
            const float *src = x_.at(static_cast<int>(ch), n);
            float total = 0;
            for (size_t i = 0; i < x_.plane(); ++i) {
                total += src[i];
            }
            features_[static_cast<size_t>(n) * features + ch] = total * scale;
        }
    }
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, samples, CVISION_DESCRIPTOR_LENGTH,
                static_cast<int>(features), 1.0f, features_.data(), static_cast<int>(features), w_.projection.data(),
                CVISION_DESCRIPTOR_LENGTH, 0.0f, out, CVISION_DESCRIPTOR_LENGTH);
}

} // namespace cvision::descriptor

// The descriptor network's forward pass, run by hand over the weights of dlib's ResNet (ResNet.hpp).
//
// dlib's own forward pass (libdlib, built by Debian for the baseline x86-64) spends most of an encoding
// outside the matrix products: it rearranges every layer's input for the product one sample at a time,
// then makes a separate pass over memory for the bias, the affine layer, the ReLU and each residual sum.
// This pass does the same arithmetic in the same order per value (convolution by matrix product through
// the process's BLAS, then bias, then the affine layer's scale and shift), with the rearrangement done for
// the whole batch at once into buffers kept between calls, and bias, affine, residual sum and ReLU applied
// in one pass over each output. The descriptors equal dlib's to within the summation order of the BLAS
// (the tests hold them to 1e-4 of dlib's network on every fixture).
#pragma once

#include <cstddef>
#include <vector>

#include <dlib/image_processing.h>

#include "ResNet.hpp"

namespace cvision::descriptor {

/// One convolution with its bias and the affine layer after it, as dlib stores them.
struct convolution {
    int inputs = 0;   ///< channels in
    int outputs = 0;  ///< filters
    int size = 0;     ///< square kernel side
    int stride = 1;
    int padding = 0;
    std::vector<float> filters; ///< outputs x inputs x size x size, dlib's order
    std::vector<float> bias;    ///< outputs
    std::vector<float> scale;   ///< the affine layer's gamma, outputs
    std::vector<float> shift;   ///< the affine layer's beta, outputs
};

/// The network's weights, read once from dlib's network and shared read-only by every runner.
struct weights {
    /// The 29 convolutions, input first: the 7x7 stem, then two per residual unit.
    std::vector<convolution> convolutions;
    /// The final layer, 256 inputs x 128 outputs (dlib's fc_no_bias layout: input-major).
    std::vector<float> projection;
    /// The mean of each colour channel that dlib's input layer subtracts before dividing by 256.
    float mean_red = 0, mean_green = 0, mean_blue = 0;

    /// Reads the weights out of dlib's network; throws when its layers are not the expected ones.
    explicit weights(const cvision::resnet::network &network);
};

/// A tensor with the batch inside the channel: channel, sample, row, column (so that a convolution over
/// the whole batch is one matrix product whose output needs no rearranging).
struct activation {
    int channels = 0, samples = 0, rows = 0, columns = 0;
    std::vector<float> values;
    void shape(int c, int n, int r, int k);
    size_t plane() const { return static_cast<size_t>(rows) * columns; }
    float *channel(int c) { return values.data() + static_cast<size_t>(c) * samples * plane(); }
    const float *channel(int c) const { return values.data() + static_cast<size_t>(c) * samples * plane(); }
    /// The plane of channel `c` of sample `n`.
    float *at(int c, int n) { return channel(c) + static_cast<size_t>(n) * plane(); }
    const float *at(int c, int n) const { return channel(c) + static_cast<size_t>(n) * plane(); }
};

/// Runs the network. Holds its buffers between calls, so one runner belongs to one thread at a time.
class runner {
  public:
    explicit runner(const weights &w) : w_(w) {}

    /// Computes one 128-float descriptor per 150x150 chip into `out` (`chips.size() * 128` floats).
    void run(const dlib::array<dlib::matrix<dlib::rgb_pixel>> &chips, float *out);

  private:
    /// out = relu?(affine(conv(in) + bias)) over the whole batch.
    void convolve(const convolution &c, const activation &in, activation &out, bool relu);
    /// One residual unit: relu(affine(conv(relu(affine(conv(x))))) + shortcut(x)), left in `x`.
    void unit(size_t first, activation &x, bool down);

    const weights &w_;
    // Every buffer is kept between calls (they swap roles as the layers go): after the first call of a
    // batch size, a forward pass allocates nothing.
    activation a_, b_, c_, pooled_, x_;
    std::vector<float> columns_;  ///< the rearranged input of one matrix product
    std::vector<float> features_; ///< the averaged last stage, sample x 256
};

} // namespace cvision::descriptor

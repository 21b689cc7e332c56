// The layer layout of dlib_face_recognition_resnet_model_v1.dat: a 29-layer ResNet with affine
// (frozen batch-norm) layers and a 128-d metric output. The file holds only weights, so this type must
// match the network it was trained as, layer for layer.
#pragma once

#include <dlib/dnn.h>

namespace cvision::resnet {

using namespace dlib;

template <int filters, template <typename> class norm, int stride, typename input>
using conv_block = norm<con<filters, 3, 3, 1, 1, relu<norm<con<filters, 3, 3, stride, stride, input>>>>>;

template <template <int, template <typename> class, int, typename> class block, int filters,
          template <typename> class norm, typename input>
using residual = add_prev1<block<filters, norm, 1, tag1<input>>>;

template <template <int, template <typename> class, int, typename> class block, int filters,
          template <typename> class norm, typename input>
using residual_down = add_prev2<avg_pool<2, 2, 2, 2, skip1<tag2<block<filters, norm, 2, tag1<input>>>>>>;

template <int filters, typename input> using unit = relu<residual<conv_block, filters, affine, input>>;
template <int filters, typename input> using unit_down = relu<residual_down<conv_block, filters, affine, input>>;

template <typename input> using stage256_down = unit_down<256, input>;
template <typename input> using stage256 = unit<256, unit<256, unit_down<256, input>>>;
template <typename input> using stage128 = unit<128, unit<128, unit_down<128, input>>>;
template <typename input> using stage64 = unit<64, unit<64, unit<64, unit_down<64, input>>>>;
template <typename input> using stage32 = unit<32, unit<32, unit<32, input>>>;

/// Chip side length the network was trained on.
constexpr unsigned long chip_size = 150;

using network = loss_metric<fc_no_bias<
    128, avg_pool_everything<stage256_down<stage256<stage128<stage64<stage32<
             max_pool<3, 3, 2, 2, relu<affine<con<32, 7, 7, 2, 2, input_rgb_image_sized<chip_size>>>>>>>>>>>>>;

} // namespace cvision::resnet

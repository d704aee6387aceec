// The quant kernel table follows the level simd/cpu.h chose for the float kernels.
#include "common/errors.h"
#include "quant/kernels.h"
#include "simd/cpu.h"

namespace vecsearch {

const QuantKernels& quant_kernels_for(SimdLevel level) {
    if (!level_supported(level))
        throw InvalidArgument(std::string("SIMD level ") + level_name(level) + " is not supported by this CPU");
    switch (level) {
        case SimdLevel::avx512: return avx512_quant_kernels();
        case SimdLevel::avx2: return avx2_quant_kernels();
        default: return scalar_quant_kernels();
    }
}

const QuantKernels& active_quant_kernels() {
    static const QuantKernels& table = quant_kernels_for(active_kernels().level);
    return table;
}

}  // namespace vecsearch

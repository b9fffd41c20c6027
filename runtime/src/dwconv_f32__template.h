/* The SIMD flat depthwise micro-kernel family, written once over the vector layer
 * (vec_<isa>.h); dwconv_ukernel.h states the contract. A variant file defines DW_TILE (a
 * multiple of the vector width) and DW_UKERNEL, includes its vec_<isa>.h, then this.
 * DW_TILE / VN accumulators, one per vector of the tile: as many independent FMA chains
 * as the FMA latency times the FMA pipes needs. */
#include "dwconv_ukernel.h"

#define NV (DW_TILE / MCR_VN)

void DW_UKERNEL(MCR_DWCONV_ARGS)
{
    mcr_v acc[NV];
#pragma GCC unroll 16
    for (int v = 0; v < NV; v++) acc[v] = v_zero(); /* bias added last: dwconv_ukernel.h */
    for (long t = 0; t < taps; t++) {
        const float *s = src + off[t];
        const mcr_v wv = v_set1(w[t]);
#pragma GCC unroll 16
        for (int v = 0; v < NV; v++) acc[v] = v_fma(wv, v_load(s + v * MCR_VN), acc[v]);
    }
    const mcr_v b = v_set1(bias);
#pragma GCC unroll 16
    for (int v = 0; v < NV; v++) v_store(out + v * MCR_VN, v_add(acc[v], b));
}
#undef NV

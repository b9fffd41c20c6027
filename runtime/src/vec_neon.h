/* The vector layer for AArch64 Advanced SIMD (vec_avx512f.h says what this is), on
 * 4-float vectors; 32 vector registers. Internal to the runtime. */
#ifndef MCR_VEC_H
#define MCR_VEC_H

#include <arm_neon.h>
#include <string.h>

#define MCR_VN 4
typedef float32x4_t mcr_v;
typedef long mcr_vmask; /* NEON has no masked loads: the number of lanes on */

static inline mcr_v v_zero(void) { return vdupq_n_f32(0.0f); }
static inline mcr_v v_set1(float x) { return vdupq_n_f32(x); } /* from memory: ld1r */
static inline mcr_v v_load(const float *p) { return vld1q_f32(p); }
static inline void v_store(float *p, mcr_v v) { vst1q_f32(p, v); }
static inline mcr_v v_add(mcr_v a, mcr_v b) { return vaddq_f32(a, b); }
static inline mcr_v v_fma(mcr_v a, mcr_v b, mcr_v acc) { return vfmaq_f32(acc, a, b); }
/* x > m ? x : m per lane: a compare and a bitwise select (fmax and fmaxnm treat NaN
 * otherwise) */
static inline mcr_v v_max(mcr_v x, mcr_v m) { return vbslq_f32(vcgtq_f32(x, m), x, m); }
static inline mcr_v v_min(mcr_v x, mcr_v m) { return vbslq_f32(vcltq_f32(x, m), x, m); }
static inline mcr_v v_mul(mcr_v a, mcr_v b) { return vmulq_f32(a, b); }
static inline mcr_v v_div(mcr_v a, mcr_v b) { return vdivq_f32(a, b); }
static inline mcr_v v_sub(mcr_v a, mcr_v b) { return vsubq_f32(a, b); }
/* 2^n for integral n in [-126, 128], built in the exponent bits (128: infinity) */
static inline mcr_v v_pow2i(mcr_v n)
{
    const int32x4_t e = vaddq_s32(vcvtq_s32_f32(n), vdupq_n_s32(127));
    return vreinterpretq_f32_s32(vshlq_n_s32(e, 23));
}

/* the sum and the maximum of the lanes (max: v_max's order, a tree of them) */
static inline float v_hsum(mcr_v v) { return vaddvq_f32(v); }
static inline float v_hmax(mcr_v v)
{
    const mcr_v t = v_max(v, vextq_f32(v, v, 2));
    return vgetq_lane_f32(v_max(t, vextq_f32(t, t, 1)), 0);
}

static inline mcr_vmask v_mask(long n) { return n < 4 ? (n > 0 ? n : 0) : 4; }
/* Through a zeroed copy: only the last vector of a row takes this path. */
static inline mcr_v v_load_part(const float *p, mcr_vmask m)
{
    float t[4] = {0.0f, 0.0f, 0.0f, 0.0f};
    memcpy(t, p, (size_t)m * sizeof(float));
    return vld1q_f32(t);
}
static inline void v_store_part(float *p, mcr_vmask m, mcr_v v)
{
    float t[4];
    vst1q_f32(t, v);
    memcpy(p, t, (size_t)m * sizeof(float));
}
/* v's lanes on the mask (the first m), 0 off it. */
static inline mcr_v v_and_mask(mcr_v v, mcr_vmask m)
{
    const uint32_t iota[4] = {0, 1, 2, 3};
    const uint32x4_t on = vcltq_u32(vld1q_u32(iota), vdupq_n_u32((uint32_t)m));
    return vreinterpretq_f32_u32(vandq_u32(vreinterpretq_u32_f32(v), on));
}
/* Each of the low half's lanes twice (0 0 1 1), and the high half's (2 2 3 3). */
static inline mcr_v v_dup_lo(mcr_v v) { return vzip1q_f32(v, v); }
static inline mcr_v v_dup_hi(mcr_v v) { return vzip2q_f32(v, v); }

#define V_KEEP(v) __asm__("" : "+w"(v))

#endif

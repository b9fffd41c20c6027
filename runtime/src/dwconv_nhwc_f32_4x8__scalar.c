/* Channels-last depthwise micro-kernel, portable C (dwconv_nhwc_ukernel.h): tiles of 4
 * pixels x 8 channels accumulated in a local array across all taps (stored once), with
 * fixed-length inner loops that compilers keep in registers and vectorize where the
 * target has vectors (gcc -O2 included); the last pixels and channels one at a time. */
#include "dwconv_nhwc_ukernel.h"

enum { NP = 4, NC = 8 };

static void tile(const float *const *rows, long kh, long kw, long sw, const float *w,
                 const float *bias, float *y, long ox, long ch, long kc, long ld)
{
    float acc[NP][NC];
    for (long i = 0; i < NP; i++)
        for (long j = 0; j < NC; j++) acc[i][j] = 0.0f; /* bias added last */
    for (long r = 0; r < kh; r++) {
        for (long s = 0; s < kw; s++) {
            const float *wt = w + (r * kw + s) * ld + ch;
            const float *xs = rows[r] + (ox * sw + s) * kc + ch;
            for (long i = 0; i < NP; i++)
                for (long j = 0; j < NC; j++) acc[i][j] += wt[j] * xs[i * sw * kc + j];
        }
    }
    for (long i = 0; i < NP; i++)
        for (long j = 0; j < NC; j++) y[(ox + i) * ld + ch + j] = acc[i][j] + (bias ? bias[ch + j] : 0.0f);
}

/* One output element, for the tails. */
static float one(const float *const *rows, long kh, long kw, long sw, const float *w,
                 const float *bias, long ox, long ch, long kc, long ld)
{
    float acc = 0.0f;
    for (long r = 0; r < kh; r++) {
        for (long s = 0; s < kw; s++) {
            acc += w[(r * kw + s) * ld + ch] * rows[r][(ox * sw + s) * kc + ch];
        }
    }
    return bias ? acc + bias[ch] : acc;
}

void mcr_dwconv_nhwc_f32_4x8__scalar(MCR_DWCONV_NHWC_ARGS)
{
    const long ow4 = ow - ow % NP, k8 = kc - kc % NC;
    for (long ox = 0; ox < ow4; ox += NP) {
        for (long ch = 0; ch < k8; ch += NC) tile(rows, kh, kw, sw, w, bias, y, ox, ch, kc, ld);
        for (long ch = k8; ch < kc; ch++) {
            for (long i = 0; i < NP; i++) {
                y[(ox + i) * ld + ch] = one(rows, kh, kw, sw, w, bias, ox + i, ch, kc, ld);
            }
        }
    }
    for (long ox = ow4; ox < ow; ox++) {
        for (long ch = 0; ch < kc; ch++) {
            y[ox * ld + ch] = one(rows, kh, kw, sw, w, bias, ox, ch, kc, ld);
        }
    }
}

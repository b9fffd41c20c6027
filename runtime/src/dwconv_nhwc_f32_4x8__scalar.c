/* Channels-last depthwise micro-kernel, portable C (dwconv_nhwc_ukernel.h): tiles of 4
 * pixels x 8 channels accumulated in a local array across all taps (stored once), with
 * fixed-length inner loops that compilers keep in registers and vectorize where the
 * target has vectors (gcc -O2 included); the last pixels and channels one at a time. */
#include "dwconv_nhwc_ukernel.h"

enum { NP = 4, NC = 8 };

static void tile(const float *const *rows, long kh, long kw, long sw, const float *w,
                 const float *bias, float *y, long ox, long ch, long k)
{
    float acc[NP][NC];
    for (long i = 0; i < NP; i++)
        for (long j = 0; j < NC; j++) acc[i][j] = bias ? bias[ch + j] : 0.0f;
    for (long r = 0; r < kh; r++) {
        for (long s = 0; s < kw; s++) {
            const float *wt = w + (r * kw + s) * k + ch;
            const float *xs = rows[r] + (ox * sw + s) * k + ch;
            for (long i = 0; i < NP; i++)
                for (long j = 0; j < NC; j++) acc[i][j] += wt[j] * xs[i * sw * k + j];
        }
    }
    for (long i = 0; i < NP; i++)
        for (long j = 0; j < NC; j++) y[(ox + i) * k + ch + j] = acc[i][j];
}

/* One output element, for the tails. */
static float one(const float *const *rows, long kh, long kw, long sw, const float *w,
                 const float *bias, long ox, long ch, long k)
{
    float acc = bias ? bias[ch] : 0.0f;
    for (long r = 0; r < kh; r++)
        for (long s = 0; s < kw; s++) {
            acc += w[(r * kw + s) * k + ch] * rows[r][(ox * sw + s) * k + ch];
        }
    return acc;
}

void mcr_dwconv_nhwc_f32_4x8__scalar(MCR_DWCONV_NHWC_ARGS)
{
    const long ow4 = ow - ow % NP, k8 = k - k % NC;
    for (long ox = 0; ox < ow4; ox += NP) {
        for (long ch = 0; ch < k8; ch += NC) tile(rows, kh, kw, sw, w, bias, y, ox, ch, k);
        for (long ch = k8; ch < k; ch++)
            for (long i = 0; i < NP; i++) {
                y[(ox + i) * k + ch] = one(rows, kh, kw, sw, w, bias, ox + i, ch, k);
            }
    }
    for (long ox = ow4; ox < ow; ox++)
        for (long ch = 0; ch < k; ch++) y[ox * k + ch] = one(rows, kh, kw, sw, w, bias, ox, ch, k);
}

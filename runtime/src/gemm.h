/* The packed, register-blocked GEMM (gemm.c) behind the matmul, convolution (1x1 and
 * k x k) and attention kernels. Internal to the runtime. */
#ifndef MCR_GEMM_H
#define MCR_GEMM_H

#include "config.h"
#include "mcr.h"

/* c[i][j] = bias + sum_p a[i][p] * b[p][j] for i < m, j < n, p < k, where bias is
 * row_bias[i] or col_bias[j] (either may be NULL; not both set); then the epilogue, whose
 * residual element for c[i][j] is ep->residual[ep_offset + i * ldc + j]. Row-major with
 * leading dimensions lda, ldb, ldc. Each sum runs over p in order from its bias. */
void mcr_gemm_f32(const float *a, long lda, const float *b, long ldb, float *c, long ldc,
                  long m, long k, long n, const float *row_bias, const float *col_bias,
                  const struct mcr_epilogue *ep, long ep_offset);

/* b in panels (mcr.h, MCR_PANEL); every micro-kernel's NR divides the width. */
#define MCR_GEMM_PANEL MCR_PANEL
enum { MCR_GEMM_B_PANELS = 1 };

/* With b in panels, c's columns in whole multiples of this are computed in place, with no
 * zero-padded copy of an edge tile (gemm.c): NR, or NR / 2 where the target has a
 * half-width micro-kernel. A caller free to pad c's rows (attention's scores) rounds its
 * columns up to it. */
#if defined(MCR_GEMM_UKERNEL_HALF_ROWS)
#define MCR_GEMM_INPLACE_COLS (MCR_GEMM_NR / 2)
#else
#define MCR_GEMM_INPLACE_COLS MCR_GEMM_NR
#endif

/* mcr_gemm_f32 with b in panels when flags has MCR_GEMM_B_PANELS (ldb then unused). */
void mcr_gemm_panels_f32(const float *a, long lda, const float *b, long ldb, float *c,
                         long ldc, long m, long k, long n, const float *row_bias,
                         const float *col_bias, const struct mcr_epilogue *ep, long ep_offset,
                         int flags);

/* mcr_gemm_panels_f32 split over threads (mcr.h, struct mcr_threads; NULL: one thread):
 * by blocks of MR rows of c, or by blocks of MCR_PANEL columns when c has fewer rows than
 * columns (ViT-B/16's 197 tokens against 768-3072 features: each task then streams only
 * its share of b). Every tile is computed as by the serial call: the same bits for any
 * number of threads. */
void mcr_gemm_threads_f32(const struct mcr_threads *th, const float *a, long lda,
                          const float *b, long ldb, float *c, long ldc, long m, long k,
                          long n, const float *row_bias, const float *col_bias,
                          const struct mcr_epilogue *ep, long ep_offset, int flags);
#endif

/* The per-target config: the one place that says which micro-kernel, tile and blocking
 * each ISA uses (XNNPACK's src/configs/ in the small). The target is the compiler's ISA
 * flags (compiler/targets.py), so the choice is made at compile time: the widest ISA the
 * flags allow. A new target is a branch here, a vec_<isa>.h, and its variant files (one
 * per micro-kernel family, each a few lines over the family's template).
 *
 * The MCR_*_UKERNELS(X) lists name every micro-kernel this build compiles -- the chosen
 * ones and those of the narrower ISAs the flags also allow -- so that the kernel tests
 * (tests/runtime/test_kernels.c) check each of them against the portable reference
 * without lists of their own. Internal to the runtime. */
#ifndef MCR_CONFIG_H
#define MCR_CONFIG_H

/* Terms a GEMM micro-kernel sums from zero before adding them to c (gemm_ukernel.h). */
#define MCR_GEMM_CHUNK 64

/* ---- each ISA's micro-kernels: X(function, parameters...) ---- */
/* GEMM (gemm_ukernel.h): X(ukernel, its first-rows form or 0, MR, NR) */
#define MCR_GEMM_SCALAR(X) X(mcr_gemm_f32_4x16__scalar, 0, 4, 16)
/* Flat depthwise (dwconv_ukernel.h): X(ukernel, tile) */
#define MCR_DWCONV_SCALAR(X) X(mcr_dwconv_f32_32x__scalar, 32)
/* Depthwise stride 1, whole planes (dwconv_ukernel.h): X(ukernel) */
#define MCR_DWCONV_ROWS_SCALAR(X)
/* Channels-last depthwise (dwconv_nhwc_ukernel.h): X(ukernel) */
#define MCR_DWCONV_NHWC_SCALAR(X) X(mcr_dwconv_nhwc_f32_4x8__scalar)

#if defined(__AVX2__) && defined(__FMA__)
#define MCR_GEMM_FMA3(X)                                          \
    X(mcr_gemm_f32_3x32__fma3, mcr_gemm_f32_3x32__fma3_rows, 3, 32) \
    X(mcr_gemm_f32_3x16__fma3, mcr_gemm_f32_3x16__fma3_rows, 3, 16)
#define MCR_DWCONV_FMA3(X) X(mcr_dwconv_f32_64x__fma3, 64)
#define MCR_DWCONV_ROWS_FMA3(X) X(mcr_dwconv_f32_rows__fma3)
#define MCR_DWCONV_NHWC_FMA3(X) X(mcr_dwconv_nhwc_f32_8x8__fma3)
#else
#define MCR_GEMM_FMA3(X)
#define MCR_DWCONV_FMA3(X)
#define MCR_DWCONV_ROWS_FMA3(X)
#define MCR_DWCONV_NHWC_FMA3(X)
#endif

#if defined(__AVX512F__)
#define MCR_GEMM_AVX512F(X)                                               \
    X(mcr_gemm_f32_8x32__avx512f, mcr_gemm_f32_8x32__avx512f_rows, 8, 32) \
    X(mcr_gemm_f32_8x16__avx512f, mcr_gemm_f32_8x16__avx512f_rows, 8, 16)
#define MCR_DWCONV_AVX512F(X) X(mcr_dwconv_f32_128x__avx512f, 128)
#define MCR_DWCONV_ROWS_AVX512F(X) X(mcr_dwconv_f32_rows__avx512f)
#define MCR_DWCONV_NHWC_AVX512F(X) X(mcr_dwconv_nhwc_f32_16x16__avx512f)
#else
#define MCR_GEMM_AVX512F(X)
#define MCR_DWCONV_AVX512F(X)
#define MCR_DWCONV_ROWS_AVX512F(X)
#define MCR_DWCONV_NHWC_AVX512F(X)
#endif

#if defined(__aarch64__) && defined(__ARM_NEON)
#define MCR_GEMM_NEON(X) X(mcr_gemm_f32_6x16__neon, mcr_gemm_f32_6x16__neon_rows, 6, 16)
#define MCR_DWCONV_NEON(X) X(mcr_dwconv_f32_32x__neon, 32)
#define MCR_DWCONV_ROWS_NEON(X) X(mcr_dwconv_f32_rows__neon)
#define MCR_DWCONV_NHWC_NEON(X) X(mcr_dwconv_nhwc_f32_8x4__neon)
#else
#define MCR_GEMM_NEON(X)
#define MCR_DWCONV_NEON(X)
#define MCR_DWCONV_ROWS_NEON(X)
#define MCR_DWCONV_NHWC_NEON(X)
#endif

/* Every micro-kernel of this build, for the tests. */
#define MCR_GEMM_UKERNELS(X) \
    MCR_GEMM_SCALAR(X) MCR_GEMM_FMA3(X) MCR_GEMM_AVX512F(X) MCR_GEMM_NEON(X)
#define MCR_DWCONV_UKERNELS(X) \
    MCR_DWCONV_SCALAR(X) MCR_DWCONV_FMA3(X) MCR_DWCONV_AVX512F(X) MCR_DWCONV_NEON(X)
#define MCR_DWCONV_ROWS_UKERNELS(X) \
    MCR_DWCONV_ROWS_SCALAR(X) MCR_DWCONV_ROWS_FMA3(X) MCR_DWCONV_ROWS_AVX512F(X) \
        MCR_DWCONV_ROWS_NEON(X)
#define MCR_DWCONV_NHWC_UKERNELS(X) \
    MCR_DWCONV_NHWC_SCALAR(X) MCR_DWCONV_NHWC_FMA3(X) MCR_DWCONV_NHWC_AVX512F(X) \
        MCR_DWCONV_NHWC_NEON(X)

/* ---- the target's choice ----
 * AArch64 has NEON in its base ISA, so a build for it without flags (the generic target)
 * takes the NEON micro-kernels too. -DMCR_PORTABLE forces the portable ones on any ISA:
 * the reference path, for comparisons (make bench's instruction counts) and its tests. */
#if !defined(MCR_PORTABLE) && defined(__AVX512F__)
/* 8x32: 16 zmm accumulators, 16 independent FMA chains for latency 4 x 2 ports. */
#define MCR_VEC_HEADER "vec_avx512f.h" /* for the runtime's other vector code */
#define MCR_GEMM_UKERNEL mcr_gemm_f32_8x32__avx512f
#define MCR_GEMM_UKERNEL_ROWS mcr_gemm_f32_8x32__avx512f_rows
#define MCR_GEMM_UKERNEL_HALF_ROWS mcr_gemm_f32_8x16__avx512f_rows /* edges <= NR / 2 */
#define MCR_GEMM_MR 8
#define MCR_GEMM_NR 32
#define MCR_GEMM_KC 64 /* rows of b per packed block: gemm.c says why */
#define MCR_DWCONV_UKERNEL mcr_dwconv_f32_128x__avx512f
#define MCR_DWCONV_TILE 128
#define MCR_DWCONV_ROWS mcr_dwconv_f32_rows__avx512f
#define MCR_DWCONV_NHWC_UKERNEL mcr_dwconv_nhwc_f32_16x16__avx512f
#define MCR_TASK_MIN_MACS (1L << 16)
#define MCR_TASK_MIN_ELEMENTS (1L << 12)

#elif !defined(MCR_PORTABLE) && defined(__AVX2__) && defined(__FMA__)
/* 3x32: 12 of the 16 ymm registers as accumulators, a whole panel row of b a step
 * (gemm_f32_3x32__fma3.c says why not the BLIS 6x16). */
#define MCR_VEC_HEADER "vec_fma3.h"
#define MCR_GEMM_UKERNEL mcr_gemm_f32_3x32__fma3
#define MCR_GEMM_UKERNEL_ROWS mcr_gemm_f32_3x32__fma3_rows
#define MCR_GEMM_UKERNEL_HALF_ROWS mcr_gemm_f32_3x16__fma3_rows /* edges <= NR / 2 */
#define MCR_GEMM_MR 3
#define MCR_GEMM_NR 32
#define MCR_GEMM_KC 64
#define MCR_DWCONV_UKERNEL mcr_dwconv_f32_64x__fma3
#define MCR_DWCONV_TILE 64
#define MCR_DWCONV_ROWS mcr_dwconv_f32_rows__fma3
#define MCR_DWCONV_NHWC_UKERNEL mcr_dwconv_nhwc_f32_8x8__fma3
#define MCR_TASK_MIN_MACS (1L << 15) /* half AVX-512's: half the MACs per second */
#define MCR_TASK_MIN_ELEMENTS (1L << 12)

#elif !defined(MCR_PORTABLE) && defined(__aarch64__) && defined(__ARM_NEON)
/* 6x16: 24 of the 32 q registers as accumulators, 4 for a row of b, a broadcast of a;
 * 24 independent FMA chains cover latency 4 x 2 pipes (Cortex-A76, Neoverse N1) and
 * more. A 4 KB block of b (KC 64) fits any AArch64 core's L1 (32 KB or more). */
#define MCR_VEC_HEADER "vec_neon.h"
#define MCR_GEMM_UKERNEL mcr_gemm_f32_6x16__neon
#define MCR_GEMM_UKERNEL_ROWS mcr_gemm_f32_6x16__neon_rows
/* no half-width edge kernel: the encoders' channel counts are multiples of 16 */
#define MCR_GEMM_MR 6
#define MCR_GEMM_NR 16
#define MCR_GEMM_KC 64
#define MCR_DWCONV_UKERNEL mcr_dwconv_f32_32x__neon
#define MCR_DWCONV_TILE 32
#define MCR_DWCONV_ROWS mcr_dwconv_f32_rows__neon
#define MCR_DWCONV_NHWC_UKERNEL mcr_dwconv_nhwc_f32_8x4__neon
#define MCR_TASK_MIN_MACS (1L << 14) /* scaled from x86 by throughput: no ARM core here */
#define MCR_TASK_MIN_ELEMENTS (1L << 12)

#else /* portable C99: the reference */
#define MCR_GEMM_UKERNEL mcr_gemm_f32_4x16__scalar
#define MCR_GEMM_MR 4
#define MCR_GEMM_NR 16
#define MCR_GEMM_KC 256 /* the scalar kernel sums its block in chunks of 64 itself */
#define MCR_DWCONV_UKERNEL mcr_dwconv_f32_32x__scalar
#define MCR_DWCONV_TILE 32
#define MCR_DWCONV_NHWC_UKERNEL mcr_dwconv_nhwc_f32_4x8__scalar
#define MCR_TASK_MIN_MACS (1L << 12)
#define MCR_TASK_MIN_ELEMENTS (1L << 12)
#endif

/* MCR_TASK_MIN_MACS, MCR_TASK_MIN_ELEMENTS (above, per target): the work partitioning's
 * cut-off (parallel.h) -- the multiply-adds, or elements of memory-bound work, below which
 * a task is not worth waking another thread for: a kernel makes at most work / cut-off
 * tasks. Faster kernels need more work per task to pay for the same wake-up, so the cut-off
 * is per target. Measured by `make bench` (runtime/tools/task_cutoff.c: GEMM and
 * elementwise calls of growing size, split in two tasks, on one thread and on two of
 * runtime/threadpool's pool). On AMD EPYC, AVX-512: a GEMM of 2^17 MACs (two tasks of
 * 2^16) already ran 1.39x faster on two threads (1.05 -> 0.76 us), an add of 2^13
 * elements 1.68x (0.58 -> 0.34 us) while one of 2^12 ran slower (0.20 -> 0.25 us): a
 * hand-off costs about 0.15 us when the workers are spinning. The AVX2, NEON and
 * portable values are scaled by their throughput, not measured. The kernel tests set
 * MCR_TASK_SPLIT_ALL, to split even their small shapes. */
#if defined(MCR_TASK_SPLIT_ALL)
#undef MCR_TASK_MIN_MACS
#undef MCR_TASK_MIN_ELEMENTS
#define MCR_TASK_MIN_MACS 1L
#define MCR_TASK_MIN_ELEMENTS 1L
#endif

/* The widest flat depthwise tile of any variant; dwconv.c's scratch slack is sized by it
 * (the same on every target, so that the compiler's scratch formula has no target in it). */
#define MCR_DWCONV_TILE_MAX 128

#endif

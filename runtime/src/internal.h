/* Small helpers shared by the runtime's kernels and micro-kernels. Internal. */
#ifndef MCR_INTERNAL_H
#define MCR_INTERNAL_H

/* For micro-kernel helpers called with constant block sizes: inlined always, so that the
 * sizes are constants and arrays of accumulators become registers (gcc otherwise keeps
 * them on the stack: measured 4x slower on the depthwise row kernel). */
#if defined(__GNUC__)
#define MCR_ALWAYS_INLINE __attribute__((always_inline)) static inline
#else
#define MCR_ALWAYS_INLINE static inline
#endif

/* A hint to fetch the cache line holding address `addr` into the caches. The address is
 * an integer so that one past an array's end (a prefetch's reach) is computed without
 * pointer arithmetic outside the object; a prefetch never faults. */
#if defined(__GNUC__)
#define MCR_PREFETCH(addr) __builtin_prefetch((const void *)(addr))
#else
#define MCR_PREFETCH(addr) (void)(addr)
#endif

/* floor(a / b) for b > 0, also for negative a (C division truncates toward zero). */
static inline long mcr_floor_div(long a, long b)
{
    return a >= 0 ? a / b : -((-a + b - 1) / b);
}

static inline long mcr_clamp(long v, long lo, long hi)
{
    return v < lo ? lo : (v > hi ? hi : v);
}

/* The outputs o in [0, n) of a strided window whose input index o * stride + off lies
 * inside [0, size): [*o0, *o1). */
static inline void mcr_inside(long off, long stride, long size, long n, long *o0, long *o1)
{
    *o0 = mcr_clamp(mcr_floor_div(-off + stride - 1, stride), 0, n);
    *o1 = mcr_clamp(mcr_floor_div(size - 1 - off, stride) + 1, *o0, n);
}
#endif

/* The SIMD stride-1 depthwise "rows" micro-kernel family, written once over the vector
 * layer (vec_<isa>.h); dwconv_ukernel.h states the contract. A variant file defines
 * ROWS_VMAX (the widest block, in vectors) and ROWS_UKERNEL, includes its vec_<isa>.h,
 * then this.
 *
 * A whole output plane of one channel from its padded copy (dwconv.c; rows wq = ow + kw -
 * 1 apart), in blocks of R = 4 output rows x V vectors of columns, with R*V accumulators.
 * Why rows: output rows oy..oy+R-1 read the same input rows, shifted. Loading each input
 * vector once per block and feeding it to every output row that uses it cuts the loads
 * per multiply-add from ~1.1 (the flat kernel, one tap at a time over a flat tile, most
 * loads split across cache lines) to (R+kh-1)/(R*kh) + 1/V. Each sum still runs over the
 * taps in (row, column) order from zero, the bias added last, as the flat kernels'. */
#include "dwconv_ukernel.h"
#include "internal.h"

/* Output rows [oy0, oy0+R) x columns [x0, x0+VN*V); the last vector's lanes outside the
 * plane (mask `last`, all on when `full`) are not stored. */
MCR_ALWAYS_INLINE void block(const float *pad, long wq, const float *w, long kh, long kw,
                             float bias, float *y, long ow, long oy0, long x0, const int R,
                             const int V, int full, mcr_vmask last)
{
    mcr_v acc[4][4];
    for (int r = 0; r < R; r++) {
        for (int v = 0; v < V; v++) acc[r][v] = v_zero(); /* bias added last */
    }
    for (long rho = 0; rho < R + kh - 1; rho++) {
        const float *row = pad + (oy0 + rho) * wq + x0;
        for (long s = 0; s < kw; s++) {
            mcr_v xv[4];
            for (int v = 0; v < V; v++) xv[v] = v_load(row + MCR_VN * v + s);
            for (int r = 0; r < R; r++) {
                const long i = rho - r; /* the kernel row joining input row rho to row r */
                if (i < 0 || i >= kh) continue;
                const mcr_v wv = v_set1(w[i * kw + s]);
                for (int v = 0; v < V; v++) acc[r][v] = v_fma(wv, xv[v], acc[r][v]);
            }
        }
    }
    const mcr_v b = v_set1(bias);
    for (int r = 0; r < R; r++) {
        float *yr = y + (oy0 + r) * ow + x0;
        for (int v = 0; v < V - 1; v++) v_store(yr + MCR_VN * v, v_add(acc[r][v], b));
        if (full) {
            v_store(yr + MCR_VN * (V - 1), v_add(acc[r][V - 1], b));
        } else {
            v_store_part(yr + MCR_VN * (V - 1), last, v_add(acc[r][V - 1], b));
        }
    }
}

/* One column block of the plane, all rows: blocks of 4 rows, then single rows. */
MCR_ALWAYS_INLINE void column(const float *pad, long wq, const float *w, long kh, long kw,
                              float bias, float *y, long oh, long ow, long x0, const int V,
                              int full, mcr_vmask last)
{
    long oy = 0;
    for (; oy + 4 <= oh; oy += 4) {
        block(pad, wq, w, kh, kw, bias, y, ow, oy, x0, 4, V, full, last);
    }
    for (; oy < oh; oy++) block(pad, wq, w, kh, kw, bias, y, ow, oy, x0, 1, V, full, last);
}

/* The blocks of one plane with V vectors (a constant once inlined); R = 4 rows: measured
 * under AVX-512, 8 rows for narrower blocks spill accumulators and run slower. */
MCR_ALWAYS_INLINE void plane(const float *pad, long wq, const float *w, long kh, long kw,
                             float bias, float *y, long oh, long ow, const int V)
{
    for (long x0 = 0; x0 < ow; x0 += MCR_VN * V) {
        const long left = ow - x0 - MCR_VN * (V - 1); /* columns in the block's last vector */
        if (left <= 0) { /* a narrower last block: one vector at a time */
            for (long xs = x0; xs < ow; xs += MCR_VN) {
                column(pad, wq, w, kh, kw, bias, y, oh, ow, xs, 1, ow - xs >= MCR_VN,
                       v_mask(ow - xs));
            }
            break;
        }
        column(pad, wq, w, kh, kw, bias, y, oh, ow, x0, V, left >= MCR_VN, v_mask(left));
    }
}

void ROWS_UKERNEL(MCR_DWCONV_ROWS_ARGS)
{
    /* Blocks as wide as the row allows, up to ROWS_VMAX vectors. */
    if (ROWS_VMAX >= 4 && ow > 2 * MCR_VN) {
        plane(pad, wq, w, kh, kw, bias, y, oh, ow, 4);
    } else if (ROWS_VMAX >= 2 && ow > MCR_VN) {
        plane(pad, wq, w, kh, kw, bias, y, oh, ow, 2);
    } else {
        plane(pad, wq, w, kh, kw, bias, y, oh, ow, 1);
    }
}

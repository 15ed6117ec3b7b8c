/* The Mandelbrot kernels of the C baseline: one point at a time, and many in lock-step.
 *
 * escape_count is the textbook loop; escape_counts_lanes iterates LANES neighbouring
 * points together, each lane stopping when it escapes, as the Cython and numba kernels
 * do, so that the compiler can vectorise the inner loop. Included by
 * mandelbrot.c, which times them; shown whole in the book.
 */
#ifndef KERNELS_LANES_H
#define KERNELS_LANES_H

static int escape_count(double cr, double ci, int max_iter) {
    double zr = 0.0, zi = 0.0, zr2 = 0.0, zi2 = 0.0;
    int n = 0;
    while (n < max_iter && zr2 + zi2 <= 4.0) {
        zi = 2.0 * zr * zi + ci;
        zr = zr2 - zi2 + cr;
        zr2 = zr * zr;
        zi2 = zi * zi;
        n++;
    }
    return n;
}

/* The kernel's layout: how many points iterate together (64 or 32) and the counts'
   integer type, 64-bit (long long) or 32-bit (int). Both are chosen when the package is
   built, by timing this kernel in each layout (kernels/core/buildflags.py), since which
   is faster depends on the processor.
   - Counts: a comparison of 8 doubles gives the mask for 8 lanes. 64-bit counts, as
     wide as the doubles, use it as it is; with 32-bit counts (16 to a 512-bit vector)
     gcc joins two masks into one before every count update. On an AMD EPYC Zen 5,
     64-bit counts were 9% faster (0.0244 s against 0.0268 s at 1200x1000x500, 64
     lanes); on a Zen 4, which runs a 512-bit instruction as two 256-bit halves, 32-bit
     counts were 9-12% faster (0.041-0.043 s against 0.047 s; gcc 12).
   - Lanes: on an Intel Xeon with AVX-512 (gcc 12), with 256-bit vectors (gcc's choice
     there without -mprefer-vector-width=512), 32 lanes of 64-bit counts took
     0.047-0.051 s and 64 lanes 0.056-0.061 s; with 32-bit counts, 0.050-0.054 s and
     0.059-0.062 s. With 512-bit vectors, 64 lanes of 32-bit counts took 0.040-0.043 s,
     32 lanes of 64-bit counts 0.043 s, 64 lanes of 64-bit counts 0.044-0.045 s and 32
     lanes of 32-bit counts 0.049-0.050 s. */
#ifndef KERNELS_LANES
#define KERNELS_LANES 64
#endif
#define LANES KERNELS_LANES
#ifndef KERNELS_COUNT_T
#define KERNELS_COUNT_T long long
#endif
typedef KERNELS_COUNT_T count_t;

/* A lane is still iterating at step n exactly when its count is n: once it escapes,
   its count falls behind and never changes again. Lanes past m start at max_iter.
   The squares are computed where they are used, not kept in arrays of their own: two
   arrays fewer to load and store per step (15% faster with gcc 12 on an AMD EPYC).
   Whether any lane still iterates is tested every 8th step, not on every one: a step
   after the last lane escaped changes nothing, so the counts are the same, and gcc's
   loop loses the ten instructions that OR 64 lanes' flags together (7-12% faster on a
   Zen 4, at either count width). */
static void escape_counts_lanes(const double *cr, double ci, int m, int max_iter, int *out) {
    double zr[LANES], zi[LANES], c[LANES];
    count_t count[LANES];
    for (int lane = 0; lane < LANES; lane++) {
        zr[lane] = zi[lane] = 0.0;
        count[lane] = lane < m ? 0 : max_iter;
        c[lane] = lane < m ? cr[lane] : 0.0;
    }
    for (count_t n = 0; n < max_iter; n++) {
        for (int lane = 0; lane < LANES; lane++) {
            double x = zr[lane], y = zi[lane];
            double x2 = x * x, y2 = y * y;
            count_t still = (x2 + y2 <= 4.0) & (count[lane] == n);
            count[lane] += still;
            double new_zi = 2.0 * x * y + ci;
            double new_zr = x2 - y2 + c[lane];
            zi[lane] = still ? new_zi : y;
            zr[lane] = still ? new_zr : x;
        }
        if ((n & 7) == 7) { /* every 8th step: stop when no lane is still iterating */
            count_t any_active = 0;
            for (int lane = 0; lane < LANES; lane++) any_active |= count[lane] == n + 1;
            if (!any_active) break;
        }
    }
    for (int lane = 0; lane < m; lane++) out[lane] = count[lane];
}

#endif

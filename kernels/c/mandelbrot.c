/* The Mandelbrot escape counts as a plain C program with OpenMP: the book's ceiling.
 *
 * Usage: mandelbrot WIDTH HEIGHT MAX_ITER THREADS OUTFILE [lanes|scalar] [PASSES]
 * Computes the counts of the kernels' specification (coordinates as numpy.linspace),
 * rows shared among THREADS OpenMP threads with schedule(dynamic), PASSES times (default
 * 1), writes them to OUTFILE as raw int32 (row by row) and prints the seconds each pass
 * took, one line per pass. A fresh process's first pass is the slow one (cold caches
 * and branch predictors, the clock still rising): 0.025-0.032 s against 0.024 s for
 * the passes after it at 1200x1000x500 on an AMD EPYC (Zen 5), so a fair measurement
 * leaves it out, as it leaves out a Python tool's first call.
 * "lanes" (the default) iterates 64 or 32 neighbouring points in lock-step (the layout
 * the build timed faster), as the Cython kernel does; "scalar" is the textbook loop,
 * one point at a time.
 * The kernels are in lanes.h. Build (kernels/core/buildflags.py has the flags):
 *   cc -O3 -march=native -mprefer-vector-width=512 -funroll-loops -ffp-contract=off \
 *      -fno-trapping-math -fopenmp mandelbrot.c -o mandelbrot
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <omp.h>

static double linspace(double start, double stop, int num, int i) {
    if (num == 1) return start;
    if (i == num - 1) return stop;
    return i * ((stop - start) / (num - 1)) + start;
}

#include "lanes.h"

int main(int argc, char **argv) {
    if (argc < 6 || argc > 8) {
        fprintf(stderr, "usage: %s WIDTH HEIGHT MAX_ITER THREADS OUTFILE [lanes|scalar]"
                        " [PASSES]\n", argv[0]);
        return 2;
    }
    int lanes = argc == 6 || strcmp(argv[6], "lanes") == 0;
    if (!lanes && strcmp(argv[6], "scalar") != 0) {
        fprintf(stderr, "the kernel must be lanes or scalar, got %s\n", argv[6]);
        return 2;
    }
    int width = atoi(argv[1]), height = atoi(argv[2]), max_iter = atoi(argv[3]);
    int threads = atoi(argv[4]), passes = argc == 8 ? atoi(argv[7]) : 1;
    if (width < 1 || height < 1 || max_iter < 1 || threads < 1 || passes < 1) {
        fprintf(stderr, "WIDTH, HEIGHT, MAX_ITER, THREADS and PASSES must be >= 1\n");
        return 2;
    }
    double *re = malloc(sizeof(double) * width);
    int *counts = malloc(sizeof(int) * (size_t)width * height);
    if (re == NULL || counts == NULL) {
        fprintf(stderr, "out of memory\n");
        return 1;
    }
    for (int j = 0; j < width; j++) re[j] = linspace(-2.0, 0.5, width, j);
    /* Touch the output and start the thread team before the clock starts, as a library
       call from Python finds them: page faults and thread creation are not the loop. */
    memset(counts, 0, sizeof(int) * (size_t)width * height);
#pragma omp parallel num_threads(threads)
    { }

    for (int pass = 0; pass < passes; pass++) {
        double start = omp_get_wtime();
#pragma omp parallel for num_threads(threads) schedule(dynamic)
        for (int i = 0; i < height; i++) {
            double ci = linspace(-1.25, 1.25, height, i);
            int *row = counts + (size_t)i * width;
            if (lanes) {
                for (int j = 0; j < width; j += LANES)
                    escape_counts_lanes(re + j, ci, width - j < LANES ? width - j : LANES,
                                        max_iter, row + j);
            } else {
                for (int j = 0; j < width; j++) row[j] = escape_count(re[j], ci, max_iter);
            }
        }
        printf("%.9f\n", omp_get_wtime() - start);
    }

    FILE *out = fopen(argv[5], "wb");
    if (out == NULL || fwrite(counts, sizeof(int), (size_t)width * height, out)
                           != (size_t)width * height) {
        fprintf(stderr, "cannot write %s\n", argv[5]);
        return 1;
    }
    fclose(out);
    free(re);
    free(counts);
    return 0;
}

/* C reference for bench_runner.py: clipped GD on f_exp(L0, L1), one instance per lane, LANES lanes per thread,
 * a lane refilled with the thread's next instance as soon as its own finishes. Compiled with -ffast-math only so
 * that GCC can call glibc's vector exp (libmvec); that is fine for a speed reference, and the script prints the
 * total step count of every implementation so any drift from the exact loop is visible. */
#include <math.h>
#include <stdint.h>
#include <omp.h>

#define LANES 8

int64_t run_clipped_fexp(int64_t n, const double *x0, const int64_t *order, double L0, double L1, double eta_c,
                         double gamma, double eps, int64_t max_iter, int64_t *iters, int threads)
{
    int64_t total = 0;
#pragma omp parallel num_threads(threads) reduction(+ : total)
    {
        const int64_t nt = omp_get_num_threads();
        int64_t next = omp_get_thread_num(); /* this thread takes order[tid], order[tid + nt], ... */
        double x[LANES], d[LANES];
        int64_t id[LANES], t[LANES];
        int active = 0;
        for (int l = 0; l < LANES; l++) {
            id[l] = -1;
            x[l] = 0.0;
            t[l] = 0;
            if (next < n) {
                id[l] = order[next];
                x[l] = x0[id[l]];
                next += nt;
                active++;
            }
        }
        while (active > 0) {
#pragma omp simd
            for (int l = 0; l < LANES; l++) {
                double e = exp(L1 * fabs(x[l])) - 1.0;
                d[l] = copysign(L0 / L1 * e, x[l]);
            }
            for (int l = 0; l < LANES; l++) {
                if (id[l] < 0)
                    continue;
                double g = fabs(d[l]);
                if (g <= eps || t[l] == max_iter) {
                    iters[id[l]] = t[l];
                    total += t[l];
                    if (next < n) {
                        id[l] = order[next];
                        x[l] = x0[id[l]];
                        t[l] = 0;
                        next += nt;
                    } else {
                        id[l] = -1;
                        active--;
                    }
                    continue;
                }
                double h = fmin(eta_c, gamma * eta_c / g);
                x[l] -= h * d[l];
                t[l]++;
            }
        }
    }
    return total;
}

/* OpenBLAS sgemm GFLOP/s for n x n x n (best of reps after a warm-up): the CPU's
 * practical f32 matmul rate, cpu_peer.sh's yardstick.
 *   gcc -O2 -o sgemm sgemm.c -lopenblas && OPENBLAS_NUM_THREADS=2 ./sgemm 1024 2048 */
#include <cblas.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static double now(void) {
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec + 1e-9 * t.tv_nsec;
}

int main(int argc, char **argv) {
	for (int i = 1; i < argc; i++) {
		int n = atoi(argv[i]), reps = n <= 1024 ? 10 : 4;
		float *a = malloc(sizeof(float) * n * n), *b = malloc(sizeof(float) * n * n), *c = malloc(sizeof(float) * n * n);
		for (long j = 0; j < (long)n * n; j++) {
			a[j] = 0.01f * (float)(j % 7 - 3);
			b[j] = 0.02f * (float)(j % 5 - 2);
		}
		double best = 0;
		for (int r = 0; r <= reps; r++) {
			double t = now();
			cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, n, n, n, 1, a, n, b, n, 0, c, n);
			t = now() - t;
			if (r > 0 && 2.0 * n * n * n / t > best) best = 2.0 * n * n * n / t;
		}
		printf("{\"n\": %d, \"gflops\": %.2f, \"config\": \"%s\"}\n", n, best / 1e9, openblas_get_config());
		free(a), free(b), free(c);
	}
	return 0;
}

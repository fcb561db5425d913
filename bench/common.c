/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common.h"

void bench_cpu_model(char *out, size_t cap)
{
	FILE *f = fopen("/proc/cpuinfo", "r");
	char line[256];
	char *v;

	snprintf(out, cap, "unknown");
	if (!f)
		return;
	while (fgets(line, sizeof(line), f)) {
		if (strncmp(line, "model name", 10))
			continue;
		v = strchr(line, ':');
		if (!v)
			break;
		v += 1 + (v[1] == ' ');
		v[strcspn(v, "\n")] = 0;
		snprintf(out, cap, "%s", v);
		break;
	}
	fclose(f);
}

static int cmp_i32(const void *a, const void *b)
{
	int32_t x = *(const int32_t *)a, y = *(const int32_t *)b;

	return (x > y) - (x < y);
}

/* The @q-th quantile (0..1) of sorted @v (@n values), per packet. */
static double quantile(const int32_t *v, size_t n, double q,
		       unsigned int batch)
{
	return (double)v[(size_t)(q * (double)(n - 1) + 0.5)] / batch;
}

void bench_pairs_summary(int32_t *tb, int32_t *tg, int32_t *td, size_t n,
			 unsigned int batch, double *total, double *base,
			 double gro[3])
{
	size_t i;

	for (i = 0; i < n; i++)
		td[i] = tg[i] - tb[i];
	qsort(tg, n, sizeof(*tg), cmp_i32);
	qsort(tb, n, sizeof(*tb), cmp_i32);
	qsort(td, n, sizeof(*td), cmp_i32);
	*total = quantile(tg, n, 0.5, batch);
	*base = quantile(tb, n, 0.5, batch);
	gro[0] = quantile(td, n, 0.25, batch);
	gro[1] = quantile(td, n, 0.5, batch);
	gro[2] = quantile(td, n, 0.75, batch);
}

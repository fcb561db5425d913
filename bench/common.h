/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * bench/common: what bench/engine and bench/dpdk share, so that the two
 * report the same statistics the same way.
 */
#ifndef GROGSO_BENCH_COMMON_H
#define GROGSO_BENCH_COMMON_H

#include <stddef.h>
#include <stdint.h>

/* The CPU's "model name" from /proc/cpuinfo into @out, or "unknown". */
void bench_cpu_model(char *out, size_t cap);

/*
 * Summarise @n timed pairs of @batch-packet batches: @tb the baseline
 * batches, @tg the GRO batches (ns each); @td receives the per-pair
 * differences.  Gives, in ns per packet, the median GRO batch (@total),
 * the median baseline batch (@base) and the quartiles of the differences
 * (@gro: q1, median, q3).  Sorts all three arrays; @n must be > 0.
 */
void bench_pairs_summary(int32_t *tb, int32_t *tg, int32_t *td, size_t n,
			 unsigned int batch, double *total, double *base,
			 double gro[3]);

#endif

/* SPDX-License-Identifier: MIT */
/* reduce_isa.h - the block loops of the reductions of one dtype for one instruction set.
 * reduce_tmpl.h includes it once per level with ISA (name suffix) and ISA_ATTR (a target
 * attribute, or nothing) defined, on top of its own T, SUF, KIND and IT.
 *
 * Every loop keeps NACC independent accumulators (dot: NACC_DOT) and combines them in a
 * fixed order; with no reassociation and no contraction allowed, the vector width of the
 * instruction set changes how many accumulators one instruction updates, never the
 * arithmetic, so every level gives the same bits (tests/kernels/test_reduce_k.c compares
 * them). */

#define BFN(op) BRG__CAT(BRG__CAT3(rb_, op, _), BRG__CAT3(SUF, _, ISA))

ISA_ATTR static void BFN(sum)(const void *xv, const void *yv, size_t n, size_t base,
			      void *partial)
{
	const T *restrict x = xv;
	size_t i = 0;
#if KIND == BRG__FLOAT
	/* Each accumulator is a compensated sum (TwoSum, branch-free, so it vectorizes):
	 * s[j] + c[j] is the exact sum of its elements up to the rounding of c. */
	double s[NACC] = {0}, c[NACC] = {0};
	for (; i + NACC <= n; i += NACC)
		LANES {
			double v = (double)x[i + j], t = s[j] + v, z = t - s[j];
			c[j] += (s[j] - (t - z)) + (v - z);
			s[j] = t;
		}
	for (int j = 0; i < n; i++, j++) {
		double v = (double)x[i], t = s[j] + v, z = t - s[j];
		c[j] += (s[j] - (t - z)) + (v - z);
		s[j] = t;
	}
	fsum_finish(s, c, partial);
#else
	/* Exact.  A 64-bit element is hi * 2^32 + lo (its bits as unsigned, less 2^64 when a
	 * signed one is negative): the lo halves, the hi halves and the negatives add up in
	 * 64-bit lanes, with shifts, masks and adds only, so it vectorizes, and the partial is
	 * put together in 128 bits.  Narrower elements add up whole in 64-bit lanes (the
	 * widening is a shuffle either way).  No lane overflows while it adds under 2^32
	 * elements, each under 2^32 in magnitude: blocks of under NACC x 2^32 elements, which
	 * at most 1024 blocks per job make arrays of under 2^46 elements. */
	if (sizeof(T) == 8) {
		uint64_t lo[NACC] = {0}, hi[NACC] = {0}, neg[NACC] = {0};
		for (; i + NACC <= n; i += NACC)
			for (int j = 0; j < NACC; j++) {
				uint64_t u = (uint64_t)x[i + j];
				lo[j] += u & 0xffffffffu;
				hi[j] += u >> 32;
				neg[j] += u >> 63;
			}
		for (int j = 0; i < n; i++, j++) {
			uint64_t u = (uint64_t)x[i];
			lo[j] += u & 0xffffffffu;
			hi[j] += u >> 32;
			neg[j] += u >> 63;
		}
		brg__i128 w[NACC];
		for (int j = 0; j < NACC; j++) {
			w[j] = ((brg__i128)hi[j] << 32) + lo[j];
			if (KIND == BRG__SIGNED)
				w[j] -= (brg__i128)neg[j] << 64;
		}
		usum_finish128(w, partial);
	} else {
		IT s[NACC] = {0};
		for (; i + NACC <= n; i += NACC)
			for (int j = 0; j < NACC; j++)
				s[j] += (IT)x[i + j];
		for (int j = 0; i < n; i++, j++)
			s[j] += (IT)x[i];
		brg__i128 w[NACC];
		for (int j = 0; j < NACC; j++)
			w[j] = s[j];
		usum_finish128(w, partial);
	}
#endif
}

#if KIND == BRG__FLOAT
ISA_ATTR static void BFN(sumsq)(const void *xv, const void *yv, size_t n, size_t base,
				void *partial)
{
	const T *restrict x = xv;
	double s[NACC] = {0};
	size_t i = 0;
	for (; i + NACC <= n; i += NACC)
		for (int j = 0; j < NACC; j++) {
			double v = (double)x[i + j];
			s[j] += v * v;
		}
	for (int j = 0; i < n; i++, j++) {
		double v = (double)x[i];
		s[j] += v * v;
	}
	dsum_finish(s, NACC, partial);
}

ISA_ATTR static void BFN(dot)(const void *xv, const void *yv, size_t n, size_t base,
			      void *partial)
{
	const T *restrict x = xv;
	const T *restrict y = yv;
	double s[NACC_DOT] = {0};
	size_t i = 0;
	for (; i + NACC_DOT <= n; i += NACC_DOT)
		for (int j = 0; j < NACC_DOT; j++)
			s[j] += (double)x[i + j] * (double)y[i + j];
	for (int j = 0; i < n; i++, j++)
		s[j] += (double)x[i] * (double)y[i];
	dsum_finish(s, NACC_DOT, partial);
}

ISA_ATTR static void BFN(norm2)(const void *xv, const void *yv, size_t n, size_t base,
				void *partial)
{
	struct p_norm *p = partial;
#if NORM_SCALED
	/* First the largest magnitude (the block is in cache for the second pass).  When it is
	 * in [2^-460, TBIG] a plain sum of squares is exact enough: a square it loses to
	 * underflow is below 2^-102 of the largest one.  Otherwise Blue's algorithm (as in
	 * LAPACK 3.10 dnrm2): three sums, tiny and huge values scaled by powers of two into
	 * range.  NaN passes the first test and comes out of the sum of squares. */
	const T *restrict x = xv;
	double mx[NACC] = {0};
	size_t i = 0;
	for (; i + NACC <= n; i += NACC)
		LANES {
			double a = fabs((double)x[i + j]);
			mx[j] = a > mx[j] ? a : mx[j];
		}
	for (int j = 0; i < n; i++, j++) {
		double a = fabs((double)x[i]);
		mx[j] = a > mx[j] ? a : mx[j];
	}
	double amax = mx[0];
	for (int j = 1; j < NACC; j++)
		amax = mx[j] > amax ? mx[j] : amax;
	if (amax >= 0x1p-460 && amax <= BLUE_TBIG) {
		BFN(sumsq)(xv, yv, n, base, partial);
		double s = ((struct p_dsum *)partial)->s;
		memset(p, 0, BRG_SCRATCH_BYTES);
		p->med = s;
		return;
	}
	double sml[NACC] = {0}, med[NACC] = {0}, big[NACC] = {0};
	for (i = 0; i + NACC <= n; i += NACC)
		LANES {
			double a = fabs((double)x[i + j]);
			double b = a > BLUE_TBIG ? a * BLUE_SBIG : 0.0;
			double s = a < BLUE_TSML ? a * BLUE_SSML : 0.0;
			double m = a > BLUE_TBIG || a < BLUE_TSML ? 0.0 : a; /* NaN stays here */
			big[j] += b * b;
			sml[j] += s * s;
			med[j] += m * m;
		}
	for (int j = 0; i < n; i++, j++) {
		double a = fabs((double)x[i]);
		double b = a > BLUE_TBIG ? a * BLUE_SBIG : 0.0;
		double s = a < BLUE_TSML ? a * BLUE_SSML : 0.0;
		double m = a > BLUE_TBIG || a < BLUE_TSML ? 0.0 : a;
		big[j] += b * b;
		sml[j] += s * s;
		med[j] += m * m;
	}
	memset(p, 0, BRG_SCRATCH_BYTES);
	p->sml = tree_sum(sml, NACC);
	p->med = tree_sum(med, NACC);
	p->big = tree_sum(big, NACC);
#else
	/* f32: squares in double can neither overflow nor underflow. */
	BFN(sumsq)(xv, yv, n, base, partial);
	double s = ((struct p_dsum *)partial)->s;
	memset(p, 0, BRG_SCRATCH_BYTES);
	p->med = s;
#endif
}
#endif

/* Min and max: per-lane selects (v < m ? v : m is exactly what minpd does), NaN noted in
 * a flag of the element's width so the loop stays one vector type. */
#if KIND == BRG__FLOAT
#define MINMAX_BODY(CMP)                                                                       \
	const T *restrict x = xv;                                                              \
	T m[NACC];                                                                             \
	IT nf[NACC] = {0};                                                                     \
	for (int j = 0; j < NACC; j++)                                                         \
		m[j] = x[0];                                                                   \
	size_t i = 0;                                                                          \
	for (; i + NACC <= n; i += NACC)                                                       \
		LANES {                                               \
			T v = x[i + j];                                                        \
			m[j] = v CMP m[j] ? v : m[j];                                          \
			nf[j] |= (IT)(v != v);                                                 \
		}                                                                              \
	for (int j = 0; i < n; i++, j++) {                                                     \
		T v = x[i];                                                                    \
		m[j] = v CMP m[j] ? v : m[j];                                                  \
		nf[j] |= (IT)(v != v);                                                         \
	}                                                                                      \
	struct p_fmm *p = partial;                                                             \
	memset(p, 0, BRG_SCRATCH_BYTES);                                                       \
	T r = m[0];                                                                            \
	IT anynan = nf[0];                                                                     \
	for (int j = 1; j < NACC; j++) {                                                       \
		r = m[j] CMP r ? m[j] : r;                                                     \
		anynan |= nf[j];                                                               \
	}                                                                                      \
	p->v = (double)r;                                                                      \
	p->nan = anynan != 0;
#else
#define MINMAX_BODY(CMP)                                                                       \
	const T *restrict x = xv;                                                              \
	T m[NACC];                                                                             \
	for (int j = 0; j < NACC; j++)                                                         \
		m[j] = x[0];                                                                   \
	size_t i = 0;                                                                          \
	for (; i + NACC <= n; i += NACC)                                                       \
		LANES {                                               \
			T v = x[i + j];                                                        \
			m[j] = v CMP m[j] ? v : m[j];                                          \
		}                                                                              \
	for (int j = 0; i < n; i++, j++) {                                                     \
		T v = x[i];                                                                    \
		m[j] = v CMP m[j] ? v : m[j];                                                  \
	}                                                                                      \
	T r = m[0];                                                                            \
	for (int j = 1; j < NACC; j++)                                                         \
		r = m[j] CMP r ? m[j] : r;                                                     \
	struct p_imm *p = partial;                                                             \
	memset(p, 0, BRG_SCRATCH_BYTES);                                                       \
	p->i = (int64_t)r;                                                                     \
	p->u = (uint64_t)r;
#endif

ISA_ATTR static void BFN(min)(const void *xv, const void *yv, size_t n, size_t base,
			      void *partial)
{
	MINMAX_BODY(<)
}

ISA_ATTR static void BFN(max)(const void *xv, const void *yv, size_t n, size_t base,
			      void *partial)
{
	MINMAX_BODY(>)
}
#undef MINMAX_BODY

#if KIND == BRG__FLOAT
/* Per lane the first strict minimum and its index, then the lanes by (value, index); a NaN
 * (rare) sends the block to a scan for its first NaN. */
#define ARG_BODY(CMP)                                                                          \
	const T *restrict x = xv;                                                              \
	struct p_arg *p = partial;                                                             \
	memset(p, 0, BRG_SCRATCH_BYTES);                                                       \
	T best = x[0];                                                                         \
	size_t at = 0;                                                                         \
	IT anynan = 0;                                                                         \
	size_t i = 0;                                                                          \
	if (n >= NACC) {                                                                       \
		T m[NACC];                                                                     \
		IT id[NACC], nf[NACC] = {0};                                                   \
		for (int j = 0; j < NACC; j++) {                                               \
			m[j] = x[j];                                                           \
			id[j] = (IT)j;                                                         \
			nf[j] = (IT)(x[j] != x[j]);                                            \
		}                                                                              \
		for (i = NACC; i + NACC <= n; i += NACC)                                       \
			LANES {                                       \
				T v = x[i + j];                                                \
				IT take = (IT)(v CMP m[j]);                                    \
				m[j] = take ? v : m[j];                                        \
				id[j] = take ? (IT)(i + (size_t)j) : id[j];                    \
				nf[j] |= (IT)(v != v);                                         \
			}                                                                      \
		best = m[0];                                                                   \
		at = (size_t)id[0];                                                            \
		for (int j = 0; j < NACC; j++) {                                               \
			anynan |= nf[j];                                                       \
			if (m[j] CMP best || (m[j] == best && (size_t)id[j] < at)) {          \
				best = m[j];                                                   \
				at = (size_t)id[j];                                            \
			}                                                                      \
		}                                                                              \
	}                                                                                      \
	for (; i < n; i++) {                                                                   \
		T v = x[i];                                                                    \
		anynan |= (IT)(v != v);                                                        \
		if (v CMP best || (v == best && i < at)) {                                     \
			best = v;                                                              \
			at = i;                                                                \
		}                                                                              \
	}                                                                                      \
	if (anynan) {                                                                          \
		for (at = 0; at < n && x[at] == x[at]; at++)                                   \
			;                                                                      \
		best = x[at];                                                                  \
		p->nan = 1;                                                                    \
	}                                                                                      \
	p->v = (double)best;                                                                   \
	p->idx = base + at;

ISA_ATTR static void BFN(argmin)(const void *xv, const void *yv, size_t n, size_t base,
				 void *partial)
{
	ARG_BODY(<)
}

ISA_ATTR static void BFN(argmax)(const void *xv, const void *yv, size_t n, size_t base,
				 void *partial)
{
	ARG_BODY(>)
}
#undef ARG_BODY
#endif

static const struct rops BRG__CAT3(rops_, ISA, BRG__CAT(_, SUF)) = {{
	[BRG__R_SUM] = BFN(sum),
#if KIND == BRG__FLOAT
	[BRG__R_SUMSQ] = BFN(sumsq),
	[BRG__R_DOT] = BFN(dot),
	[BRG__R_NORM2] = BFN(norm2),
	[BRG__R_ARGMIN] = BFN(argmin),
	[BRG__R_ARGMAX] = BFN(argmax),
#endif
	[BRG__R_MIN] = BFN(min),
	[BRG__R_MAX] = BFN(max),
}};

#undef BFN
#undef ISA
#undef ISA_ATTR

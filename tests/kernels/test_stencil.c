/* SPDX-License-Identifier: MIT */
/* test_stencil.c - 3x3 and 5x5 correlation and box blur of u8 and f32 images against a
 * serial reference in double with clamped borders, on shapes whose row count does not divide
 * by the pool size, in pools of 1 to 3; then bit for bit against the arithmetic brigade
 * documents (one chain of taps in row-major order, fused where the level has FMA), and every
 * instruction-set level's row against that arithmetic on the same rows.
 *
 * Tolerances: the kernel rounds k*k products and sums (fewer where it fuses), so each output
 * may be off by (k*k + 2) * 2^-24 * sum |w x| (one rounding per product and per addition,
 * one for the division of the box) relative to the exact value.  For u8 the output must be
 * the rounding (half up, saturated) of some value within that distance of the exact one; box
 * blur of u8 is exact (the window sum is an exact integer in float, and a mean of k*k
 * integers is never closer than 1/50 to a .5 boundary). */
/* the unfused documented sum rounds each product: no contraction here */
#pragma GCC optimize("fp-contract=off")

#include "kernels.h"
#include "kutil.h"

static const size_t shapes[][2] = {{1, 1}, {2, 3}, {7, 5}, {13, 1}, {37, 129}, {301, 257}};
#define NSHAPES 6

static size_t clampi(long long v, size_t n)
{
	return v < 0 ? 0 : v >= (long long)n ? n - 1 : (size_t)v;
}

static double pix(const brg_array *a, size_t r, size_t c, size_t cols)
{
	size_t i = r * cols + c;
	return brg_array_dtype(a) == BRG_U8 ? (double)((const uint8_t *)brg_array_data(a))[i]
					     : (double)((const float *)brg_array_data(a))[i];
}

static double round_u8(double v)
{
	v = v > 0 ? v : 0;
	v = v < 255 ? v : 255;
	return floor(v + 0.5);
}

/* What brigade stores for the float v: f32 as it is; u8 saturated to [0, 255] (NaN to 0)
 * and rounded half up, here in double, where v + 0.5 is exact. */
static double store(brg_dtype dt, float v)
{
	if (dt == BRG_F32)
		return v;
	if (!(v > 0.0f))
		return 0;
	return v < 255.0f ? floor((double)v + 0.5) : 255;
}

/* The documented sum for output column c of a row whose window rows are p[0..k): the taps
 * (clamped columns) in row-major order, one chain, each product after the first fused into
 * it (fused: the AVX2 and AVX-512 levels) or rounded first (the baseline). */
static float window_sum(brg_dtype dt, const void *const *p, size_t cols, size_t c, int k,
			const float *w, float div, int fused)
{
	float v = 0.0f;
	for (int di = 0; di < k; di++)
		for (int dj = 0; dj < k; dj++) {
			size_t cc = clampi((long long)c + dj - k / 2, cols);
			float x = dt == BRG_U8 ? (float)((const uint8_t *)p[di])[cc]
					       : ((const float *)p[di])[cc];
			float wt = w[di * k + dj];
			if (di + dj == 0)
				v = wt * x;
			else if (fused)
				v = fmaf(wt, x, v);
			else
				v = v + wt * x;
		}
	return div != 1.0f ? v / div : v;
}

/* Compares out with the reference for weights w (k x k) and divisor div: within the bound
 * of the double reference, and equal to the documented sum. */
static void check_image(const brg_array *out, const brg_array *in, int k, const float *w,
			double div, int exact_u8, const char *what)
{
	size_t rows = brg_array_shape(in)[0], cols = brg_array_shape(in)[1];
	brg_dtype dt = brg_array_dtype(out);
	int h = k / 2;
	size_t bad = 0, unlike = 0;
	for (size_t r = 0; r < rows; r++)
		for (size_t c = 0; c < cols; c++) {
			double ref = 0, mag = 0;
			for (int di = 0; di < k; di++)
				for (int dj = 0; dj < k; dj++) {
					double v = pix(in, clampi((long long)r + di - h, rows),
						       clampi((long long)c + dj - h, cols), cols);
					ref += (double)w[di * k + dj] * v;
					mag += fabs((double)w[di * k + dj] * v);
				}
			ref /= div;
			mag /= div;
			double tol = (k * k + 2) * 0x1p-24 * mag;
			double got = pix(out, r, c, cols);
			int ok;
			if (brg_array_dtype(out) == BRG_F32)
				ok = fabs(got - ref) <= tol;
			else if (exact_u8)
				ok = got == round_u8(ref);
			else
				ok = got >= round_u8(ref - tol) && got <= round_u8(ref + tol);
			if (!ok && bad++ < 3)
				TEST_FAIL_("%s %s %zux%zu at (%zu,%zu): got %.9g, reference %.9g",
					   what, brg_dtype_name(brg_array_dtype(out)), rows, cols, r,
					   c, got, ref);
			const void *p[5];
			for (int di = 0; di < k; di++)
				p[di] = (const char *)brg_array_data(in) +
					clampi((long long)r + di - h, rows) * cols *
						brg_dtype_size(dt);
			double want = store(dt, window_sum(dt, p, cols, c, k, w, (float)div,
								brg__isa_level() > BRG__ISA_BASE));
			if (got != want && unlike++ < 3)
				TEST_FAIL_("%s %s %zux%zu at (%zu,%zu): got %a, the documented sum %a", what,
					   brg_dtype_name(dt), rows, cols, r, c, got, want);
		}
	CHECK_EQ(bad, 0);
	CHECK_EQ(unlike, 0);
}

/* Every level this CPU has, on the k rows p of exactly cols pixels (a read past them is a
 * heap overflow the sanitizer build reports), against the documented sum bit for bit (f32
 * NaN against NaN); the AVX2 and AVX-512 rows also against each other, byte for byte. */
static void compare_levels(brg_dtype dt, const void *const *p, size_t cols, int k,
			   const float *w, float div, const char *what)
{
	size_t es = brg_dtype_size(dt);
	unsigned char *out[BRG__ISA_COUNT];
	for (int isa = 0; isa < BRG__ISA_COUNT; isa++) {
		out[isa] = malloc(cols * es + 1);
		REQUIRE(out[isa]);
		memset(out[isa], 0xA5, cols * es + 1);
		int rc = brg__stencil_row(dt, isa, out[isa], p, k, w, div, cols);
		if (rc == -ENOTSUP) {
			free(out[isa]);
			out[isa] = NULL;
			continue;
		}
		CHECK_EQ(rc, 0);
		size_t unlike = 0;
		for (size_t c = 0; c < cols; c++) {
			double got = dt == BRG_U8 ? (double)out[isa][c] : (double)((float *)out[isa])[c];
			double want = store(dt, window_sum(dt, p, cols, c, k, w, div, isa > 0));
			if (got != want && !(isnan(got) && isnan(want)) && unlike++ < 3)
				TEST_FAIL_("%s: level %d %s k=%d cols=%zu col %zu: got %a, the "
					   "documented sum %a",
					   what, isa, brg_dtype_name(dt), k, cols, c, got, want);
		}
		CHECK_EQ(unlike, 0);
		if (out[isa][cols * es] != 0xA5) /* nothing past the row is written */
			TEST_FAIL_("%s: level %d %s k=%d cols=%zu: wrote past the row", what, isa,
				   brg_dtype_name(dt), k, cols);
	}
	if (out[BRG__ISA_AVX2] && out[BRG__ISA_AVX512])
		CHECK_SAME_ELEMS(out[BRG__ISA_AVX2], out[BRG__ISA_AVX512], cols, es,
				 "%s: %s k=%d cols=%zu: AVX2 row against AVX-512 row", what,
				 brg_dtype_name(dt), k, cols);
	for (int isa = 0; isa < BRG__ISA_COUNT; isa++)
		free(out[isa]);
}

/* A random pixel: u8 any; f32 of mixed magnitude, and with `special` one in four NaN,
 * +-inf, -0 or subnormal. */
static void random_pixel(brg_dtype dt, void *row, size_t j, int special)
{
	if (dt == BRG_U8) {
		((uint8_t *)row)[j] = (uint8_t)test_rand();
		return;
	}
	static const float odd[] = {NAN, INFINITY, -INFINITY, -0.0f, 0x1p-140f, -0x1.8p-130f};
	float v = (float)(ku_unit() * ldexp(1, (int)(test_rand() % 40) - 20));
	if (special && test_rand() % 4 == 0)
		v = odd[test_rand() % (sizeof odd / sizeof odd[0])];
	((float *)row)[j] = v;
}

/* Each level's row (interior loop and edges) on the same random rows: widths around the
 * vector lengths; weights of both signs (and sizes that saturate u8), box weights, an
 * infinite and a NaN weight (u8: pixels 255, or 0 where the sum is NaN); f32 pixels with
 * NaN, infinities, -0 and subnormals; a u8 sum of 0.5 less one ulp (stored 0). */
static void check_levels(void)
{
	static const size_t widths[] = {1,  2,  3,  4,  5,  6,  7,   8,  9,
					15, 16, 17, 31, 32, 33, 65, 100, 259};
	printf("levels: this CPU runs %d; compared:", brg__isa_level());
	for (int isa = 0; isa <= brg__isa_level(); isa++)
		printf(" %d", isa);
	printf("\n");
	enum { W_RANDOM, W_BOX, W_INF, W_NAN, W_SPECIAL_PIXELS, W_COUNT };
	static const char *const what[] = {"random weights", "box", "inf weight", "NaN weight",
					   "special pixels"};
	for (int d = 0; d < 2; d++) {
		brg_dtype dt = d ? BRG_F32 : BRG_U8;
		size_t es = brg_dtype_size(dt);
		for (int k = 3; k <= 5; k += 2)
			for (int m = 0; m < W_COUNT; m++) {
				float w[25], div = m == W_BOX ? (float)(k * k) : 1.0f;
				for (int i = 0; i < k * k; i++)
					w[i] = m == W_BOX ? 1.0f
							  : (float)((ku_unit() - 0.3) * (d ? 3 : 40));
				if (m == W_INF || m == W_NAN)
					w[test_rand() % (unsigned)(k * k)] = m == W_INF ? INFINITY : NAN;
				for (size_t wi = 0; wi < sizeof widths / sizeof widths[0]; wi++) {
					size_t cols = widths[wi];
					void *rows[5];
					for (int di = 0; di < k; di++) {
						rows[di] = malloc(cols * es);
						REQUIRE(rows[di]);
						for (size_t j = 0; j < cols; j++)
							random_pixel(dt, rows[di], j, m == W_SPECIAL_PIXELS);
					}
					compare_levels(dt, (const void *const *)rows, cols, k, w, div,
						       what[m]);
					for (int di = 0; di < k; di++)
						free(rows[di]);
				}
			}
	}
	/* 1 times the largest float under 0.5, plus zeros: rounded half up that is 0 (adding
	 * 0.5 in float would round it to 1) */
	uint8_t ones[40];
	memset(ones, 1, sizeof ones);
	const void *p1[3] = {ones, ones, ones};
	float w1[9] = {0x1.fffffep-2f};
	compare_levels(BRG_U8, p1, sizeof ones, 3, w1, 1.0f, "just under one half");
	uint8_t got[40];
	CHECK_EQ(brg__stencil_row(BRG_U8, brg__isa_level(), got, p1, 3, w1, 1.0f, sizeof got), 0);
	CHECK_EQ(got[20], 0);

	/* a level this CPU lacks, a bad k or dtype: refused, nothing written */
	const void *p[5] = {"", "", "", "", ""};
	const float w[25] = {0};
	unsigned char dst[4] = {0xA5, 0xA5, 0xA5, 0xA5};
	CHECK_EQ(brg__stencil_row(BRG_U8, BRG__ISA_COUNT, dst, p, 3, w, 1, 1), -EINVAL);
	CHECK_EQ(brg__stencil_row(BRG_U8, -1, dst, p, 3, w, 1, 1), -EINVAL);
	CHECK_EQ(brg__stencil_row(BRG_U8, 0, dst, p, 4, w, 1, 1), -EINVAL);
	CHECK_EQ(brg__stencil_row(BRG_F64, 0, dst, p, 3, w, 1, 1), BRG_EDTYPE);
	if (brg__isa_level() < BRG__ISA_AVX512)
		CHECK_EQ(brg__stencil_row(BRG_U8, BRG__ISA_AVX512, dst, p, 3, w, 1, 1), -ENOTSUP);
	CHECK_EQ(dst[0], 0xA5);
}

int main(void)
{
	test_init_pools();
	check_levels();
	brg_pool *pools[KU_NPOOLS];
	for (int p = 0; p < KU_NPOOLS; p++)
		pools[p] = ku_pool(ku_pools[p]);
	const brg_dtype dts[] = {BRG_U8, BRG_F32};
	for (int s = 0; s < NSHAPES; s++)
		for (int d = 0; d < 2; d++) {
			char t1[64], t2[64];
			snprintf(t1, sizeof t1, "s%d-%s-in", s, brg_dtype_name(dts[d]));
			snprintf(t2, sizeof t2, "s%d-%s-out", s, brg_dtype_name(dts[d]));
			brg_array *in = test_array_new_nd(t1, dts[d], 2, shapes[s]);
			brg_array *out = test_array_new_nd(t2, dts[d], 2, shapes[s]);
			size_t n = brg_array_count(in);
			for (size_t i = 0; i < n; i++) {
				if (dts[d] == BRG_U8)
					((uint8_t *)brg_array_data(in))[i] = (uint8_t)test_rand();
				else
					((float *)brg_array_data(in))[i] = (float)(ku_unit() * 100);
			}
			for (int p = 0; p < KU_NPOOLS; p++) {
				for (int k = 3; k <= 5; k += 2) {
					float w[25];
					for (int i = 0; i < k * k; i++)
						w[i] = (float)(ku_unit() * 0.4 + 0.1);
					ku_poison(out);
					CHECK_EQ(brg_stencil_conv(pools[p], out, in, k, w,
								  BRG_BORDER_CLAMP), 0);
					check_image(out, in, k, w, 1.0, 0, k == 3 ? "conv3" : "conv5");
				}
				for (int r = 1; r <= 2; r++) {
					float ones[25];
					for (int i = 0; i < 25; i++)
						ones[i] = 1.0f;
					int k = 2 * r + 1;
					ku_poison(out);
					CHECK_EQ(brg_stencil_box(pools[p], out, in, r, BRG_BORDER_CLAMP), 0);
					check_image(out, in, k, ones, k * k, 1, r == 1 ? "box1" : "box2");
				}
			}
			test_array_drop(in);
			test_array_drop(out);
		}
	for (int p = 0; p < KU_NPOOLS; p++)
		brg_pool_destroy(pools[p]);
	return test_done();
}

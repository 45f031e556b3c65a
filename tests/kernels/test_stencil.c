/* SPDX-License-Identifier: MIT */
/* test_stencil.c - 3x3 and 5x5 correlation and box blur of u8 and f32 images against a
 * serial reference in double with clamped borders, on shapes whose row count does not divide
 * by the pool size, in pools of 1 to 3.
 *
 * Tolerances: the kernel sums k*k float products, so each output may be off by
 * (k*k + 2) * 2^-24 * sum |w x| (one rounding per product and per addition, one for the
 * division of the box) relative to the exact value.  For u8 the output must be the rounding
 * (half up, saturated) of some value within that distance of the exact one; box blur of u8
 * is exact (the window sum is an exact integer in float, and a mean of k*k integers is never
 * closer than 1/50 to a .5 boundary). */
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

/* Compares out with the reference for weights w (k x k) and divisor div. */
static void check_image(const brg_array *out, const brg_array *in, int k, const float *w,
			double div, int exact_u8, const char *what)
{
	size_t rows = brg_array_shape(in)[0], cols = brg_array_shape(in)[1];
	int h = k / 2;
	size_t bad = 0;
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
		}
	CHECK_EQ(bad, 0);
}

int main(void)
{
	test_init_pools();
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

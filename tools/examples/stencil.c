/* SPDX-License-Identifier: MIT */
/* stencil.c - a 3x3 Gaussian blur of an 8-bit image (rows x cols, C order) with clamped
 * borders: each participant computes its band of rows. */
#include <brigade.h>
#include <stdint.h>
#include <stdio.h>
#include <unistd.h>

int main(void)
{
	brg_pool *pool;
	if (brg_pool_create(&pool, NULL))
		return 1;
	size_t shape[2] = {1080, 1920};
	char in_name[64], out_name[64];
	snprintf(in_name, sizeof in_name, "example-img-%d", (int)getpid());
	snprintf(out_name, sizeof out_name, "example-blur-%d", (int)getpid());
	brg_array *in = NULL, *out = NULL;
	int r;
	if (!(r = brg_pool_array_create(pool, &in, in_name, BRG_U8, 2, shape, NULL)) &&
	    !(r = brg_pool_array_create(pool, &out, out_name, BRG_U8, 2, shape, NULL))) {
		uint8_t *px = brg_array_data(in);
		for (size_t i = 0; i < shape[0]; i++) /* a checkerboard of 8-pixel squares */
			for (size_t j = 0; j < shape[1]; j++)
				px[i * shape[1] + j] = ((i / 8 + j / 8) % 2) ? 255 : 0;
		static const float gauss[9] = {1 / 16.f, 2 / 16.f, 1 / 16.f, 2 / 16.f, 4 / 16.f,
					       2 / 16.f, 1 / 16.f, 2 / 16.f, 1 / 16.f};
		r = brg_stencil_conv(pool, out, in, 3, gauss, BRG_BORDER_CLAMP);
	}
	/* Inside a square nothing changes; on an edge between two, a blend. */
	const uint8_t *o = out ? brg_array_data(out) : NULL;
	int ok = r == 0 && o[3 * 1920 + 3] == 0 && o[3 * 1920 + 11] == 255 && o[3 * 1920 + 7] == 64;
	printf("blurred %zu x %zu: %s (edge pixel %d)\n", shape[0], shape[1],
	       ok ? "checked" : brg_strerror(r), o ? o[3 * 1920 + 7] : -1);
	brg_array_close(in);
	brg_array_close(out);
	brg_segment_unlink(in_name);
	brg_segment_unlink(out_name);
	brg_pool_destroy(pool);
	return ok ? 0 : 1;
}

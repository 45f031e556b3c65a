/* SPDX-License-Identifier: MIT */
/* blur_batch.c - an image processor: a batch of 8-bit images, each blurred (a 5x5 box) into
 * an output image, all in named shared memory where another program (or numpy) could pick
 * them up by name.  The pool parallelizes each image over its rows. */
#include <brigade.h>
#include <stdint.h>
#include <stdio.h>
#include <unistd.h>

#define IMAGES 8

int main(void)
{
	brg_pool *pool;
	if (brg_pool_create(&pool, NULL))
		return 1;
	size_t shape[2] = {480, 640};
	char names[2 * IMAGES][64];
	brg_array *img[2 * IMAGES] = {NULL}; /* inputs, then outputs */
	int r = 0, made = 0;
	for (int i = 0; i < 2 * IMAGES && !r; i++, made++) {
		snprintf(names[i], sizeof names[i], "example-batch-%d-%s%d", (int)getpid(),
			 i < IMAGES ? "in" : "out", i % IMAGES);
		r = brg_pool_array_create(pool, &img[i], names[i], BRG_U8, 2, shape, NULL);
	}
	for (int i = 0; i < IMAGES && !r; i++) { /* image i: a flat grey level 10 i */
		r = brg_vec_fill(pool, img[i], 10.0 * i);
		if (!r)
			r = brg_stencil_box(pool, img[IMAGES + i], img[i], 2, BRG_BORDER_CLAMP);
	}
	int ok = r == 0;
	for (int i = 0; i < IMAGES && ok; i++) /* a flat image stays flat */
		ok = ((const uint8_t *)brg_array_data(img[IMAGES + i]))[12345] == 10 * i;
	printf("%d images of %zu x %zu blurred: %s\n", IMAGES, shape[0], shape[1],
	       ok ? "checked" : brg_strerror(r));
	for (int i = 0; i < made; i++) {
		brg_array_close(img[i]);
		brg_segment_unlink(names[i]);
	}
	brg_pool_destroy(pool);
	return ok ? 0 : 1;
}

/* SPDX-License-Identifier: MIT */
/* fuzz_npy.c - the NPY header parser (engine/segment/npy.c) on any 4096-byte page: it fails with one
 * of its documented codes, or gives a whole layout (sizes that agree, and the page brigade
 * writes for it parses to the same layout). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "internal.h"

static int same_layout(const struct brg__layout *a, const struct brg__layout *b)
{
	if (a->dtype != b->dtype || a->ndim != b->ndim || a->nbytes != b->nbytes)
		return 0;
	for (int i = 0; i < a->ndim; i++)
		if (a->shape[i] != b->shape[i])
			return 0;
	return 1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* A short input is the start of a page padded as numpy pads: spaces, then '\n'. */
	unsigned char page[BRG_DATA_OFFSET];
	size_t n = size < sizeof page ? size : sizeof page;
	memcpy(page, data, n);
	if (n < sizeof page) {
		memset(page + n, ' ', sizeof page - n);
		page[sizeof page - 1] = '\n';
	}
	struct brg__layout lay;
	int r = brg__npy_parse(page, &lay);
	if (r) {
		FUZZ_ASSERT(r == BRG_ENOTNPY || r == BRG_ENPYVERSION || r == BRG_EDATAOFFSET ||
			    r == BRG_EHEADER || r == BRG_EDESCR || r == BRG_EFORTRAN ||
			    r == BRG_EBADNDIM || r == BRG_EOVERFLOW || r == BRG_EBADDTYPE);
		return 0;
	}
	FUZZ_ASSERT(lay.ndim >= 1 && lay.ndim <= BRG_MAX_NDIM);
	size_t count = 1;
	for (int i = 0; i < lay.ndim; i++)
		count *= lay.shape[i];
	FUZZ_ASSERT(count == lay.count);
	FUZZ_ASSERT(lay.nbytes == lay.count * brg_dtype_size(lay.dtype));
	FUZZ_ASSERT(lay.trailer_offset % BRG__PAGE == 0 &&
		    lay.trailer_offset >= BRG_DATA_OFFSET + lay.nbytes &&
		    lay.trailer_offset - (BRG_DATA_OFFSET + lay.nbytes) < BRG__PAGE);
	FUZZ_ASSERT(lay.file_bytes == lay.trailer_offset + BRG__PAGE);
	unsigned char again[BRG_DATA_OFFSET];
	struct brg__layout back;
	brg__npy_write(again, &lay);
	FUZZ_ASSERT(brg__npy_parse(again, &back) == 0 && same_layout(&lay, &back));
	return 0;
}

void brg_fuzz_seeds(brg_fuzz_emit_fn emit, void *ctx)
{
	static const size_t shapes[][BRG_MAX_NDIM + 1] = {
		/* ndim, extents */
		{1, 0}, {1, 1}, {1, 1000}, {2, 3, 4}, {4, 2, 3, 4, 5}, {8, 1, 1, 1, 1, 1, 1, 1, 7},
		{2, 100000, 0},
	};
	for (int dt = BRG_F32; dt <= BRG_U64; dt++) {
		for (size_t s = 0; s < sizeof shapes / sizeof shapes[0]; s++) {
			struct brg__layout lay;
			if (brg__layout_make(&lay, (brg_dtype)dt, (int)shapes[s][0],
					     &shapes[s][1]))
				continue;
			unsigned char page[BRG_DATA_OFFSET];
			brg__npy_write(page, &lay);
			/* The dict and a few spaces of its padding: the mutations work on what
			 * matters; the harness pads the rest. */
			const char *end = memchr(page + 10, '}', sizeof page - 10);
			size_t len = end ? (size_t)(end - (const char *)page) + 8 : sizeof page;
			emit(page, len < sizeof page ? len : sizeof page, ctx);
		}
	}
}

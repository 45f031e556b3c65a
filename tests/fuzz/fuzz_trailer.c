/* SPDX-License-Identifier: MIT */
/* fuzz_trailer.c - the trailer parser (engine/segment/trailer.c).  An input: a byte choosing one of a
 * few header pages, a byte whose low bit asks for the checksum to be redone over what follows
 * (so that mutated fields reach the checks behind the checksum), then the 256 trailer bytes.
 * It fails with one of its documented codes, or gives what the header says. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "internal.h"

#define NHEADERS 3
static unsigned char headers[NHEADERS][BRG_DATA_OFFSET];
static struct brg__layout lays[NHEADERS];

static void init(void)
{
	static int done;
	static const size_t shapes[NHEADERS][3] = {{1, 1000}, {2, 3, 4}, {1, 0}};
	static const brg_dtype dtypes[NHEADERS] = {BRG_F64, BRG_U8, BRG_I32};
	if (done)
		return;
	for (int h = 0; h < NHEADERS; h++) {
		FUZZ_ASSERT(brg__layout_make(&lays[h], dtypes[h], (int)shapes[h][0], &shapes[h][1]) ==
			    0);
		brg__npy_write(headers[h], &lays[h]);
	}
	done = 1;
}

/* The checksum as brigade-segment(5) defines it, over header and trailer. */
static void reseal(unsigned char *tr, const unsigned char *header)
{
	unsigned char copy[252];
	memcpy(copy, tr, sizeof copy);
	memset(copy + 40, 0, 8);	    /* the generation is read as zero */
	memcpy(copy, "BRIGADE", 8); /* and the magic as written */
	uint32_t crc = brg__crc32(brg__crc32(0, header, BRG_DATA_OFFSET), copy, sizeof copy);
	for (int i = 0; i < 4; i++)
		tr[252 + i] = (unsigned char)(crc >> (8 * i));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	init();
	if (size < 2)
		return 0;
	int h = data[0] % NHEADERS;
	unsigned char tr[BRG__TRAILER_BYTES] = {0};
	memcpy(tr, data + 2, size - 2 < sizeof tr ? size - 2 : sizeof tr);
	if (data[1] & 1)
		reseal(tr, headers[h]);
	struct brg__trailer t;
	int r = brg__trailer_parse(tr, headers[h], &lays[h], &t);
	if (r) {
		FUZZ_ASSERT(r == BRG_EINCOMPLETE || r == BRG_ENOTBRIGADE || r == BRG_ETRAILERVERSION ||
			    r == BRG_ECHECKSUM || r == BRG_EMISMATCH);
		return 0;
	}
	FUZZ_ASSERT(t.kind <= BRG_KIND_STREAM);
	FUZZ_ASSERT(t.lay.nbytes == lays[h].nbytes && t.lay.dtype == lays[h].dtype &&
		    t.lay.ndim == lays[h].ndim);
	return 0;
}

void brg_fuzz_seeds(brg_fuzz_emit_fn emit, void *ctx)
{
	init();
	for (int h = 0; h < NHEADERS; h++) {
		struct brg__trailer t = {.flags = BRG_CREATE_PERSISTENT,
					 .kind = BRG_KIND_ARRAY,
					 .creator_uid = 1000,
					 .creator_pid = 4242,
					 .created_ns = 1234567890123456789ull,
					 .generation = 1,
					 .lay = lays[h]};
		unsigned char in[2 + BRG__TRAILER_BYTES];
		in[0] = (unsigned char)h;
		brg__trailer_write(in + 2, headers[h], &t);
		brg__trailer_seal(in + 2);
		for (int reseal_bit = 0; reseal_bit < 2; reseal_bit++) {
			in[1] = (unsigned char)reseal_bit;
			emit(in, sizeof in, ctx);
		}
	}
}

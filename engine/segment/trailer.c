/* SPDX-License-Identifier: MIT */
/* trailer.c - the brigade trailer page: what numpy has no place for, with a checksum. */
#include <string.h>

#include "internal.h"

/* Byte offsets inside the trailer; brigade-segment(5) (tools/man/brigade-segment.5.md) is the
 * reference. */
enum {
	T_MAGIC = 0,
	T_VERSION = 8,
	T_SIZE = 12,
	T_FLAGS = 16,
	T_KIND = 20,
	T_UID = 24,
	T_PID = 28,
	T_CREATED = 32,
	T_GENERATION = BRG__TRAILER_GENERATION_OFFSET,
	T_NBYTES = 48,
	T_DATAOFF = 56,
	T_DTYPE = 64,
	T_NDIM = 68,
	T_SHAPE = 72,
	T_RESERVED = 136,
	T_CHECKSUM = 252,
};
_Static_assert(T_SHAPE + 8 * BRG_MAX_NDIM == T_RESERVED, "shape field size");
_Static_assert(T_CHECKSUM + 4 == BRG__TRAILER_BYTES, "trailer size");

static const unsigned char trailer_magic[8] = {'B', 'R', 'I', 'G', 'A', 'D', 'E', 0};

static void put32(unsigned char *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (unsigned char)(v >> (8 * i));
}

static void put64(unsigned char *p, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		p[i] = (unsigned char)(v >> (8 * i));
}

static uint32_t get32(const unsigned char *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint64_t get64(const unsigned char *p)
{
	return (uint64_t)get32(p) | (uint64_t)get32(p + 4) << 32;
}

/* CRC-32 as zlib computes it (reflected 0xEDB88320), so Python checks it with zlib.crc32. */
uint32_t brg__crc32(uint32_t crc, const void *data, size_t len)
{
	static uint32_t table[256];
	static int ready;
	if (!__atomic_load_n(&ready, __ATOMIC_ACQUIRE)) {
		/* Racing initialisers compute the same values, so the race is benign. */
		for (uint32_t i = 0; i < 256; i++) {
			uint32_t c = i;
			for (int k = 0; k < 8; k++)
				c = c & 1 ? 0xEDB88320u ^ (c >> 1) : c >> 1;
			__atomic_store_n(&table[i], c, __ATOMIC_RELAXED);
		}
		__atomic_store_n(&ready, 1, __ATOMIC_RELEASE);
	}
	const unsigned char *p = data;
	crc = ~crc;
	while (len--)
		crc = table[(crc ^ *p++) & 0xff] ^ (crc >> 8);
	return ~crc;
}

/* The checksum covers the header page and the trailer up to the checksum, with the
 * generation counter read as zero: it is the one field that changes after creation. */
static uint32_t checksum(const unsigned char *trailer, const unsigned char *header_page)
{
	unsigned char copy[T_CHECKSUM];
	memcpy(copy, trailer, sizeof copy);
	memset(copy + T_GENERATION, 0, 8);
	memcpy(copy + T_MAGIC, trailer_magic, sizeof trailer_magic);
	uint32_t crc = brg__crc32(0, header_page, BRG_DATA_OFFSET);
	return brg__crc32(crc, copy, sizeof copy);
}

void brg__trailer_write(unsigned char *tr, const unsigned char *header_page,
			const struct brg__trailer *t)
{
	memset(tr, 0, BRG__TRAILER_BYTES);
	put32(tr + T_VERSION, BRG__TRAILER_VERSION);
	put32(tr + T_SIZE, BRG__TRAILER_BYTES);
	put32(tr + T_FLAGS, t->flags);
	put32(tr + T_KIND, t->kind);
	put32(tr + T_UID, t->creator_uid);
	put32(tr + T_PID, (uint32_t)t->creator_pid);
	put64(tr + T_CREATED, t->created_ns);
	put64(tr + T_GENERATION, t->generation);
	put64(tr + T_NBYTES, t->lay.nbytes);
	put64(tr + T_DATAOFF, BRG_DATA_OFFSET);
	put32(tr + T_DTYPE, (uint32_t)t->lay.dtype);
	put32(tr + T_NDIM, (uint32_t)t->lay.ndim);
	for (int i = 0; i < t->lay.ndim; i++)
		put64(tr + T_SHAPE + 8 * i, t->lay.shape[i]);
	put32(tr + T_CHECKSUM, checksum(tr, header_page));
}

void brg__trailer_seal(unsigned char *tr)
{
	__atomic_thread_fence(__ATOMIC_RELEASE);
	memcpy(tr + T_MAGIC, trailer_magic, sizeof trailer_magic);
}

bool brg__trailer_has_magic(const unsigned char *page)
{
	return !memcmp(page, trailer_magic, sizeof trailer_magic);
}

int brg__trailer_parse(const unsigned char *tr, const unsigned char *header_page,
		       const struct brg__layout *lay, struct brg__trailer *t)
{
	static const unsigned char zero[8];
	if (!memcmp(tr + T_MAGIC, zero, sizeof zero))
		return BRG_EINCOMPLETE;
	if (!brg__trailer_has_magic(tr))
		return BRG_ENOTBRIGADE;
	if (get32(tr + T_VERSION) != BRG__TRAILER_VERSION)
		return BRG_ETRAILERVERSION;
	if (get32(tr + T_CHECKSUM) != checksum(tr, header_page))
		return BRG_ECHECKSUM;
	/* From here on the bytes are as their creator wrote them; check they agree. */
	if (get32(tr + T_SIZE) != BRG__TRAILER_BYTES || get64(tr + T_DATAOFF) != BRG_DATA_OFFSET ||
	    get64(tr + T_NBYTES) != lay->nbytes || get32(tr + T_DTYPE) != (uint32_t)lay->dtype ||
	    get32(tr + T_NDIM) != (uint32_t)lay->ndim || (get32(tr + T_FLAGS) & ~BRG__TRAILER_FLAGS) ||
	    get32(tr + T_KIND) > BRG_KIND_STREAM)
		return BRG_EMISMATCH;
	for (int i = 0; i < BRG_MAX_NDIM; i++)
		if (get64(tr + T_SHAPE + 8 * i) != (i < lay->ndim ? lay->shape[i] : 0))
			return BRG_EMISMATCH;
	for (unsigned i = T_RESERVED; i < T_CHECKSUM; i++)
		if (tr[i])
			return BRG_EMISMATCH;
	t->flags = get32(tr + T_FLAGS);
	t->kind = get32(tr + T_KIND);
	t->creator_uid = get32(tr + T_UID);
	t->creator_pid = (int32_t)get32(tr + T_PID);
	t->created_ns = get64(tr + T_CREATED);
	t->generation = get64(tr + T_GENERATION);
	t->lay = *lay;
	return 0;
}

/* SPDX-License-Identifier: MIT */
/* arrayutil.h - helpers the array tests share: raw access to /dev/shm files and the on-disk
 * format written out independently of the engine, so the tests check bytes, not the engine
 * against itself. */
#ifndef BRG_ARRAYUTIL_H
#define BRG_ARRAYUTIL_H

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <sys/stat.h>
#include <unistd.h>

#include "testutil.h"

#define AU_PAGE 4096u
#define AU_NPY_HEADER_LEN 4086u
#define AU_TRAILER_BYTES 256u
/* Byte offsets inside the trailer (the format, as documented). */
#define AU_T_VERSION 8
#define AU_T_SIZE 12
#define AU_T_FLAGS 16
#define AU_T_KIND 20
#define AU_T_UID 24
#define AU_T_PID 28
#define AU_T_CREATED 32
#define AU_T_GENERATION 40
#define AU_T_NBYTES 48
#define AU_T_DATAOFF 56
#define AU_T_DTYPE 64
#define AU_T_NDIM 68
#define AU_T_SHAPE 72
#define AU_T_RESERVED 136
#define AU_T_CHECKSUM 252

/* Every dtype with what numpy calls it; index = dtype - 1. */
static const struct au_dtype {
	brg_dtype dtype;
	size_t size;
	const char *name, *descr, *numpy;
} au_dtypes[] = {
	{BRG_F32, 4, "f32", "<f4", "float32"}, {BRG_F64, 8, "f64", "<f8", "float64"},
	{BRG_I8, 1, "i8", "|i1", "int8"},      {BRG_I16, 2, "i16", "<i2", "int16"},
	{BRG_I32, 4, "i32", "<i4", "int32"},   {BRG_I64, 8, "i64", "<i8", "int64"},
	{BRG_U8, 1, "u8", "|u1", "uint8"},     {BRG_U16, 2, "u16", "<u2", "uint16"},
	{BRG_U32, 4, "u32", "<u4", "uint32"},  {BRG_U64, 8, "u64", "<u8", "uint64"},
};
#define AU_NDTYPES ((int)(sizeof au_dtypes / sizeof au_dtypes[0]))

/* zlib's CRC-32, bit by bit: slow and obviously right. */
static inline uint32_t au_crc32(uint32_t crc, const void *data, size_t len)
{
	const unsigned char *p = data;
	crc = ~crc;
	while (len--) {
		crc ^= *p++;
		for (int k = 0; k < 8; k++)
			crc = (crc & 1) ? 0xEDB88320u ^ (crc >> 1) : crc >> 1;
	}
	return ~crc;
}

static inline uint32_t au_get32(const unsigned char *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static inline uint64_t au_get64(const unsigned char *p)
{
	return (uint64_t)au_get32(p) | (uint64_t)au_get32(p + 4) << 32;
}

static inline void au_put32(unsigned char *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (unsigned char)(v >> (8 * i));
}

static inline void au_put64(unsigned char *p, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		p[i] = (unsigned char)(v >> (8 * i));
}

/* The checksum the trailer should hold: header page, then trailer[0:252], generation as 0. */
static inline uint32_t au_checksum(const unsigned char *header, const unsigned char *trailer)
{
	unsigned char copy[AU_T_CHECKSUM];
	memcpy(copy, trailer, sizeof copy);
	memset(copy + AU_T_GENERATION, 0, 8);
	return au_crc32(au_crc32(0, header, AU_PAGE), copy, sizeof copy);
}

static inline void au_path(char *buf, size_t n, const char *name)
{
	snprintf(buf, n, "/dev/shm/%s", name);
}

/* st_size of /dev/shm/name, -1 (errno set) when it cannot be stat'ed. */
static inline off_t au_file_size(const char *name)
{
	char path[BRG_NAME_MAX + 16];
	struct stat st;
	au_path(path, sizeof path, name);
	return stat(path, &st) < 0 ? -1 : st.st_size;
}

static inline int au_exists(const char *name)
{
	char path[BRG_NAME_MAX + 16];
	struct stat st;
	au_path(path, sizeof path, name);
	return lstat(path, &st) == 0;
}

/* pread/pwrite of /dev/shm/name; exits the test when the file cannot be read or written. */
static inline void au_io(const char *name, int write, off_t off, void *buf, size_t len)
{
	char path[BRG_NAME_MAX + 16];
	au_path(path, sizeof path, name);
	int fd = open(path, (write ? O_WRONLY : O_RDONLY) | O_CLOEXEC);
	REQUIRE(fd >= 0);
	ssize_t r = write ? pwrite(fd, buf, len, off) : pread(fd, buf, len, off);
	close(fd);
	REQUIRE(r == (ssize_t)len);
}

#define au_peek(name, off, buf, len) au_io((name), 0, (off), (buf), (len))
#define au_poke(name, off, buf, len) au_io((name), 1, (off), (void *)(buf), (len))

/* The header dict numpy writes for descr and shape ("(5,)" for one dimension). */
static inline void au_npy_dict(char *buf, size_t n, const char *descr, int ndim,
			       const size_t *shape)
{
	int k = snprintf(buf, n, "{'descr': '%s', 'fortran_order': False, 'shape': (", descr);
	for (int i = 0; i < ndim; i++)
		k += snprintf(buf + k, n - (size_t)k, i ? ", %zu" : "%zu", shape[i]);
	snprintf(buf + k, n - (size_t)k, ndim == 1 ? ",), }" : "), }");
}

/* A 4096-byte NPY 1.0 header page holding dict, padded with spaces and ended by '\n'. */
static inline void au_npy_page(unsigned char *page, const char *dict)
{
	static const unsigned char magic[8] = {0x93, 'N', 'U', 'M', 'P', 'Y', 1, 0};
	memcpy(page, magic, sizeof magic);
	page[8] = (unsigned char)(AU_NPY_HEADER_LEN & 0xff);
	page[9] = (unsigned char)(AU_NPY_HEADER_LEN >> 8);
	size_t n = strlen(dict);
	memcpy(page + 10, dict, n);
	memset(page + 10 + n, ' ', AU_PAGE - 10 - n);
	page[AU_PAGE - 1] = '\n';
}

/* Entries of /dev/shm whose name starts with prefix. */
static inline int au_count_prefix(const char *prefix)
{
	DIR *d = opendir("/dev/shm");
	if (!d)
		return -errno;
	int n = 0;
	size_t len = strlen(prefix);
	struct dirent *e;
	while ((e = readdir(d)))
		if (!strncmp(e->d_name, prefix, len))
			n++;
	closedir(d);
	return n;
}

/* The prefix every name test_name() makes in this process. */
static inline const char *au_prefix(void)
{
	static char buf[64];
	snprintf(buf, sizeof buf, "brgt-%d-", (int)getpid());
	return buf;
}

#endif

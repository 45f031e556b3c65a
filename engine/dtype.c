/* SPDX-License-Identifier: MIT */
/* dtype.c - the ten element types: sizes, names, NPY descr strings. */
#include <errno.h>
#include <string.h>

#include "internal.h"

/* One row per dtype; every table lookup below reads this. */
#define BRG__DTYPES(X)                              \
	X(BRG_F32, 4, "f32", "<f4", "float32")      \
	X(BRG_F64, 8, "f64", "<f8", "float64")      \
	X(BRG_I8, 1, "i8", "|i1", "int8")           \
	X(BRG_I16, 2, "i16", "<i2", "int16")        \
	X(BRG_I32, 4, "i32", "<i4", "int32")        \
	X(BRG_I64, 8, "i64", "<i8", "int64")        \
	X(BRG_U8, 1, "u8", "|u1", "uint8")          \
	X(BRG_U16, 2, "u16", "<u2", "uint16")       \
	X(BRG_U32, 4, "u32", "<u4", "uint32")       \
	X(BRG_U64, 8, "u64", "<u8", "uint64")

struct brg__dtype_row {
	brg_dtype dtype;
	size_t size;
	const char *name, *descr, *numpy;
};

static const struct brg__dtype_row rows[] = {
#define BRG__DTYPE_ROW(d, sz, nm, ds, np) {d, sz, nm, ds, np},
	BRG__DTYPES(BRG__DTYPE_ROW)
#undef BRG__DTYPE_ROW
};

static const struct brg__dtype_row *row_of(brg_dtype dtype)
{
	for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++)
		if (rows[i].dtype == dtype)
			return &rows[i];
	return NULL;
}

size_t brg_dtype_size(brg_dtype dtype)
{
	const struct brg__dtype_row *r = row_of(dtype);
	return r ? r->size : 0;
}

const char *brg_dtype_name(brg_dtype dtype)
{
	const struct brg__dtype_row *r = row_of(dtype);
	return r ? r->name : "?";
}

const char *brg__dtype_descr(brg_dtype dtype)
{
	const struct brg__dtype_row *r = row_of(dtype);
	return r ? r->descr : NULL;
}

int brg__dtype_from_descr(const char *descr, size_t len)
{
	for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
		const char *d = rows[i].descr;
		if (strlen(d) != len)
			continue;
		/* numpy writes one-byte types with '|' but accepts '<' too; so do we. */
		if (memcmp(d + 1, descr + 1, len - 1) == 0 &&
		    (descr[0] == d[0] || (d[0] == '|' && descr[0] == '<')))
			return (int)rows[i].dtype;
	}
	return BRG_EDESCR;
}

int brg_dtype_parse(const char *text)
{
	if (!text)
		return -EINVAL;
	size_t len = strlen(text);
	for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++)
		if (!strcmp(text, rows[i].name) || !strcmp(text, rows[i].numpy))
			return (int)rows[i].dtype;
	int d = len > 0 ? brg__dtype_from_descr(text, len) : BRG_EDESCR;
	return d > 0 ? d : BRG_EBADDTYPE;
}

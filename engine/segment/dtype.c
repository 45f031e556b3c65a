/* SPDX-License-Identifier: MIT */
/* dtype.c - the ten element types: sizes, names, NPY descr strings. */
#include <errno.h>
#include <string.h>

#include "dtypes.h"
#include "internal.h"

struct brg__dtype_row {
	brg_dtype dtype;
	size_t size;
	const char *name, *descr, *numpy;
};

static const struct brg__dtype_row rows[] = {
#define ROW(DT, SUF, T, KIND, SIZE, NAME, DESCR, NUMPY) {DT, SIZE, NAME, DESCR, NUMPY},
	BRG__DTYPES(ROW)
#undef ROW
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

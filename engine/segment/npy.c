/* SPDX-License-Identifier: MIT */
/* npy.c - the NPY 1.0 header page every segment starts with: written, and parsed strictly. */
#include <stdio.h>
#include <string.h>

#include "internal.h"

static const unsigned char npy_magic[6] = {0x93, 'N', 'U', 'M', 'P', 'Y'};

static int mul_overflows(size_t a, size_t b, size_t *out)
{
	return __builtin_mul_overflow(a, b, out);
}

int brg__layout_make(struct brg__layout *lay, brg_dtype dtype, int ndim, const size_t *shape)
{
	size_t esize = brg_dtype_size(dtype);
	if (!esize)
		return BRG_EBADDTYPE;
	if (ndim < 1 || ndim > BRG_MAX_NDIM)
		return BRG_EBADNDIM;
	memset(lay, 0, sizeof *lay);
	lay->dtype = dtype;
	lay->ndim = ndim;
	size_t count = 1;
	for (int i = 0; i < ndim; i++) {
		lay->shape[i] = shape[i];
		if (mul_overflows(count, shape[i], &count))
			return BRG_EOVERFLOW;
	}
	/* A zero extent makes count 0, but the other extents must still be sane: the product of
	 * the non-zero extents times the item size must stay within what numpy can describe. */
	size_t nonzero = esize;
	for (int i = 0; i < ndim; i++)
		if (shape[i] && mul_overflows(nonzero, shape[i], &nonzero))
			return BRG_EOVERFLOW;
	if (nonzero > (size_t)INT64_MAX) /* numpy's own bound on any array's extents */
		return BRG_EOVERFLOW;
	size_t nbytes, rounded;
	if (mul_overflows(count, esize, &nbytes) || nbytes > (size_t)INT64_MAX - 3 * BRG__PAGE)
		return BRG_EOVERFLOW;
	rounded = (nbytes + BRG__PAGE - 1) & ~(size_t)(BRG__PAGE - 1);
	lay->count = count;
	lay->nbytes = nbytes;
	lay->trailer_offset = BRG_DATA_OFFSET + rounded;
	lay->file_bytes = lay->trailer_offset + BRG__PAGE;
	return 0;
}

void brg__npy_write(unsigned char *page, const struct brg__layout *lay)
{
	char dict[BRG__NPY_HEADER_LEN + 1];
	int n = snprintf(dict, sizeof dict, "{'descr': '%s', 'fortran_order': False, 'shape': (",
			 brg__dtype_descr(lay->dtype));
	for (int i = 0; i < lay->ndim; i++)
		n += snprintf(dict + n, sizeof dict - (size_t)n, i ? ", %zu" : "%zu", lay->shape[i]);
	/* Python spells a one-element tuple "(5,)"; numpy's writer does the same. */
	n += snprintf(dict + n, sizeof dict - (size_t)n, lay->ndim == 1 ? ",), }" : "), }");
	memcpy(page, npy_magic, sizeof npy_magic);
	page[6] = 1;
	page[7] = 0;
	page[8] = (unsigned char)(BRG__NPY_HEADER_LEN & 0xff);
	page[9] = (unsigned char)(BRG__NPY_HEADER_LEN >> 8);
	memcpy(page + 10, dict, (size_t)n);
	memset(page + 10 + n, ' ', BRG__NPY_HEADER_LEN - (size_t)n - 1);
	page[BRG_DATA_OFFSET - 1] = '\n';
}

/* A cursor over the header text; every step checks the end. */
struct cur {
	const char *p, *end;
};

static void skip_ws(struct cur *c)
{
	while (c->p < c->end && (*c->p == ' ' || *c->p == '\t' || *c->p == '\n' || *c->p == '\r'))
		c->p++;
}

static int eat(struct cur *c, char ch)
{
	skip_ws(c);
	if (c->p < c->end && *c->p == ch) {
		c->p++;
		return 1;
	}
	return 0;
}

/* A quoted Python string without escapes (none of our keys or descrs needs one). */
static int read_str(struct cur *c, const char **s, size_t *len)
{
	skip_ws(c);
	if (c->p >= c->end || (*c->p != '\'' && *c->p != '"'))
		return BRG_EHEADER;
	char q = *c->p++;
	const char *start = c->p;
	while (c->p < c->end && *c->p != q) {
		if (*c->p == '\\')
			return BRG_EHEADER;
		c->p++;
	}
	if (c->p >= c->end)
		return BRG_EHEADER;
	*s = start;
	*len = (size_t)(c->p - start);
	c->p++;
	return 0;
}

static int read_size(struct cur *c, size_t *v)
{
	skip_ws(c);
	if (c->p >= c->end || *c->p < '0' || *c->p > '9')
		return BRG_EHEADER;
	const char *first = c->p;
	size_t x = 0;
	while (c->p < c->end && *c->p >= '0' && *c->p <= '9') {
		if (mul_overflows(x, 10, &x) || __builtin_add_overflow(x, (size_t)(*c->p - '0'), &x))
			return BRG_EOVERFLOW;
		c->p++;
	}
	/* Python's syntax, which numpy parses the header with: "007" is refused, "00" is 0. */
	if (*first == '0' && x)
		return BRG_EHEADER;
	*v = x;
	return 0;
}

static int read_shape(struct cur *c, struct brg__layout *lay)
{
	if (!eat(c, '('))
		return BRG_EHEADER;
	int n = 0, comma = 0;
	for (;;) {
		if (eat(c, ')'))
			break;
		if (n == BRG_MAX_NDIM)
			return BRG_EBADNDIM;
		int r = read_size(c, &lay->shape[n]);
		if (r)
			return r;
		n++;
		comma = eat(c, ',');
		if (!comma) {
			if (!eat(c, ')'))
				return BRG_EHEADER;
			break;
		}
	}
	/* "(5)" is the integer 5 in Python, not a tuple. */
	if (n == 1 && !comma)
		return BRG_EHEADER;
	if (n == 0)
		return BRG_EBADNDIM;
	lay->ndim = n;
	return 0;
}

int brg__npy_parse(const unsigned char *page, struct brg__layout *lay)
{
	if (memcmp(page, npy_magic, sizeof npy_magic))
		return BRG_ENOTNPY;
	if (page[6] != 1 || page[7] != 0)
		return BRG_ENPYVERSION;
	if ((unsigned)(page[8] | page[9] << 8) != BRG__NPY_HEADER_LEN)
		return BRG_EDATAOFFSET;
	const char *text = (const char *)page + 10;
	struct cur c = {text, text + BRG__NPY_HEADER_LEN - 1};
	if (text[BRG__NPY_HEADER_LEN - 1] != '\n')
		return BRG_EHEADER;
	for (const char *p = c.p; p < c.end; p++)
		if (*p < 0x20 || *p > 0x7e)
			return BRG_EHEADER;

	struct brg__layout got = {0};
	int have_descr = 0, have_fortran = 0, have_shape = 0, dtype = 0;
	if (!eat(&c, '{'))
		return BRG_EHEADER;
	for (;;) {
		if (eat(&c, '}'))
			break;
		const char *key;
		size_t klen;
		int r = read_str(&c, &key, &klen);
		if (r)
			return r;
		if (!eat(&c, ':'))
			return BRG_EHEADER;
		if (klen == 5 && !memcmp(key, "descr", 5) && !have_descr) {
			const char *d;
			size_t dlen;
			if ((r = read_str(&c, &d, &dlen)))
				return r;
			dtype = brg__dtype_from_descr(d, dlen);
			have_descr = 1;
		} else if (klen == 13 && !memcmp(key, "fortran_order", 13) && !have_fortran) {
			skip_ws(&c);
			if (c.end - c.p >= 5 && !memcmp(c.p, "False", 5)) {
				c.p += 5;
			} else if (c.end - c.p >= 4 && !memcmp(c.p, "True", 4)) {
				return BRG_EFORTRAN;
			} else {
				return BRG_EHEADER;
			}
			have_fortran = 1;
		} else if (klen == 5 && !memcmp(key, "shape", 5) && !have_shape) {
			if ((r = read_shape(&c, &got)))
				return r;
			have_shape = 1;
		} else {
			return BRG_EHEADER; /* unknown or repeated key */
		}
		if (!eat(&c, ',')) {
			if (!eat(&c, '}'))
				return BRG_EHEADER;
			break;
		}
	}
	skip_ws(&c);
	if (c.p != c.end || !have_descr || !have_fortran || !have_shape)
		return BRG_EHEADER;
	if (dtype < 0)
		return dtype;
	return brg__layout_make(lay, (brg_dtype)dtype, got.ndim, got.shape);
}

/* SPDX-License-Identifier: MIT */
/* test_roundtrip.c - arrays of every dtype and rank survive create/close/open with their
 * bytes, metadata and NPY layout intact; dtype and error tables; listing; creation modes. */
#include <limits.h>
#include <stdint.h>
#include <sys/stat.h>
#include <time.h>

#include "arrayutil.h"

static uint64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static unsigned char pattern(size_t i, unsigned salt)
{
	return (unsigned char)(i * 31u + (i >> 8) * 7u + salt);
}

static void fill(void *data, size_t n, unsigned salt)
{
	unsigned char *p = data;
	for (size_t i = 0; i < n; i++)
		p[i] = pattern(i, salt);
}

/* First byte that differs from the pattern, or n. */
static size_t first_bad(const void *data, size_t n, unsigned salt)
{
	const unsigned char *p = data;
	for (size_t i = 0; i < n; i++)
		if (p[i] != pattern(i, salt))
			return i;
	return n;
}

static size_t round_page(size_t n)
{
	return (n + AU_PAGE - 1) & ~(size_t)(AU_PAGE - 1);
}

struct want {
	const char *name;
	brg_dtype dtype;
	int ndim;
	const size_t *shape;
	size_t count, nbytes;
	unsigned flags;
};

static void check_handle(const brg_array *a, const struct want *w, int writable)
{
	CHECK_EQ(brg_array_dtype(a), w->dtype);
	CHECK_EQ(brg_array_ndim(a), w->ndim);
	const size_t *shape = brg_array_shape(a);
	REQUIRE(shape != NULL);
	for (int i = 0; i < w->ndim; i++)
		CHECK_EQ(shape[i], w->shape[i]);
	CHECK_EQ(brg_array_count(a), w->count);
	CHECK_EQ(brg_array_nbytes(a), w->nbytes);
	CHECK(brg_array_name(a) && !strcmp(brg_array_name(a), w->name));
	CHECK_EQ(brg_array_writable(a), writable);
	void *data = brg_array_data(a);
	CHECK(data != NULL);
	CHECK_EQ((uintptr_t)data % AU_PAGE, 0);
}

/* The bytes in /dev/shm, read with read(2), against the documented layout. */
static void check_file(const struct want *w, uint64_t t0, uint64_t t1)
{
	unsigned char page[AU_PAGE], tr[AU_TRAILER_BYTES];
	au_peek(w->name, 0, page, sizeof page);
	CHECK(!memcmp(page, "\x93NUMPY\x01\x00", 8));
	CHECK_EQ(page[8] | page[9] << 8, AU_NPY_HEADER_LEN);
	char dict[512];
	au_npy_dict(dict, sizeof dict, au_dtypes[w->dtype - 1].descr, w->ndim, w->shape);
	size_t dlen = strlen(dict);
	if (memcmp(page + 10, dict, dlen))
		TEST_FAIL_("%s: header is \"%.*s\", numpy writes \"%s\"", w->name, (int)dlen,
			   (const char *)page + 10, dict);
	size_t spaces = 10 + dlen;
	while (spaces < AU_PAGE - 1 && page[spaces] == ' ')
		spaces++;
	CHECK_EQ(spaces, AU_PAGE - 1);
	CHECK_EQ(page[AU_PAGE - 1], '\n');

	size_t t = AU_PAGE + round_page(w->nbytes);
	CHECK_EQ(au_file_size(w->name), (off_t)(t + AU_PAGE));
	au_peek(w->name, (off_t)t, tr, sizeof tr);
	CHECK(!memcmp(tr, "BRIGADE\0", 8));
	CHECK_EQ(au_get32(tr + AU_T_VERSION), 1);
	CHECK_EQ(au_get32(tr + AU_T_SIZE), AU_TRAILER_BYTES);
	CHECK_EQ(au_get32(tr + AU_T_FLAGS), w->flags);
	CHECK_EQ(au_get32(tr + AU_T_KIND), BRG_KIND_ARRAY);
	CHECK_EQ(au_get32(tr + AU_T_UID), geteuid());
	CHECK_EQ((int32_t)au_get32(tr + AU_T_PID), getpid());
	CHECK(au_get64(tr + AU_T_CREATED) >= t0 && au_get64(tr + AU_T_CREATED) <= t1);
	CHECK_EQ(au_get64(tr + AU_T_GENERATION), 1);
	CHECK_EQ(au_get64(tr + AU_T_NBYTES), w->nbytes);
	CHECK_EQ(au_get64(tr + AU_T_DATAOFF), BRG_DATA_OFFSET);
	CHECK_EQ(au_get32(tr + AU_T_DTYPE), w->dtype);
	CHECK_EQ(au_get32(tr + AU_T_NDIM), w->ndim);
	for (int i = 0; i < BRG_MAX_NDIM; i++)
		CHECK_EQ(au_get64(tr + AU_T_SHAPE + 8 * i), i < w->ndim ? w->shape[i] : 0);
	for (unsigned i = AU_T_RESERVED; i < AU_T_CHECKSUM; i++)
		CHECK_EQ(tr[i], 0);
	CHECK_EQ(au_get32(tr + AU_T_CHECKSUM), au_checksum(page, tr));
}

static void check_stat(const struct want *w, uint64_t generation, uint64_t t0, uint64_t t1)
{
	brg_segment_info info;
	memset(&info, 0xa5, sizeof info);
	info.size = sizeof info;
	REQUIRE_EQ(brg_segment_stat(w->name, 0, &info), 0);
	CHECK_EQ(info.size, sizeof info);
	CHECK(!strcmp(info.name, w->name));
	CHECK_EQ(info.kind, BRG_KIND_ARRAY);
	CHECK_EQ(info.dtype, w->dtype);
	CHECK_EQ(info.ndim, w->ndim);
	for (int i = 0; i < BRG_MAX_NDIM; i++)
		CHECK_EQ(info.shape[i], i < w->ndim ? w->shape[i] : 0);
	CHECK_EQ(info.nbytes, w->nbytes);
	CHECK_EQ(info.file_bytes, au_file_size(w->name));
	CHECK_EQ(info.flags, w->flags);
	CHECK_EQ(info.mode, 0600);
	CHECK_EQ(info.creator_uid, geteuid());
	CHECK_EQ(info.creator_pid, getpid());
	CHECK_EQ(info.creator_alive, 1);
	CHECK(info.created_ns >= t0 && info.created_ns <= t1);
	CHECK_EQ(info.generation, generation);
	/* stat never maps, so asking for write access is harmless and accepted. */
	CHECK_EQ(brg_segment_stat(w->name, BRG_OPEN_WRITE, &info), 0);
}

static void roundtrip(const char *tag, brg_dtype dtype, int ndim, const size_t *shape,
		      unsigned flags)
{
	struct want w = {test_name(tag), dtype, ndim, shape, 1, 0, flags};
	for (int i = 0; i < ndim; i++)
		w.count *= shape[i];
	w.nbytes = w.count * brg_dtype_size(dtype);
	brg_array_opts opts = {sizeof opts, flags, 0};

	brg_array *a = NULL, *ro = NULL, *rw = NULL;
	uint64_t t0 = now_ns();
	REQUIRE_EQ(brg_array_create(&a, w.name, dtype, ndim, shape, &opts), 0);
	uint64_t t1 = now_ns();
	REQUIRE(a != NULL);
	check_handle(a, &w, 1);
	CHECK_EQ(brg_array_generation(a), 1);
	unsigned char zero[64] = {0};
	for (size_t off = 0; off < w.nbytes; off += sizeof zero) {
		size_t n = w.nbytes - off < sizeof zero ? w.nbytes - off : sizeof zero;
		if (memcmp((unsigned char *)brg_array_data(a) + off, zero, n)) {
			TEST_FAIL_("%s: not zero-filled at byte %zu", w.name, off);
			break;
		}
	}
	fill(brg_array_data(a), w.nbytes, 1);
	check_file(&w, t0, t1);
	brg_array_close(a);

	REQUIRE_EQ(brg_array_open(&ro, w.name, 0), 0);
	check_handle(ro, &w, 0);
	CHECK_EQ(first_bad(brg_array_data(ro), w.nbytes, 1), w.nbytes);
	CHECK_EQ(brg_array_generation(ro), 1);
	CHECK_EQ(brg_array_generation_bump(ro), BRG_EREADONLY);
	CHECK_EQ(brg_array_generation(ro), 1);

	REQUIRE_EQ(brg_array_open(&rw, w.name, BRG_OPEN_WRITE), 0);
	check_handle(rw, &w, 1);
	CHECK_EQ(first_bad(brg_array_data(rw), w.nbytes, 1), w.nbytes);
	CHECK_EQ(brg_array_generation(rw), 1);
	CHECK_EQ(brg_array_generation_bump(rw), 2);
	CHECK_EQ(brg_array_generation(rw), 2);
	CHECK_EQ(brg_array_generation(ro), 2);
	/* Both handles map the same pages. */
	fill(brg_array_data(rw), w.nbytes, 2);
	CHECK_EQ(first_bad(brg_array_data(ro), w.nbytes, 2), w.nbytes);
	check_stat(&w, 2, t0, t1);

	/* The bumped generation is outside the checksum: the segment still validates. */
	brg_array_close(ro);
	REQUIRE_EQ(brg_array_open(&ro, w.name, 0), 0);
	CHECK_EQ(brg_array_generation(ro), 2);
	CHECK_EQ(first_bad(brg_array_data(ro), w.nbytes, 2), w.nbytes);

	CHECK_EQ(brg_segment_unlink(w.name), 0);
	CHECK(!au_exists(w.name));
	/* Open mappings outlive the name. */
	CHECK_EQ(first_bad(brg_array_data(ro), w.nbytes, 2), w.nbytes);
	fill(brg_array_data(rw), w.nbytes, 3);
	CHECK_EQ(first_bad(brg_array_data(ro), w.nbytes, 3), w.nbytes);
	brg_array_close(ro);
	brg_array_close(rw);
	a = (brg_array *)&w;
	CHECK_EQ(brg_array_open(&a, w.name, 0), -ENOENT);
	CHECK(a == NULL);
	CHECK_EQ(brg_segment_unlink(w.name), -ENOENT);
}

/* Every dtype at every rank, with small random extents. */
static void test_roundtrips(void)
{
	for (int d = 0; d < AU_NDTYPES; d++) {
		for (int ndim = 1; ndim <= BRG_MAX_NDIM; ndim++) {
			/* Extents bounded so no array exceeds 6561 elements. */
			size_t max = ndim <= 2 ? 64 : ndim <= 4 ? 8 : 3;
			size_t shape[BRG_MAX_NDIM];
			for (int i = 0; i < ndim; i++)
				shape[i] = 1 + test_rand() % max;
			char tag[32];
			snprintf(tag, sizeof tag, "rt-%s-%d", au_dtypes[d].name, ndim);
			roundtrip(tag, au_dtypes[d].dtype, ndim, shape,
				  (d + ndim) % 3 == 0 ? BRG_CREATE_PERSISTENT : 0);
		}
	}
}

/* One zero extent: nothing to store, but a valid header, trailer and data pointer. */
static void test_zero_length(void)
{
	for (int ndim = 1; ndim <= BRG_MAX_NDIM; ndim++) {
		size_t shape[BRG_MAX_NDIM];
		for (int i = 0; i < ndim; i++)
			shape[i] = 1 + test_rand() % 5;
		shape[test_rand() % (unsigned)ndim] = 0;
		const struct au_dtype *dt = &au_dtypes[test_rand() % AU_NDTYPES];
		char tag[32];
		snprintf(tag, sizeof tag, "zero-%d", ndim);
		roundtrip(tag, dt->dtype, ndim, shape, 0);
	}
	/* Huge extents next to a zero one are fine as long as their product fits. */
	size_t wide[3] = {(size_t)1 << 20, 0, (size_t)1 << 20};
	roundtrip("zero-wide", BRG_F64, 3, wide, 0);

	const char *name = test_name("zero-one");
	size_t shape[1] = {0};
	brg_array *a = NULL, *b = NULL;
	REQUIRE_EQ(brg_array_create(&a, name, BRG_U8, 1, shape, NULL), 0);
	CHECK_EQ(brg_array_count(a), 0);
	CHECK_EQ(brg_array_nbytes(a), 0);
	CHECK(brg_array_data(a) != NULL);
	CHECK_EQ((uintptr_t)brg_array_data(a) % AU_PAGE, 0);
	CHECK_EQ(au_file_size(name), 2 * AU_PAGE);
	REQUIRE_EQ(brg_array_open(&b, name, BRG_OPEN_WRITE), 0);
	CHECK_EQ(brg_array_count(b), 0);
	CHECK(brg_array_data(b) != NULL);
	CHECK_EQ((uintptr_t)brg_array_data(b) % AU_PAGE, 0);
	brg_array_close(b);
	brg_array_close(a);
	CHECK_EQ(brg_segment_unlink(name), 0);
}

/* The header text numpy itself would write, spot-checked by hand. */
static void test_npy_text(void)
{
	static const struct {
		brg_dtype dtype;
		int ndim;
		size_t shape[3];
		const char *dict;
	} cases[] = {
		{BRG_F64, 1, {5}, "{'descr': '<f8', 'fortran_order': False, 'shape': (5,), }"},
		{BRG_U8, 2, {3, 4}, "{'descr': '|u1', 'fortran_order': False, 'shape': (3, 4), }"},
		{BRG_I16, 3, {2, 0, 7},
		 "{'descr': '<i2', 'fortran_order': False, 'shape': (2, 0, 7), }"},
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		const char *name = test_name("npytext");
		brg_array *a = NULL;
		REQUIRE_EQ(brg_array_create(&a, name, cases[i].dtype, cases[i].ndim, cases[i].shape,
					    NULL),
			   0);
		brg_array_close(a);
		char page[AU_PAGE + 1];
		au_peek(name, 0, page, AU_PAGE);
		page[AU_PAGE] = 0;
		CHECK(!memcmp(page, "\x93NUMPY\x01\x00", 8));
		size_t n = strlen(cases[i].dict);
		if (memcmp(page + 10, cases[i].dict, n) || page[10 + n] != ' ')
			TEST_FAIL_("header \"%.*s\" != \"%s\"", (int)n, page + 10, cases[i].dict);
		CHECK_EQ(brg_segment_unlink(name), 0);
	}
}

static void test_dtypes(void)
{
	for (int d = 0; d < AU_NDTYPES; d++) {
		const struct au_dtype *dt = &au_dtypes[d];
		CHECK_EQ(dt->dtype, d + 1);
		CHECK_EQ(brg_dtype_size(dt->dtype), dt->size);
		CHECK(!strcmp(brg_dtype_name(dt->dtype), dt->name));
		CHECK_EQ(brg_dtype_parse(dt->name), dt->dtype);
		CHECK_EQ(brg_dtype_parse(dt->numpy), dt->dtype);
		CHECK_EQ(brg_dtype_parse(dt->descr), dt->dtype);
	}
	/* numpy reads "<i1" for "|i1". */
	CHECK_EQ(brg_dtype_parse("<i1"), BRG_I8);
	CHECK_EQ(brg_dtype_parse("<u1"), BRG_U8);
	static const char *bad[] = {"",    "f16",  "float", ">f8", "|f4", "<c16", "c8",
				    "F32", "f32 ", " f32", "<f",  "u",   "int",  "float128"};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		int r = brg_dtype_parse(bad[i]);
		if (r != BRG_EBADDTYPE)
			TEST_FAIL_("brg_dtype_parse(\"%s\") = %d (%s), expected BRG_EBADDTYPE",
				   bad[i], r, brg_err_name(r));
	}
	CHECK_EQ(brg_dtype_parse(NULL), -EINVAL);
	static const int unknown[] = {0, 11, 99, -1, INT_MAX};
	for (size_t i = 0; i < sizeof unknown / sizeof unknown[0]; i++) {
		CHECK_EQ(brg_dtype_size((brg_dtype)unknown[i]), 0);
		CHECK(!strcmp(brg_dtype_name((brg_dtype)unknown[i]), "?"));
	}
}

/* A description and name for code, the same static strings each time. */
static void check_code(int code, const char *want_name, const char *want_msg)
{
	const char *msg = brg_strerror(code), *name = brg_err_name(code);
	if (!msg || !name || !*msg || !*name) {
		TEST_FAIL_("code %d: strerror %p, err_name %p", code, (const void *)msg,
			   (const void *)name);
		return;
	}
	CHECK(brg_strerror(code) == msg);
	CHECK(brg_err_name(code) == name);
	if (want_name && strcmp(name, want_name))
		TEST_FAIL_("brg_err_name(%d) = \"%s\", expected \"%s\"", code, name, want_name);
	if (want_msg && strcmp(msg, want_msg))
		TEST_FAIL_("brg_strerror(%d) = \"%s\", expected \"%s\"", code, msg, want_msg);
}

static void test_errors(void)
{
	static const int codes[] = {
#define CODE_(name, code, msg) code,
		BRG_ERRNO_MAP(CODE_)
#undef CODE_
	};
	size_t n = sizeof codes / sizeof codes[0];
#define CHECK_CODE_(name, code, msg) check_code(code, "BRG_E" #name, msg);
	BRG_ERRNO_MAP(CHECK_CODE_)
#undef CHECK_CODE_
	int lowest = 0;
	for (size_t i = 0; i < n; i++) {
		CHECK(codes[i] <= -4000 && codes[i] >= -4999);
		for (size_t j = 0; j < i; j++)
			if (codes[i] == codes[j])
				TEST_FAIL_("code %d appears twice in BRG_ERRNO_MAP", codes[i]);
		if (codes[i] < lowest)
			lowest = codes[i];
	}
	check_code(0, "OK", NULL);
	check_code(-ENOENT, "ENOENT", NULL);
	check_code(-EEXIST, "EEXIST", NULL);
	check_code(-EINVAL, "EINVAL", NULL);
	check_code(-ENOSPC, "ENOSPC", NULL);
	check_code(-ENOMEM, "ENOMEM", NULL);
	check_code(-EACCES, "EACCES", NULL);
	check_code(-ELOOP, "ELOOP", NULL);
	check_code(-EISDIR, "EISDIR", NULL);
	static const int unknown[] = {-3999, -5000, 12345, 1, ENOENT, INT_MIN, INT_MAX, -4999};
	for (size_t i = 0; i < sizeof unknown / sizeof unknown[0]; i++)
		check_code(unknown[i], "UNKNOWN", NULL);
	check_code(lowest - 1, "UNKNOWN", NULL);

	char want[32];
	snprintf(want, sizeof want, "%d.%d.%d", BRG_VERSION_MAJOR, BRG_VERSION_MINOR,
		 BRG_VERSION_PATCH);
	CHECK(brg_version() && !strcmp(brg_version(), want));
}

struct seen {
	const char *prefix;
	int n, calls;
	char names[8][BRG_NAME_MAX + 1];
};

static int collect(const brg_segment_info *info, void *userdata)
{
	struct seen *s = userdata;
	s->calls++;
	if (strncmp(info->name, s->prefix, strlen(s->prefix)))
		return 0;
	if (s->n < 8)
		snprintf(s->names[s->n], sizeof s->names[0], "%s", info->name);
	s->n++;
	CHECK_EQ(info->kind, BRG_KIND_ARRAY);
	CHECK_EQ(info->creator_pid, getpid());
	CHECK_EQ(info->creator_alive, 1);
	CHECK_EQ(info->dtype, BRG_I32);
	CHECK_EQ(info->ndim, 2);
	CHECK_EQ(info->file_bytes, au_file_size(info->name));
	return 0;
}

static int stop_at_first(const brg_segment_info *info, void *userdata)
{
	(void)info;
	(*(int *)userdata)++;
	return 7;
}

static void test_foreach(void)
{
	/* Made out of order: foreach reports them in name order. */
	const char *names[3] = {test_name("fe-b"), test_name("fe-a"), test_name("fe-c")};
	size_t shape[2] = {3, 5};
	for (int i = 0; i < 3; i++) {
		brg_array *a = NULL;
		REQUIRE_EQ(brg_array_create(&a, names[i], BRG_I32, 2, shape, NULL), 0);
		brg_array_close(a);
	}
	/* Files that are not brigade segments, with names foreach would otherwise take. */
	const char *junk = test_name("fe-junk"), *empty = test_name("fe-empty");
	unsigned char bytes[2 * AU_PAGE];
	for (size_t i = 0; i < sizeof bytes; i++)
		bytes[i] = (unsigned char)test_rand();
	bytes[0] = 'J';
	char path[BRG_NAME_MAX + 16];
	au_path(path, sizeof path, junk);
	int fd = open(path, O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC, 0600);
	REQUIRE(fd >= 0);
	REQUIRE(write(fd, bytes, sizeof bytes) == (ssize_t)sizeof bytes);
	close(fd);
	au_path(path, sizeof path, empty);
	fd = open(path, O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC, 0600);
	REQUIRE(fd >= 0);
	close(fd);

	char prefix[96];
	snprintf(prefix, sizeof prefix, "%sfe-", au_prefix());
	struct seen s = {prefix, 0, 0, {{0}}};
	CHECK_EQ(brg_segment_foreach(0, collect, &s), 0);
	CHECK_EQ(s.n, 3);
	CHECK(s.calls >= 3);
	if (s.n == 3) {
		CHECK(!strcmp(s.names[0], names[1]));
		CHECK(!strcmp(s.names[1], names[0]));
		CHECK(!strcmp(s.names[2], names[2]));
	}
	CHECK(au_exists(junk));
	CHECK(au_exists(empty));

	s.n = s.calls = 0;
	CHECK_EQ(brg_segment_foreach(BRG_OPEN_ANY_OWNER, collect, &s), 0);
	CHECK_EQ(s.n, 3);

	int calls = 0;
	CHECK_EQ(brg_segment_foreach(0, stop_at_first, &calls), 7);
	CHECK_EQ(calls, 1);
	CHECK_EQ(brg_segment_foreach(0, NULL, NULL), -EINVAL);

	for (int i = 0; i < 3; i++)
		CHECK_EQ(brg_segment_unlink(names[i]), 0);
	CHECK_EQ(brg_segment_unlink(junk), BRG_ENOTNPY);
	CHECK_EQ(brg_segment_unlink(empty), BRG_EEMPTY);
	CHECK(au_exists(junk));
	CHECK(au_exists(empty));
	au_path(path, sizeof path, junk);
	unlink(path);
	au_path(path, sizeof path, empty);
	unlink(path);
}

static unsigned mode_of(const char *name)
{
	char path[BRG_NAME_MAX + 16];
	au_path(path, sizeof path, name);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	REQUIRE(fd >= 0);
	struct stat st;
	REQUIRE(fstat(fd, &st) == 0);
	close(fd);
	return st.st_mode & 07777;
}

/* The mode asked for is the mode the object gets, whatever the umask. */
static void test_modes(void)
{
	static const struct {
		unsigned flags, mode, want;
		mode_t umask;
	} cases[] = {
		{BRG_CREATE_SHARED, 0640, 0640, 077},
		{BRG_CREATE_SHARED, 0660, 0660, 077},
		{BRG_CREATE_SHARED, 0666, 0666, 022},
		{BRG_CREATE_SHARED | BRG_CREATE_PERSISTENT, 0604, 0604, 0777},
		{0, 0, 0600, 077},
		{0, 0600, 0600, 0},
		{0, 0700, 0700, 077},
	};
	size_t shape[1] = {16};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		const char *name = test_name("mode");
		brg_array_opts opts = {sizeof opts, cases[i].flags, cases[i].mode};
		mode_t old = umask(cases[i].umask);
		brg_array *a = NULL, *b = NULL;
		int r = brg_array_create(&a, name, BRG_U16, 1, shape, &opts);
		umask(old);
		REQUIRE_EQ(r, 0);
		CHECK_EQ(mode_of(name), cases[i].want);
		brg_segment_info info = {.size = sizeof info};
		CHECK_EQ(brg_segment_stat(name, 0, &info), 0);
		CHECK_EQ(info.mode, cases[i].want);
		CHECK_EQ(info.flags, cases[i].flags);
		/* Writable by others, but the creator said so: not BRG_EEXPOSED. */
		CHECK_EQ(brg_array_open(&b, name, BRG_OPEN_WRITE), 0);
		brg_array_close(b);
		brg_array_close(a);
		CHECK_EQ(brg_segment_unlink(name), 0);
	}
	/* NULL options: private 0600 even under umask 0. */
	const char *name = test_name("mode-null");
	mode_t old = umask(0);
	brg_array *a = NULL;
	int r = brg_array_create(&a, name, BRG_U16, 1, shape, NULL);
	umask(old);
	REQUIRE_EQ(r, 0);
	CHECK_EQ(mode_of(name), 0600);
	brg_array_close(a);
	CHECK_EQ(brg_segment_unlink(name), 0);
}

int main(void)
{
	test_init();
	/* The checksum helper itself: zlib.crc32(b"123456789"). */
	REQUIRE_EQ(au_crc32(0, "123456789", 9), 0xCBF43926u);
	test_dtypes();
	test_errors();
	test_roundtrips();
	test_zero_length();
	test_npy_text();
	test_foreach();
	test_modes();
	int left = au_count_prefix(au_prefix());
	CHECK_EQ(left, 0);
	return test_done();
}

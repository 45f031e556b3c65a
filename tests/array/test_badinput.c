/* SPDX-License-Identifier: MIT */
/* test_badinput.c - every bad argument and every corruption of a segment yields its exact
 * code, leaves nothing behind, and never crashes; then random single-byte damage. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* unshare(), for a private /dev/shm */
#endif
#include <limits.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "arrayutil.h"

/* What must hold for the case's name after the call. */
enum post {
	POST_ANY,     /* nothing to check (the case checks what matters itself) */
	POST_ABSENT,  /* a failed create left nothing */
	POST_PRESENT, /* a failed call did not remove what was there */
};

struct ctx {
	const char *name;  /* unique, registered for cleanup at exit */
	const char *probe; /* the name post checks and the driver removes, when not name */
	const char *skip;  /* set by a case that cannot run here: why */
};

struct bcase {
	const char *desc;
	int (*run)(struct ctx *c);
	int expect;
	enum post post;
};

static char sentinel_;
#define SENTINEL ((brg_array *)(void *)&sentinel_)

/* ---- helpers ---------------------------------------------------------------------------- */

static int do_create(const char *name, brg_dtype dtype, int ndim, const size_t *shape,
		     const brg_array_opts *opts)
{
	brg_array *a = SENTINEL;
	int r = brg_array_create(&a, name, dtype, ndim, shape, opts);
	if (r) {
		CHECK(a == NULL);
	} else {
		CHECK(a != NULL && a != SENTINEL);
		brg_array_close(a);
	}
	return r;
}

/* brg_array_open's code; brg_segment_stat, which validates the same way but for the
 * content's padding and generation (it describes what open refuses for those), must agree. */
static int do_open(const char *name, unsigned flags)
{
	brg_array *a = SENTINEL;
	int r = brg_array_open(&a, name, flags);
	if (r) {
		CHECK(a == NULL);
	} else {
		CHECK(a != NULL && a != SENTINEL);
		brg_array_close(a);
	}
	if (!(flags & BRG_OPEN_WRITE)) {
		brg_segment_info info = {.size = sizeof info};
		int s = brg_segment_stat(name, flags, &info);
		int want = r == BRG_EPADDING || r == BRG_EGENERATION ? 0 : r;
		if (s != want)
			TEST_FAIL_("brg_segment_stat gives %d (%s), brg_array_open %d (%s)", s,
				   brg_err_name(s), r, brg_err_name(r));
	}
	return r;
}

static const size_t shape4[1] = {4};

/* A good segment filled with a pattern, closed again. */
static void make_seg(const char *name, brg_dtype dtype, int ndim, const size_t *shape)
{
	brg_array *a = NULL;
	REQUIRE_EQ(brg_array_create(&a, name, dtype, ndim, shape, NULL), 0);
	unsigned char *p = brg_array_data(a);
	for (size_t i = 0; i < brg_array_nbytes(a); i++)
		p[i] = (unsigned char)(i * 13 + 1);
	brg_array_close(a);
}

/* f32 (4,): 16 bytes of data, one data page, 12288 bytes in all. */
static void make_small(const char *name)
{
	make_seg(name, BRG_F32, 1, shape4);
}

/* u8 (3, 4096): three data pages, 20480 bytes in all. */
static void make_big(const char *name)
{
	static const size_t shape[2] = {3, 4096};
	make_seg(name, BRG_U8, 2, shape);
}

static off_t trailer_at(const char *name)
{
	off_t size = au_file_size(name);
	REQUIRE(size >= (off_t)(2 * AU_PAGE));
	return size - AU_PAGE;
}

static void make_file(const char *name, const void *bytes, size_t len)
{
	char path[BRG_NAME_MAX + 16];
	au_path(path, sizeof path, name);
	int fd = open(path, O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC, 0600);
	REQUIRE(fd >= 0);
	REQUIRE(len == 0 || write(fd, bytes, len) == (ssize_t)len);
	close(fd);
}

static void resize(const char *name, off_t size)
{
	char path[BRG_NAME_MAX + 16];
	au_path(path, sizeof path, name);
	REQUIRE(truncate(path, size) == 0);
}

static void set_mode(const char *name, mode_t mode)
{
	char path[BRG_NAME_MAX + 16];
	au_path(path, sizeof path, name);
	REQUIRE(chmod(path, mode) == 0);
}

/* Rewrites the header dict with its first `from` replaced by `to`, padding kept at 4096. */
static void patch_header(const char *name, const char *from, const char *to)
{
	unsigned char page[AU_PAGE];
	au_peek(name, 0, page, sizeof page);
	char dict[AU_PAGE];
	size_t end = AU_PAGE - 2;
	while (end > 10 && page[end] != '}')
		end--;
	REQUIRE(end > 10);
	memcpy(dict, page + 10, end - 9);
	dict[end - 9] = 0;
	char *at = strstr(dict, from);
	REQUIRE(at != NULL);
	char out[AU_PAGE];
	snprintf(out, sizeof out, "%.*s%s%s", (int)(at - dict), dict, to, at + strlen(from));
	au_npy_page(page, out);
	au_poke(name, 0, page, sizeof page);
}

static void poke_byte(const char *name, off_t off, unsigned char v)
{
	au_poke(name, off, &v, 1);
}

static void flip_byte(const char *name, off_t off)
{
	unsigned char v;
	au_peek(name, off, &v, 1);
	poke_byte(name, off, (unsigned char)(v ^ 0x5a));
}

static void poke32(const char *name, off_t off, uint32_t v)
{
	unsigned char b[4];
	au_put32(b, v);
	au_poke(name, off, b, sizeof b);
}

static void poke64(const char *name, off_t off, uint64_t v)
{
	unsigned char b[8];
	au_put64(b, v);
	au_poke(name, off, b, sizeof b);
}

/* Recomputes the trailer checksum, so that a changed field is judged on its own merits. */
static void reseal(const char *name)
{
	unsigned char page[AU_PAGE], tr[AU_TRAILER_BYTES];
	off_t t = trailer_at(name);
	au_peek(name, 0, page, sizeof page);
	au_peek(name, t, tr, sizeof tr);
	poke32(name, t + AU_T_CHECKSUM, au_checksum(page, tr));
}

/* A case's variant of its own name ("<name><suffix>"), kept valid after the case returns. */
static const char *variant(struct ctx *c, const char *suffix)
{
	static char buf[BRG_NAME_MAX + 64];
	snprintf(buf, sizeof buf, "%s%s", c->name, suffix);
	c->probe = buf;
	return buf;
}

static int needs_root(struct ctx *c)
{
	if (geteuid() == 0)
		return 1;
	c->skip = "needs root to give a segment to another uid";
	return 0;
}

/* ---- names ------------------------------------------------------------------------------ */

static int c_name_empty(struct ctx *c)
{
	(void)c;
	CHECK_EQ(do_open("", 0), BRG_EBADNAME);
	return do_create("", BRG_F32, 1, shape4, NULL);
}

static int c_name_201(struct ctx *c)
{
	static char buf[BRG_NAME_MAX + 2];
	snprintf(buf, sizeof buf, "%s", c->name);
	for (size_t i = strlen(buf); i < BRG_NAME_MAX + 1; i++)
		buf[i] = 'x';
	buf[BRG_NAME_MAX + 1] = 0;
	c->probe = buf;
	CHECK_EQ(brg_name_check(buf), BRG_EBADNAME);
	CHECK_EQ(do_open(buf, 0), BRG_EBADNAME);
	return do_create(buf, BRG_F32, 1, shape4, NULL);
}

static int c_name_200(struct ctx *c)
{
	/* Registered for cleanup: test_name() holds up to BRG_NAME_MAX characters. */
	char tag[BRG_NAME_MAX + 1];
	size_t prefix = strlen(au_prefix());
	memset(tag, 'y', sizeof tag);
	tag[BRG_NAME_MAX - prefix] = 0;
	const char *name = test_name(tag);
	REQUIRE(strlen(name) == BRG_NAME_MAX);
	c->probe = name;
	CHECK_EQ(brg_name_check(name), 0);
	int r = do_create(name, BRG_F32, 1, shape4, NULL);
	brg_array *a = NULL;
	if (r == 0 && brg_array_open(&a, name, 0) == 0) {
		CHECK(!strcmp(brg_array_name(a), name));
		brg_array_close(a);
	}
	return r;
}

static int c_name_slash(struct ctx *c)
{
	const char *bad = variant(c, "/x");
	CHECK_EQ(do_open(bad, 0), BRG_EBADNAME);
	c->probe = c->name; /* "<name>/x" would need <name> to exist */
	return do_create(bad, BRG_F32, 1, shape4, NULL);
}

/* C sees the bytes before the NUL: the name is the prefix, the rest is never looked at. */
static int c_name_nul_middle(struct ctx *c)
{
	char buf[BRG_NAME_MAX + 16];
	size_t n = strlen(c->name);
	memcpy(buf, c->name, n);
	memcpy(buf + n, "\0/../x y", 9);
	c->probe = c->name;
	return do_create(buf, BRG_F32, 1, shape4, NULL);
}

static int c_name_nul_first(struct ctx *c)
{
	char buf[BRG_NAME_MAX + 16];
	buf[0] = 0;
	memcpy(buf + 1, c->name, strlen(c->name) + 1);
	return do_create(buf, BRG_F32, 1, shape4, NULL);
}

static int c_name_dot(struct ctx *c)
{
	(void)c;
	CHECK_EQ(do_open(".", 0), BRG_EBADNAME);
	CHECK_EQ(brg_segment_unlink("."), BRG_EBADNAME);
	return do_create(".", BRG_F32, 1, shape4, NULL);
}

static int c_name_dotdot(struct ctx *c)
{
	(void)c;
	CHECK_EQ(do_open("..", 0), BRG_EBADNAME);
	CHECK_EQ(brg_segment_unlink(".."), BRG_EBADNAME);
	return do_create("..", BRG_F32, 1, shape4, NULL);
}

static int c_name_space(struct ctx *c)
{
	return do_create(variant(c, " x"), BRG_F32, 1, shape4, NULL);
}

static int c_name_nonascii(struct ctx *c)
{
	return do_create(variant(c, "\xc3\xa9"), BRG_F32, 1, shape4, NULL);
}

static int c_name_bad_open(struct ctx *c)
{
	const char *bad = variant(c, "/../x");
	CHECK_EQ(brg_segment_unlink(bad), BRG_EBADNAME);
	brg_segment_info info = {.size = sizeof info};
	CHECK_EQ(brg_segment_stat(bad, 0, &info), BRG_EBADNAME);
	return do_open(bad, 0);
}

/* ---- existence and ownership ------------------------------------------------------------ */

static int c_exists(struct ctx *c)
{
	make_small(c->name);
	static const size_t other[2] = {64, 64};
	int r = do_create(c->name, BRG_F64, 2, other, NULL);
	/* The first segment is untouched: same shape, same bytes. */
	brg_array *a = NULL;
	REQUIRE_EQ(brg_array_open(&a, c->name, 0), 0);
	CHECK_EQ(brg_array_dtype(a), BRG_F32);
	CHECK_EQ(brg_array_count(a), 4);
	CHECK_EQ(((unsigned char *)brg_array_data(a))[15], (15 * 13 + 1) & 0xff);
	brg_array_close(a);
	return r;
}

static int c_missing(struct ctx *c)
{
	CHECK_EQ(brg_segment_unlink(c->name), -ENOENT);
	return do_open(c->name, 0);
}

static void give_away(const char *name)
{
	char path[BRG_NAME_MAX + 16];
	au_path(path, sizeof path, name);
	REQUIRE(chown(path, 65534, 65534) == 0);
}

static int c_owner(struct ctx *c)
{
	if (!needs_root(c))
		return 0;
	make_small(c->name);
	give_away(c->name);
	CHECK_EQ(do_open(c->name, BRG_OPEN_WRITE), BRG_EOWNER);
	return do_open(c->name, 0);
}

static int c_owner_any(struct ctx *c)
{
	if (!needs_root(c))
		return 0;
	make_small(c->name);
	give_away(c->name);
	CHECK_EQ(do_open(c->name, BRG_OPEN_ANY_OWNER | BRG_OPEN_WRITE), 0);
	return do_open(c->name, BRG_OPEN_ANY_OWNER);
}

static int c_owner_unlink(struct ctx *c)
{
	if (!needs_root(c))
		return 0;
	make_small(c->name);
	give_away(c->name);
	return brg_segment_unlink(c->name);
}

/* ---- modes ------------------------------------------------------------------------------ */

static int create_mode(struct ctx *c, unsigned flags, unsigned mode)
{
	brg_array_opts opts = {sizeof opts, flags, mode};
	return do_create(c->name, BRG_F32, 1, shape4, &opts);
}

static int c_mode_0666(struct ctx *c) { return create_mode(c, 0, 0666); }
static int c_mode_0640(struct ctx *c) { return create_mode(c, 0, 0640); }
static int c_mode_0400(struct ctx *c) { return create_mode(c, BRG_CREATE_SHARED, 0400); }
static int c_mode_0200(struct ctx *c) { return create_mode(c, 0, 0200); }
static int c_mode_sticky(struct ctx *c) { return create_mode(c, BRG_CREATE_SHARED, 01600); }
static int c_mode_setuid(struct ctx *c) { return create_mode(c, BRG_CREATE_SHARED, 04600); }

static int c_exposed_group(struct ctx *c)
{
	make_small(c->name);
	set_mode(c->name, 0660);
	return do_open(c->name, 0);
}

static int c_exposed_other(struct ctx *c)
{
	make_small(c->name);
	set_mode(c->name, 0602);
	return do_open(c->name, BRG_OPEN_WRITE);
}

static int c_exposed_any(struct ctx *c)
{
	make_small(c->name);
	set_mode(c->name, 0666);
	return do_open(c->name, BRG_OPEN_ANY_OWNER);
}

/* Readable by others is not writable by others. */
static int c_readable_other(struct ctx *c)
{
	make_small(c->name);
	set_mode(c->name, 0644);
	return do_open(c->name, 0);
}

/* ---- sizes ------------------------------------------------------------------------------ */

static int c_trunc_page(struct ctx *c)
{
	make_big(c->name);
	resize(c->name, trailer_at(c->name)); /* the trailer page is gone */
	return do_open(c->name, 0);
}

static int c_trunc_data(struct ctx *c)
{
	make_big(c->name);
	resize(c->name, 2 * AU_PAGE);
	return do_open(c->name, 0);
}

/* Data pages cut out, the header and the trailer kept and still agreeing (the trailer page
 * now ends the file): the fault is the size, not the checksum. */
static int c_trunc_data_trailer_kept(struct ctx *c)
{
	make_big(c->name);
	unsigned char tr[AU_PAGE];
	off_t t = trailer_at(c->name);
	au_peek(c->name, t, tr, sizeof tr);
	resize(c->name, 3 * AU_PAGE);
	au_poke(c->name, 2 * AU_PAGE, tr, sizeof tr);
	return do_open(c->name, 0);
}

/* What the format keeps zero and no checksum covers: the trailer page past the trailer, the
 * data's last page past the data. */
static int c_trailer_page_tail(struct ctx *c)
{
	make_small(c->name);
	poke_byte(c->name, trailer_at(c->name) + 300, 1);
	return do_open(c->name, 0);
}

static int c_data_padding(struct ctx *c)
{
	make_small(c->name); /* 16 bytes of data in a page */
	poke_byte(c->name, AU_PAGE + 16 + 5, 7);
	return do_open(c->name, 0);
}

/* Damaged content, intact identity: stat describes it and unlink removes it (an open, which
 * maps the data, refuses it). */
static int c_padding_stat(struct ctx *c)
{
	make_small(c->name);
	poke_byte(c->name, AU_PAGE + 16 + 5, 7);
	brg_segment_info info = {.size = sizeof info};
	int r = brg_segment_stat(c->name, 0, &info);
	CHECK(r != 0 || info.generation == 1);
	return r;
}

static int c_padding_unlink(struct ctx *c)
{
	make_small(c->name);
	poke_byte(c->name, trailer_at(c->name) + 300, 1);
	return brg_segment_unlink(c->name);
}

static int c_generation_zero_unlink(struct ctx *c)
{
	make_small(c->name);
	poke64(c->name, trailer_at(c->name) + AU_T_GENERATION, 0);
	return brg_segment_unlink(c->name);
}

static int c_trunc_odd(struct ctx *c)
{
	make_big(c->name);
	resize(c->name, 5000);
	return do_open(c->name, 0);
}

static int c_trunc_header(struct ctx *c)
{
	make_big(c->name);
	resize(c->name, 100);
	return do_open(c->name, 0);
}

static int c_extend_page(struct ctx *c)
{
	make_small(c->name);
	resize(c->name, au_file_size(c->name) + AU_PAGE);
	return do_open(c->name, 0);
}

static int c_extend_byte(struct ctx *c)
{
	make_small(c->name);
	resize(c->name, au_file_size(c->name) + 1);
	return do_open(c->name, 0);
}

/* A trailer at the new end means the header (not the size) was changed: a checksum error. */
static int c_extend_trailer_moved(struct ctx *c)
{
	make_small(c->name);
	unsigned char tr[AU_PAGE];
	off_t t = trailer_at(c->name);
	au_peek(c->name, t, tr, sizeof tr);
	resize(c->name, t + 2 * AU_PAGE);
	au_poke(c->name, t + AU_PAGE, tr, sizeof tr);
	return do_open(c->name, 0);
}

static int c_empty_file(struct ctx *c)
{
	make_file(c->name, "", 0);
	return do_open(c->name, 0);
}

/* ---- files brigade did not write ---------------------------------------------------------- */

/* A header page for shape (n,) of descr, then `tail` bytes of fill. */
static void make_npy(const char *name, const char *descr, size_t n, size_t tail,
		     unsigned char fill)
{
	unsigned char *buf = malloc(AU_PAGE + tail);
	REQUIRE(buf != NULL);
	char dict[256];
	au_npy_dict(dict, sizeof dict, descr, 1, &n);
	au_npy_page(buf, dict);
	memset(buf + AU_PAGE, fill, tail);
	make_file(name, buf, AU_PAGE + tail);
	free(buf);
}

/* What numpy.save writes for np.arange(4096, dtype=np.uint8): 8192 bytes, and a brigade
 * segment with that header would be 12288. */
static int c_npy_plain(struct ctx *c)
{
	unsigned char *buf = malloc(2 * AU_PAGE);
	REQUIRE(buf != NULL);
	char dict[256];
	size_t n = AU_PAGE;
	au_npy_dict(dict, sizeof dict, "|u1", 1, &n);
	au_npy_page(buf, dict);
	for (size_t i = 0; i < AU_PAGE; i++)
		buf[AU_PAGE + i] = (unsigned char)i;
	make_file(c->name, buf, 2 * AU_PAGE);
	free(buf);
	return do_open(c->name, 0);
}

static int c_npy_no_trailer(struct ctx *c)
{
	make_npy(c->name, "|u1", 0, AU_PAGE, 0x5a);
	return do_open(c->name, 0);
}

/* A zero trailer page is what a segment looks like before its magic is written. */
static int c_npy_zero_trailer(struct ctx *c)
{
	make_npy(c->name, "<f8", 0, AU_PAGE, 0);
	return do_open(c->name, 0);
}

static int c_random_bytes(struct ctx *c)
{
	unsigned char buf[2 * AU_PAGE];
	for (size_t i = 0; i < sizeof buf; i++)
		buf[i] = (unsigned char)test_rand();
	buf[0] = 0x42;
	make_file(c->name, buf, sizeof buf);
	return do_open(c->name, 0);
}

static int c_directory(struct ctx *c)
{
	char path[BRG_NAME_MAX + 16];
	au_path(path, sizeof path, c->name);
	REQUIRE(mkdir(path, 0700) == 0);
	CHECK_EQ(brg_segment_unlink(c->name), BRG_ENOTREG);
	return do_open(c->name, 0);
}

static int c_directory_write(struct ctx *c)
{
	char path[BRG_NAME_MAX + 16];
	au_path(path, sizeof path, c->name);
	REQUIRE(mkdir(path, 0700) == 0);
	return do_open(c->name, BRG_OPEN_WRITE);
}

/* A socket cannot be opened at all; it is still just "not a regular object". */
static int c_socket(struct ctx *c)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	char path[BRG_NAME_MAX + 16];
	au_path(path, sizeof path, c->name);
	if (strlen(path) >= sizeof sa.sun_path) {
		c->skip = "socket path too long";
		return 0;
	}
	memcpy(sa.sun_path, path, strlen(path) + 1);
	int s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	REQUIRE(s >= 0);
	REQUIRE(bind(s, (const struct sockaddr *)&sa, sizeof sa) == 0);
	close(s);
	CHECK_EQ(brg_segment_unlink(c->name), BRG_ENOTREG);
	CHECK_EQ(do_open(c->name, BRG_OPEN_WRITE), BRG_ENOTREG);
	return do_open(c->name, 0);
}

/* Names are never followed: a link to a good segment is refused. */
static int c_symlink(struct ctx *c)
{
	const char *target = test_name("bad-target");
	make_small(target);
	char from[BRG_NAME_MAX + 16], to[BRG_NAME_MAX + 16];
	au_path(to, sizeof to, target);
	au_path(from, sizeof from, c->name);
	REQUIRE(symlink(to, from) == 0);
	CHECK_EQ(brg_segment_unlink(c->name), -ELOOP);
	int r = do_open(c->name, 0);
	CHECK_EQ(brg_segment_unlink(target), 0);
	return r;
}

/* In a child with its own empty /dev/shm holding a FIFO under c->name, so that no other
 * process (a parallel test listing /dev/shm) can trip over it.  alarm() bounds a call that
 * blocks; the result is which code each call returned. */
enum fifo_op { FIFO_OPEN, FIFO_UNLINK, FIFO_FOREACH };
#define FIFO_BLOCKED INT_MIN

static int count_cb(const brg_segment_info *info, void *userdata)
{
	(void)info;
	(*(int *)userdata)++;
	return 0;
}

static int in_private_shm(struct ctx *c, enum fifo_op op)
{
	int *res = mmap(NULL, AU_PAGE, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	REQUIRE(res != MAP_FAILED);
	res[0] = FIFO_BLOCKED; /* the code */
	res[1] = 0;            /* errno of a failed setup */
	res[2] = 0;            /* foreach calls */
	fflush(NULL);
	pid_t pid = fork();
	REQUIRE(pid >= 0);
	if (pid == 0) {
		char path[BRG_NAME_MAX + 16];
		au_path(path, sizeof path, c->name);
		if (unshare(CLONE_NEWNS) < 0 || mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0 ||
		    mount("brgt", "/dev/shm", "tmpfs", MS_NOSUID | MS_NODEV, "mode=1777") < 0 ||
		    mkfifo(path, 0600) < 0) {
			res[1] = errno ? errno : EPERM;
			_exit(0);
		}
		alarm(2); /* a FIFO open returns at once or never */
		brg_array *a = NULL;
		if (op == FIFO_OPEN)
			res[0] = brg_array_open(&a, c->name, 0);
		else if (op == FIFO_UNLINK)
			res[0] = brg_segment_unlink(c->name);
		else
			res[0] = brg_segment_foreach(BRG_OPEN_ANY_OWNER, count_cb, &res[2]);
		_exit(0);
	}
	int status;
	pid_t w;
	while ((w = waitpid(pid, &status, 0)) < 0 && errno == EINTR)
		;
	REQUIRE(w == pid);
	int r = res[0];
	if (res[1]) {
		c->skip = "cannot mount a private /dev/shm (needs CAP_SYS_ADMIN)";
	} else if (WIFSIGNALED(status)) {
		TEST_FAIL_("the call %s (signal %d) on a FIFO in /dev/shm",
			   WTERMSIG(status) == SIGALRM ? "blocked" : "crashed", WTERMSIG(status));
	} else if (op == FIFO_FOREACH) {
		CHECK_EQ(res[2], 0);
	}
	munmap(res, AU_PAGE);
	return r;
}

static int c_fifo_open(struct ctx *c) { return in_private_shm(c, FIFO_OPEN); }
static int c_fifo_unlink(struct ctx *c) { return in_private_shm(c, FIFO_UNLINK); }
static int c_fifo_foreach(struct ctx *c) { return in_private_shm(c, FIFO_FOREACH); }

/* ---- the NPY header --------------------------------------------------------------------- */

static int c_npy_magic(struct ctx *c)
{
	make_small(c->name);
	poke_byte(c->name, 1, 'X');
	return do_open(c->name, 0);
}

static int c_npy_v2(struct ctx *c)
{
	make_small(c->name);
	poke_byte(c->name, 6, 2);
	poke_byte(c->name, 7, 0);
	return do_open(c->name, 0);
}

static int c_npy_v1_1(struct ctx *c)
{
	make_small(c->name);
	poke_byte(c->name, 7, 1);
	return do_open(c->name, 0);
}

static int c_npy_hlen(struct ctx *c)
{
	make_small(c->name);
	poke_byte(c->name, 8, 118);
	poke_byte(c->name, 9, 0);
	return do_open(c->name, 0);
}

static int header_case(struct ctx *c, const char *from, const char *to)
{
	make_small(c->name);
	patch_header(c->name, from, to);
	return do_open(c->name, 0);
}

static int c_descr_c16(struct ctx *c) { return header_case(c, "'<f4'", "'<c16'"); }
static int c_descr_be(struct ctx *c) { return header_case(c, "'<f4'", "'>f4'"); }
static int c_descr_escape(struct ctx *c) { return header_case(c, "'<f4'", "'<f\\4'"); }
static int c_fortran(struct ctx *c) { return header_case(c, "False", "True"); }
static int c_fortran_bad(struct ctx *c) { return header_case(c, "False", "0"); }
static int c_shape_int(struct ctx *c) { return header_case(c, "(4,)", "(4)"); }
static int c_shape_list(struct ctx *c) { return header_case(c, "(4,)", "[4]"); }
static int c_shape_neg(struct ctx *c) { return header_case(c, "(4,)", "(-4,)"); }
/* numpy parses the header with Python's syntax, which refuses "04". */
static int c_shape_leading_zero(struct ctx *c) { return header_case(c, "(4,)", "(04,)"); }
static int c_unknown_key(struct ctx *c) { return header_case(c, "False,", "False, 'x': 1,"); }
static int c_repeat_key(struct ctx *c)
{
	return header_case(c, "False,", "False, 'descr': '<f4',");
}
static int c_missing_key(struct ctx *c)
{
	return header_case(c, "'fortran_order': False, ", "");
}
static int c_no_brace(struct ctx *c) { return header_case(c, "{", " "); }

/* Same text length, same page count: only the checksum can tell. */
static int c_shape_changed(struct ctx *c) { return header_case(c, "(4,)", "(5,)"); }

/* Same text length, more pages: the size disagrees but the trailer is at the end. */
static int c_shape_changed_pages(struct ctx *c)
{
	static const size_t shape[1] = {1000};
	make_seg(c->name, BRG_F32, 1, shape);
	patch_header(c->name, "(1000,)", "(9000,)");
	return do_open(c->name, 0);
}

static int c_no_newline(struct ctx *c)
{
	make_small(c->name);
	poke_byte(c->name, AU_PAGE - 1, ' ');
	return do_open(c->name, 0);
}

static int c_control_char(struct ctx *c)
{
	make_small(c->name);
	poke_byte(c->name, 200, '\t');
	return do_open(c->name, 0);
}

static int c_high_byte(struct ctx *c)
{
	make_small(c->name);
	poke_byte(c->name, 300, 0xe9);
	return do_open(c->name, 0);
}

static int c_hdr_overflow(struct ctx *c)
{
	return header_case(c, "(4,)", "(1099511627776, 1099511627776)");
}

static int c_hdr_bignum(struct ctx *c)
{
	return header_case(c, "(4,)", "(123456789012345678901234567890,)");
}

/* 2^62 elements fit in size_t; 2^62 x 4 bytes do not. */
static int c_hdr_nbytes_overflow(struct ctx *c)
{
	return header_case(c, "(4,)", "(4611686018427387904,)");
}

static int c_hdr_ndim9(struct ctx *c)
{
	return header_case(c, "(4,)", "(1, 1, 1, 1, 1, 1, 1, 1, 4)");
}

static int c_hdr_ndim0(struct ctx *c) { return header_case(c, "(4,)", "()"); }

/* ---- the trailer ------------------------------------------------------------------------ */

static int trailer_case(struct ctx *c, int off, int width, uint64_t value, int sealed)
{
	make_small(c->name);
	off_t t = trailer_at(c->name);
	if (width == 1)
		flip_byte(c->name, t + off);
	else if (width == 4)
		poke32(c->name, t + off, (uint32_t)value);
	else
		poke64(c->name, t + off, value);
	if (sealed)
		reseal(c->name);
	return do_open(c->name, 0);
}

static int c_t_checksum(struct ctx *c) { return trailer_case(c, AU_T_CHECKSUM + 1, 1, 0, 0); }
static int c_t_reserved(struct ctx *c) { return trailer_case(c, 200, 1, 0, 0); }
static int c_t_created(struct ctx *c) { return trailer_case(c, AU_T_CREATED, 1, 0, 0); }
static int c_t_version(struct ctx *c) { return trailer_case(c, AU_T_VERSION, 4, 2, 0); }
static int c_t_generation_zero(struct ctx *c)
{
	return trailer_case(c, AU_T_GENERATION, 8, 0, 0);
}
static int c_t_magic_zero(struct ctx *c) { return trailer_case(c, 0, 8, 0, 0); }
static int c_t_magic_other(struct ctx *c)
{
	uint64_t v = au_get64((const unsigned char *)"BRIGADX");
	return trailer_case(c, 0, 8, v, 0);
}
static int c_t_reserved_sealed(struct ctx *c) { return trailer_case(c, 200, 1, 0, 1); }
static int c_t_nbytes_sealed(struct ctx *c) { return trailer_case(c, AU_T_NBYTES, 8, 20, 1); }
static int c_t_dtype_sealed(struct ctx *c) { return trailer_case(c, AU_T_DTYPE, 4, BRG_I32, 1); }
static int c_t_ndim_sealed(struct ctx *c) { return trailer_case(c, AU_T_NDIM, 4, 2, 1); }
static int c_t_shape_sealed(struct ctx *c) { return trailer_case(c, AU_T_SHAPE, 8, 5, 1); }
static int c_t_shape_tail_sealed(struct ctx *c)
{
	return trailer_case(c, AU_T_SHAPE + 8 * 3, 8, 1, 1);
}
static int c_t_flags_sealed(struct ctx *c) { return trailer_case(c, AU_T_FLAGS, 4, 0x100, 1); }
static int c_t_kind_sealed(struct ctx *c) { return trailer_case(c, AU_T_KIND, 4, 7, 1); }
static int c_t_size_sealed(struct ctx *c) { return trailer_case(c, AU_T_SIZE, 4, 512, 1); }
static int c_t_dataoff_sealed(struct ctx *c)
{
	return trailer_case(c, AU_T_DATAOFF, 8, 2 * AU_PAGE, 1);
}
/* A pool control block is a brigade segment (stat lists it) but not an array. */
static int c_t_kind_pool(struct ctx *c)
{
	make_small(c->name);
	poke32(c->name, trailer_at(c->name) + AU_T_KIND, BRG_KIND_POOL);
	reseal(c->name);
	brg_segment_info info = {.size = sizeof info};
	CHECK_EQ(brg_segment_stat(c->name, 0, &info), 0);
	CHECK_EQ(info.kind, BRG_KIND_POOL);
	brg_array *a = SENTINEL;
	int r = brg_array_open(&a, c->name, BRG_OPEN_WRITE);
	if (r == 0)
		brg_array_close(a);
	else
		CHECK(a == NULL);
	return r;
}

/* The generation is outside the checksum: it changes after creation by design. */
static int c_t_generation(struct ctx *c)
{
	int r = trailer_case(c, AU_T_GENERATION, 8, 12345, 0);
	brg_array *a = NULL;
	if (brg_array_open(&a, c->name, 0) == 0) {
		CHECK_EQ(brg_array_generation(a), 12345);
		brg_array_close(a);
	}
	return r;
}

/* ---- arguments of create ---------------------------------------------------------------- */

static int c_ovf_product(struct ctx *c)
{
	const size_t shape[2] = {(size_t)1 << 40, (size_t)1 << 40};
	return do_create(c->name, BRG_U8, 2, shape, NULL);
}

static int c_ovf_zero_extent(struct ctx *c)
{
	const size_t shape[3] = {0, SIZE_MAX, 2};
	return do_create(c->name, BRG_U8, 3, shape, NULL);
}

static int c_ovf_nbytes(struct ctx *c)
{
	const size_t shape[1] = {SIZE_MAX / 4 + 1};
	return do_create(c->name, BRG_F64, 1, shape, NULL);
}

static int c_ovf_off_t(struct ctx *c)
{
	const size_t shape[1] = {SIZE_MAX >> 1};
	return do_create(c->name, BRG_U8, 1, shape, NULL);
}

static int c_ndim0(struct ctx *c) { return do_create(c->name, BRG_F32, 0, shape4, NULL); }
static int c_ndim9(struct ctx *c)
{
	static const size_t shape[9] = {1, 1, 1, 1, 1, 1, 1, 1, 1};
	return do_create(c->name, BRG_F32, 9, shape, NULL);
}
static int c_ndim_neg(struct ctx *c) { return do_create(c->name, BRG_F32, -1, shape4, NULL); }
static int c_dtype0(struct ctx *c) { return do_create(c->name, (brg_dtype)0, 1, shape4, NULL); }
static int c_dtype99(struct ctx *c) { return do_create(c->name, (brg_dtype)99, 1, shape4, NULL); }

/* 0x4 is BRG_CREATE_SMALL_PAGES; 0x8 is the first unknown bit */
static int c_create_flags(struct ctx *c) { return create_mode(c, 0x8, 0); }
static int c_create_flags_high(struct ctx *c) { return create_mode(c, 0x80000000u, 0600); }

static int c_open_flags(struct ctx *c)
{
	make_small(c->name);
	return do_open(c->name, 0x4);
}

static int c_stat_flags(struct ctx *c)
{
	make_small(c->name);
	brg_segment_info info = {.size = sizeof info};
	return brg_segment_stat(c->name, 0x80, &info);
}

static int c_opts_short(struct ctx *c)
{
	brg_array_opts opts = {sizeof opts - 1, 0, 0};
	return do_create(c->name, BRG_F32, 1, shape4, &opts);
}

static int c_opts_zero(struct ctx *c)
{
	brg_array_opts opts = {0, 0, 0};
	return do_create(c->name, BRG_F32, 1, shape4, &opts);
}

static int c_null_out_create(struct ctx *c)
{
	return brg_array_create(NULL, c->name, BRG_F32, 1, shape4, NULL);
}

static int c_null_out_open(struct ctx *c)
{
	make_small(c->name);
	return brg_array_open(NULL, c->name, 0);
}

static int c_null_name_create(struct ctx *c)
{
	(void)c;
	return do_create(NULL, BRG_F32, 1, shape4, NULL);
}

static int c_null_name_open(struct ctx *c)
{
	(void)c;
	brg_array *a = SENTINEL;
	int r = brg_array_open(&a, NULL, 0);
	CHECK(a == NULL);
	return r;
}

static int c_null_name_unlink(struct ctx *c)
{
	(void)c;
	return brg_segment_unlink(NULL);
}

static int c_null_name_stat(struct ctx *c)
{
	(void)c;
	brg_segment_info info = {.size = sizeof info};
	return brg_segment_stat(NULL, 0, &info);
}

static int c_null_name_check(struct ctx *c)
{
	(void)c;
	return brg_name_check(NULL);
}

static int c_null_shape(struct ctx *c) { return do_create(c->name, BRG_F32, 1, NULL, NULL); }

static int c_stat_size0(struct ctx *c)
{
	make_small(c->name);
	brg_segment_info info;
	memset(&info, 0, sizeof info);
	return brg_segment_stat(c->name, 0, &info);
}

static int c_stat_size_short(struct ctx *c)
{
	make_small(c->name);
	brg_segment_info info = {.size = sizeof info - 1};
	return brg_segment_stat(c->name, 0, &info);
}

static int c_stat_null(struct ctx *c)
{
	make_small(c->name);
	return brg_segment_stat(c->name, 0, NULL);
}

static int c_foreach_flags(struct ctx *c)
{
	make_small(c->name);
	int calls = 0;
	int r = brg_segment_foreach(0x80, count_cb, &calls);
	CHECK_EQ(calls, 0);
	return r;
}

static int c_foreach_null(struct ctx *c)
{
	(void)c;
	return brg_segment_foreach(0, NULL, NULL);
}

/* A file too big for RLIMIT_FSIZE: the failure comes after shm_open, so the half-made
 * object must be removed again. */
static int c_fsize_limit(struct ctx *c)
{
	struct rlimit old, lim;
	REQUIRE(getrlimit(RLIMIT_FSIZE, &old) == 0);
	lim = old;
	lim.rlim_cur = 8 * AU_PAGE;
	void (*sig)(int) = signal(SIGXFSZ, SIG_IGN);
	REQUIRE(setrlimit(RLIMIT_FSIZE, &lim) == 0);
	const size_t shape[1] = {16 * AU_PAGE};
	int r = do_create(c->name, BRG_U8, 1, shape, NULL);
	REQUIRE(setrlimit(RLIMIT_FSIZE, &old) == 0);
	signal(SIGXFSZ, sig);
	return r;
}

static int c_unlink_nonbrigade(struct ctx *c)
{
	unsigned char junk[AU_PAGE];
	memset(junk, 'j', sizeof junk);
	make_file(c->name, junk, sizeof junk);
	return brg_segment_unlink(c->name);
}

static int c_unlink_corrupt(struct ctx *c)
{
	make_small(c->name);
	flip_byte(c->name, trailer_at(c->name) + AU_T_CHECKSUM);
	return brg_segment_unlink(c->name);
}

static int c_unlink_empty(struct ctx *c)
{
	make_file(c->name, "", 0);
	return brg_segment_unlink(c->name);
}

static int c_full_shm(struct ctx *c)
{
	c->skip = "filling /dev/shm would disturb every other test running";
	return 0;
}

static const struct bcase cases[] = {
	{"empty name", c_name_empty, BRG_EBADNAME, POST_ANY},
	{"name of 201 chars", c_name_201, BRG_EBADNAME, POST_ABSENT},
	{"name of 200 chars", c_name_200, 0, POST_PRESENT},
	{"name with '/'", c_name_slash, BRG_EBADNAME, POST_ABSENT},
	{"NUL in the middle: the prefix is the name", c_name_nul_middle, 0, POST_PRESENT},
	{"buffer starting with NUL", c_name_nul_first, BRG_EBADNAME, POST_ABSENT},
	{"name \".\"", c_name_dot, BRG_EBADNAME, POST_ANY},
	{"name \"..\"", c_name_dotdot, BRG_EBADNAME, POST_ANY},
	{"name with a space", c_name_space, BRG_EBADNAME, POST_ABSENT},
	{"name with a non-ASCII byte", c_name_nonascii, BRG_EBADNAME, POST_ABSENT},
	{"open/stat/unlink of a bad name", c_name_bad_open, BRG_EBADNAME, POST_ANY},
	{"create of an existing name", c_exists, -EEXIST, POST_PRESENT},
	{"open of a missing name", c_missing, -ENOENT, POST_ABSENT},
	{"segment of another uid", c_owner, BRG_EOWNER, POST_PRESENT},
	{"another uid, BRG_OPEN_ANY_OWNER", c_owner_any, 0, POST_PRESENT},
	{"unlink of another uid's segment", c_owner_unlink, 0, POST_ABSENT},
	{"mode 0666 without BRG_CREATE_SHARED", c_mode_0666, BRG_EMODE, POST_ABSENT},
	{"mode 0640 without BRG_CREATE_SHARED", c_mode_0640, BRG_EMODE, POST_ABSENT},
	{"mode 0400 (owner cannot write)", c_mode_0400, BRG_EMODE, POST_ABSENT},
	{"mode 0200 (owner cannot read)", c_mode_0200, BRG_EMODE, POST_ABSENT},
	{"mode with the sticky bit", c_mode_sticky, BRG_EMODE, POST_ABSENT},
	{"mode with setuid", c_mode_setuid, BRG_EMODE, POST_ABSENT},
	{"group-writable, not created shared", c_exposed_group, BRG_EEXPOSED, POST_PRESENT},
	{"other-writable, open for write", c_exposed_other, BRG_EEXPOSED, POST_PRESENT},
	{"writable by all, BRG_OPEN_ANY_OWNER", c_exposed_any, 0, POST_PRESENT},
	{"readable by others", c_readable_other, 0, POST_PRESENT},
	{"truncated: trailer page cut", c_trunc_page, BRG_ETRUNCATED, POST_PRESENT},
	{"truncated: data pages cut", c_trunc_data, BRG_ETRUNCATED, POST_PRESENT},
	{"truncated to 5000 bytes", c_trunc_odd, BRG_ETRUNCATED, POST_PRESENT},
	{"truncated inside the header", c_trunc_header, BRG_ETRUNCATED, POST_PRESENT},
	{"extended by a page", c_extend_page, BRG_EOVERSIZE, POST_PRESENT},
	{"extended by a byte", c_extend_byte, BRG_EOVERSIZE, POST_PRESENT},
	{"extended, trailer moved to the end", c_extend_trailer_moved, BRG_EOVERSIZE, POST_PRESENT},
	{"data pages cut, trailer kept", c_trunc_data_trailer_kept, BRG_ETRUNCATED, POST_PRESENT},
	{"trailer page: a byte past the trailer", c_trailer_page_tail, BRG_EPADDING, POST_PRESENT},
	{"data page: a byte past the data", c_data_padding, BRG_EPADDING, POST_PRESENT},
	{"stat of a segment with a byte past the data", c_padding_stat, 0, POST_PRESENT},
	{"unlink of one with a byte past the trailer", c_padding_unlink, 0, POST_ABSENT},
	{"unlink of one with generation 0", c_generation_zero_unlink, 0, POST_ABSENT},
	{"zero-length file", c_empty_file, BRG_EEMPTY, POST_PRESENT},
	{"plain numpy .npy of 8192 bytes", c_npy_plain, BRG_ETRUNCATED, POST_PRESENT},
	{".npy with a foreign last page", c_npy_no_trailer, BRG_ENOTBRIGADE, POST_PRESENT},
	{".npy with a zero last page", c_npy_zero_trailer, BRG_EINCOMPLETE, POST_PRESENT},
	{"random bytes", c_random_bytes, BRG_ENOTNPY, POST_PRESENT},
	{"directory", c_directory, BRG_ENOTREG, POST_PRESENT},
	{"directory, open for write", c_directory_write, BRG_ENOTREG, POST_PRESENT},
	{"unix socket", c_socket, BRG_ENOTREG, POST_PRESENT},
	{"symbolic link to a segment", c_symlink, -ELOOP, POST_PRESENT},
	{"FIFO: open", c_fifo_open, BRG_ENOTREG, POST_ANY},
	{"FIFO: unlink", c_fifo_unlink, BRG_ENOTREG, POST_ANY},
	{"FIFO: foreach skips it", c_fifo_foreach, 0, POST_ANY},
	{"NPY magic corrupted", c_npy_magic, BRG_ENOTNPY, POST_PRESENT},
	{"NPY version 2.0", c_npy_v2, BRG_ENPYVERSION, POST_PRESENT},
	{"NPY version 1.1", c_npy_v1_1, BRG_ENPYVERSION, POST_PRESENT},
	{"NPY header length 118", c_npy_hlen, BRG_EDATAOFFSET, POST_PRESENT},
	{"descr '<c16'", c_descr_c16, BRG_EDESCR, POST_PRESENT},
	{"descr '>f4' (big-endian)", c_descr_be, BRG_EDESCR, POST_PRESENT},
	{"descr with a backslash", c_descr_escape, BRG_EHEADER, POST_PRESENT},
	{"fortran_order True", c_fortran, BRG_EFORTRAN, POST_PRESENT},
	{"fortran_order 0", c_fortran_bad, BRG_EHEADER, POST_PRESENT},
	{"shape (4) is not a tuple", c_shape_int, BRG_EHEADER, POST_PRESENT},
	{"shape [4] is a list", c_shape_list, BRG_EHEADER, POST_PRESENT},
	{"shape (-4,)", c_shape_neg, BRG_EHEADER, POST_PRESENT},
	{"shape (04,): a leading zero", c_shape_leading_zero, BRG_EHEADER, POST_PRESENT},
	{"unknown header key", c_unknown_key, BRG_EHEADER, POST_PRESENT},
	{"repeated header key", c_repeat_key, BRG_EHEADER, POST_PRESENT},
	{"missing header key", c_missing_key, BRG_EHEADER, POST_PRESENT},
	{"header without '{'", c_no_brace, BRG_EHEADER, POST_PRESENT},
	{"shape (4,) -> (5,), same size", c_shape_changed, BRG_ECHECKSUM, POST_PRESENT},
	{"shape (1000,) -> (9000,), more pages", c_shape_changed_pages, BRG_ECHECKSUM, POST_PRESENT},
	{"header without the final newline", c_no_newline, BRG_EHEADER, POST_PRESENT},
	{"tab in the header padding", c_control_char, BRG_EHEADER, POST_PRESENT},
	{"byte 0xe9 in the header padding", c_high_byte, BRG_EHEADER, POST_PRESENT},
	{"header shape product overflows", c_hdr_overflow, BRG_EOVERFLOW, POST_PRESENT},
	{"header extent of 30 digits", c_hdr_bignum, BRG_EOVERFLOW, POST_PRESENT},
	{"header byte size overflows", c_hdr_nbytes_overflow, BRG_EOVERFLOW, POST_PRESENT},
	{"header with 9 dimensions", c_hdr_ndim9, BRG_EBADNDIM, POST_PRESENT},
	{"header with shape ()", c_hdr_ndim0, BRG_EBADNDIM, POST_PRESENT},
	{"trailer checksum byte flipped", c_t_checksum, BRG_ECHECKSUM, POST_PRESENT},
	{"trailer reserved byte flipped", c_t_reserved, BRG_ECHECKSUM, POST_PRESENT},
	{"trailer created_ns byte flipped", c_t_created, BRG_ECHECKSUM, POST_PRESENT},
	{"trailer version 2", c_t_version, BRG_ETRAILERVERSION, POST_PRESENT},
	{"generation 0 (not checksummed)", c_t_generation_zero, BRG_EGENERATION, POST_PRESENT},
	{"trailer magic zeroed", c_t_magic_zero, BRG_EINCOMPLETE, POST_PRESENT},
	{"trailer magic changed", c_t_magic_other, BRG_ENOTBRIGADE, POST_PRESENT},
	{"reserved byte set, checksum redone", c_t_reserved_sealed, BRG_EMISMATCH, POST_PRESENT},
	{"nbytes changed, checksum redone", c_t_nbytes_sealed, BRG_EMISMATCH, POST_PRESENT},
	{"dtype changed, checksum redone", c_t_dtype_sealed, BRG_EMISMATCH, POST_PRESENT},
	{"ndim changed, checksum redone", c_t_ndim_sealed, BRG_EMISMATCH, POST_PRESENT},
	{"shape[0] changed, checksum redone", c_t_shape_sealed, BRG_EMISMATCH, POST_PRESENT},
	{"unused shape[3] set, checksum redone", c_t_shape_tail_sealed, BRG_EMISMATCH, POST_PRESENT},
	{"unknown flag, checksum redone", c_t_flags_sealed, BRG_EMISMATCH, POST_PRESENT},
	{"unknown kind, checksum redone", c_t_kind_sealed, BRG_EMISMATCH, POST_PRESENT},
	{"trailer size 512, checksum redone", c_t_size_sealed, BRG_EMISMATCH, POST_PRESENT},
	{"data offset 8192, checksum redone", c_t_dataoff_sealed, BRG_EMISMATCH, POST_PRESENT},
	{"pool control block opened as an array", c_t_kind_pool, BRG_ENOTARRAY, POST_PRESENT},
	{"generation changed (not checksummed)", c_t_generation, 0, POST_PRESENT},
	{"create: shape product overflows", c_ovf_product, BRG_EOVERFLOW, POST_ABSENT},
	{"create: overflow beside a zero extent", c_ovf_zero_extent, BRG_EOVERFLOW, POST_ABSENT},
	{"create: byte size overflows", c_ovf_nbytes, BRG_EOVERFLOW, POST_ABSENT},
	{"create: byte size beyond off_t", c_ovf_off_t, BRG_EOVERFLOW, POST_ABSENT},
	{"create: ndim 0", c_ndim0, BRG_EBADNDIM, POST_ABSENT},
	{"create: ndim 9", c_ndim9, BRG_EBADNDIM, POST_ABSENT},
	{"create: ndim -1", c_ndim_neg, BRG_EBADNDIM, POST_ABSENT},
	{"create: dtype 0", c_dtype0, BRG_EBADDTYPE, POST_ABSENT},
	{"create: dtype 99", c_dtype99, BRG_EBADDTYPE, POST_ABSENT},
	{"create: flag 0x8", c_create_flags, BRG_EBADFLAGS, POST_ABSENT},
	{"create: flag 0x80000000", c_create_flags_high, BRG_EBADFLAGS, POST_ABSENT},
	{"open: flag 0x4", c_open_flags, BRG_EBADFLAGS, POST_PRESENT},
	{"stat: flag 0x80", c_stat_flags, BRG_EBADFLAGS, POST_PRESENT},
	{"create: opts.size one short", c_opts_short, -EINVAL, POST_ABSENT},
	{"create: opts.size 0", c_opts_zero, -EINVAL, POST_ABSENT},
	{"create: NULL out", c_null_out_create, -EINVAL, POST_ABSENT},
	{"open: NULL out", c_null_out_open, -EINVAL, POST_PRESENT},
	{"create: NULL name", c_null_name_create, -EINVAL, POST_ANY},
	{"open: NULL name", c_null_name_open, -EINVAL, POST_ANY},
	{"unlink: NULL name", c_null_name_unlink, -EINVAL, POST_ANY},
	{"stat: NULL name", c_null_name_stat, -EINVAL, POST_ANY},
	{"brg_name_check(NULL)", c_null_name_check, -EINVAL, POST_ANY},
	{"create: NULL shape", c_null_shape, -EINVAL, POST_ABSENT},
	{"stat: info.size 0", c_stat_size0, -EINVAL, POST_PRESENT},
	{"stat: info.size one short", c_stat_size_short, -EINVAL, POST_PRESENT},
	{"stat: NULL info", c_stat_null, -EINVAL, POST_PRESENT},
	{"foreach: flag 0x80", c_foreach_flags, BRG_EBADFLAGS, POST_PRESENT},
	{"foreach: NULL callback", c_foreach_null, -EINVAL, POST_ANY},
	{"create beyond RLIMIT_FSIZE", c_fsize_limit, -EFBIG, POST_ABSENT},
	{"unlink of a non-brigade file", c_unlink_nonbrigade, BRG_ENOTNPY, POST_PRESENT},
	{"unlink of a corrupted segment", c_unlink_corrupt, BRG_ECHECKSUM, POST_PRESENT},
	{"unlink of an empty file", c_unlink_empty, BRG_EEMPTY, POST_PRESENT},
	{"/dev/shm full", c_full_shm, -ENOSPC, POST_ANY},
};

/* Removes what a case made under one of this process's names (files or directories). */
static void remove_own(const char *name)
{
	if (!name || strncmp(name, au_prefix(), strlen(au_prefix())) || strchr(name, '/'))
		return;
	char path[BRG_NAME_MAX + 16];
	au_path(path, sizeof path, name);
	if (unlink(path) < 0 && errno == EISDIR)
		rmdir(path);
}

static int run_cases(void)
{
	int n = (int)(sizeof cases / sizeof cases[0]), skipped = 0;
	printf("1..%d\n", n);
	for (int i = 0; i < n; i++) {
		const struct bcase *k = &cases[i];
		char tag[16];
		snprintf(tag, sizeof tag, "bad%03d", i);
		struct ctx c = {test_name(tag), NULL, NULL};
		int before = test_failures;
		int r = k->run(&c);
		const char *probe = c.probe ? c.probe : c.name;
		if (c.skip) {
			printf("ok %d - %s # SKIP %s\n", i + 1, k->desc, c.skip);
			skipped++;
		} else {
			if (r != k->expect)
				TEST_FAIL_("case %d \"%s\": %d (%s), expected %d (%s)", i + 1, k->desc,
					   r, brg_err_name(r), k->expect, brg_err_name(k->expect));
			if (k->post == POST_ABSENT && au_exists(probe))
				TEST_FAIL_("case %d \"%s\": left %s in /dev/shm", i + 1, k->desc, probe);
			if (k->post == POST_PRESENT && !au_exists(probe))
				TEST_FAIL_("case %d \"%s\": %s was removed", i + 1, k->desc, probe);
			printf("%s %d - %s\n", test_failures == before ? "ok" : "not ok", i + 1,
			       k->desc);
		}
		remove_own(c.name);
		remove_own(c.probe);
	}
	return skipped;
}

/* ---- random damage ---------------------------------------------------------------------- */

static int is_open_code(int r)
{
	static const int codes[] = {
		BRG_ENOTREG,   BRG_EOWNER,     BRG_EEXPOSED,   BRG_EEMPTY,
		BRG_ETRUNCATED, BRG_EOVERSIZE, BRG_ENOTNPY,    BRG_ENPYVERSION,
		BRG_EHEADER,   BRG_EDESCR,     BRG_EFORTRAN,   BRG_EDATAOFFSET,
		BRG_EOVERFLOW, BRG_EBADNDIM,   BRG_ENOTBRIGADE, BRG_ETRAILERVERSION,
		BRG_ECHECKSUM, BRG_EMISMATCH,  BRG_EINCOMPLETE, BRG_EPADDING,
		BRG_EGENERATION,
	};
	for (size_t i = 0; i < sizeof codes / sizeof codes[0]; i++)
		if (r == codes[i])
			return 1;
	return 0;
}

/* The code a flipped byte must give where the layout decides it alone; 1 for "any
 * validation error". */
static int fuzz_expect(off_t off, off_t t)
{
	if (off < 6)
		return BRG_ENOTNPY;
	if (off < 8)
		return BRG_ENPYVERSION;
	if (off < 10)
		return BRG_EDATAOFFSET;
	if (off == AU_PAGE - 1)
		return BRG_EHEADER;
	if (off < (off_t)AU_PAGE)
		return 1;
	off -= t;
	if (off < 8)
		return BRG_ENOTBRIGADE;
	if (off < 12)
		return BRG_ETRAILERVERSION;
	if (off >= AU_T_GENERATION && off < AU_T_GENERATION + 8)
		return 0;
	return BRG_ECHECKSUM;
}

static void fuzz(void)
{
	const char *name = test_name("fuzz");
	static const size_t shape[2] = {3, 5};
	make_seg(name, BRG_F64, 2, shape);
	off_t t = trailer_at(name);
	int hist[64] = {0};
	for (int it = 0; it < 2000; it++) {
		off_t off = (test_rand() & 1) ? (off_t)(test_rand() % AU_PAGE)
					      : t + (off_t)(test_rand() % AU_TRAILER_BYTES);
		unsigned char orig, flip = (unsigned char)(1 + test_rand() % 255);
		au_peek(name, off, &orig, 1);
		poke_byte(name, off, orig ^ flip);
		int r = do_open(name, 0);
		int want = fuzz_expect(off, t);
		/* The generation is 1: a flip of its low byte to zero leaves it 0. */
		if (off == t + AU_T_GENERATION && (orig ^ flip) == 0)
			want = BRG_EGENERATION;
		if (want == 1 ? !is_open_code(r) : r != want)
			TEST_FAIL_("byte %lld flipped %02x -> %02x: %d (%s), expected %s",
				   (long long)off, orig, orig ^ flip, r, brg_err_name(r),
				   want == 1 ? "a validation error" : brg_err_name(want));
		if (r <= -4000 && r > -4064)
			hist[-4000 - r]++;
		poke_byte(name, off, orig);
	}
	CHECK_EQ(do_open(name, 0), 0);
	printf("# fuzz: 2000 flips:");
	for (int i = 0; i < 64; i++)
		if (hist[i])
			printf(" %s=%d", brg_err_name(-4000 - i) + 5, hist[i]);
	printf("\n");
	CHECK_EQ(brg_segment_unlink(name), 0);
}

int main(void)
{
	test_init();
	setvbuf(stdout, NULL, _IOLBF, 0);
	int skipped = run_cases();
	fuzz();
	/* Nothing of ours is left: not by the library, not by the cases. */
	CHECK_EQ(au_count_prefix(au_prefix()), 0);
	if (skipped)
		printf("# %d case(s) skipped\n", skipped);
	return test_done();
}

/* SPDX-License-Identifier: MIT */
/* segment.c - named shared-memory arrays: create, validate-then-map, list, unlink. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "internal.h"

#define SHM_DIR "/dev/shm"

int brg_name_check(const char *name)
{
	if (!name)
		return -EINVAL;
	size_t n = strnlen(name, BRG_NAME_MAX + 1);
	if (n == 0 || n > BRG_NAME_MAX)
		return BRG_EBADNAME;
	for (size_t i = 0; i < n; i++) {
		char c = name[i];
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '.' || c == '_' || c == '-'))
			return BRG_EBADNAME;
	}
	if (!strcmp(name, ".") || !strcmp(name, ".."))
		return BRG_EBADNAME;
	return 0;
}

void brg__shm_path(char *buf, const char *name)
{
	buf[0] = '/';
	memcpy(buf + 1, name, strlen(name) + 1);
}

static int pread_full(int fd, void *buf, size_t len, off_t off)
{
	unsigned char *p = buf;
	while (len) {
		ssize_t r = pread(fd, p, len, off);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (r == 0)
			return BRG_ETRUNCATED;
		p += r;
		len -= (size_t)r;
		off += r;
	}
	return 0;
}

/* Every check that can be made from the descriptor, before anything is mapped.  The segment's
 * identity always (what it is, its header and trailer, its checksum); its content's
 * invariants (zero padding, a generation of at least 1) when `content`: an open maps the data
 * and checks both, while stat, foreach and unlink, which do not, describe or remove a segment
 * whose content is damaged. */
static int validate_fd(int fd, unsigned flags, int content, struct brg__trailer *t,
		       struct stat *st)
{
	unsigned char header[BRG_DATA_OFFSET], trailer[BRG__PAGE];
	if (fstat(fd, st) < 0)
		return -errno;
	if (!S_ISREG(st->st_mode))
		return BRG_ENOTREG;
	if (!(flags & BRG_OPEN_ANY_OWNER) && st->st_uid != geteuid())
		return BRG_EOWNER;
	if (st->st_size == 0)
		return BRG_EEMPTY;
	if ((size_t)st->st_size < BRG_DATA_OFFSET)
		return BRG_ETRUNCATED;
	int r = pread_full(fd, header, sizeof header, 0);
	if (r)
		return r;
	struct brg__layout lay;
	if ((r = brg__npy_parse(header, &lay))) {
		/* Sized but no header yet: its creator is between fallocate and the first write. */
		static const unsigned char zero[16];
		return r == BRG_ENOTNPY && !memcmp(header, zero, sizeof zero) ? BRG_EINCOMPLETE : r;
	}
	if ((size_t)st->st_size != lay.file_bytes) {
		/* A trailer at the end of the object that does not agree with the header means
		 * the header, not the size, was changed (its checksum, or its fields, say how);
		 * one that agrees, that pages were cut out or added. */
		unsigned char last[BRG__TRAILER_BYTES];
		struct brg__trailer ignored;
		if ((size_t)st->st_size >= 2 * BRG__PAGE && st->st_size % BRG__PAGE == 0 &&
		    !pread_full(fd, last, sizeof last, st->st_size - BRG__PAGE) &&
		    brg__trailer_has_magic(last) &&
		    (r = brg__trailer_parse(last, header, &lay, &ignored)))
			return r;
		return (size_t)st->st_size < lay.file_bytes ? BRG_ETRUNCATED : BRG_EOVERSIZE;
	}
	if ((r = pread_full(fd, trailer, sizeof trailer, (off_t)lay.trailer_offset)))
		return r;
	if ((r = brg__trailer_parse(trailer, header, &lay, t)))
		return r;
	/* Anyone who can write the object can rewrite it under us; allow that only when the
	 * creator asked for sharing or the caller accepts foreign segments. */
	if ((st->st_mode & 022) && !(t->flags & BRG_CREATE_SHARED) && !(flags & BRG_OPEN_ANY_OWNER))
		return BRG_EEXPOSED;
	if (!content)
		return 0;
	if (t->generation == 0)
		return BRG_EGENERATION;
	/* What the format keeps zero: the trailer page after the trailer, the data's page
	 * after the data (written through a mapping, it is not covered by the checksum). */
	if (!brg__all_zero(trailer + BRG__TRAILER_BYTES, sizeof trailer - BRG__TRAILER_BYTES))
		return BRG_EPADDING;
	size_t pad = lay.trailer_offset - BRG_DATA_OFFSET - lay.nbytes;
	if (pad) {
		unsigned char tail[BRG__PAGE];
		if ((r = pread_full(fd, tail, pad, (off_t)(BRG_DATA_OFFSET + lay.nbytes))))
			return r;
		if (!brg__all_zero(tail, pad))
			return BRG_EPADDING;
	}
	return 0;
}

/* Array mappings are not inherited by fork(): a forked pool worker would otherwise keep
 * every array the parent had open mapped (and its memory allocated) for its whole life.
 * Children open arrays by name instead.  Pool control blocks are inherited on purpose. */
static void map_advise(void *base, size_t len, uint32_t kind, bool small_pages)
{
	if (kind == BRG_KIND_ARRAY) {
		madvise(base, len, MADV_DONTFORK);
		/* Where the tmpfs is mounted with huge=advise, pages first touched through
		 * this mapping may come as 2 MiB pages without a collapse (hugepage.c). */
		madvise(base, len, small_pages ? MADV_NOHUGEPAGE : MADV_HUGEPAGE);
	}
}

static int opts_read(const brg_array_opts *opts, unsigned *flags, unsigned *mode)
{
	*flags = 0;
	*mode = 0600;
	if (!opts)
		return 0;
	brg_array_opts o;
	int r = brg__struct_in(&o, sizeof o, opts, opts->size, BRG_ARRAY_OPTS_SIZE_VER0);
	if (r)
		return r;
	*flags = o.flags;
	if (o.mode)
		*mode = o.mode;
	if (*flags & ~(unsigned)(BRG__TRAILER_FLAGS | BRG_CREATE_SMALL_PAGES))
		return BRG_EBADFLAGS;
	if ((*mode & ~0777u) || (*mode & 0600) != 0600)
		return BRG_EMODE;
	if ((*mode & 077) && !(*flags & BRG_CREATE_SHARED))
		return BRG_EMODE;
	return 0;
}

int brg__segment_create(brg_array **out, const char *name, brg_dtype dtype, int ndim,
			const size_t *shape, const brg_array_opts *opts, uint32_t kind)
{
	return brg__segment_create_ex(out, name, dtype, ndim, shape, opts, kind, 0);
}

/* Reserves the pages of the object: all of them, or with BRG__CREATE_LAZY_DATA only the
 * header and trailer pages (the data pages are then populated by their users). */
static int reserve(int fd, const struct brg__layout *lay, unsigned internal)
{
	int r;
	if (internal & BRG__CREATE_LAZY_DATA) {
		if (ftruncate(fd, (off_t)lay->file_bytes) < 0)
			return -errno;
		r = posix_fallocate(fd, 0, BRG_DATA_OFFSET);
		if (!r)
			r = posix_fallocate(fd, (off_t)lay->trailer_offset, BRG__PAGE);
	} else {
		r = posix_fallocate(fd, 0, (off_t)lay->file_bytes);
	}
	if (r == EINVAL || r == EOPNOTSUPP)
		return ftruncate(fd, (off_t)lay->file_bytes) < 0 ? -errno : 0;
	return -r;
}

int brg__segment_create_ex(brg_array **out, const char *name, brg_dtype dtype, int ndim,
			   const size_t *shape, const brg_array_opts *opts, uint32_t kind,
			   unsigned internal)
{
	if (!out)
		return -EINVAL;
	*out = NULL;
	if (!name || !shape)
		return -EINVAL;
	int r = brg_name_check(name);
	if (r)
		return r;
	unsigned flags, mode;
	if ((r = opts_read(opts, &flags, &mode)))
		return r;
	struct brg__trailer t = {
		.flags = flags & BRG__TRAILER_FLAGS,
		.kind = kind,
		.creator_uid = (uint32_t)geteuid(),
		.creator_pid = (int32_t)getpid(),
		.created_ns = brg__now_ns(),
		.generation = 1,
	};
	if ((r = brg__layout_make(&t.lay, dtype, ndim, shape)))
		return r;

	brg_array *a = calloc(1, sizeof *a);
	if (!a)
		return -ENOMEM;
	char path[BRG_NAME_MAX + 2];
	brg__shm_path(path, name);
	int fd = shm_open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, mode);
	if (fd < 0) {
		r = -errno;
		goto err_free;
	}
	/* The umask may have taken bits the caller asked for. */
	if (fchmod(fd, mode) < 0) {
		r = -errno;
		goto err_unlink;
	}
	/* Reserve every page now: a full /dev/shm fails here, not with SIGBUS later. */
	if ((r = reserve(fd, &t.lay, internal)))
		goto err_unlink;
	a->base = brg__map_segment(fd, t.lay.file_bytes, PROT_READ | PROT_WRITE,
				   kind == BRG_KIND_ARRAY);
	if (a->base == MAP_FAILED) {
		r = -errno;
		goto err_unlink;
	}
	close(fd);
	map_advise(a->base, t.lay.file_bytes, kind, flags & BRG_CREATE_SMALL_PAGES);
	a->map_bytes = t.lay.file_bytes;
	a->map_pid = getpid();
	a->no_fork = kind == BRG_KIND_ARRAY;
	a->data = (unsigned char *)a->base + BRG_DATA_OFFSET;
	a->trailer = (unsigned char *)a->base + t.lay.trailer_offset;
	a->meta = t;
	a->writable = true;
	memcpy(a->name, name, strlen(name) + 1);
	brg__npy_write(a->base, &t.lay);
	brg__trailer_write(a->trailer, a->base, &t);
	brg__trailer_seal(a->trailer);
	/* Data reserved here is turned into huge pages now, lazy data by its first users.
	 * After the seal: openers need not wait for the copy, which leaves contents as they
	 * are whoever reads or writes meanwhile. */
	if (kind == BRG_KIND_ARRAY && !(flags & BRG_CREATE_SMALL_PAGES) &&
	    !(internal & BRG__CREATE_LAZY_DATA))
		brg__huge_collapse(a->base, 0, t.lay.file_bytes);
	*out = a;
	return 0;

err_unlink:
	shm_unlink(path);
	close(fd);
err_free:
	free(a);
	return r;
}

int brg_array_create(brg_array **out, const char *name, brg_dtype dtype, int ndim,
		     const size_t *shape, const brg_array_opts *opts)
{
	return brg__segment_create(out, name, dtype, ndim, shape, opts, BRG_KIND_ARRAY);
}

static int open_validated(const char *name, unsigned flags, int content, int *fd,
			  struct brg__trailer *t, struct stat *st)
{
	if (!name)
		return -EINVAL;
	int r = brg_name_check(name);
	if (r)
		return r;
	if (flags & ~(BRG_OPEN_WRITE | BRG_OPEN_ANY_OWNER))
		return BRG_EBADFLAGS;
	char path[BRG_NAME_MAX + 2];
	brg__shm_path(path, name);
	/* O_NONBLOCK: a FIFO planted in /dev/shm must not block us; fstat rejects it. */
	*fd = shm_open(path, ((flags & BRG_OPEN_WRITE) ? O_RDWR : O_RDONLY) | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK,
		       0);
	if (*fd < 0) {
		/* glibc turns EISDIR into EINVAL, and a socket gives ENXIO: the name is valid,
		 * so both mean "not a regular object". */
		if (errno == EINVAL || errno == EISDIR || errno == ENXIO)
			return BRG_ENOTREG;
		return -errno;
	}
	if ((r = validate_fd(*fd, flags, content, t, st))) {
		close(*fd);
		*fd = -1;
	}
	return r;
}

int brg__segment_open(brg_array **out, const char *name, unsigned flags, int kind)
{
	if (!out)
		return -EINVAL;
	*out = NULL;
	int fd, r;
	struct brg__trailer t;
	struct stat st;
	if ((r = open_validated(name, flags, 1, &fd, &t, &st)))
		return r;
	if (kind >= 0 && t.kind != (uint32_t)kind) {
		r = kind == BRG_KIND_POOL ? BRG_ENOTPOOL : BRG_ENOTARRAY;
		goto err_close;
	}
	brg_array *a = calloc(1, sizeof *a);
	if (!a) {
		r = -ENOMEM;
		goto err_close;
	}
	int prot = PROT_READ | ((flags & BRG_OPEN_WRITE) ? PROT_WRITE : 0);
	a->base = brg__map_segment(fd, t.lay.file_bytes, prot, t.kind == BRG_KIND_ARRAY);
	if (a->base == MAP_FAILED) {
		r = -errno;
		free(a);
		goto err_close;
	}
	close(fd);
	map_advise(a->base, t.lay.file_bytes, t.kind, false);
	a->map_bytes = t.lay.file_bytes;
	a->map_pid = getpid();
	a->no_fork = t.kind == BRG_KIND_ARRAY;
	a->data = (unsigned char *)a->base + BRG_DATA_OFFSET;
	a->trailer = (unsigned char *)a->base + t.lay.trailer_offset;
	a->meta = t;
	a->writable = (flags & BRG_OPEN_WRITE) != 0;
	a->any_owner = (flags & BRG_OPEN_ANY_OWNER) != 0;
	memcpy(a->name, name, strlen(name) + 1);
	*out = a;
	return 0;

err_close:
	close(fd);
	return r;
}

int brg_array_open(brg_array **out, const char *name, unsigned flags)
{
	return brg__segment_open(out, name, flags, BRG_KIND_ARRAY);
}

void brg_array_close(brg_array *a)
{
	if (!a)
		return;
	/* A handle copied into a forked child (a Python object freed there, say) names an
	 * array mapping the child never got (MADV_DONTFORK): what lies at that address in the
	 * child now is someone else's, so only the handle goes. */
	if (!a->no_fork || a->map_pid == getpid())
		munmap(a->base, a->map_bytes);
	free(a);
}

/* Accessors accept NULL (they give NULL, 0 or -EINVAL): bad input never crashes. */
void *brg_array_data(const brg_array *a) { return a ? a->data : NULL; }
brg_dtype brg_array_dtype(const brg_array *a) { return a ? a->meta.lay.dtype : (brg_dtype)0; }
int brg_array_ndim(const brg_array *a) { return a ? a->meta.lay.ndim : -EINVAL; }
const size_t *brg_array_shape(const brg_array *a) { return a ? a->meta.lay.shape : NULL; }
size_t brg_array_count(const brg_array *a) { return a ? a->meta.lay.count : 0; }
size_t brg_array_nbytes(const brg_array *a) { return a ? a->meta.lay.nbytes : 0; }
const char *brg_array_name(const brg_array *a) { return a ? a->name : NULL; }
int brg_array_writable(const brg_array *a) { return a ? a->writable : 0; }

uint64_t brg_array_generation(const brg_array *a)
{
	if (!a)
		return 0;
	return __atomic_load_n((uint64_t *)(a->trailer + BRG__TRAILER_GENERATION_OFFSET),
			       __ATOMIC_ACQUIRE);
}

int64_t brg_array_generation_bump(brg_array *a)
{
	if (!a)
		return -EINVAL;
	if (!a->writable)
		return BRG_EREADONLY;
	/* The counter is little-endian in the file, as is every host brigade builds for. */
	uint64_t v = __atomic_add_fetch((uint64_t *)(a->trailer + BRG__TRAILER_GENERATION_OFFSET), 1,
					__ATOMIC_ACQ_REL);
	return (int64_t)(v & INT64_MAX);
}

int brg_segment_unlink(const char *name)
{
	int fd, r;
	struct brg__trailer t;
	struct stat st;
	if ((r = open_validated(name, BRG_OPEN_ANY_OWNER, 0, &fd, &t, &st)))
		return r;
	close(fd);
	char path[BRG_NAME_MAX + 2];
	brg__shm_path(path, name);
	return shm_unlink(path) < 0 ? -errno : 0;
}

int brg_segment_stat(const char *name, unsigned flags, brg_segment_info *info)
{
	if (!info || info->size < BRG_SEGMENT_INFO_SIZE_VER0)
		return -EINVAL;
	int fd, r;
	struct brg__trailer t;
	struct stat st;
	if ((r = open_validated(name, flags & ~(unsigned)BRG_OPEN_WRITE, 0, &fd, &t, &st)))
		return r;
	close(fd);
	brg_segment_info in = {.size = sizeof in};
	memcpy(in.name, name, strlen(name) + 1);
	in.kind = (brg_segment_kind)t.kind;
	in.dtype = t.lay.dtype;
	in.ndim = t.lay.ndim;
	memcpy(in.shape, t.lay.shape, sizeof in.shape);
	in.nbytes = t.lay.nbytes;
	in.file_bytes = t.lay.file_bytes;
	in.flags = t.flags;
	in.mode = st.st_mode & 07777;
	in.creator_uid = t.creator_uid;
	in.creator_pid = t.creator_pid;
	in.creator_alive = brg__pid_alive(t.creator_pid, t.created_ns);
	in.created_ns = t.created_ns;
	in.generation = t.generation;
	return brg__struct_out(info, info->size, &in, sizeof in, BRG_SEGMENT_INFO_SIZE_VER0);
}

static int cmp_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int brg_segment_foreach(unsigned flags, int (*fn)(const brg_segment_info *, void *),
			void *userdata)
{
	if (!fn)
		return -EINVAL;
	if (flags & ~(BRG_OPEN_WRITE | BRG_OPEN_ANY_OWNER))
		return BRG_EBADFLAGS;
	DIR *d = opendir(SHM_DIR);
	if (!d)
		return -errno;
	char **names = NULL;
	size_t n = 0, cap = 0;
	int r = 0;
	struct dirent *e;
	while ((e = readdir(d))) {
		if (brg_name_check(e->d_name))
			continue;
		if (n == cap) {
			size_t ncap = cap ? 2 * cap : 64;
			char **nn = realloc(names, ncap * sizeof *nn);
			if (!nn) {
				r = -ENOMEM;
				goto out;
			}
			names = nn;
			cap = ncap;
		}
		if (!(names[n] = strdup(e->d_name))) {
			r = -ENOMEM;
			goto out;
		}
		n++;
	}
	qsort(names, n, sizeof *names, cmp_names);
	for (size_t i = 0; i < n && !r; i++) {
		brg_segment_info info = {.size = sizeof info};
		if (brg_segment_stat(names[i], flags, &info) == 0)
			r = fn(&info, userdata);
	}
out:
	for (size_t i = 0; i < n; i++)
		free(names[i]);
	free(names);
	closedir(d);
	return r;
}

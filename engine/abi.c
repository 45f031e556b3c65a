/* SPDX-License-Identifier: MIT */
/* abi.c - what keeps old and new callers working: the library's version, and the rule for
 * structs that grow (the Linux kernel's copy_struct_from_user, as openat2 and clone3 use it). */
#include <errno.h>
#include <string.h>

#include "internal.h"

const char *brg_version(void)
{
	return BRG__STR(BRG_VERSION_MAJOR) "." BRG__STR(BRG_VERSION_MINOR) "." BRG__STR(
		BRG_VERSION_PATCH);
}

int brg_version_major(void)
{
	return BRG_VERSION_MAJOR;
}

int brg_version_minor(void)
{
	return BRG_VERSION_MINOR;
}

int brg_version_patch(void)
{
	return BRG_VERSION_PATCH;
}

int brg__all_zero(const void *p, size_t n)
{
	const unsigned char *b = p;
	for (size_t i = 0; i < n; i++)
		if (b[i])
			return 0;
	return 1;
}


int brg__struct_in(void *ours, size_t our_size, const void *theirs, size_t their_size,
		   size_t min_size)
{
	if (their_size < min_size)
		return -EINVAL;
	if (their_size > BRG__STRUCT_MAX)
		return -E2BIG;
	if (their_size > our_size &&
	    !brg__all_zero((const unsigned char *)theirs + our_size, their_size - our_size))
		return -E2BIG;
	size_t n = their_size < our_size ? their_size : our_size;
	memset(ours, 0, our_size);
	memcpy(ours, theirs, n);
	return 0;
}

int brg__struct_out(void *theirs, size_t their_size, const void *ours, size_t our_size,
		    size_t min_size)
{
	if (their_size < min_size)
		return -EINVAL;
	if (their_size > BRG__STRUCT_MAX)
		return -E2BIG;
	/* The caller's size field (the first) is theirs: it stays as they set it. */
	size_t n = their_size < our_size ? their_size : our_size;
	memcpy((unsigned char *)theirs + sizeof(size_t), (const unsigned char *)ours + sizeof(size_t),
	       n - sizeof(size_t));
	if (their_size > our_size)
		memset((unsigned char *)theirs + our_size, 0, their_size - our_size);
	return 0;
}

void brg__record_out(void *theirs, size_t their_size, const void *ours, size_t our_size)
{
	size_t n = their_size < our_size ? their_size : our_size;
	memcpy(theirs, ours, n);
	if (their_size > our_size)
		memset((unsigned char *)theirs + our_size, 0, their_size - our_size);
}

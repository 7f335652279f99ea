// SPDX-License-Identifier: MIT
/*
 * Choosing how request data moves between the client and the server: the
 * user's --copy-mode, what the kernel's ublk driver offers and what the
 * stack needs.  A node that works on the bytes itself (UBT_TARGET_NEEDS_DATA)
 * needs them in memory the server can address, which zero copy does not give.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "ubt/device.h"
#include "../config/config.h"
#include "ubt/ublk_abi.h"
#include "ubt/util.h"

static const char *const mode_names[] = {
	[UBT_COPY_AUTO] = "auto",
	[UBT_COPY_COPY] = "copy",
	[UBT_COPY_ZERO_COPY] = "zero-copy",
	[UBT_COPY_USER_COPY] = "user-copy",
};

const char *ubt_copy_mode_name(enum ubt_copy_mode m)
{
	return (unsigned int)m < UBT_ARRAY_SIZE(mode_names) ? mode_names[m] : "unknown";
}

int ubt_copy_mode_parse(const char *name, enum ubt_copy_mode *m)
{
	unsigned int i;

	for (i = 0; i < UBT_ARRAY_SIZE(mode_names); i++) {
		if (!strcmp(name, mode_names[i])) {
			*m = (enum ubt_copy_mode)i;
			return 0;
		}
	}
	return -EINVAL;
}

/*
 * Zero copy needs automatic buffer registration (6.16): GET_FEATURES has
 * listed SUPPORT_ZERO_COPY since 6.0 without meaning it, so that bit alone
 * proves nothing.  SUPPORT_ZERO_COPY is needed too, for the fallback.
 */
static bool kernel_zero_copy(uint64_t features)
{
	return (features & UBLK_F_AUTO_BUF_REG) && (features & UBLK_F_SUPPORT_ZERO_COPY);
}

bool ubt_copy_mode_available(enum ubt_copy_mode m, uint64_t features)
{
	switch (m) {
	case UBT_COPY_ZERO_COPY:
		return kernel_zero_copy(features);
	case UBT_COPY_USER_COPY:
		return features & UBLK_F_USER_COPY;
	default:
		return true;
	}
}

int ubt_copy_mode_resolve(enum ubt_copy_mode want, uint64_t features,
			  const struct ubt_tree *tree, enum ubt_copy_mode *out,
			  char *err, size_t errlen)
{
	const struct ubt_target *data_node = tree->data_node;

	switch (want) {
	case UBT_COPY_AUTO:
		*out = kernel_zero_copy(features) && !data_node ? UBT_COPY_ZERO_COPY :
								  UBT_COPY_COPY;
		return 0;
	case UBT_COPY_COPY:
		*out = UBT_COPY_COPY;
		return 0;
	case UBT_COPY_ZERO_COPY:
		if (!ubt_copy_mode_available(want, features)) {
			snprintf(err, errlen, "--copy-mode zero-copy: this kernel's ublk driver "
				 "has no automatic buffer registration (Linux 6.16+)");
			return -EOPNOTSUPP;
		}
		if (data_node) {
			snprintf(err, errlen, "--copy-mode zero-copy: node %u (%s) needs the data "
				 "in the daemon's memory (it works on the bytes, or moves them with "
				 "Linux AIO); use copy or user-copy", data_node->id,
				 data_node->type->name);
			return -EINVAL;
		}
		*out = UBT_COPY_ZERO_COPY;
		return 0;
	case UBT_COPY_USER_COPY:
		if (!ubt_copy_mode_available(want, features)) {
			snprintf(err, errlen, "--copy-mode user-copy: this kernel's ublk driver "
				 "has no user copy (Linux 6.5+)");
			return -EOPNOTSUPP;
		}
		*out = UBT_COPY_USER_COPY;
		return 0;
	}
	snprintf(err, errlen, "unknown copy mode %d", (int)want);
	return -EINVAL;
}
